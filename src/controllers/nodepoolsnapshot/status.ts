// Pure status computation for NodePoolSnapshot: the ARM snapshot's read-only properties mirrored
// into status, plus kstatus conditions. Time is passed in.
import type { Readiness } from "../../conditions/conditions.ts";
import type { NodePoolSnapshotStatus } from "../../crds/nodepoolsnapshot.ts";
import type { NodePoolSnapshot as ArmSnapshot } from "../../azure/ports/nodePoolSnapshots.ts";
import { composeStatus } from "../common/frame.ts";

/** The status fields that mirror the ARM snapshot (all of them, set or not). */
const MIRRORED = ["snapshotId", "location", "sourceResourceId", "kubernetesVersion", "nodeImageVersion", "vmSize", "osType", "osSku", "enableFips", "createdAt"] as const satisfies ReadonlyArray<keyof NodePoolSnapshotStatus>;

/** The status fields that mirror the ARM snapshot. */
export function mirror(s: ArmSnapshot): Partial<NodePoolSnapshotStatus> {
  const out: Partial<NodePoolSnapshotStatus> = { snapshotId: s.id, location: s.location };
  if (s.sourceResourceId !== undefined) out.sourceResourceId = s.sourceResourceId;
  if (s.kubernetesVersion !== undefined) out.kubernetesVersion = s.kubernetesVersion;
  if (s.nodeImageVersion !== undefined) out.nodeImageVersion = s.nodeImageVersion;
  if (s.vmSize !== undefined) out.vmSize = s.vmSize;
  if (s.osType !== undefined) out.osType = s.osType;
  if (s.osSku !== undefined) out.osSku = s.osSku;
  if (s.enableFips !== undefined) out.enableFips = s.enableFips;
  if (s.createdAt !== undefined) out.createdAt = s.createdAt;
  return out;
}

/** What a reconcile learned that status mirrors (the frame adds observedGeneration and conditions). */
export interface StatusExtra {
  /** When set, replaces the mirrored fields (a fresh read of the ARM snapshot). */
  snapshot?: ArmSnapshot;
  /** Tag keys the operator now manages on the ARM snapshot (for three-way tag merges). */
  managedTagKeys?: string[];
}

export function statusFields(prev: NodePoolSnapshotStatus | undefined, extra: StatusExtra | undefined): NodePoolSnapshotStatus {
  const base: NodePoolSnapshotStatus = { ...(prev ?? {}) };
  if (extra?.snapshot) {
    // A fresh read replaces the mirror: a property the new snapshot lacks must not survive from an
    // older one (e.g. a snapshot recreated after an out-of-band deletion).
    for (const k of MIRRORED) delete base[k];
    Object.assign(base, mirror(extra.snapshot));
  }
  if (extra?.managedTagKeys) base.managedTagKeys = [...extra.managedTagKeys].sort();
  return base;
}

export interface StatusInput extends StatusExtra {
  prev: NodePoolSnapshotStatus | undefined;
  generation: number;
  readiness: Readiness;
  now: Date;
}

export function nextStatus(input: StatusInput): NodePoolSnapshotStatus {
  return composeStatus(statusFields(input.prev, input), input.prev, input.generation, input.readiness, input.now);
}
