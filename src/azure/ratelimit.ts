// ARM budgets writes per subscription with a token bucket (about 10 writes/s refill, burst 200) and
// answers 429 when it is empty. Shaping our own writes with the same kind of bucket turns a burst of
// reconciles into short waits instead of throttling storms (which also cost the reads that follow).
// Others share the subscription's budget, so ours can be emptier than our bucket thinks: a 429 on a
// write empties our bucket and halves its rate (floor `minRatePerSecond`); the rate then climbs back
// linearly to the configured one over `recoveryMs` (AIMD, as TCP does with a shared link).

import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { ArmRequestError, SYNTHETIC_CODES } from "./errors.ts";

export interface WriteRateOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size: writes allowed at once after a quiet period. */
  readonly burst: number;
  /**
   * A write that would wait longer than this is refused at once as `throttled` (with retryAfterMs),
   * so a worker requeues instead of holding its slot for minutes.
   */
  readonly maxWaitMs?: number;
  /** The rate never drops below this after 429s. */
  readonly minRatePerSecond?: number;
  /** Time for the rate to climb from zero back to `ratePerSecond` once 429s stop. */
  readonly recoveryMs?: number;
}

/** ARM's own per-subscription write bucket: refill ≈ 10/s, burst 200. */
export const DEFAULT_WRITE_RATE: Required<WriteRateOptions> = {
  ratePerSecond: 10,
  burst: 200,
  maxWaitMs: 30_000,
  minRatePerSecond: 1,
  recoveryMs: 60_000,
};

/** 429s closer together than this are one episode: a burst of refusals halves the rate once. */
const CUT_COOLDOWN_MS = 1_000;

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface TokenBucket {
  /** Takes one token, waiting for it if needed; resolves with the milliseconds waited. */
  acquire(signal?: AbortSignal): Promise<number>;
  /** Tokens available now (negative while writes are queued). */
  available(): number;
  /** ARM refused a write with 429: empty the bucket and halve the rate (once per episode); true if it cut. */
  throttled(): boolean;
  /** The refill rate now (writes/s): the configured one unless 429s lowered it. */
  rate(): number;
}

/**
 * Reservation-based bucket (like Go's rate.Limiter.Reserve): a caller takes its token immediately,
 * possibly driving the balance negative, and sleeps for the deficit. Callers are served in arrival
 * order and no timer runs when nobody waits.
 */
export function createTokenBucket(opts: WriteRateOptions & { now: () => number; sleep: Sleep }): TokenBucket {
  const { ratePerSecond, burst, now, sleep } = opts;
  const maxWaitMs = opts.maxWaitMs ?? DEFAULT_WRITE_RATE.maxWaitMs;
  const minRate = Math.min(ratePerSecond, opts.minRatePerSecond ?? DEFAULT_WRITE_RATE.minRatePerSecond);
  const recoveryMs = opts.recoveryMs ?? DEFAULT_WRITE_RATE.recoveryMs;
  if (!(ratePerSecond > 0) || !(burst >= 1) || !(minRate > 0) || !(recoveryMs > 0)) {
    throw new Error(
      `write rate needs ratePerSecond > 0, burst >= 1, minRatePerSecond > 0, recoveryMs > 0 (got ${ratePerSecond}, ${burst}, ${minRate}, ${recoveryMs})`,
    );
  }
  let tokens = burst;
  let rate = ratePerSecond;
  let last = now();
  let lastCut = -Infinity;

  const refill = (): void => {
    const t = now();
    const elapsed = Math.max(0, t - last);
    last = Math.max(last, t);
    // Linear climb back to the configured rate; tokens accrue at the mean rate over the interval.
    const next = Math.min(ratePerSecond, rate + (ratePerSecond * elapsed) / recoveryMs);
    tokens = Math.min(burst, tokens + (elapsed * (rate + next)) / 2 / 1000);
    rate = next;
  };

  return {
    available() {
      refill();
      return tokens;
    },
    rate() {
      refill();
      return rate;
    },
    throttled() {
      refill();
      const t = now();
      if (t - lastCut < CUT_COOLDOWN_MS) return false;
      lastCut = t;
      rate = Math.max(minRate, rate / 2);
      // ARM's bucket is empty: ours must not keep spending a burst ARM no longer has.
      tokens = Math.min(tokens, 0);
      return true;
    },
    async acquire(signal) {
      refill();
      tokens -= 1;
      if (tokens >= 0) return 0;
      const waitMs = Math.ceil((-tokens * 1000) / rate);
      if (waitMs > maxWaitMs) {
        tokens += 1;
        throw new ArmRequestError({
          kind: "throttled",
          code: SYNTHETIC_CODES.clientRateLimited,
          message: `client-side ARM write budget exhausted; next write slot in ${waitMs} ms`,
          retryAfterMs: waitMs,
        });
      }
      try {
        await sleep(waitMs, signal);
      } catch (e) {
        tokens += 1; // give the reservation back: this write never happens
        throw e;
      }
      return waitMs;
    },
  };
}

const WRITE_METHODS = new Set(["PUT", "PATCH", "POST", "DELETE"]);

export const writeRateLimitPolicyName = "aksnapWriteRateLimit";

/**
 * Pipeline policy: every write attempt (retries included — ARM counts each one) takes a token from
 * the subscription's bucket first. Placed per retry, so it sits inside the SDK's retry loop.
 */
export function writeRateLimitPolicy(
  bucket: TokenBucket,
  onWait?: (waitedMs: number) => void,
  onCut?: (ratePerSecond: number) => void,
): PipelinePolicy {
  return {
    name: writeRateLimitPolicyName,
    async sendRequest(request, next) {
      if (WRITE_METHODS.has(request.method.toUpperCase())) {
        const waited = await bucket.acquire(abortSignalOf(request.abortSignal));
        if (waited > 0) onWait?.(waited);
        const response = await next(request);
        // Only a write's 429 speaks about the write budget (reads have their own).
        if (response.status === 429 && bucket.throttled()) onCut?.(bucket.rate());
        return response;
      }
      return next(request);
    },
  };
}

// core-rest-pipeline types the signal as AbortSignalLike; our sleep takes a real AbortSignal.
function abortSignalOf(s: unknown): AbortSignal | undefined {
  return s instanceof AbortSignal ? s : undefined;
}

/** setTimeout-based sleep that rejects with an AbortError when the signal fires. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
