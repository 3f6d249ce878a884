// Condition reasons and Event reasons for NodePoolSnapshot: PascalCase, stable, documented in
// docs/api.md (users search for them). Changing one is an API change.
import { CommonReasons } from "../common/reasons.ts";

export const Reasons = {
  ...CommonReasons,
  // Ready=True
  SnapshotReady: "SnapshotReady",
  // Reconciling=True (work in flight; retried)
  Creating: "Creating",
  UpdatingTags: "UpdatingTags",
  Deleting: "Deleting",
  SourcePoolBusy: "SourcePoolBusy",
  // Stalled=True (needs a change to the spec or the world)
  SnapshotMissing: "SnapshotMissing",
  SourceClusterStopped: "SourceClusterStopped",
  SubscriptionUnknown: "SubscriptionUnknown",
  ScopeNotAllowed: "ScopeNotAllowed",
  SourceAgentPoolNotFound: "SourceAgentPoolNotFound",
  LocationMismatch: "LocationMismatch",
  SnapshotNameConflict: "SnapshotNameConflict",
  DeleteFailed: "DeleteFailed",
} as const;

export type Reason = (typeof Reasons)[keyof typeof Reasons];

/** Event reasons (Normal unless noted). */
export const EventReasons = {
  Created: "SnapshotCreated",
  Found: "SnapshotFound",
  Adopted: "SnapshotAdopted",
  TagsUpdated: "TagsUpdated",
  Deleted: "SnapshotDeleted",
  Retained: "SnapshotRetained",
  Missing: "SnapshotMissing", // Warning
  Recreated: "SnapshotRecreated",
} as const;
