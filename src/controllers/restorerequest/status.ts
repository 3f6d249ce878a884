// Pure status computation for RestoreRequest: a reconcile says which fields change; everything else
// (the preflight record, startedAt, the node-pool progress) carries over. Time is passed in.
import type { RestoreRequestStatus } from "../../crds/restorerequest.ts";

type NodePoolStatus = NonNullable<RestoreRequestStatus["nodePool"]>;

/** The fields a reconcile sets; `nodePool` replaces the whole node-pool record when present. */
export interface StatusExtra {
  phase?: RestoreRequestStatus["phase"];
  startedAt?: string;
  completedAt?: string;
  preflight?: RestoreRequestStatus["preflight"];
  nodePool?: NodePoolStatus;
  /** Replaces status.volumes (the plan and each volume's progress). */
  volumes?: RestoreRequestStatus["volumes"];
  /** Replace status.hooks (the outcomes) and status.hookProgress. */
  hooks?: RestoreRequestStatus["hooks"];
  hookProgress?: RestoreRequestStatus["hookProgress"];
}

export function statusFields(prev: RestoreRequestStatus | undefined, extra: StatusExtra | undefined): RestoreRequestStatus {
  const out: RestoreRequestStatus = { ...(prev ?? {}) };
  if (!extra) return out;
  if (extra.phase !== undefined) out.phase = extra.phase;
  if (extra.startedAt !== undefined) out.startedAt = extra.startedAt;
  if (extra.completedAt !== undefined) out.completedAt = extra.completedAt;
  if (extra.preflight !== undefined) out.preflight = extra.preflight;
  if (extra.nodePool !== undefined) out.nodePool = extra.nodePool;
  if (extra.volumes !== undefined) out.volumes = extra.volumes;
  if (extra.hooks !== undefined) out.hooks = extra.hooks;
  if (extra.hookProgress !== undefined) out.hookProgress = extra.hookProgress;
  return out;
}

/** Terminal phases never change again: a RestoreRequest runs once. */
export function isTerminal(phase: RestoreRequestStatus["phase"]): boolean {
  return phase === "Succeeded" || phase === "Failed";
}
