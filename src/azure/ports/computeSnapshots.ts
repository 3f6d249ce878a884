// Microsoft.Compute/snapshots — incremental disk snapshots for SnapshotSchedule disks, and the
// readiness reader for verified VolumeSnapshots (the CSI snapshotHandle is such a snapshot's id).

import type { Snapshot as SdkComputeSnapshot } from "@azure/arm-compute";
import type { ArmClients } from "../clients.ts";
import type { CallOptions } from "../deadline.ts";
import { computeSnapshotId, parseComputeSnapshotId, type GroupResourceRef } from "../ids.ts";
import { normalizeProvisioningState, snapshotReadiness, type CopyProgress, type Readiness } from "../provisioning.ts";
import { ok, type ArmResult, type LroCheck, type LroStart } from "../result.ts";
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

export type { ListByTagQuery } from "./common.ts";

export interface ComputeSnapshot extends CopyProgress, TrackedResource {
  /** The disk (or, for CopyStart, the snapshot) it was made from. */
  readonly sourceResourceId?: string;
  readonly createOption?: string;
  readonly incremental?: boolean;
  readonly diskSizeGB?: number;
  readonly skuName?: string;
  /** RFC 3339. */
  readonly timeCreated?: string;
}

export interface ComputeSnapshotSpec {
  readonly location: string;
  readonly sourceResourceId: string;
  /** Default true: incremental snapshots are what scheduled backups want (cheap, fast). */
  readonly incremental?: boolean;
  /** `Copy` (default) from a disk or snapshot in-region; `CopyStart` for a cross-region copy. */
  readonly createOption?: "Copy" | "CopyStart";
  readonly skuName?: string;
  readonly tags?: Record<string, string>;
}

/** Every method is bounded by the layer's deadline and `opts.signal` (see ../deadline.ts). */
export interface ComputeSnapshotsPort {
  get(ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<ComputeSnapshot>>;
  /** GET and decide readiness (provisioningState, completionPercent, copyCompletionError, snapshotAccessState). */
  readiness(ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<{ snapshot: ComputeSnapshot; readiness: Readiness }>>;
  beginCreate(ref: GroupResourceRef, spec: ComputeSnapshotSpec, opts?: CallOptions): Promise<LroStart<ComputeSnapshot>>;
  /** An absent snapshot (204 or 404) is success. */
  beginDelete(ref: GroupResourceRef, opts?: CallOptions): Promise<LroStart<undefined>>;
  /** Snapshots in the given resource groups carrying the tag (filtered client-side: ARM has no tag filter here). */
  listByTag(query: ListByTagQuery, opts?: CallOptions): Promise<ArmResult<ComputeSnapshot[]>>;
  /** Succeeded value: the snapshot after a create; undefined after a delete. */
  checkOperation(resumeToken: string, opts?: CallOptions): Promise<LroCheck<ComputeSnapshot | undefined>>;
}

export function toComputeSnapshot(s: SdkComputeSnapshot, asked: { subscriptionId: string; resourceGroup: string; name?: string }): ComputeSnapshot {
  const cce = s.copyCompletionError;
  return {
    ...trackedResource(s, asked, computeSnapshotId),
    provisioningState: normalizeProvisioningState(s.provisioningState),
    ...opt("rawProvisioningState", s.provisioningState),
    ...opt("completionPercent", s.completionPercent),
    ...opt("copyCompletionError", cce === undefined ? undefined : { code: cce.errorCode, message: cce.errorMessage }),
    ...opt("snapshotAccessState", s.snapshotAccessState),
    ...opt("sourceResourceId", s.creationData?.sourceResourceId),
    ...opt("createOption", s.creationData?.createOption),
    ...opt("incremental", s.incremental),
    ...opt("diskSizeGB", s.diskSizeGB),
    ...opt("skuName", s.sku?.name),
    ...opt("timeCreated", iso(s.timeCreated)),
  };
}

export function createComputeSnapshotsPort(clients: ArmClients, now: () => number): ComputeSnapshotsPort {
  const lro = portLro<GroupResourceRef, SdkComputeSnapshot | void>(clients, now, {
    target: "computeSnapshot",
    port: "compute snapshots",
    idOf: computeSnapshotId,
    parseId: parseComputeSnapshotId,
  });
  const get = (ref: GroupResourceRef, opts?: CallOptions): Promise<ArmResult<ComputeSnapshot>> =>
    attempt(now, limitOf(clients, opts), async (abortSignal) =>
      toComputeSnapshot(await clients.forSubscription(ref.subscriptionId).compute.snapshots.get(ref.resourceGroup, ref.name, { abortSignal }), ref),
    );

  return {
    get,

    readiness: async (ref, opts) => {
      const r = await get(ref, opts);
      return r.ok ? ok({ snapshot: r.value, readiness: snapshotReadiness(r.value) }) : r;
    },

    beginCreate: async (ref, spec, opts) =>
      withBody(
        await lro.start(
          ref,
          "createOrUpdate",
          bodyOf(toComputeSnapshot, ref),
          (c, abortSignal) =>
            c.compute.snapshots.createOrUpdate(
              ref.resourceGroup,
              ref.name,
              {
                location: spec.location,
                tags: { ...(spec.tags ?? {}) },
                incremental: spec.incremental ?? true,
                creationData: { createOption: spec.createOption ?? "Copy", sourceResourceId: spec.sourceResourceId },
                ...opt("sku", spec.skuName === undefined ? undefined : { name: spec.skuName }),
              },
              { abortSignal },
            ),
          opts,
        ),
        "snapshot",
      ),

    beginDelete: async (ref, opts) =>
      goneIsDeleted(
        await lro.start(ref, "delete", nothing, (c, abortSignal) => c.compute.snapshots.delete(ref.resourceGroup, ref.name, { abortSignal }), opts),
      ),

    listByTag: async (query, opts) => {
      const ops = clients.forSubscription(query.subscriptionId).compute.snapshots;
      return listTagged(now, limitOf(clients, opts), query, (resourceGroup, abortSignal) => ops.listByResourceGroup(resourceGroup, { abortSignal }), toComputeSnapshot);
    },

    checkOperation: async (resumeToken, opts) => {
      const op = lro.resume(resumeToken);
      switch (op.token.action) {
        case "createOrUpdate":
          return lro.check(
            op,
            bodyOf(toComputeSnapshot, op.ref),
            (c, s, abortSignal) => computeSdk().restorePoller(c.compute, s, c.compute.snapshots.createOrUpdate, { abortSignal }),
            opts,
          );
        case "delete":
          return lro.check(op, nothing, (c, s, abortSignal) => computeSdk().restorePoller(c.compute, s, c.compute.snapshots.delete, { abortSignal }), opts);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a compute snapshot operation");
      }
    },
  };
}
