// Condition reasons and Event reasons for RestoreRequest: PascalCase, stable, documented in
// docs/api.md and docs/restore.md (users search for them). Changing one is an API change.
import { CommonReasons } from "../common/reasons.ts";

export const Reasons = {
  ...CommonReasons,
  // Ready=True (phase Succeeded)
  RestoreSucceeded: "RestoreSucceeded",
  // Reconciling=True (phase Pending or Running)
  WaitingForSnapshot: "WaitingForSnapshot",
  Starting: "Starting",
  OperationInProgress: "OperationInProgress",
  TargetBusy: "TargetBusy",
  RestoringVolumes: "RestoringVolumes",
  RunningHooks: "RunningHooks",
  // Stalled=True (phase Failed) — the preflight rules' reasons
  ScopeNotAllowed: "ScopeNotAllowed",
  SnapshotNotReady: "SnapshotNotReady",
  TargetNotFound: "TargetNotFound",
  TargetAlreadyExists: "TargetAlreadyExists",
  RegionNotAllowed: "RegionNotAllowed",
  VMFamilyMismatch: "VMFamilyMismatch",
  VersionNotAllowed: "VersionNotAllowed",
  SubscriptionUnknown: "SubscriptionUnknown",
  // Stalled=True (phase Failed) — after the preflight
  OperationFailed: "OperationFailed",
  TargetChanged: "TargetChanged",
  DeadlineExceeded: "DeadlineExceeded",
  // Stalled=True (phase Failed) — volumes
  RestoreNotGranted: "RestoreNotGranted",
  SnapshotNotFound: "SnapshotNotFound",
  SnapshotNotVerified: "SnapshotNotVerified",
  PVCAlreadyExists: "PVCAlreadyExists",
  VolumeRestoreFailed: "VolumeRestoreFailed",
  // Stalled=True (phase Failed) — hooks
  HookFailed: "HookFailed",
} as const;

export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Event reasons (Normal unless noted). */
export const EventReasons = {
  PreflightPassed: "PreflightPassed",
  PreflightFailed: "PreflightFailed", // Warning
  OperationStarted: "OperationStarted",
  OperationResumed: "OperationResumed",
  TargetBusy: "TargetBusy",
  VolumeProgress: "VolumeProgress",
  HookSucceeded: "HookSucceeded",
  HookFailed: "HookFailed", // Warning: exited non-zero, timed out, could not run, or found no pod (NoPods)
  HookRerun: "HookRerun", // Warning: a restart cut its exec off; it runs once more
  Succeeded: "RestoreSucceeded",
  Failed: "RestoreFailed", // Warning
} as const;
