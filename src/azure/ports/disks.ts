// Microsoft.Compute/disks — the source disks a SnapshotSchedule selects by tag, and disks restored
// from a snapshot (whose hydration is read like a snapshot's copy progress).

import type { Disk as SdkDisk } from "@azure/arm-compute";
import type { ArmClients } from "../clients.ts";
import type { CallOptions } from "../deadline.ts";
import { diskId, parseDiskId, type GroupResourceRef } from "../ids.ts";
import { normalizeProvisioningState, type CopyProgress } from "../provisioning.ts";
import type { ArmResult, LroCheck, LroStart } from "../result.ts";
import {
  attempt,
  bodyOf,
  goneIsDeleted,
  iso,
  limitOf,
  listTagged,
  nothing,
  opt,
  portLro,
  trackedResource,
  withBody,
  type ListByTagQuery,
  type TrackedResource,
} from "./common.ts";
import { computeSdk } from "../sdk.ts";

export interface ManagedDisk extends CopyProgress, TrackedResource {
  readonly diskSizeGB?: number;
  readonly skuName?: string;
  readonly diskState?: string;
  /** The VM the disk is attached to, if any. */
  readonly managedBy?: string;
  readonly zones?: readonly string[];
  readonly createOption?: string;
  readonly sourceResourceId?: string;
  /** RFC 3339. */
  readonly timeCreated?: string;
}

/** A disk restored from a Compute snapshot (createOption Copy). */
export interface DiskFromSnapshotSpec {
  readonly location: string;
  readonly sourceSnapshotId: string;
  readonly skuName?: string;
  /** Unset: the snapshot's size. */
  readonly diskSizeGB?: number;
  readonly zones?: readonly string[];
  readonly tags?: Record<string, string>;
}

/** Every method is bounded by the layer's deadline and `opts.signal` (see ../deadline.ts). */
export interface DisksPort {
  get(ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<ManagedDisk>>;
  beginCreate(ref: GroupResourceRef, spec: DiskFromSnapshotSpec, opts?: CallOptions): Promise<LroStart<ManagedDisk>>;
  /** An absent disk (204 or 404) is success. */
  beginDelete(ref: GroupResourceRef, opts?: CallOptions): Promise<LroStart<undefined>>;
  listByTag(query: ListByTagQuery, opts?: CallOptions): Promise<ArmResult<ManagedDisk[]>>;
  /** Succeeded value: the disk after a create; undefined after a delete. */
  checkOperation(resumeToken: string, opts?: CallOptions): Promise<LroCheck<ManagedDisk | undefined>>;
}

export function toManagedDisk(d: SdkDisk, asked: { subscriptionId: string; resourceGroup: string; name?: string }): ManagedDisk {
  return {
    ...trackedResource(d, asked, diskId),
    provisioningState: normalizeProvisioningState(d.provisioningState),
    ...opt("rawProvisioningState", d.provisioningState),
    ...opt("completionPercent", d.completionPercent),
    ...opt("diskSizeGB", d.diskSizeGB),
    ...opt("skuName", d.sku?.name),
    ...opt("diskState", d.diskState),
    ...opt("managedBy", d.managedBy),
    ...opt("zones", d.zones === undefined ? undefined : [...d.zones]),
    ...opt("createOption", d.creationData?.createOption),
    ...opt("sourceResourceId", d.creationData?.sourceResourceId),
    ...opt("timeCreated", iso(d.timeCreated)),
  };
}

export function createDisksPort(clients: ArmClients, now: () => number): DisksPort {
  const lro = portLro<GroupResourceRef, SdkDisk | void>(clients, now, { target: "disk", port: "disks", idOf: diskId, parseId: parseDiskId });

  return {
    get: (ref, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toManagedDisk(await clients.forSubscription(ref.subscriptionId).compute.disks.get(ref.resourceGroup, ref.name, { abortSignal }), ref),
      ),

    beginCreate: async (ref, spec, opts) =>
      withBody(
        await lro.start(
          ref,
          "createOrUpdate",
          bodyOf(toManagedDisk, ref),
          (c, abortSignal) =>
            c.compute.disks.createOrUpdate(
              ref.resourceGroup,
              ref.name,
              {
                location: spec.location,
                tags: { ...(spec.tags ?? {}) },
                creationData: { createOption: "Copy", sourceResourceId: spec.sourceSnapshotId },
                ...opt("diskSizeGB", spec.diskSizeGB),
                ...opt("sku", spec.skuName === undefined ? undefined : { name: spec.skuName }),
                ...opt("zones", spec.zones === undefined ? undefined : [...spec.zones]),
              },
              { abortSignal },
            ),
          opts,
        ),
        "disk",
      ),

    beginDelete: async (ref, opts) =>
      goneIsDeleted(await lro.start(ref, "delete", nothing, (c, abortSignal) => c.compute.disks.delete(ref.resourceGroup, ref.name, { abortSignal }), opts)),

    listByTag: async (query, opts) => {
      const ops = clients.forSubscription(query.subscriptionId).compute.disks;
      return listTagged(now, limitOf(clients, opts), query, (resourceGroup, abortSignal) => ops.listByResourceGroup(resourceGroup, { abortSignal }), toManagedDisk);
    },

    checkOperation: async (resumeToken, opts) => {
      const op = lro.resume(resumeToken);
      switch (op.token.action) {
        case "createOrUpdate":
          return lro.check(op, bodyOf(toManagedDisk, op.ref), (c, s, abortSignal) => computeSdk().restorePoller(c.compute, s, c.compute.disks.createOrUpdate, { abortSignal }), opts);
        case "delete":
          return lro.check(op, nothing, (c, s, abortSignal) => computeSdk().restorePoller(c.compute, s, c.compute.disks.delete, { abortSignal }), opts);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a disk operation");
      }
    },
  };
}
