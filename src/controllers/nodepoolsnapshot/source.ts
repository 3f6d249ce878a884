// Whether a NodePoolSnapshot's source can be snapshotted now: the cluster running and not in an
// operation, the pool not upgrading/scaling/... (a snapshot taken mid-upgrade records versions the
// nodes are not running yet). A cluster's region never changes, so it is read once per process; a
// pool seen ready is trusted for a short TTL, so a batch of snapshots of one pool reads the
// cluster and the pool about once instead of once per object.
import type { CallOptions } from "../../azure/deadline.ts";
import type { ArmError } from "../../azure/errors.ts";
import { managedClusterId, resourceIdKey } from "../../azure/ids.ts";
import type { AgentPoolsPort } from "../../azure/ports/agentPools.ts";
import type { ManagedClustersPort } from "../../azure/ports/managedClusters.ts";
import { retry } from "../../runtime/result.ts";
import type { Verdict } from "../common/frame.ts";
import type { Desired } from "./desired.ts";
import { Reasons } from "./reasons.ts";
import type { StatusExtra } from "./status.ts";

/** Default for NodePoolSnapshotDeps.sourceBusyRecheckMs. */
export const SOURCE_BUSY_RECHECK_MS = 30_000;
/** Default for NodePoolSnapshotDeps.sourceStateTtlMs. */
export const SOURCE_STATE_TTL_MS = 30_000;

type V = Verdict<StatusExtra>;
type Capture = Extract<Desired, { mode: "capture" }>;

export interface SourceGateDeps {
  arm: { agentPools: Pick<AgentPoolsPort, "get">; managedClusters: Pick<ManagedClustersPort, "get"> };
  now: () => number;
  busyRecheckMs: number;
  stateTtlMs: number;
  stalled: (reason: string, message: string, worldMayChange: boolean) => V;
  fromArmError: (e: ArmError, doing: string) => V;
}

export interface SourceGate {
  /** The source's region when it can be snapshotted now, or the verdict saying why not. */
  ready(d: Capture, call: CallOptions): Promise<{ region: string } | V>;
  /** A wait for a busy source: rate-limited with per-key backoff, never sooner than the recheck. */
  busy(message: string, retryAfterMs?: number): V;
  /** Drop what was seen of the source (ARM refused a write: it became busy or stopped since). */
  forget(d: Capture): void;
}

export function createSourceGate(deps: SourceGateDeps): SourceGate {
  // A cluster's region never changes: read once per cluster for the life of the process.
  const regions = new Map<string, string>();
  // Per source pool: when it was last seen ready to be snapshotted.
  const sourceSeenReady = new Map<string, number>();

  const busy = (message: string, retryAfterMs?: number): V => ({
    readiness: { state: "progressing", reason: Reasons.SourcePoolBusy, message },
    // A wait, not a failure (no error): rate-limited with per-key backoff.
    result: retry(undefined, Math.max(deps.busyRecheckMs, retryAfterMs ?? 0)),
  });

  /** The source's region when it can be snapshotted now, or why not. Reads ARM at most once per TTL per pool. */
  async function ready(d: Capture, call: CallOptions): Promise<{ region: string } | V> {
    const clusterKey = resourceIdKey(managedClusterId(d.source));
    const poolKey = resourceIdKey(d.sourceId);
    const known = regions.get(clusterKey);
    const seen = sourceSeenReady.get(poolKey);
    if (known !== undefined && seen !== undefined && deps.now() - seen < deps.stateTtlMs) return { region: known };
    sourceSeenReady.delete(poolKey);
    const cluster = await deps.arm.managedClusters.get(d.source, call);
    if (!cluster.ok) {
      if (cluster.error.kind === "notFound") {
        return deps.stalled(Reasons.SourceAgentPoolNotFound, `source cluster ${managedClusterId(d.source)} not found (${cluster.error.code})`, true);
      }
      return deps.fromArmError(cluster.error, `reading source cluster ${managedClusterId(d.source)}`);
    }
    const c = cluster.value;
    const region = c.location.toLowerCase().replace(/\s/g, "");
    regions.set(clusterKey, region);
    if (c.powerState?.toLowerCase() === "stopped") {
      return deps.stalled(Reasons.SourceClusterStopped, `source cluster ${c.id} is stopped; AKS cannot snapshot its pools until it is started (az aks start)`, true);
    }
    if (c.provisioningState === "inProgress" || c.provisioningState === "deleting") {
      return busy(`source cluster ${c.id} is ${c.rawProvisioningState ?? c.provisioningState}; waiting for it to finish`);
    }
    const pool = await deps.arm.agentPools.get(d.source, call);
    if (!pool.ok) {
      if (pool.error.kind === "notFound") return deps.stalled(Reasons.SourceAgentPoolNotFound, `source agent pool ${d.sourceId} not found (${pool.error.code})`, true);
      return deps.fromArmError(pool.error, `reading source agent pool ${d.sourceId}`);
    }
    const p = pool.value;
    // A snapshot taken mid-upgrade would record versions the nodes are not running yet.
    if (p.provisioningState === "inProgress" || p.provisioningState === "deleting") {
      return busy(`source agent pool ${d.sourceId} is ${p.rawProvisioningState ?? p.provisioningState}; waiting for it to finish before taking the snapshot`);
    }
    sourceSeenReady.set(poolKey, deps.now());
    return { region };
  }

  return { ready, busy, forget: (d) => sourceSeenReady.delete(resourceIdKey(d.sourceId)) };
}
