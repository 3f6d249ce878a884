// Microsoft.ContainerService/snapshots — AKS node-pool snapshots. Synchronous in ARM: PUT answers
// 200/201 with the final resource, so there is no LRO here.

import type { Snapshot as SdkSnapshot } from "@azure/arm-containerservice";
import type { ArmClients } from "../clients.ts";
import type { CallOptions } from "../deadline.ts";
import { nodePoolSnapshotId, type GroupResourceRef } from "../ids.ts";
import { ok, type ArmResult } from "../result.ts";
import { attempt, collect, iso, limitOf, opt, trackedResource, type TrackedResource } from "./common.ts";

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

/** Every method is bounded by the layer's deadline and `opts.signal` (see ../deadline.ts). */
export interface NodePoolSnapshotsPort {
  get(ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<NodePoolSnapshot>>;
  /** Create or replace (PUT). */
  put(ref: GroupResourceRef, spec: NodePoolSnapshotSpec, opts?: CallOptions): Promise<ArmResult<NodePoolSnapshot>>;
  /** Replace the tags (PATCH). */
  updateTags(ref: GroupResourceRef, tags: Record<string, string>, opts?: CallOptions): Promise<ArmResult<NodePoolSnapshot>>;
  /** DELETE; an absent snapshot (204, or a 404) is success: the finalizer's goal is "gone". */
  delete(ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<void>>;
  /**
   * Every node-pool snapshot in the group, all pages followed (one LIST per page instead of a GET
   * per snapshot: the steady-state check of many objects in one group).
   */
  listByResourceGroup(subscriptionId: string, resourceGroup: string, opts?: CallOptions): Promise<ArmResult<NodePoolSnapshot[]>>;
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
    get: (ref, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toNodePoolSnapshot(await ops(ref.subscriptionId).get(ref.resourceGroup, ref.name, { abortSignal }), ref),
      ),
    put: (ref, spec, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toNodePoolSnapshot(
          await ops(ref.subscriptionId).createOrUpdate(
            ref.resourceGroup,
            ref.name,
            {
              location: spec.location,
              tags: { ...(spec.tags ?? {}) },
              creationData: { sourceResourceId: spec.sourceResourceId },
              snapshotType: "NodePool",
            },
            { abortSignal },
          ),
          ref,
        ),
      ),
    updateTags: (ref, tags, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toNodePoolSnapshot(await ops(ref.subscriptionId).updateTags(ref.resourceGroup, ref.name, { tags: { ...tags } }, { abortSignal }), ref),
      ),
    delete: async (ref, opts) => {
      const r = await attempt(now, limitOf(clients, opts), (abortSignal) => ops(ref.subscriptionId).delete(ref.resourceGroup, ref.name, { abortSignal }));
      return !r.ok && r.error.kind === "notFound" ? ok(undefined) : r;
    },
    listByResourceGroup: (subscriptionId, resourceGroup, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        (await collect(ops(subscriptionId).listByResourceGroup(resourceGroup, { abortSignal }))).map((s) =>
          toNodePoolSnapshot(s, { subscriptionId, resourceGroup }),
        ),
      ),
  };
}
