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
 * Overall token bucket (golang.org/x/time/rate reservation semantics): `burst` tokens refill at
 * `qps`; each `when` takes one token and, when the bucket is empty, returns how long until that
 * reservation is covered. Reservations stack, so a storm of failures is spread out at qps.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
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
