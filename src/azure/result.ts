// What a port call returns. ARM failures are values (an ArmError), not exceptions, so a controller
// handles each kind explicitly; ports only throw on programmer errors (e.g. a malformed resume token).

import type { ArmError } from "./errors.ts";

export type ArmResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ArmError };

export function ok<T>(value: T): ArmResult<T> {
  return { ok: true, value };
}

export function fail<T>(error: ArmError): ArmResult<T> {
  return { ok: false, error };
}

/**
 * The answer to `begin*`: the write was accepted and is running (keep `resumeToken` in status and
 * look again later), or ARM finished it synchronously, or ARM refused it.
 */
export type LroStart<T> =
  | { readonly kind: "submitted"; readonly resumeToken: string }
  | { readonly kind: "succeeded"; readonly value: T }
  | { readonly kind: "failed"; readonly error: ArmError };

/**
 * The answer to `checkOperation(token)`:
 * - inProgress: still running; store the (possibly updated) token and look again later.
 * - succeeded: the operation finished; `value` is the resource as ARM now has it.
 * - failed: stop using this token. Either the operation ended Failed/Canceled (the error carries
 *   ARM's code, read from the resource's provisioningError or the operation status document), or
 *   the check itself was refused for good (e.g. notFound: the operation record or the resource is
 *   gone). Re-read the resource before submitting again.
 * - unknown: we could not find out this time (throttled, 5xx, network). The operation may be fine:
 *   keep the token and retry per `error` (retryAfterMs when ARM gave one).
 */
export type LroCheck<T> =
  | { readonly kind: "inProgress"; readonly resumeToken: string }
  | { readonly kind: "succeeded"; readonly value: T }
  | { readonly kind: "failed"; readonly error: ArmError }
  | { readonly kind: "unknown"; readonly error: ArmError };
