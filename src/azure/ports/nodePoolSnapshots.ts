// Microsoft.ContainerService/snapshots — AKS node-pool snapshots. Synchronous in ARM: PUT answers
// 200/201 with the final resource, so there is no LRO here.

import type { Snapshot as SdkSnapshot } from "@azure/arm-containerservice";
import type { ArmClients } from "../clients.ts";
import { nodePoolSnapshotId, type GroupResourceRef } from "../ids.ts";
import { ok, type ArmResult } from "../result.ts";
import { attempt, collect, iso, opt, trackedResource, type TrackedResource } from "./common.ts";

export interface NodePoolSnapshot extends TrackedResource {
  /** The agent pool it was taken from. */
  readonly sourceResourceId?: string;
  readonly snapshotType?: string;
  readonly kubernetesVersion?: string;
  readonly nodeImageVersion?: string;
  readonly osType?: string;
  readonly osSku?: string;
  readonly vmSize?: string;
  readonly enableFips?: boolean;
  /** RFC 3339, from systemData.createdAt. */
  readonly createdAt?: string;
}

export interface NodePoolSnapshotSpec {
  /** Must be the source pool's region. */
  readonly location: string;
  /** The agent pool id to capture. */
  readonly sourceResourceId: string;
  readonly tags?: Record<string, string>;
}

export interface NodePoolSnapshotsPort {
  get(ref: GroupResourceRef): Promise<ArmResult<NodePoolSnapshot>>;
  /** Create or replace (PUT). */
  put(ref: GroupResourceRef, spec: NodePoolSnapshotSpec): Promise<ArmResult<NodePoolSnapshot>>;
  /** Replace the tags (PATCH). */
  updateTags(ref: GroupResourceRef, tags: Record<string, string>): Promise<ArmResult<NodePoolSnapshot>>;
  /** DELETE; an absent snapshot (204, or a 404) is success: the finalizer's goal is "gone". */
  delete(ref: GroupResourceRef): Promise<ArmResult<void>>;
  listByResourceGroup(subscriptionId: string, resourceGroup: string): Promise<ArmResult<NodePoolSnapshot[]>>;
}

export function toNodePoolSnapshot(s: SdkSnapshot, asked: { subscriptionId: string; resourceGroup: string; name?: string }): NodePoolSnapshot {
  return {
    ...trackedResource(s, asked, nodePoolSnapshotId),
    ...opt("sourceResourceId", s.creationData?.sourceResourceId),
    ...opt("snapshotType", s.snapshotType),
    ...opt("kubernetesVersion", s.kubernetesVersion),
    ...opt("nodeImageVersion", s.nodeImageVersion),
    ...opt("osType", s.osType),
    ...opt("osSku", s.osSku),
    ...opt("vmSize", s.vmSize),
    ...opt("enableFips", s.enableFips),
    ...opt("createdAt", iso(s.systemData?.createdAt)),
  };
}

export function createNodePoolSnapshotsPort(clients: ArmClients, now: () => number): NodePoolSnapshotsPort {
  const ops = (subscriptionId: string) => clients.forSubscription(subscriptionId).containerService.snapshots;
  return {
    get: (ref) => attempt(now, async () => toNodePoolSnapshot(await ops(ref.subscriptionId).get(ref.resourceGroup, ref.name), ref)),
    put: (ref, spec) =>
      attempt(now, async () =>
        toNodePoolSnapshot(
          await ops(ref.subscriptionId).createOrUpdate(ref.resourceGroup, ref.name, {
            location: spec.location,
            tags: { ...(spec.tags ?? {}) },
            creationData: { sourceResourceId: spec.sourceResourceId },
            snapshotType: "NodePool",
          }),
          ref,
        ),
      ),
    updateTags: (ref, tags) =>
      attempt(now, async () =>
        toNodePoolSnapshot(await ops(ref.subscriptionId).updateTags(ref.resourceGroup, ref.name, { tags: { ...tags } }), ref),
      ),
    delete: async (ref) => {
      const r = await attempt(now, () => ops(ref.subscriptionId).delete(ref.resourceGroup, ref.name));
      return !r.ok && r.error.kind === "notFound" ? ok(undefined) : r;
    },
    listByResourceGroup: (subscriptionId, resourceGroup) =>
      attempt(now, async () =>
        (await collect(ops(subscriptionId).listByResourceGroup(resourceGroup))).map((s) =>
          toNodePoolSnapshot(s, { subscriptionId, resourceGroup }),
        ),
      ),
  };
}
