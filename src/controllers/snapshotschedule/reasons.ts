// Condition, event and per-child reasons for SnapshotSchedule: PascalCase, stable, documented in
// docs/api.md (users search for them). Changing one is an API change.
import { CommonReasons } from "../common/reasons.ts";

export const Reasons = {
  ...CommonReasons,
  // Ready=True
  /** The last run succeeded and the next one is scheduled (or the schedule is on-demand only). */
  LastRunSucceeded: "LastRunSucceeded",
  // Ready=False, not progressing
  /** Nothing has run yet; waiting for the first scheduled time or an on-demand request. */
  WaitingForFirstRun: "WaitingForFirstRun",
  /** The last run ended Failed; the schedule goes on (the next run may succeed). */
  LastRunFailed: "LastRunFailed",
  // Reconciling=True
  /** A run is in flight: children being created or verified. */
  RunInProgress: "RunInProgress",
  /** The schedule is being deleted with childDeletionPolicy Delete; its disk snapshots are going. */
  Deleting: "Deleting",
  // Stalled=True (needs a change to the spec or the world)
  /** spec.timeZone is not a zone this operator's tz database knows. */
  UnknownTimeZone: "UnknownTimeZone",
  /** spec.schedule does not parse (admission checks the shape; the parser is stricter). */
  InvalidSchedule: "InvalidSchedule",
  /** No run within five years (e.g. 30 February). */
  NoNextRun: "NoNextRun",
  /** The operator has no subscription for a disk template (no subscriptionId, no default). */
  SubscriptionUnknown: "SubscriptionUnknown",
  /** The namespace may not use a subscription/resource group the template names (--allowed-scopes). */
  ScopeNotAllowed: "ScopeNotAllowed",
} as const;

export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Event reasons on the SnapshotSchedule (Normal unless noted). */
export const EventReasons = {
  RunStarted: "RunStarted",
  RunSucceeded: "RunSucceeded",
  RunFailed: "RunFailed", // Warning
  RunSkipped: "RunSkipped", // Warning: Forbid, deadline passed, too many missed
  DeletedByRetention: "DeletedByRetention",
  RetentionFailed: "RetentionFailed", // Warning
  ChildrenDeleted: "ChildrenDeleted",
  ChildrenRetained: "ChildrenRetained",
  HookSucceeded: "HookSucceeded",
  HookFailed: "HookFailed", // Warning: a hook exited non-zero, timed out, could not run, or matched no pod
} as const;

/** Why one child of a run is not (yet) verified: `status.lastRun.results[].message` starts with it. */
export const ChildReasons = {
  Creating: "Creating",
  WaitingForReady: "WaitingForReady",
  CopyInProgress: "CopyInProgress",
  Provisioning: "Provisioning",
  AccessPending: "AccessPending",
  CreateFailed: "CreateFailed",
  ChildStalled: "ChildStalled",
  VerificationFailed: "VerificationFailed",
  DeadlineExceeded: "DeadlineExceeded",
  NoTargets: "NoTargets",
} as const;
