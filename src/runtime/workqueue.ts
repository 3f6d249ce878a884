// A work queue with client-go semantics (util/workqueue: queue.go, delaying_queue.go,
// rate_limiting_queue.go) in one type:
// - `add` merges duplicates: an item is queued at most once (the dirty set).
// - An item being processed is never handed to a second worker; if it is added meanwhile it is
//   only marked dirty and queued again at `done`.
// - `addAfter` delays an add; for an item already waiting the earliest time wins.
// - `addRateLimited` delays by the rate limiter's answer (per-item backoff), optionally floored.
//
// One deliberate difference from client-go: after shutdown `get` stops handing out items that are
// still queued (client-go drains them). Queued keys are only hints — the next start (or the next
// leader) relists every object — while processing them after shutdown would act after the process
// was told to stop, possibly after its lease was released.
import type { Clock, Timer } from "./clock.ts";
import { SystemClock } from "./clock.ts";
import type { RateLimiter } from "./ratelimiter.ts";
import { defaultControllerRateLimiter, delayWithFloor } from "./ratelimiter.ts";

export type GetResult<T> = { shutdown: false; item: T } | { shutdown: true };

/** Read-only view of work in progress, for gauges computed at scrape time. */
export interface UnfinishedWork {
  /** Sum over items being processed of how long they have been processing. */
  unfinishedWorkSeconds(): number;
  /** How long the longest-running item has been processing (0 when idle). */
  longestRunningProcessorSeconds(): number;
}

/** Per-queue metric sinks; see metrics-prom.ts for the controller-runtime names they map to. */
export interface QueueMetrics {
  /** workqueue_depth */
  depth(items: number): void;
  /** workqueue_adds_total */
  add(): void;
  /** workqueue_queue_duration_seconds */
  queueDuration(seconds: number): void;
  /** workqueue_work_duration_seconds */
  workDuration(seconds: number): void;
  /** workqueue_retries_total */
  retry(): void;
}

export interface WorkQueueMetricsProvider {
  forQueue(name: string, unfinished: UnfinishedWork): QueueMetrics;
}

export const noopQueueMetrics: WorkQueueMetricsProvider = {
  forQueue: () => ({ depth: () => {}, add: () => {}, queueDuration: () => {}, workDuration: () => {}, retry: () => {} }),
};

export interface WorkQueueOptions<T> {
  /** The `name` label of the queue's metrics (controller-runtime uses the controller name). */
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
  metrics?: WorkQueueMetricsProvider;
}

/** FIFO with O(1) amortised push/shift (Array.shift is O(n)). */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface Waiting<T> {
  readonly item: T;
  readyAt: number;
  readonly seq: number;
  index: number;
}

/** Min-heap of delayed items by (readyAt, insertion order), with decrease-key. */
class DelayHeap<T> {
  readonly #heap: Waiting<T>[] = [];
  readonly #byItem = new Map<T, Waiting<T>>();
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  peek(): Waiting<T> | undefined {
    return this.#heap[0];
  }

  /** Inserts, or moves an existing entry earlier; a later time for a waiting item is ignored. */
  upsert(item: T, readyAt: number): void {
    const existing = this.#byItem.get(item);
    if (existing !== undefined) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.#up(existing.index);
      }
      return;
    }
    const entry: Waiting<T> = { item, readyAt, seq: this.#seq++, index: this.#heap.length };
    this.#heap.push(entry);
    this.#byItem.set(item, entry);
    this.#up(entry.index);
  }

  pop(): Waiting<T> | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const last = this.#heap.pop();
    if (last !== undefined && last !== top) {
      last.index = 0;
      this.#heap[0] = last;
      this.#down(0);
    }
    this.#byItem.delete(top.item);
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#byItem.clear();
  }

  #less(a: Waiting<T>, b: Waiting<T>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i];
    const b = this.#heap[j];
    if (a === undefined || b === undefined) return;
    this.#heap[i] = b;
    this.#heap[j] = a;
    a.index = j;
    b.index = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const node = this.#heap[i];
      const p = this.#heap[parent];
      if (node === undefined || p === undefined || !this.#less(node, p)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    for (;;) {
      let smallest = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        const c = this.#heap[child];
        const s = this.#heap[smallest];
        if (c !== undefined && s !== undefined && this.#less(c, s)) smallest = child;
      }
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}

export class WorkQueue<T = string> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: RateLimiter<T>;
  readonly #metrics: QueueMetrics;

  readonly #queue = new Fifo<T>();
  /** Items that need processing: queued, or added again while being processed. */
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  readonly #getters = new Fifo<(r: GetResult<T>) => void>();
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];

  readonly #delayed = new DelayHeap<T>();
  #timer: Timer | undefined;
  #timerDue = Number.POSITIVE_INFINITY;

  readonly #addTimes = new Map<T, number>();
  readonly #processingStarts = new Map<T, number>();

  constructor(options: WorkQueueOptions<T> = {}) {
    this.name = options.name ?? "";
    this.#clock = options.clock ?? new SystemClock();
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.#clock);
    this.#metrics = (options.metrics ?? noopQueueMetrics).forQueue(this.name, {
      unfinishedWorkSeconds: () => this.#unfinishedWorkSeconds(),
      longestRunningProcessorSeconds: () => this.#longestRunningProcessorSeconds(),
    });
  }

  /** Marks the item as needing processing; a no-op if it already does, or after shutdown. */
  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#metrics.add();
    if (!this.#addTimes.has(item)) this.#addTimes.set(item, this.#clock.monotonicMs());
    this.#dirty.add(item);
    this.#metrics.depth(this.#dirty.size);
    // A worker holds it: done() will queue it again, so it is never processed twice at once.
    if (this.#processing.has(item)) return;
    this.#queue.push(item);
    this.#dispatch();
  }

  /** Items waiting to be handed out (not counting delayed or in-flight ones). */
  len(): number {
    return this.#queue.length;
  }

  /** Resolves with the next item, waiting for one if necessary, or with `shutdown` once shut down. */
  get(): Promise<GetResult<T>> {
    if (this.#shuttingDown) return Promise.resolve({ shutdown: true });
    if (this.#queue.length > 0) return Promise.resolve(this.#handOut(this.#queue.shift() as T));
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks processing of the item finished; re-queues it if it was added meanwhile. */
  done(item: T): void {
    const started = this.#processingStarts.get(item);
    if (started !== undefined) {
      this.#metrics.workDuration((this.#clock.monotonicMs() - started) / 1000);
      this.#processingStarts.delete(item);
    }
    this.#processing.delete(item);
    if (this.#dirty.has(item) && !this.#shuttingDown) {
      this.#queue.push(item);
      this.#dispatch();
    }
    if (this.#processing.size === 0 && this.#drainWaiters.length > 0) this.#releaseDrainWaiters();
  }

  /** Adds the item after ms (immediately when ms <= 0). An earlier pending time for it wins. */
  addAfter(item: T, ms: number): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry();
    if (!(ms > 0)) {
      this.add(item);
      return;
    }
    this.#delayed.upsert(item, this.#clock.monotonicMs() + ms);
    this.#armTimer();
  }

  /**
   * Adds the item after the rate limiter's backoff (which counts one more failure for it). With
   * notBeforeMs the delay is at least that long, e.g. for a server's Retry-After.
   */
  addRateLimited(item: T, options: { notBeforeMs?: number } = {}): void {
    this.addAfter(item, delayWithFloor(this.#rateLimiter, item, options.notBeforeMs));
  }

  /** Clears the item's failure history (call on success or when giving up). */
  forget(item: T): void {
    this.#rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#rateLimiter.numRequeues(item);
  }

  /** Items waiting for their addAfter time. */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** Items currently handed out and not yet `done`. */
  processingLen(): number {
    return this.#processing.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops handing out work immediately: blocked and future `get`s resolve with shutdown. */
  shutDown(): void {
    this.#beginShutdown();
    // As in client-go, a plain shutdown also releases anyone waiting in shutDownWithDrain.
    this.#releaseDrainWaiters();
  }

  /** Like shutDown, then resolves once every in-flight item has been marked `done`. */
  shutDownWithDrain(): Promise<void> {
    this.#beginShutdown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #beginShutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#delayed.clear();
    for (let g = this.#getters.shift(); g !== undefined; g = this.#getters.shift()) g({ shutdown: true });
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #dispatch(): void {
    while (this.#getters.length > 0 && this.#queue.length > 0) {
      const getter = this.#getters.shift();
      const item = this.#queue.shift() as T;
      getter?.(this.#handOut(item));
    }
  }

  #handOut(item: T): GetResult<T> {
    const now = this.#clock.monotonicMs();
    const added = this.#addTimes.get(item);
    if (added !== undefined) {
      this.#metrics.queueDuration((now - added) / 1000);
      this.#addTimes.delete(item);
    }
    this.#processingStarts.set(item, now);
    this.#processing.add(item);
    this.#dirty.delete(item);
    this.#metrics.depth(this.#dirty.size);
    return { shutdown: false, item };
  }

  /** Keeps exactly one clock timer, set for the earliest delayed item. */
  #armTimer(): void {
    const next = this.#delayed.peek();
    if (next === undefined) return;
    if (this.#timer !== undefined && this.#timerDue <= next.readyAt) return;
    this.#timer?.cancel();
    this.#timerDue = next.readyAt;
    this.#timer = this.#clock.setTimer(next.readyAt - this.#clock.monotonicMs(), () => this.#onTimer());
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDue = Number.POSITIVE_INFINITY;
    const now = this.#clock.monotonicMs();
    for (let next = this.#delayed.peek(); next !== undefined && next.readyAt <= now; next = this.#delayed.peek()) {
      this.#delayed.pop();
      this.add(next.item);
    }
    this.#armTimer();
  }

  #unfinishedWorkSeconds(): number {
    const now = this.#clock.monotonicMs();
    let total = 0;
    for (const started of this.#processingStarts.values()) total += now - started;
    return total / 1000;
  }

  #longestRunningProcessorSeconds(): number {
    const now = this.#clock.monotonicMs();
    let longest = 0;
    for (const started of this.#processingStarts.values()) longest = Math.max(longest, now - started);
    return longest / 1000;
  }
}
