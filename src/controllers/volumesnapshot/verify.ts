// The rule that makes a VolumeSnapshot a backup (API.md "Verified volume snapshots"), as one pure
// function. Kubernetes' `readyToUse` is necessary, never sufficient: for disk.csi.azure.com the Azure
// snapshot behind the handle must be Succeeded, fully copied, without copyCompletionError and
// accessible (Azure/AKS#4555: `readyToUse: true` while the copy is still running).
import { parseComputeSnapshotId } from "../../azure/ids.ts";
import { snapshotReadiness, type CopyProgress } from "../../azure/provisioning.ts";
import { AZURE_DISK_DRIVER, type ClassView, type ContentView, type VolumeSnapshotView } from "./objects.ts";
import { VerifyReasons, type VerificationState, type VerifyReason } from "./reasons.ts";

/** The last ARM read of the handle's Compute snapshot. */
export type AzureObservation =
  | { readonly kind: "found"; readonly snapshot: CopyProgress }
  | { readonly kind: "notFound"; readonly code: string; readonly message: string };

export interface VerifyInput {
  readonly vs: VolumeSnapshotView;
  readonly content: ContentView | undefined;
  readonly cls: ClassView | undefined;
  /** undefined: not read (yet) in this process. */
  readonly azure: AzureObservation | undefined;
  /** The handle an earlier reconcile recorded as verified: no ARM read is needed again. */
  readonly verifiedHandle: string | undefined;
  readonly scopeAllowed: (armId: string) => boolean;
  readonly now: Date;
  /** Waiting longer than this after the VolumeSnapshot was created fails it. */
  readonly deadlineMs: number;
}

export interface Verification {
  readonly state: VerificationState;
  readonly reason: VerifyReason;
  readonly message: string;
  readonly completionPercent?: number;
  /** The Azure snapshot id, once known. */
  readonly handle?: string;
  /** True when the verdict waits on an ARM read of the handle (the caller polls). */
  readonly needsAzure: boolean;
}

type Draft = Omit<Verification, "needsAzure"> & { needsAzure?: boolean };

const v = (d: Draft): Verification => ({ needsAzure: false, ...d });

export function verify(input: VerifyInput): Verification {
  const { vs, content } = input;
  const driver = content?.driver || input.cls?.driver || undefined;
  if (driver !== undefined && driver !== AZURE_DISK_DRIVER) {
    const ready = vs.readyToUse === true && content?.readyToUse === true;
    return v({
      state: "NotVerifiable",
      reason: VerifyReasons.DriverNotVerifiable,
      message: `driver ${driver} is not verified by aksnap; Kubernetes says readyToUse=${String(ready)}`,
    });
  }
  const kube = kubeSide(vs, content);
  if (kube !== undefined) return withDeadline(kube, input);
  const handle = content?.snapshotHandle;
  if (handle === undefined) {
    return withDeadline(v({ state: "Waiting", reason: VerifyReasons.WaitingForHandle, message: "the content has no snapshotHandle yet" }), input);
  }
  if (parseComputeSnapshotId(handle) === undefined) {
    return v({ state: "Failed", reason: VerifyReasons.InvalidSnapshotHandle, message: `snapshotHandle ${handle} is not a Microsoft.Compute/snapshots id`, handle });
  }
  if (!input.scopeAllowed(handle)) {
    return v({
      state: "NotVerifiable",
      reason: VerifyReasons.ScopeNotAllowed,
      message: `namespace ${vs.namespace} may not read ${handle} (operator flag --allowed-scopes); not verified`,
      handle,
    });
  }
  if (input.verifiedHandle !== undefined && input.verifiedHandle.toLowerCase() === handle.toLowerCase()) {
    return v({ state: "Verified", reason: VerifyReasons.Verified, message: `Azure snapshot ${handle} is complete`, completionPercent: 100, handle });
  }
  return withDeadline(azureSide(handle, input.azure), input);
}

/** undefined when Kubernetes has done its part (both ready, no errors). */
function kubeSide(vs: VolumeSnapshotView, content: ContentView | undefined): Verification | undefined {
  if (vs.error !== undefined) {
    return vs.boundContentName === undefined
      ? v({ state: "Failed", reason: VerifyReasons.ContentCreationFailed, message: vs.error.message })
      : v({ state: "Failed", reason: VerifyReasons.VolumeSnapshotError, message: vs.error.message });
  }
  if (content?.error !== undefined) {
    return v({ state: "Failed", reason: VerifyReasons.ContentError, message: `VolumeSnapshotContent ${content.name}: ${content.error.message}` });
  }
  if (vs.readyToUse === true && content?.readyToUse === true) return undefined;
  const where =
    content === undefined
      ? vs.boundContentName === undefined
        ? "no VolumeSnapshotContent bound yet"
        : `VolumeSnapshotContent ${vs.boundContentName} not seen yet`
      : `readyToUse: VolumeSnapshot ${String(vs.readyToUse ?? false)}, content ${String(content.readyToUse ?? false)}`;
  return v({ state: "Waiting", reason: VerifyReasons.WaitingForKubernetes, message: where });
}

function azureSide(handle: string, azure: AzureObservation | undefined): Verification {
  if (azure === undefined) {
    return v({ state: "Waiting", reason: VerifyReasons.Checking, message: `Kubernetes says readyToUse; checking Azure snapshot ${handle}`, handle, needsAzure: true });
  }
  if (azure.kind === "notFound") {
    return v({ state: "Failed", reason: VerifyReasons.AzureSnapshotNotFound, message: `Azure snapshot ${handle} not found (${azure.code}: ${azure.message})`, handle });
  }
  const s = azure.snapshot;
  const pct = s.completionPercent === undefined ? {} : { completionPercent: s.completionPercent };
  const r = snapshotReadiness(s);
  switch (r.kind) {
    case "ready":
      return v({ state: "Verified", reason: VerifyReasons.Verified, message: `Azure snapshot ${handle} is complete`, completionPercent: 100, handle });
    case "failed": {
      const reason = r.code.startsWith("Provisioning") ? VerifyReasons.ProvisioningFailed : VerifyReasons.CopyFailed;
      return v({ state: "Failed", reason, message: `Azure snapshot ${handle}: ${r.code}: ${r.message}`, handle, ...pct });
    }
    case "pending": {
      if (s.snapshotAccessState?.toLowerCase() === "instantaccess") {
        return v({
          state: "InstantAccess",
          reason: VerifyReasons.InstantAccessOnly,
          message: `Azure snapshot ${handle} is restorable through Instant Access but not durable yet (copy ${s.completionPercent ?? "?"}%)`,
          handle,
          needsAzure: true,
          ...pct,
        });
      }
      const reason = r.reason === "Copying" ? VerifyReasons.CopyInProgress : r.reason === "Provisioning" ? VerifyReasons.Provisioning : VerifyReasons.AccessPending;
      return v({ state: "Waiting", reason, message: `Kubernetes says readyToUse, but Azure snapshot ${handle}: ${r.message}`, handle, needsAzure: true, ...pct });
    }
  }
}

/** Waiting (or Instant Access only) past the deadline is a failure that names what it waited for. */
function withDeadline(ver: Verification, input: VerifyInput): Verification {
  if (ver.state !== "Waiting" && ver.state !== "InstantAccess") return ver;
  // Never fail on the deadline without having asked Azure once: the copy may be long done.
  if (ver.reason === VerifyReasons.Checking) return ver;
  const created = input.vs.createdAt === undefined ? NaN : Date.parse(input.vs.createdAt);
  if (!Number.isFinite(created) || input.now.getTime() - created <= input.deadlineMs) return ver;
  const { needsAzure: _dropped, ...rest } = ver;
  const within = formatDuration(input.deadlineMs);
  return v({ ...rest, state: "Failed", reason: VerifyReasons.DeadlineExceeded, message: `not verified within ${within} of creation: ${ver.reason}: ${ver.message}` });
}

function formatDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}
