// Provisioning-state normalisation and the real readiness rule for Compute snapshots and disks.
// ARM providers each have their own non-terminal states (Creating, Updating, Accepted, Upgrading,
// Scaling, ...); controllers only need to know terminal vs not, and "going away".

export type ProvisioningState = "succeeded" | "failed" | "canceled" | "deleting" | "inProgress" | "unknown";

export function normalizeProvisioningState(raw: string | undefined): ProvisioningState {
  const s = raw?.trim().toLowerCase();
  if (s === undefined || s === "") return "unknown";
  switch (s) {
    case "succeeded":
      return "succeeded";
    case "failed":
      return "failed";
    case "canceled":
    case "cancelled":
      return "canceled";
    case "deleting":
      return "deleting";
    default:
      return "inProgress";
  }
}

/** `snapshotAccessState` values that mean the snapshot can be used to restore. */
const USABLE_ACCESS_STATES = new Set(["available", "availablewithinstantaccess"]);

export interface CopyCompletionError {
  readonly code: string;
  readonly message: string;
}

/** What readiness is decided from; ComputeSnapshot and ManagedDisk both carry these fields. */
export interface CopyProgress {
  readonly provisioningState: ProvisioningState;
  readonly rawProvisioningState?: string;
  readonly completionPercent?: number;
  readonly copyCompletionError?: CopyCompletionError;
  readonly snapshotAccessState?: string;
}

export type Readiness =
  | { readonly kind: "ready" }
  | {
      readonly kind: "pending";
      readonly reason: "Provisioning" | "Copying" | "AccessPending";
      readonly completionPercent?: number;
      readonly message: string;
    }
  | { readonly kind: "failed"; readonly code: string; readonly message: string };

/**
 * A Compute snapshot is usable only when provisioningState is Succeeded AND completionPercent is
 * absent or ≥ 100 AND there is no copyCompletionError AND snapshotAccessState is absent or
 * Available/AvailableWithInstantAccess. provisioningState alone is not trusted: for Premium SSD v2,
 * Ultra and CopyStart copies it reaches Succeeded long before the data is there (Azure/AKS#4555).
 */
export function snapshotReadiness(s: CopyProgress): Readiness {
  if (s.copyCompletionError !== undefined) {
    return { kind: "failed", code: s.copyCompletionError.code, message: s.copyCompletionError.message };
  }
  const base = provisioningReadiness(s);
  if (base.kind !== "ready") return base;
  const access = s.snapshotAccessState;
  if (access !== undefined && !USABLE_ACCESS_STATES.has(access.toLowerCase())) {
    return {
      kind: "pending",
      reason: "AccessPending",
      ...(s.completionPercent !== undefined ? { completionPercent: s.completionPercent } : {}),
      message: `snapshotAccessState is ${access}`,
    };
  }
  return base;
}

/** A disk made from a snapshot is hydrated when provisioning Succeeded and the background copy is done. */
export function diskHydration(d: CopyProgress): Readiness {
  if (d.copyCompletionError !== undefined) {
    return { kind: "failed", code: d.copyCompletionError.code, message: d.copyCompletionError.message };
  }
  return provisioningReadiness(d);
}

function provisioningReadiness(s: CopyProgress): Readiness {
  const raw = s.rawProvisioningState ?? s.provisioningState;
  switch (s.provisioningState) {
    case "failed":
    case "canceled":
    case "deleting":
      return { kind: "failed", code: `Provisioning${capitalize(s.provisioningState)}`, message: `provisioningState is ${raw}` };
    case "inProgress":
    case "unknown":
      return { kind: "pending", reason: "Provisioning", message: `provisioningState is ${raw}` };
    case "succeeded":
      break;
  }
  const pct = s.completionPercent;
  if (pct !== undefined && pct < 100) {
    return { kind: "pending", reason: "Copying", completionPercent: pct, message: `copy ${pct}% complete` };
  }
  return { kind: "ready" };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
