// Every port call is bounded: the caller's signal (the reconcile's) and a per-call deadline are
// combined, handed to the SDK as its abortSignal, and raced against the call itself. A half-open
// socket to ARM (no answer, no reset) therefore costs at most the deadline, never a worker forever,
// even where a library ignores the signal.

import { SYNTHETIC_CODES, type ArmError } from "./errors.ts";

/** Optional last argument of every port method. */
export interface CallOptions {
  /** Aborting it ends the call at once with an `Aborted` ArmError (the SDK request is cancelled). */
  readonly signal?: AbortSignal;
}

/** Default deadline of one port call, SDK retries and write-budget waits included. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** What a bounded call ended with when it did not finish by itself. */
export function abortedError(): ArmError {
  return { kind: "transient", code: SYNTHETIC_CODES.aborted, message: "the ARM call was aborted by its caller" };
}

export function timeoutError(timeoutMs: number): ArmError {
  return { kind: "transient", code: SYNTHETIC_CODES.timeout, message: `ARM did not answer within ${timeoutMs} ms` };
}

/**
 * Runs `fn` with a signal that fires when `caller` does or after `timeoutMs`. Whatever `fn` does,
 * this settles by then: with `onStop(Aborted | RequestTimeout)`. A result that arrives after the
 * signal fired is dropped (the caller has moved on; ARM writes are idempotent PUT/DELETEs).
 */
export async function bounded<T>(
  timeoutMs: number,
  caller: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
  onStop: (error: ArmError) => T,
): Promise<T> {
  if (caller?.aborted === true) return onStop(abortedError());
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException(`no answer in ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  const signal = caller === undefined ? deadline.signal : AbortSignal.any([caller, deadline.signal]);
  const stopError = (): ArmError => (caller?.aborted === true ? abortedError() : timeoutError(timeoutMs));
  let onAbort: () => void = () => undefined;
  const stopped = new Promise<T>((resolve) => {
    onAbort = () => resolve(onStop(stopError()));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const work = fn(signal);
    // The race may be won by `stopped`; a later rejection of `work` must not go unhandled.
    work.catch(() => undefined);
    const result = await Promise.race([work, stopped]);
    return signal.aborted ? onStop(stopError()) : result;
  } catch (e) {
    if (signal.aborted) return onStop(stopError());
    throw e;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}
