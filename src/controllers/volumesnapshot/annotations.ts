// The verifier's record on each VolumeSnapshot it checks: annotations (the object is not ours, so
// no status), read back on the next reconcile and after a restart. `aksnap.io/verified` and
// `aksnap.io/completion-percent` are the contract (API.md); the rest explain and resume.
import { rfc3339 } from "../../conditions/conditions.ts";
import { ANNOTATION_COMPLETION_PERCENT, ANNOTATION_VERIFIED } from "../../crds/names.ts";
import type { VerificationState } from "./reasons.ts";
import type { Verification } from "./verify.ts";

export const ANNOTATION_STATE = "aksnap.io/verification";
export const ANNOTATION_REASON = "aksnap.io/verification-reason";
export const ANNOTATION_MESSAGE = "aksnap.io/verification-message";
/** When the state or reason last changed (RFC 3339). */
export const ANNOTATION_TIME = "aksnap.io/verification-time";
/** The Azure snapshot id that was verified: once set, no ARM read is needed again. */
export const ANNOTATION_VERIFIED_HANDLE = "aksnap.io/verified-handle";
/** When Azure was last read for this snapshot: a restarted operator resumes the poll cadence. */
export const ANNOTATION_CHECKED_AT = "aksnap.io/azure-checked-at";

const OURS = [
  ANNOTATION_VERIFIED,
  ANNOTATION_COMPLETION_PERCENT,
  ANNOTATION_STATE,
  ANNOTATION_REASON,
  ANNOTATION_MESSAGE,
  ANNOTATION_TIME,
  ANNOTATION_VERIFIED_HANDLE,
  ANNOTATION_CHECKED_AT,
] as const;

const STATES: readonly VerificationState[] = ["Verified", "Waiting", "InstantAccess", "Failed", "NotVerifiable"];
const MAX_MESSAGE = 1024;

/** What an earlier reconcile (maybe another process) recorded. */
export interface Recorded {
  readonly state?: VerificationState;
  readonly reason?: string;
  readonly verifiedHandle?: string;
  readonly checkedAt?: Date;
}

export function recorded(annotations: Readonly<Record<string, string>>): Recorded {
  const state = STATES.find((s) => s === annotations[ANNOTATION_STATE]);
  const checked = annotations[ANNOTATION_CHECKED_AT] === undefined ? NaN : Date.parse(annotations[ANNOTATION_CHECKED_AT]);
  const out: { -readonly [K in keyof Recorded]: Recorded[K] } = {};
  if (state) out.state = state;
  if (annotations[ANNOTATION_REASON]) out.reason = annotations[ANNOTATION_REASON];
  if (annotations[ANNOTATION_VERIFIED_HANDLE]) out.verifiedHandle = annotations[ANNOTATION_VERIFIED_HANDLE];
  if (Number.isFinite(checked)) out.checkedAt = new Date(checked);
  return out;
}

/** True when the verdict differs from what is recorded in a way that deserves an Event. */
export function isTransition(prev: Recorded, next: Verification): boolean {
  return prev.state !== next.state || prev.reason !== next.reason;
}

/**
 * The merge patch of metadata.annotations that records `next` (null values delete), or null when
 * nothing would change. `checkedAt` is set when Azure was read in this reconcile.
 */
export function annotationPatch(
  current: Readonly<Record<string, string>>,
  next: Verification,
  now: Date,
  checkedAt: Date | undefined,
): Record<string, string | null> | null {
  const prev = recorded(current);
  const want: Record<string, string | undefined> = {
    [ANNOTATION_VERIFIED]: String(next.state === "Verified"),
    [ANNOTATION_STATE]: next.state,
    [ANNOTATION_REASON]: next.reason,
    [ANNOTATION_MESSAGE]: next.message.length > MAX_MESSAGE ? `${next.message.slice(0, MAX_MESSAGE - 1)}…` : next.message,
    [ANNOTATION_COMPLETION_PERCENT]: next.completionPercent === undefined ? current[ANNOTATION_COMPLETION_PERCENT] : String(next.completionPercent),
    [ANNOTATION_TIME]: isTransition(prev, next) ? rfc3339(now) : (current[ANNOTATION_TIME] ?? rfc3339(now)),
    [ANNOTATION_VERIFIED_HANDLE]: next.state === "Verified" ? next.handle : undefined,
    [ANNOTATION_CHECKED_AT]: checkedAt === undefined ? current[ANNOTATION_CHECKED_AT] : rfc3339(checkedAt),
  };
  const patch: Record<string, string | null> = {};
  for (const key of OURS) {
    const value = want[key];
    if (value === undefined) {
      if (current[key] !== undefined) patch[key] = null;
    } else if (current[key] !== value) patch[key] = value;
  }
  return Object.keys(patch).length === 0 ? null : patch;
}
