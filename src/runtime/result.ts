// What a reconcile asks the runtime to do next, and the single place that turns it into a queue
// action (controller-runtime's reconcileHandler). Keeping it one exhaustive switch means a new
// result kind cannot be added without deciding its queue and metric behaviour.

export type ReconcileResult =
  /** Converged: forget the key's backoff; wait for the next event. */
  | { kind: "done" }
  /** Fine for now, look again later (polling a long ARM operation, next schedule time). */
  | { kind: "requeueAfter"; afterMs: number }
  /** Try again with per-key backoff; notBeforeMs floors the delay (ARM Retry-After). */
  | { kind: "retry"; error?: unknown; notBeforeMs?: number }
  /** Give up until something changes (bad spec, missing source); logged, not requeued. */
  | { kind: "terminal"; error?: unknown };

export const done = (): ReconcileResult => ({ kind: "done" });
export const requeueAfter = (afterMs: number): ReconcileResult => ({ kind: "requeueAfter", afterMs });
export const retry = (error?: unknown, notBeforeMs?: number): ReconcileResult =>
  notBeforeMs === undefined ? { kind: "retry", error } : { kind: "retry", error, notBeforeMs };
export const terminal = (error?: unknown): ReconcileResult => ({ kind: "terminal", error });
/**
 * A write lost an optimistic-concurrency race (409 Conflict): the cache was behind. As in
 * controller-runtime this is a rate-limited retry — never requeueAfter, which forgets the key's
 * backoff and skips the bucket, so a lagging watch would turn into a write (and ARM read) loop.
 */
export const conflict = (error?: unknown): ReconcileResult => ({ kind: "retry", error });

/**
 * An expected, passing failure (ARM throttling, a 5xx, a busy resource): retried like any error,
 * but logged by the controller at warn once per episode and without a stack. Throttling is routine
 * at scale; an error line with a stack per retry (thousands in one restart) buries real problems.
 */
export class TransientError extends Error {
  override readonly name = "TransientError";
}

export function isTransientError(e: unknown): e is TransientError {
  return e instanceof TransientError;
}

/**
 * How the controller logs a reconcile's outcome. Terminal results are expected, user-caused states
 * (an invalid spec, a failed preflight, a stall the object's conditions and events already
 * explain): info, message only. Transient failures: warn once per episode, no stack. Any other
 * error is a fault worth a stack trace: error.
 */
export type OutcomeLog = "finished" | "stalled" | "transient" | "fault";

export function outcomeLog(applied: AppliedResult, error: unknown): OutcomeLog {
  if (applied.isTerminal) return "stalled";
  if (!applied.isError) return "finished";
  return isTransientError(error) ? "transient" : "fault";
}

/** The queue operations a result may use. */
export interface ResultQueue<K> {
  forget(key: K): void;
  addAfter(key: K, ms: number): void;
  addRateLimited(key: K, options?: { notBeforeMs?: number }): void;
}

/** controller-runtime's `result` label values of controller_runtime_reconcile_total. */
export type ReconcileOutcomeLabel = "success" | "error" | "requeue" | "requeue_after";

export interface AppliedResult {
  label: ReconcileOutcomeLabel;
  /** Counts toward controller_runtime_reconcile_errors_total. */
  isError: boolean;
  /** Counts toward controller_runtime_terminal_reconcile_errors_total. */
  isTerminal: boolean;
}

/** A reconcile that throws is a retry with that error, never a crash of the worker. */
export function resultFromThrown(error: unknown): ReconcileResult {
  return { kind: "retry", error };
}

/** Applies a reconcile result to the queue for the key. The only result → queue mapping. */
export function applyResult<K>(queue: ResultQueue<K>, key: K, result: ReconcileResult): AppliedResult {
  switch (result.kind) {
    case "done":
      queue.forget(key);
      return { label: "success", isError: false, isTerminal: false };
    case "requeueAfter":
      // Forget first: a planned re-check is not a failure and must not inherit backoff.
      queue.forget(key);
      queue.addAfter(key, result.afterMs);
      return { label: "requeue_after", isError: false, isTerminal: false };
    case "retry": {
      const options = result.notBeforeMs === undefined ? {} : { notBeforeMs: result.notBeforeMs };
      queue.addRateLimited(key, options);
      const isError = result.error !== undefined;
      return { label: isError ? "error" : "requeue", isError, isTerminal: false };
    }
    case "terminal":
      queue.forget(key);
      return { label: "error", isError: true, isTerminal: true };
    default:
      return assertNever(result);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
