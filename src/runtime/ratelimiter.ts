// Rate limiters with client-go workqueue semantics (default_rate_limiters.go): `when` answers how
// long to wait before the item may be processed again and counts the attempt.
import type { Clock } from "./clock.ts";

export interface RateLimiter<T> {
  /** Delay in ms before the item should be retried; records one more failure for it. */
  when(item: T): number;
  /** Stops tracking the item (it succeeded or was given up on). */
  forget(item: T): void;
  /** How many times `when` was called for the item since it was last forgotten. */
  numRequeues(item: T): number;
}

/** Per-item exponential backoff: base * 2^failures, capped at max. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<T, number>();

  constructor(baseMs: number, maxMs: number) {
    if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError(`backoff must be >= 0 (base ${baseMs}, max ${maxMs})`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(item: T): number {
    const exp = this.#failures.get(item) ?? 0;
    this.#failures.set(item, exp + 1);
    // 2^exp overflows to Infinity long before it matters; min() then yields the cap.
    const backoff = this.#baseMs * 2 ** exp;
    return Number.isFinite(backoff) ? Math.min(backoff, this.#maxMs) : this.#maxMs;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * Per-item exponential backoff with jitter, for retries whose cause is a remote service (ARM): a
 * 5 ms floor that suits a conflict on the local cache would hammer ARM during an incident, and
 * unjittered delays make every object failing at once retry at once. delay = min(base·2^n, max),
 * spread by ±jitter/2 (default ±25 %), so ≈ 1 s, 2 s, 4 s … 5 min.
 */
export class JitteredExponentialRateLimiter<T> implements RateLimiter<T> {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #failures = new Map<T, number>();

  constructor(options: { baseMs: number; maxMs: number; jitter?: number; random?: () => number }) {
    const { baseMs, maxMs } = options;
    if (!(baseMs > 0) || !(maxMs >= baseMs)) throw new RangeError(`need 0 < base <= max (base ${baseMs}, max ${maxMs})`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.#random = options.random ?? Math.random;
  }

  when(item: T): number {
    const exp = this.#failures.get(item) ?? 0;
    this.#failures.set(item, exp + 1);
    const d = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(exp, 40));
    return d * (1 + this.#jitter * (this.#random() - 0.5));
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * Overall token bucket (golang.org/x/time/rate reservation semantics): `burst` tokens refill at
 * `qps`; each `when` takes one token and, when the bucket is empty, returns how long until that
 * reservation is covered. Reservations stack, so a storm of failures is spread out at qps.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Pick<Clock, "monotonicMs">;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Pick<Clock, "monotonicMs">) {
    if (!(qps > 0)) throw new RangeError(`qps must be > 0, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.monotonicMs();
  }

  when(_item: T): number {
    const now = this.#clock.monotonicMs();
    // A clock stepping backwards must not mint tokens.
    const elapsedMs = Math.max(0, now - this.#last);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedMs / 1000) * this.#qps) - 1;
    this.#last = Math.max(now, this.#last);
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The worst (longest) answer of several limiters; every limiter records the attempt. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  readonly #limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    if (limiters.length === 0) throw new RangeError("MaxOfRateLimiter needs at least one limiter");
    this.#limiters = limiters;
  }

  when(item: T): number {
    let longest = 0;
    for (const l of this.#limiters) longest = Math.max(longest, l.when(item));
    return longest;
  }

  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let most = 0;
    for (const l of this.#limiters) most = Math.max(most, l.numRequeues(item));
    return most;
  }
}

export const DEFAULT_BASE_BACKOFF_MS = 5;
export const DEFAULT_MAX_BACKOFF_MS = 1000 * 1000;
export const DEFAULT_BUCKET_QPS = 10;
export const DEFAULT_BUCKET_BURST = 100;

/** controller-runtime's default: per-item 5ms → 1000s exponential, max-of an overall 10 qps / 100 burst bucket. */
export function defaultControllerRateLimiter<T>(clock: Clock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(DEFAULT_BASE_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS),
    new BucketRateLimiter<T>(DEFAULT_BUCKET_QPS, DEFAULT_BUCKET_BURST, clock),
  );
}

/**
 * The delay for a retry that must also respect a server-imposed floor (ARM Retry-After): the
 * limiter still counts the failure so backoff keeps growing, and the longer of the two wins.
 */
export function delayWithFloor<T>(limiter: RateLimiter<T>, item: T, notBeforeMs: number | undefined): number {
  const backoff = limiter.when(item);
  return notBeforeMs !== undefined && notBeforeMs > backoff ? notBeforeMs : backoff;
}

export const ARM_BASE_BACKOFF_MS = 1_000;
export const ARM_MAX_BACKOFF_MS = 5 * 60_000;

/**
 * For controllers whose retries are caused by ARM (5xx, connection errors, throttling, conflicts):
 * per key ≈ 1 s doubling to ≈ 5 min, jittered ±25 %, max-of the same overall bucket as the default
 * (10 qps, burst 100). A Retry-After still floors a retry (`retry(err, notBeforeMs)` →
 * delayWithFloor). Select it with ControllerOptions.rateLimiter.
 */
export function armControllerRateLimiter<T>(clock: Clock, random: () => number = Math.random): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new JitteredExponentialRateLimiter<T>({ baseMs: ARM_BASE_BACKOFF_MS, maxMs: ARM_MAX_BACKOFF_MS, random }),
    new BucketRateLimiter<T>(DEFAULT_BUCKET_QPS, DEFAULT_BUCKET_BURST, clock),
  );
}
