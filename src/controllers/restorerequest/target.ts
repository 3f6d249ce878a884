// What the restore's target shows, decided purely: whether to start the ARM write, or whether the
// write already happened (a previous reconcile or process started it and stopped before recording
// its resume token) and is running, done or failed. This is what makes a restart resume the same
// operation instead of starting a second one. Also the request bodies of the writes.
import type { ProvisioningError } from "../../azure/ports/agentPools.ts";
import type { AgentPoolSpec } from "../../azure/ports/agentPools.ts";
import type { ManagedClusterCreateSpec } from "../../azure/ports/managedClusters.ts";
import { sameResourceId } from "../../azure/ids.ts";
import type { ProvisioningState } from "../../azure/provisioning.ts";
import type { NodePoolRestore, RestoreMode } from "../../crds/restorerequest.ts";

/** ARM tag on pools and clusters a RestoreRequest created: `<namespace>/<name>` (never read to delete). */
export const TAG_RESTORE = "aksnap.io-restore";

/** The target (agent pool, or cluster for CreateCluster) as ARM shows it now. */
export interface ObservedTarget {
  readonly id: string;
  readonly provisioningState: ProvisioningState;
  readonly rawProvisioningState?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** creationData.sourceResourceId (a cluster: its system pool's). */
  readonly creationSourceResourceId?: string;
  /** Requested version (orchestratorVersion / kubernetesVersion). */
  readonly kubernetesVersion?: string;
  readonly nodeImageVersion?: string;
  readonly provisioningError?: ProvisioningError;
}

export interface SnapshotRef {
  readonly id: string;
  readonly kubernetesVersion?: string;
  readonly nodeImageVersion?: string;
}

export type TargetObservation =
  /** Nothing of ours there yet: send the write. */
  | { readonly kind: "start" }
  /** Our write's effect is there and settled. */
  | { readonly kind: "done" }
  /** Our write is running (its resume token was lost): wait by reading the target. */
  | { readonly kind: "running"; readonly message: string }
  /** Our write ended Failed/Canceled. */
  | { readonly kind: "failed"; readonly code: string; readonly message: string }
  /** Busy with someone else's operation: wait. */
  | { readonly kind: "busy"; readonly message: string }
  /** Terminal for this request: taken by someone else, or gone. */
  | { readonly kind: "refused"; readonly reason: "TargetAlreadyExists" | "TargetNotFound" | "TargetChanged"; readonly message: string };

const isCreate = (mode: RestoreMode): boolean => mode === "CreateNodePool" || mode === "CreateCluster";

/** Whether the target shows our write: our tag on what we create; the snapshot as its source for upgrades. */
export function showsOurWrite(mode: RestoreMode, snapshot: SnapshotRef, owner: string, t: ObservedTarget): boolean {
  switch (mode) {
    case "CreateNodePool":
    case "CreateCluster":
      return t.tags?.[TAG_RESTORE] === owner;
    case "UpgradeNodePool":
      // The preflight proved the pool was older than the snapshot; pointing at it now means our PUT landed.
      return sameResourceId(t.creationSourceResourceId, snapshot.id) && t.kubernetesVersion === snapshot.kubernetesVersion;
    case "UpgradeNodeImage":
      return sameResourceId(t.creationSourceResourceId, snapshot.id);
  }
}

export function observeTarget(mode: RestoreMode, snapshot: SnapshotRef, owner: string, t: ObservedTarget | undefined, targetId: string): TargetObservation {
  const state = (x: ObservedTarget): string => x.rawProvisioningState ?? x.provisioningState;
  if (t === undefined) {
    return isCreate(mode) ? { kind: "start" } : { kind: "refused", reason: "TargetNotFound", message: `${targetId} no longer exists (it was deleted after the preflight)` };
  }
  if (!showsOurWrite(mode, snapshot, owner, t)) {
    if (isCreate(mode)) {
      return { kind: "refused", reason: "TargetAlreadyExists", message: `${t.id} was created by someone else after the preflight; it is left untouched` };
    }
    if (t.provisioningState === "inProgress" || t.provisioningState === "deleting") {
      return { kind: "busy", message: `${t.id} is ${state(t)}; waiting for its operation to finish before the restore starts` };
    }
    return { kind: "start" };
  }
  switch (t.provisioningState) {
    case "inProgress":
    case "unknown":
      return { kind: "running", message: `${t.id} is ${state(t)} (the restore's operation)` };
    case "deleting":
      return { kind: "refused", reason: "TargetChanged", message: `${t.id} is being deleted` };
    case "failed":
    case "canceled":
      return {
        kind: "failed",
        code: t.provisioningError?.code ?? `Provisioning${t.provisioningState === "failed" ? "Failed" : "Canceled"}`,
        message: t.provisioningError?.message ?? `${t.id} ended ${state(t)}`,
      };
    case "succeeded":
      break;
  }
  if ((mode === "UpgradeNodeImage" || mode === "UpgradeNodePool") && snapshot.nodeImageVersion && t.nodeImageVersion !== snapshot.nodeImageVersion) {
    return {
      kind: "refused",
      reason: "TargetChanged",
      message: `${t.id} succeeded but runs node image ${t.nodeImageVersion ?? "?"}, not the snapshot's ${snapshot.nodeImageVersion} (another upgrade ran meanwhile?)`,
    };
  }
  return { kind: "done" };
}

/** AKS taint syntax: key=value:Effect, or key:Effect without a value. */
export function taintString(t: { key: string; value?: string | undefined; effect: string }): string {
  return t.value === undefined || t.value === "" ? `${t.key}:${t.effect}` : `${t.key}=${t.value}:${t.effect}`;
}

/** The new agent pool (CreateNodePool): unset fields come from the snapshot. */
export function newPoolSpec(np: NodePoolRestore, snapshotId: string, owner: string): AgentPoolSpec {
  return {
    count: np.count ?? 1,
    mode: np.agentPoolMode ?? "User",
    creationSourceResourceId: snapshotId,
    tags: { [TAG_RESTORE]: owner },
    ...(np.vmSize ? { vmSize: np.vmSize } : {}),
    ...(np.labels ? { nodeLabels: { ...np.labels } } : {}),
    ...(np.taints ? { nodeTaints: np.taints.map(taintString) } : {}),
  };
}

/** A valid dnsPrefix from a cluster name (letters, digits, '-'; 1-54; alphanumeric ends). */
export function defaultDnsPrefix(clusterName: string): string {
  const p = clusterName.replace(/[^a-zA-Z0-9-]/g, "-").slice(0, 54).replace(/^-+|-+$/g, "");
  return p === "" ? "aks" : p;
}

/** The minimal new cluster (CreateCluster): its system pool from the snapshot, at the snapshot's version. */
export function newClusterSpec(np: NodePoolRestore, snapshot: SnapshotRef & { location: string }, owner: string): ManagedClusterCreateSpec {
  return {
    location: np.cluster?.location ?? snapshot.location.toLowerCase().replace(/\s/g, ""),
    dnsPrefix: np.cluster?.dnsPrefix ?? defaultDnsPrefix(np.target.clusterName),
    ...(snapshot.kubernetesVersion ? { kubernetesVersion: snapshot.kubernetesVersion } : {}),
    tags: { [TAG_RESTORE]: owner },
    systemPool: {
      name: np.target.agentPoolName ?? "nodepool1",
      count: np.count ?? 1,
      creationSourceResourceId: snapshot.id,
      ...(np.vmSize ? { vmSize: np.vmSize } : {}),
      ...(snapshot.kubernetesVersion ? { orchestratorVersion: snapshot.kubernetesVersion } : {}),
      ...(np.labels ? { nodeLabels: { ...np.labels } } : {}),
      ...(np.taints ? { nodeTaints: np.taints.map(taintString) } : {}),
    },
  };
}
