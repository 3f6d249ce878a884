// Kubernetes Events (core/v1, what `kubectl describe` shows) for each lifecycle step and failure.
// Repeats of the same event on the same object are aggregated by bumping `count`, like client-go's
// recorder, so a retry loop does not flood etcd. Recording never fails a reconcile.
// BackgroundEventRecorder sends them off the reconcile's path, as client-go's EventBroadcaster does.
import { randomBytes } from "node:crypto";
import type { CallOptions, KubeClient, KubeObject, ResourceType } from "./client.ts";
import { isKubeError } from "./errors.ts";
import { BucketRateLimiter } from "../runtime/ratelimiter.ts";

export const eventType: ResourceType = { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true };

export type EventKind = "Normal" | "Warning";

export interface EventRecorder {
  /** `opts` bounds the write (the reconcile's signal); recording never fails the caller. */
  record(obj: KubeObject, type: EventKind, reason: string, message: string, opts?: CallOptions): Promise<void>;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly now: () => Date;
  private readonly seen = new Map<string, Seen>();
  private readonly onError: (e: unknown) => void;

  constructor(client: KubeClient, component: string, opts: { now?: () => Date; onError?: (e: unknown) => void } = {}) {
    this.client = client;
    this.component = component;
    this.now = opts.now ?? (() => new Date());
    this.onError = opts.onError ?? (() => {});
  }

  record(obj: KubeObject, type: EventKind, reason: string, message: string, opts: CallOptions = {}): Promise<void> {
    return this.recordTimes(obj, type, reason, message, 1, this.now(), opts);
  }

  /** `times` occurrences at once (repeats merged while queued), stamped `at` (when they happened). */
  async recordTimes(obj: KubeObject, type: EventKind, reason: string, message: string, times: number, at: Date, opts: CallOptions = {}): Promise<void> {
    const namespace = obj.metadata.namespace ?? "default";
    const key = eventKey(obj, type, reason, message);
    const ts = at.toISOString().replace(/\.\d{3}Z$/, "Z");
    try {
      const prev = this.seen.get(key);
      if (prev) {
        prev.count += times;
        try {
          await this.client.mergePatch(eventType, prev.namespace, prev.name, { count: prev.count, lastTimestamp: ts }, undefined, undefined, opts);
          return;
        } catch (e) {
          if (!isKubeError(e, "notFound")) throw e;
          this.seen.delete(key); // expired by the apiserver's event TTL: start a new one
        }
      }
      const name = `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString("hex")}`;
      await this.client.create(eventType, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: times,
      }, opts);
      if (this.seen.size > 4096) this.seen.clear();
      this.seen.set(key, { name, namespace, count: times, firstTimestamp: ts });
    } catch (e) {
      this.onError(e);
    }
  }
}

/** What BackgroundEventRecorder sends through: KubeEventRecorder, or a test double. */
export interface EventSink {
  recordTimes(obj: KubeObject, type: EventKind, reason: string, message: string, times: number, at: Date, opts?: CallOptions): Promise<void>;
}

/** A recorder as a sink: its own recordTimes when it has one, else one record per occurrence. */
export function asSink(recorder: EventRecorder | (EventRecorder & EventSink)): EventSink {
  if ("recordTimes" in recorder) return recorder;
  return {
    async recordTimes(obj, type, reason, message, times, _at, opts) {
      for (let i = 0; i < times; i++) await recorder.record(obj, type, reason, message, opts);
    },
  };
}

/** The kubelet's eventRecordQPS and eventBurst defaults. */
export const DEFAULT_EVENT_RATE = 50;
export const DEFAULT_EVENT_BURST = 100;

export interface BackgroundEventOptions {
  /** Events waiting to be sent; beyond this, new ones are dropped (client-go drops when its buffer is full). Default 1000. */
  maxQueued?: number;
  /** Sends in flight at once. Default 4. */
  concurrency?: number;
  /** How long a stop waits for the queue to empty. Default 5 s. */
  drainTimeoutMs?: number;
  /**
   * Events sent per second after `burst` (a token bucket; default 50 and 100, the kubelet's
   * eventRecordQPS and eventBurst). A burst of new objects then has its status writes, which
   * GitOps tools wait for, ahead of its Events, which follow within seconds.
   */
  ratePerSecond?: number;
  burst?: number;
  /** Monotonic milliseconds (the bucket's clock). */
  monotonicMs?: () => number;
  now?: () => Date;
  /** Called with the number dropped so far when the queue was full (at most once a second). */
  onDrop?: (dropped: number) => void;
}

interface Pending {
  obj: KubeObject;
  type: EventKind;
  reason: string;
  message: string;
  times: number;
  at: Date;
}

/**
 * Records events without making the caller wait: the reconcile's worker is free once its status is
 * written, and the event follows within a round trip. A bounded queue in front of the sink: while
 * an event is still queued, its repeats only bump its count (client-go's correlator aggregates the
 * same way), and when the queue is full new events are dropped rather than holding memory or a
 * worker. `start(signal)` is a manager runnable: on stop it sends what is queued, and from then on
 * records go straight through (a reconcile still finishing delivers its event before it is done).
 * Sends are paced by a token bucket (ratePerSecond, burst), as the kubelet paces its events.
 */
export class BackgroundEventRecorder implements EventRecorder {
  readonly #sink: EventSink;
  readonly #maxQueued: number;
  readonly #concurrency: number;
  readonly #drainTimeoutMs: number;
  readonly #now: () => Date;
  readonly #onDrop: (dropped: number) => void;
  readonly #queue = new Map<string, Pending>();
  readonly #sending = new Set<string>();
  #inFlight = 0;
  #direct = false;
  #dropped = 0;
  #lastDropReport = -Infinity;
  #idle: Array<() => void> = [];
  readonly #bucket: BucketRateLimiter<void>;
  /** Set while the pump waits for the token it has reserved; the send it wakes for uses that token. */
  #wake: NodeJS.Timeout | undefined;
  #reserved = false;

  constructor(sink: EventSink, opts: BackgroundEventOptions = {}) {
    this.#sink = sink;
    this.#maxQueued = opts.maxQueued ?? 1000;
    this.#concurrency = opts.concurrency ?? 4;
    this.#drainTimeoutMs = opts.drainTimeoutMs ?? 5_000;
    this.#now = opts.now ?? (() => new Date());
    this.#onDrop = opts.onDrop ?? (() => {});
    this.#bucket = new BucketRateLimiter(opts.ratePerSecond ?? DEFAULT_EVENT_RATE, opts.burst ?? DEFAULT_EVENT_BURST, {
      monotonicMs: opts.monotonicMs ?? (() => performance.now()),
    });
  }

  record(obj: KubeObject, type: EventKind, reason: string, message: string, opts: CallOptions = {}): Promise<void> {
    const at = this.#now();
    if (this.#direct) return this.#sink.recordTimes(obj, type, reason, message, 1, at, opts);
    const key = eventKey(obj, type, reason, message);
    const queued = this.#queue.get(key);
    if (queued) queued.times += 1;
    else if (this.#queue.size >= this.#maxQueued) this.#drop();
    // Only what the event names: the queue must not pin whole objects.
    else this.#queue.set(key, { obj: involved(obj), type, reason, message, times: 1, at });
    this.#pump();
    return Promise.resolve();
  }

  /** Events queued or being sent. */
  get pending(): number {
    return this.#queue.size + this.#inFlight;
  }

  /** Resolves once everything recorded so far has been sent (or failed). */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** The manager runnable: sends in the background until the signal aborts, then drains (bounded). */
  async start(signal: AbortSignal): Promise<void> {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    this.#direct = true;
    // What waits for the bucket goes now: a stop delivers the queue within its drain timeout.
    clearTimeout(this.#wake);
    this.#wake = undefined;
    this.#reserved = false;
    this.#pump();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#drainTimeoutMs)));
    await Promise.race([this.flush(), timeout]);
    clearTimeout(timer);
  }

  #drop(): void {
    this.#dropped += 1;
    const t = performance.now();
    if (t - this.#lastDropReport >= 1000) {
      this.#lastDropReport = t;
      this.#onDrop(this.#dropped);
    }
  }

  /**
   * Whether a send may go now. The bucket reserves a token for every ask (BucketRateLimiter), so
   * when it says wait, the pump sleeps until then and the next send uses that token.
   */
  #mayTakeToken(): boolean {
    if (this.#wake !== undefined) return false;
    if (this.#reserved) {
      this.#reserved = false;
      return true;
    }
    const waitMs = this.#bucket.when();
    if (waitMs <= 0) return true;
    this.#reserved = true;
    this.#wake = setTimeout(() => {
      this.#wake = undefined;
      this.#pump();
    }, Math.ceil(waitMs));
    this.#wake.unref();
    return false;
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency) {
      // One send per event at a time: a repeat queued while its first send is in flight bumps the
      // count of the event that send creates, instead of racing it into a second Event.
      let entry: [string, Pending] | undefined;
      for (const e of this.#queue) {
        if (this.#sending.has(e[0])) continue;
        entry = e;
        break;
      }
      if (!entry) return;
      if (!this.#direct && !this.#mayTakeToken()) return;
      const [key, next] = entry;
      this.#queue.delete(key);
      this.#sending.add(key);
      this.#inFlight += 1;
      void this.#sink
        .recordTimes(next.obj, next.type, next.reason, next.message, next.times, next.at)
        .catch(() => {}) // the sink reports its own failures; recording never fails anyone
        .finally(() => {
          this.#sending.delete(key);
          this.#inFlight -= 1;
          this.#pump();
          if (this.pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }
}

/** What makes two events repeats of one: the object, type, reason and message (client-go's aggregation key). */
function eventKey(obj: KubeObject, type: EventKind, reason: string, message: string): string {
  return `${obj.metadata.uid}|${type}|${reason}|${message}`;
}

function involved(obj: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}), ...(uid !== undefined ? { uid } : {}), ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
  };
}
