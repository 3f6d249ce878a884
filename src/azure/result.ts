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
 * - inProgress: still running; keep the token.
 * - succeeded / failed: the operation reached a terminal state (failed carries ARM's error code,
 *   read from the resource's provisioningError or the operation status).
 * - unknown: we could not find out this time (throttled, 5xx, network, or the operation record is
 *   gone: notFound). The operation itself may be fine: keep the token, retry per `error`.
 */
export type LroCheck<T> =
  | { readonly kind: "inProgress"; readonly resumeToken: string }
  | { readonly kind: "succeeded"; readonly value: T }
  | { readonly kind: "failed"; readonly error: ArmError }
  | { readonly kind: "unknown"; readonly error: ArmError };
