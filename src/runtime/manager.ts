// The manager (controller-runtime's manager): owns the lifecycle of sources, controllers and other
// runnables.
//
// Start order: health server → sources (informers) → wait until all synced → work that does not
// need leadership → acquire the lease (if leader election is on) → leader-only controllers and
// runnables. Sources run on every replica so a standby has a warm cache and its queues already
// hold every key when it takes over; only the leader reconciles.
//
// Readiness: /readyz passes once sources are synced, whether this replica is leading or standing
// by, and fails from the moment shutdown begins, and while a source has not heard from the
// apiserver (list, watch opening, event or bookmark) for longer than sourceSilenceLimitMs: a
// replica whose cache may be frozen behind a dead connection is not ready, even if it answers. A standby is healthy and able to take over; if it
// were unready, a rolling update (maxUnavailable 0) would wait forever for the new pod while the
// old one keeps the lease. Which replica leads is visible in the verbose output and the Lease.
// Liveness (/healthz) is the process answering, plus client-go's lease check: a replica that
// believes it leads but has not renewed for leaseDuration + tolerance is wedged and should restart.
//
// Shutdown (signal, fatal error, or lost lease): readiness fails; controllers stop taking keys and
// runnables are told to stop; in-flight reconciles get gracefulShutdownTimeout to finish, then their
// signals abort; the lease is released only when no reconcile is still running (otherwise it is
// left to expire, so a new leader cannot overlap stragglers); sources and the health server close.
// The whole sequence fits shutdownTimeoutMs (default 25 s), below the pod's
// terminationGracePeriodSeconds (30 s in the chart): after that the kubelet sends SIGKILL, and a
// lease that was never released costs the standby a full lease duration.
//
// Losing the lease: the lease may already be someone else's, and a promise cannot be killed, so by
// default the process exits at once (as controller-runtime does) and Kubernetes restarts it as a
// fresh candidate. The action is injectable; after it returns, the manager shuts down and start()
// rejects with LeaderElectionLostError.
import type { AddressInfo } from "node:net";
import type { Clock } from "./clock.ts";
import { SystemClock } from "./clock.ts";
import type { Controller } from "./controller.ts";
import type { HealthCheck, HealthServerAddress, NamedCheck } from "./health.ts";
import { HealthServer } from "./health.ts";
import type { LeaderElector, RenewOutcome } from "./leaderelection.ts";
import { LeaderElectionLostError } from "./leaderelection.ts";
import type { Logger } from "./logger.ts";

/** Something that feeds controllers (an informer). */
export interface Source {
  readonly name?: string;
  /** Starts in the background; runs until the signal aborts. A rejection is fatal. */
  start(signal: AbortSignal): void | Promise<void>;
  hasSynced(): boolean;
  /** Resolves once synced (or when the signal aborts). Without it, hasSynced() is polled. */
  waitForSync?(signal: AbortSignal): Promise<boolean | void>;
  /** Resolves once fully stopped after the start signal aborted. */
  stopped?(): Promise<void>;
  /** Monotonic ms (Clock.monotonicMs) it last heard from the apiserver; readiness fails when too old. */
  lastHeardAt?(): number | undefined;
}

/** Any other long-running piece (metrics server, schedulers). */
export interface Runnable {
  readonly name: string;
  /** Default true: only the leader runs it. */
  readonly needLeaderElection?: boolean;
  /** Runs until the signal aborts. Resolving early is fine; rejecting stops the manager. */
  start(signal: AbortSignal): Promise<void>;
}

export interface ManagerOptions {
  logger: Logger;
  clock?: Clock;
  /** Serve /healthz, /livez and /readyz here; omit to serve none. */
  healthAddress?: HealthServerAddress;
  /** Enables leader election; leader-only work waits for the lease. */
  leaderElector?: LeaderElector;
  /** Release the lease on a clean shutdown so a standby takes over at once. Default true. */
  releaseOnCancel?: boolean;
  /** What to do when the lease is lost. Default: log and process.exit(1). */
  onLeaderElectionLost?: (error: LeaderElectionLostError) => void;
  /** How long in-flight work may take to finish on shutdown. Default 20 s. */
  gracefulShutdownTimeoutMs?: number;
  /** After the deadline, how long to wait for aborted reconciles to return. Default 3 s. */
  abortGraceMs?: number;
  /**
   * The whole shutdown (drain, abort, lease release, sources) within this; every step gets at most
   * what is left. Default 25 s: below the chart's terminationGracePeriodSeconds (30 s).
   */
  shutdownTimeoutMs?: number;
  /** /readyz fails when a source has not heard from the apiserver for longer. Default 3 min. */
  sourceSilenceLimitMs?: number;
  /** Give up starting if sources have not synced by then. Default 2 min. */
  cacheSyncTimeoutMs?: number;
  /** Liveness tolerance beyond leaseDuration without a renewal (client-go HealthzAdaptor). Default 20s. */
  leaderElectionHealthToleranceMs?: number;
}

export type ManagerPhase =
  | "idle"
  | "syncing"
  /** Synced, waiting for the lease. */
  | "standby"
  /** Synced, leader-only work running (or no leader election). */
  | "running"
  | "stopping"
  | "stopped";

export const DEFAULT_GRACEFUL_SHUTDOWN_MS = 20_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;
/** Above the informer's inactivity deadline (150 s), whose re-watch counts as hearing from the apiserver. */
export const DEFAULT_SOURCE_SILENCE_LIMIT_MS = 180_000;

type StopReason = { kind: "signal" } | { kind: "fatal"; error: unknown } | { kind: "lost"; error: LeaderElectionLostError };

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Manager {
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #elector: LeaderElector | undefined;
  readonly #healthAddress: HealthServerAddress | undefined;
  readonly #releaseOnCancel: boolean;
  readonly #onLost: (error: LeaderElectionLostError) => void;
  readonly #gracefulMs: number;
  readonly #abortGraceMs: number;
  readonly #shutdownMs: number;
  readonly #silenceLimitMs: number;
  readonly #syncTimeoutMs: number;
  readonly #leToleranceMs: number;

  readonly #sources: Source[] = [];
  readonly #controllers: Controller[] = [];
  readonly #runnables: Runnable[] = [];
  readonly #healthzChecks: NamedCheck[] = [];
  readonly #readyzChecks: NamedCheck[] = [];

  #phase: ManagerPhase = "idle";
  #health: HealthServer | undefined;
  readonly #elected = deferred<void>();
  readonly #stopRequested = deferred<StopReason>();
  #stopReason: StopReason | undefined;

  /** Stop acquiring the lease. */
  readonly #electCtl = new AbortController();
  /** Controllers stop taking keys; runnables stop. */
  readonly #stopCtl = new AbortController();
  /** Abort in-flight reconciles. */
  readonly #abortCtl = new AbortController();
  /** Stop renewing the lease (only after in-flight work is done). */
  readonly #renewCtl = new AbortController();
  /** Stop sources. */
  readonly #sourcesCtl = new AbortController();

  readonly #work: Promise<void>[] = [];
  readonly #sourceStarts: Promise<void>[] = [];
  #renewing: Promise<RenewOutcome> | undefined;

  constructor(options: ManagerOptions) {
    this.#log = options.logger.child({ component: "manager" });
    this.#clock = options.clock ?? new SystemClock();
    this.#elector = options.leaderElector;
    this.#healthAddress = options.healthAddress;
    this.#releaseOnCancel = options.releaseOnCancel ?? true;
    this.#onLost =
      options.onLeaderElectionLost ??
      ((error) => {
        this.#log.error({ err: error }, "Leader election lost; exiting so the process restarts as a fresh candidate");
        process.exit(1);
      });
    this.#gracefulMs = options.gracefulShutdownTimeoutMs ?? DEFAULT_GRACEFUL_SHUTDOWN_MS;
    this.#abortGraceMs = options.abortGraceMs ?? 3_000;
    this.#shutdownMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.#silenceLimitMs = options.sourceSilenceLimitMs ?? DEFAULT_SOURCE_SILENCE_LIMIT_MS;
    this.#syncTimeoutMs = options.cacheSyncTimeoutMs ?? 120_000;
    this.#leToleranceMs = options.leaderElectionHealthToleranceMs ?? 20_000;
  }

  addSource(source: Source): void {
    this.#assertIdle();
    this.#sources.push(source);
  }

  addController(controller: Controller): void {
    this.#assertIdle();
    this.#controllers.push(controller);
  }

  addRunnable(runnable: Runnable): void {
    this.#assertIdle();
    this.#runnables.push(runnable);
  }

  addHealthzCheck(name: string, check: HealthCheck): void {
    this.#healthzChecks.push({ name, check });
  }

  addReadyzCheck(name: string, check: HealthCheck): void {
    this.#readyzChecks.push({ name, check });
  }

  phase(): ManagerPhase {
    return this.#phase;
  }

  isLeader(): boolean {
    return this.#elector === undefined ? this.#phase === "running" : this.#elector.isLeader();
  }

  /** Resolves when leader-only work has started (at once after sync without leader election). */
  elected(): Promise<void> {
    return this.#elected.promise;
  }

  /** The bound health address (useful with port 0). */
  healthAddress(): AddressInfo | undefined {
    return this.#health?.address();
  }

  /** Runs until the signal aborts (resolves) or a fatal error / lost lease (rejects), after shutting down. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#phase !== "idle") throw new Error(`manager already started (phase ${this.#phase})`);
    this.#phase = "syncing";
    const onSignal = (): void => this.#requestStop({ kind: "signal" });
    if (signal.aborted) onSignal();
    else signal.addEventListener("abort", onSignal, { once: true });

    try {
      if (this.#healthAddress !== undefined) {
        this.#health = new HealthServer({ liveness: () => this.#livenessChecks(), readiness: () => this.#readinessChecks() });
        const bound = await this.#health.listen(this.#healthAddress);
        this.#log.info({ address: `${bound.address}:${bound.port}` }, "Serving health probes");
      }
      this.#startSources();
      void this.#run();
      const reason = await this.#stopRequested.promise;
      await this.#shutdown(reason);
      switch (reason.kind) {
        case "signal":
          return;
        case "fatal":
          throw reason.error;
        case "lost":
          throw reason.error;
      }
    } finally {
      signal.removeEventListener("abort", onSignal);
      this.#phase = "stopped";
      await this.#health?.close();
    }
  }

  /** The start sequence after the sources began; any failure becomes a fatal stop. */
  async #run(): Promise<void> {
    try {
      if (!(await this.#waitForSources())) return;
      this.#log.info({ sources: this.#sources.length }, "All sources synced");
      this.#startWork(false);
      if (this.#elector === undefined) {
        this.#becomeRunning();
        return;
      }
      this.#phase = "standby";
      const acquired = await this.#elector.acquire(this.#electCtl.signal);
      if (!acquired || this.#stopReason !== undefined) return;
      this.#becomeRunning();
      this.#renewing = this.#elector.renew(this.#renewCtl.signal);
      const outcome = await this.#renewing;
      if (outcome.kind === "lost") this.#leadershipLost(new LeaderElectionLostError(outcome.reason));
    } catch (error) {
      this.#requestStop({ kind: "fatal", error });
    }
  }

  #becomeRunning(): void {
    if (this.#stopReason !== undefined) return;
    this.#startWork(true);
    this.#phase = "running";
    this.#elected.resolve();
  }

  #startSources(): void {
    for (const source of this.#sources) {
      const started = Promise.resolve()
        .then(() => source.start(this.#sourcesCtl.signal))
        .catch((error: unknown) => {
          this.#log.error({ err: error, source: source.name }, "Source failed to start");
          this.#requestStop({ kind: "fatal", error });
        });
      this.#sourceStarts.push(started);
    }
  }

  /** True once every source has synced; false if stopping meanwhile. Timing out is fatal. */
  async #waitForSources(): Promise<boolean> {
    const deadline = new AbortController();
    const timer = this.#clock.setTimer(this.#syncTimeoutMs, () => deadline.abort());
    const waitSignal = AbortSignal.any([deadline.signal, this.#stopCtl.signal, this.#electCtl.signal]);
    try {
      await Promise.all(this.#sources.map((s) => this.#waitForSource(s, waitSignal)));
    } finally {
      timer.cancel();
    }
    if (this.#stopReason !== undefined) return false;
    const unsynced = this.#sources.filter((s) => !s.hasSynced()).map((s) => s.name ?? "unnamed");
    if (unsynced.length > 0) {
      this.#requestStop({ kind: "fatal", error: new Error(`timed out after ${this.#syncTimeoutMs}ms waiting for sources to sync: ${unsynced.join(", ")}`) });
      return false;
    }
    return true;
  }

  async #waitForSource(source: Source, signal: AbortSignal): Promise<void> {
    if (source.waitForSync !== undefined) {
      await Promise.race([source.waitForSync(signal), abortPromise(signal)]);
      return;
    }
    while (!source.hasSynced() && !signal.aborted) await this.#clock.sleep(100, signal);
  }

  #startWork(leaderOnly: boolean): void {
    for (const controller of this.#controllers) {
      if (controller.needLeaderElection !== leaderOnly) continue;
      this.#track(controller.name, controller.run({ stop: this.#stopCtl.signal, abortInFlight: this.#abortCtl.signal }));
    }
    for (const runnable of this.#runnables) {
      if ((runnable.needLeaderElection ?? true) !== leaderOnly) continue;
      this.#track(runnable.name, Promise.resolve().then(() => runnable.start(this.#stopCtl.signal)));
    }
  }

  #track(name: string, running: Promise<void>): void {
    this.#work.push(
      running.catch((error: unknown) => {
        this.#log.error({ err: error, runnable: name }, "Runnable failed; stopping the manager");
        this.#requestStop({ kind: "fatal", error });
      }),
    );
  }

  #leadershipLost(error: LeaderElectionLostError): void {
    // Stop acting first: someone else may hold the lease already.
    this.#stopCtl.abort(error);
    this.#abortCtl.abort(error);
    this.#requestStop({ kind: "lost", error });
    this.#onLost(error);
  }

  #requestStop(reason: StopReason): void {
    if (this.#stopReason !== undefined) return;
    this.#stopReason = reason;
    this.#phase = "stopping";
    this.#electCtl.abort();
    this.#stopRequested.resolve(reason);
  }

  async #shutdown(reason: StopReason): Promise<void> {
    this.#log.info({ reason: reason.kind === "signal" ? "signal" : describe(reason.error) }, "Stopping: no new work; waiting for in-flight reconciles");
    this.#stopCtl.abort();
    // Leader-only controllers that never started still own queue timers.
    for (const c of this.#controllers) c.queue.shutDown();
    const deadline = this.#clock.monotonicMs() + this.#shutdownMs;
    // What is left of the budget, keeping `reserve` ms for the steps after this one.
    const left = (cap: number, reserve = 0): number => Math.max(0, Math.min(cap, deadline - reserve - this.#clock.monotonicMs()));
    const releaseMs = this.#elector === undefined ? 0 : Math.min(this.#elector.renewDeadlineMs, 2_000);

    const allWork = Promise.all(this.#work);
    const drainMs = left(this.#gracefulMs, this.#abortGraceMs + releaseMs);
    let drained = await this.#within(allWork, drainMs);
    if (!drained) {
      const inFlight = this.#controllers.flatMap((c) => c.inFlight().map((key) => `${c.name}:${key}`));
      this.#log.warn({ inFlight, timeoutMs: drainMs }, "Graceful shutdown timed out; aborting in-flight reconciles");
      this.#abortCtl.abort(new Error("graceful shutdown timed out"));
      drained = await this.#within(allWork, left(this.#abortGraceMs, releaseMs));
    }

    this.#renewCtl.abort();
    await this.#renewing;
    if (this.#elector !== undefined && this.#releaseOnCancel && reason.kind !== "lost") {
      if (drained) {
        const releaseTimeout = new AbortController();
        const timer = this.#clock.setTimer(Math.max(releaseMs, left(this.#elector.renewDeadlineMs)), () => releaseTimeout.abort());
        await this.#elector.release(releaseTimeout.signal);
        timer.cancel();
      } else {
        this.#log.warn({}, "Reconciles still running after abort; leaving the lease to expire instead of releasing it");
      }
    }

    this.#sourcesCtl.abort();
    const sourcesStopped = Promise.all([...this.#sourceStarts, ...this.#sources.map((s) => s.stopped?.())]);
    if (!(await this.#within(sourcesStopped, left(this.#abortGraceMs)))) this.#log.warn({}, "Sources did not stop in time");
    this.#log.info({ drained }, "Stopped");
  }

  /** Whether p settled within ms (by the injected clock). */
  async #within(p: Promise<unknown>, ms: number): Promise<boolean> {
    const cancel = new AbortController();
    const result = await Promise.race([p.then(() => true), this.#clock.sleep(ms, cancel.signal).then(() => false)]);
    cancel.abort();
    return result;
  }

  #livenessChecks(): NamedCheck[] {
    const checks: NamedCheck[] = [{ name: "ping", check: () => undefined }];
    const elector = this.#elector;
    if (elector !== undefined) checks.push({ name: "leader-election", check: () => elector.check(this.#leToleranceMs) });
    return [...checks, ...this.#healthzChecks];
  }

  #readinessChecks(): NamedCheck[] {
    const checks: NamedCheck[] = [
      { name: "ping", check: () => undefined },
      { name: "shutdown", check: () => (this.#phase === "stopping" || this.#phase === "stopped" ? "shutting down" : undefined) },
      {
        name: "sources-synced",
        check: () => {
          const unsynced = this.#sources.filter((s) => !s.hasSynced()).map((s) => s.name ?? "unnamed");
          return unsynced.length === 0 ? undefined : `not synced: ${unsynced.join(", ")}`;
        },
      },
      {
        name: "sources-heard",
        check: () => {
          const now = this.#clock.monotonicMs();
          const silent = this.#sources.flatMap((s) => {
            const at = s.hasSynced() ? s.lastHeardAt?.() : undefined;
            return at !== undefined && now - at > this.#silenceLimitMs ? [`${s.name ?? "unnamed"} (${Math.round((now - at) / 1000)}s)`] : [];
          });
          return silent.length === 0 ? undefined : `not heard from the apiserver within ${this.#silenceLimitMs / 1000}s: ${silent.join(", ")}`;
        },
      },
      {
        name: "started",
        check: () => (this.#phase === "standby" || this.#phase === "running" ? undefined : `phase ${this.#phase}`),
      },
    ];
    const elector = this.#elector;
    if (elector !== undefined) {
      // Informational: standing by is ready too (see the module comment).
      checks.push({ name: `leader-election (${elector.isLeader() ? "leading" : "standby"})`, check: () => undefined });
    }
    return [...checks, ...this.#readyzChecks];
  }

  #assertIdle(): void {
    if (this.#phase !== "idle") throw new Error("add sources, controllers and runnables before start()");
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
