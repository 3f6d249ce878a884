// The controller worker loop (controller-runtime's Controller): N workers each take a key from the
// queue, reconcile it, apply the result through `applyResult`, and mark the key done. Keys come
// from event handlers via `enqueue`; the reconciler always re-reads state for the key.
//
// Standby: with `initialKeys`, keys enqueued before the workers start are dropped, and the start
// enqueues initialKeys() (every key in the cache) — what controller-runtime gets by starting its
// sources with the controller, whose initial list adds every object. A standby replica keeps its
// cache warm but its queue empty, so it cannot grow with the keys of objects created and deleted
// during weeks of standing by. Without initialKeys, keys queue up while standing by (deduplicated).
import { randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import { SystemClock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { RateLimiter } from "./ratelimiter.ts";
import { defaultControllerRateLimiter } from "./ratelimiter.ts";
import type { ReconcileOutcomeLabel, ReconcileResult } from "./result.ts";
import { applyResult, outcomeLog, resultFromThrown, type TransientError } from "./result.ts";
import type { WorkQueueMetricsProvider } from "./workqueue.ts";
import { WorkQueue } from "./workqueue.ts";

export interface ReconcileContext {
  /** Aborted when the manager gives up waiting for in-flight work, or the reconcile timed out. */
  signal: AbortSignal;
  /** Child logger bound to {controller, key, reconcileId}. */
  log: Logger;
  reconcileId: string;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** Metric sinks; see metrics-prom.ts for the controller-runtime names. */
export interface ControllerMetrics {
  /** controller_runtime_reconcile_total{controller,result} */
  reconcileTotal(controller: string, result: ReconcileOutcomeLabel): void;
  /** controller_runtime_reconcile_errors_total{controller} */
  reconcileError(controller: string): void;
  /** controller_runtime_terminal_reconcile_errors_total{controller} */
  terminalReconcileError(controller: string): void;
  /** controller_runtime_reconcile_time_seconds{controller} */
  reconcileTime(controller: string, seconds: number): void;
  /** controller_runtime_active_workers{controller} */
  activeWorkers(controller: string, workers: number): void;
  /** Once per controller at start: controller_runtime_max_concurrent_reconciles{controller}. */
  controllerStarted(controller: string, maxConcurrentReconciles: number): void;
}

export const noopControllerMetrics: ControllerMetrics = {
  reconcileTotal: () => {},
  reconcileError: () => {},
  terminalReconcileError: () => {},
  reconcileTime: () => {},
  activeWorkers: () => {},
  controllerStarted: () => {},
};

export interface ControllerOptions {
  /** Names the controller in logs and metrics, and its queue's metrics. */
  name: string;
  reconcile: Reconciler;
  logger: Logger;
  clock?: Clock;
  /** Workers; a key is still never reconciled by two at once. Default 1. */
  maxConcurrentReconciles?: number;
  /** Default: controller-runtime's (5ms → 1000s per key, max-of 10 qps / 100 burst). */
  rateLimiter?: RateLimiter<string>;
  queueMetrics?: WorkQueueMetricsProvider;
  metrics?: ControllerMetrics;
  /** Whether workers wait for leadership (default true: only the leader writes). */
  needLeaderElection?: boolean;
  /**
   * Every key the controller is responsible for (e.g. informers' keys()). When set, enqueues before
   * the workers start are dropped and these are enqueued at start instead (see the module comment).
   */
  initialKeys?: () => Iterable<string>;
  /** Aborts ctx.signal of a reconcile running longer than this. Unset: no per-reconcile timeout. */
  reconcileTimeoutMs?: number;
  newReconcileId?: () => string;
}

/** Transient retries of a controller less than this apart are one episode (one warn line). */
export const TRANSIENT_EPISODE_GAP_MS = 60_000;

export interface ControllerRunOptions {
  /** Stop taking new keys; in-flight reconciles finish. */
  stop: AbortSignal;
  /** Abort the signals of in-flight reconciles (the drain deadline passed, or the lease was lost). */
  abortInFlight?: AbortSignal;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly needLeaderElection: boolean;
  readonly maxConcurrentReconciles: number;
  readonly #reconcile: Reconciler;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics;
  readonly #reconcileTimeoutMs: number | undefined;
  readonly #newReconcileId: () => string;
  readonly #inFlight = new Set<string>();
  readonly #initialKeys: (() => Iterable<string>) | undefined;
  #started = false;
  // Transient retries (TransientError) are logged once per episode per controller, not per key:
  // a restart under ARM throttling retries hundreds of keys, and one line says it all.
  #lastTransientAt = -Infinity;
  #transientInEpisode = 0;

  constructor(options: ControllerOptions) {
    const workers = options.maxConcurrentReconciles ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`maxConcurrentReconciles must be an integer >= 1, got ${workers}`);
    if (options.reconcileTimeoutMs !== undefined && !(options.reconcileTimeoutMs > 0)) {
      throw new RangeError(`reconcileTimeoutMs must be > 0, got ${options.reconcileTimeoutMs}`);
    }
    this.name = options.name;
    this.maxConcurrentReconciles = workers;
    this.needLeaderElection = options.needLeaderElection ?? true;
    this.#reconcile = options.reconcile;
    this.#logger = options.logger;
    this.#clock = options.clock ?? new SystemClock();
    this.#metrics = options.metrics ?? noopControllerMetrics;
    this.#reconcileTimeoutMs = options.reconcileTimeoutMs;
    this.#newReconcileId = options.newReconcileId ?? randomUUID;
    this.#initialKeys = options.initialKeys;
    this.queue = new WorkQueue<string>({
      name: options.name,
      clock: this.#clock,
      rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter<string>(this.#clock),
      ...(options.queueMetrics === undefined ? {} : { metrics: options.queueMetrics }),
    });
  }

  /** For event handlers: ask for the key to be reconciled (merged with pending requests). */
  enqueue(key: string): void {
    if (this.#holdsNoKeys()) return;
    this.queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    if (this.#holdsNoKeys()) return;
    this.queue.addAfter(key, ms);
  }

  /** Standing by with initialKeys: the start will enqueue every key, so nothing needs holding now. */
  #holdsNoKeys(): boolean {
    return !this.#started && this.#initialKeys !== undefined;
  }

  /** Keys being reconciled right now (for shutdown diagnostics). */
  inFlight(): string[] {
    return [...this.#inFlight];
  }

  /** Runs the workers until `stop` aborts; resolves when every worker has finished its last key. */
  async run(options: ControllerRunOptions): Promise<void> {
    if (this.#started) throw new Error(`controller ${this.name} already started`);
    this.#started = true;
    const stopQueue = (): void => this.queue.shutDown();
    if (options.stop.aborted) stopQueue();
    else options.stop.addEventListener("abort", stopQueue, { once: true });
    const abortInFlight = options.abortInFlight ?? new AbortController().signal;
    if (this.#initialKeys !== undefined) for (const key of this.#initialKeys()) this.queue.add(key);
    this.#metrics.controllerStarted(this.name, this.maxConcurrentReconciles);
    this.#metrics.activeWorkers(this.name, 0);
    this.#logger.info({ controller: this.name, workers: this.maxConcurrentReconciles }, "Starting workers");
    try {
      await Promise.all(Array.from({ length: this.maxConcurrentReconciles }, () => this.#worker(abortInFlight)));
    } finally {
      options.stop.removeEventListener("abort", stopQueue);
      this.queue.shutDown();
    }
    this.#logger.info({ controller: this.name }, "All workers finished");
  }

  async #worker(abortInFlight: AbortSignal): Promise<void> {
    for (;;) {
      const next = await this.queue.get();
      if (next.shutdown) return;
      try {
        await this.#reconcileOne(next.item, abortInFlight);
      } finally {
        this.queue.done(next.item);
      }
    }
  }

  async #reconcileOne(key: string, abortInFlight: AbortSignal): Promise<void> {
    const reconcileId = this.#newReconcileId();
    const log = this.#logger.child({ controller: this.name, key, reconcileId });
    let timer: { cancel(): void } | undefined;
    let signal = abortInFlight;
    if (this.#reconcileTimeoutMs !== undefined) {
      const timeout = new AbortController();
      const ms = this.#reconcileTimeoutMs;
      timer = this.#clock.setTimer(ms, () => timeout.abort(new Error(`reconcile timed out after ${ms}ms`)));
      signal = AbortSignal.any([abortInFlight, timeout.signal]);
    }

    this.#inFlight.add(key);
    this.#metrics.activeWorkers(this.name, this.#inFlight.size);
    const started = this.#clock.monotonicMs();
    let result: ReconcileResult;
    try {
      result = await this.#reconcile(key, { signal, log, reconcileId });
    } catch (error) {
      result = resultFromThrown(error);
    } finally {
      timer?.cancel();
      this.#inFlight.delete(key);
      this.#metrics.activeWorkers(this.name, this.#inFlight.size);
    }
    this.#metrics.reconcileTime(this.name, (this.#clock.monotonicMs() - started) / 1000);

    const applied = applyResult(this.queue, key, result);
    this.#metrics.reconcileTotal(this.name, applied.label);
    if (applied.isError) this.#metrics.reconcileError(this.name);
    if (applied.isTerminal) this.#metrics.terminalReconcileError(this.name);

    const err = "error" in result ? result.error : undefined;
    switch (outcomeLog(applied, err)) {
      case "stalled":
        log.info({ reason: err instanceof Error ? err.message : String(err), result: applied.label }, "Reconcile stalled (terminal: not requeued until the object changes)");
        break;
      case "transient":
        this.#logTransient(log, err as TransientError);
        break;
      case "fault":
        log.error({ err, result: applied.label, requeues: this.queue.numRequeues(key) }, "Reconciler error");
        break;
      case "finished":
        log.debug({ result: applied.label }, "Reconcile finished");
        break;
    }
  }

  /** The first transient retry of an episode at warn (message only, no stack), the rest at debug. */
  #logTransient(log: Logger, err: Error): void {
    const now = this.#clock.monotonicMs();
    if (now - this.#lastTransientAt >= TRANSIENT_EPISODE_GAP_MS) {
      const previous = this.#transientInEpisode > 0 ? { retriesInPreviousEpisode: this.#transientInEpisode } : {};
      log.warn({ reason: err.message, ...previous }, "Transient failure, retrying with backoff; further ones in this episode are logged at debug");
      this.#transientInEpisode = 0;
    } else {
      log.debug({ reason: err.message }, "Transient failure, retrying with backoff");
    }
    this.#transientInEpisode += 1;
    this.#lastTransientAt = now;
  }
}
