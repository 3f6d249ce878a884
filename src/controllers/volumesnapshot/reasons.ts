// Verification states and reasons for VolumeSnapshots: stable, PascalCase, documented in
// docs/verification.md (users search for them). Changing one is an API change.

/** What aksnap says about one VolumeSnapshot. Only `Verified` counts as a backup. */
export type VerificationState =
  /** Kubernetes and Azure agree the snapshot is complete and durable. */
  | "Verified"
  /** Not there yet (Kubernetes not ready, or the Azure copy still running); polled until the deadline. */
  | "Waiting"
  /** Restorable through Azure Instant Access, but the copy to standard storage is not done: not durable. */
  | "InstantAccess"
  /** Will not become a backup without a change (error, failed copy, deadline passed). */
  | "Failed"
  /** aksnap cannot check it (another CSI driver, or a handle outside the namespace's ARM scopes). */
  | "NotVerifiable";

export const VerifyReasons = {
  // Verified
  Verified: "SnapshotVerified",
  // Waiting
  WaitingForKubernetes: "WaitingForKubernetes",
  WaitingForHandle: "WaitingForSnapshotHandle",
  Checking: "CheckingAzure",
  Provisioning: "AzureProvisioning",
  CopyInProgress: "CopyInProgress",
  AccessPending: "AccessPending",
  // InstantAccess
  InstantAccessOnly: "InstantAccessOnly",
  // Failed
  ContentCreationFailed: "SnapshotContentCreationFailed",
  VolumeSnapshotError: "VolumeSnapshotError",
  ContentError: "ContentError",
  CopyFailed: "CopyFailed",
  ProvisioningFailed: "ProvisioningFailed",
  AzureSnapshotNotFound: "AzureSnapshotNotFound",
  InvalidSnapshotHandle: "InvalidSnapshotHandle",
  DeadlineExceeded: "DeadlineExceeded",
  // NotVerifiable
  DriverNotVerifiable: "DriverNotVerifiable",
  ScopeNotAllowed: "ScopeNotAllowed",
} as const;

export type VerifyReason = (typeof VerifyReasons)[keyof typeof VerifyReasons];

/** Event reasons on the VolumeSnapshot, one per transition. */
export const VerifyEventReasons = {
  Verified: "SnapshotVerified",
  Waiting: "VerificationWaiting",
  InstantAccess: "InstantAccessOnly",
  Failed: "VerificationFailed", // Warning
  NotVerifiable: "NotVerifiable",
} as const;
