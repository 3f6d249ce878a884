// Gathers the preflight's facts with reads only (Kubernetes GET of a NodePoolSnapshot, ARM GETs of
// the snapshot, the target cluster and pool). Nothing is read in a scope the namespace may not use.
import type { CallOptions } from "../../azure/deadline.ts";
import type { ArmError } from "../../azure/errors.ts";
import { agentPoolId, managedClusterId, nodePoolSnapshotId, parseNodePoolSnapshotId, type AgentPoolRef, type GroupResourceRef, type ManagedClusterRef } from "../../azure/ids.ts";
import type { AgentPoolsPort } from "../../azure/ports/agentPools.ts";
import type { DisksPort } from "../../azure/ports/disks.ts";
import type { ManagedClustersPort } from "../../azure/ports/managedClusters.ts";
import type { NodePoolSnapshotsPort } from "../../azure/ports/nodePoolSnapshots.ts";
import { findCondition } from "../../conditions/conditions.ts";
import { scopeAllowed, type AllowedScopes } from "../../config.ts";
import { NodePoolSnapshotKind } from "../../crds/nodepoolsnapshot.ts";
import type { NodePoolRestore, RestoreRequest } from "../../crds/restorerequest.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { Facts, SnapshotState } from "./preflight.ts";

export interface RestoreArm {
  nodePoolSnapshots: Pick<NodePoolSnapshotsPort, "get">;
  agentPools: AgentPoolsPort;
  managedClusters: ManagedClustersPort;
  /** Hydration of restored disks. */
  disks: Pick<DisksPort, "get">;
}

/** Where the restore lands, resolved against the operator's default subscription. */
export interface Target {
  readonly cluster: ManagedClusterRef;
  /** Unset for CreateCluster. */
  readonly pool?: AgentPoolRef;
  readonly clusterId: string;
  readonly poolId?: string;
}

export function resolveTarget(np: NodePoolRestore, defaultSubscriptionId: string | undefined): Target | undefined {
  const subscriptionId = np.target.subscriptionId ?? defaultSubscriptionId;
  if (!subscriptionId) return undefined;
  const cluster: ManagedClusterRef = { subscriptionId, resourceGroup: np.target.resourceGroup, clusterName: np.target.clusterName };
  if (np.mode === "CreateCluster" || !np.target.agentPoolName) return { cluster, clusterId: managedClusterId(cluster) };
  const pool: AgentPoolRef = { ...cluster, agentPoolName: np.target.agentPoolName };
  return { cluster, pool, clusterId: managedClusterId(cluster), poolId: agentPoolId(pool) };
}

/** The snapshot's ARM id: from the spec, or from the named NodePoolSnapshot's status. */
export type SnapshotLocator = { readonly kind: "id"; readonly ref: GroupResourceRef; readonly id: string } | { readonly kind: "unresolved"; readonly state: SnapshotState };

export interface GatherDeps {
  client: KubeClient;
  arm: RestoreArm;
  allowedScopes: AllowedScopes | undefined;
  allowedRegions: readonly string[] | undefined;
  /** When a NodePoolSnapshot that does not exist or is not Ready yet stops being waited for. */
  snapshotWaitExpired: (rr: RestoreRequest) => boolean;
}

/** An ARM read that failed for a reason other than "absent": the reconcile retries (no verdict on the world). */
export class ReadFailed extends Error {
  readonly error: ArmError;
  readonly doing: string;
  constructor(error: ArmError, doing: string) {
    super(`${doing}: ${error.code}`);
    this.error = error;
    this.doing = doing;
  }
}

async function locateSnapshot(rr: RestoreRequest, np: NodePoolRestore, deps: GatherDeps, call: CallOptions): Promise<SnapshotLocator> {
  if (np.snapshotId !== undefined) {
    const ref = parseNodePoolSnapshotId(np.snapshotId);
    if (!ref) return { kind: "unresolved", state: { state: "missing", message: `${np.snapshotId} is not a node-pool snapshot id` } };
    return { kind: "id", ref, id: nodePoolSnapshotId(ref) };
  }
  const ns = rr.metadata.namespace ?? "";
  const name = np.snapshotRef?.name ?? "";
  const raw = await deps.client.tryGet(NodePoolSnapshotKind.resource, ns, name, { signal: call.signal });
  const expired = deps.snapshotWaitExpired(rr);
  if (!raw) {
    const message = `NodePoolSnapshot ${ns}/${name} not found`;
    const state: SnapshotState = expired
      ? { state: "missing", message: `${message}; create it, or name an existing one` }
      : { state: "pending", message: `${message} (yet); waiting for it` };
    return { kind: "unresolved", state };
  }
  const parsed = NodePoolSnapshotKind.parse(raw);
  const status = parsed.ok ? parsed.value.status : undefined;
  const ready = findCondition(status?.conditions, "Ready");
  const stalled = findCondition(status?.conditions, "Stalled");
  const current = status?.observedGeneration === raw.metadata.generation;
  if (ready?.status === "True" && current && status?.snapshotId) {
    const ref = parseNodePoolSnapshotId(status.snapshotId);
    if (ref) return { kind: "id", ref, id: status.snapshotId };
  }
  if (stalled?.status === "True" && current) {
    return { kind: "unresolved", state: { state: "missing", message: `NodePoolSnapshot ${ns}/${name} is Stalled (${stalled.reason}: ${stalled.message})` } };
  }
  const why = ready ? `${ready.reason}: ${ready.message}` : "no status yet";
  const state: SnapshotState = expired
    ? { state: "missing", message: `NodePoolSnapshot ${ns}/${name} did not become Ready in time (${why})` }
    : { state: "pending", message: `NodePoolSnapshot ${ns}/${name} is not Ready yet (${why})` };
  return { kind: "unresolved", state };
}

/** Reads the facts for the preflight. Throws ReadFailed when ARM could not answer (retried). */
export async function gatherFacts(rr: RestoreRequest, np: NodePoolRestore, target: Target, deps: GatherDeps, call: CallOptions): Promise<Facts> {
  const namespace = rr.metadata.namespace ?? "";
  const located = await locateSnapshot(rr, np, deps, call);
  const ids = [target.clusterId, ...(located.kind === "id" ? [located.id] : [])];
  const deniedIds = ids.filter((id) => !scopeAllowed(deps.allowedScopes, namespace, id));
  const base = {
    mode: np.mode,
    namespace,
    deniedIds,
    allowedRegions: deps.allowedRegions,
    targetClusterId: target.clusterId,
    ...(target.poolId ? { targetPoolId: target.poolId } : {}),
    ...(np.vmSize ? { requestedVmSize: np.vmSize } : {}),
    ...(np.cluster?.location ? { requestedLocation: np.cluster.location } : {}),
  };
  // A refused scope is not read at all: reads would tell the namespace what exists there.
  if (deniedIds.length > 0) return base;

  let snapshot: SnapshotState;
  if (located.kind === "unresolved") snapshot = located.state;
  else {
    const got = await deps.arm.nodePoolSnapshots.get(located.ref, call);
    if (got.ok) {
      const s = got.value;
      snapshot = {
        state: "ready",
        snapshot: {
          id: s.id,
          location: s.location,
          ...(s.kubernetesVersion ? { kubernetesVersion: s.kubernetesVersion } : {}),
          ...(s.nodeImageVersion ? { nodeImageVersion: s.nodeImageVersion } : {}),
          ...(s.vmSize ? { vmSize: s.vmSize } : {}),
        },
      };
    } else if (got.error.kind === "notFound") {
      snapshot = { state: "missing", message: `node-pool snapshot ${located.id} not found in ARM (${got.error.code})` };
    } else throw new ReadFailed(got.error, `reading snapshot ${located.id}`);
  }

  const c = await deps.arm.managedClusters.get(target.cluster, call);
  if (!c.ok && c.error.kind !== "notFound") throw new ReadFailed(c.error, `reading cluster ${target.clusterId}`);
  // Skew is measured against the running control plane.
  const cpVersion = c.ok ? (c.value.currentKubernetesVersion ?? c.value.kubernetesVersion) : undefined;
  const cluster = c.ok ? { id: c.value.id, location: c.value.location, ...(cpVersion ? { kubernetesVersion: cpVersion } : {}) } : null;
  if (!cluster || !target.pool) return { ...base, snapshot, cluster };

  const p = await deps.arm.agentPools.get(target.pool, call);
  if (!p.ok && p.error.kind !== "notFound") throw new ReadFailed(p.error, `reading agent pool ${target.poolId ?? ""}`);
  const version = p.ok ? (p.value.currentOrchestratorVersion ?? p.value.orchestratorVersion) : undefined;
  const pool = p.ok
    ? {
        id: p.value.id,
        ...(p.value.vmSize ? { vmSize: p.value.vmSize } : {}),
        ...(version ? { kubernetesVersion: version } : {}),
        ...(p.value.nodeImageVersion ? { nodeImageVersion: p.value.nodeImageVersion } : {}),
      }
    : null;
  return { ...base, snapshot, cluster, pool };
}
