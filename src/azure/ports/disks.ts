// Microsoft.Compute/disks — the source disks a SnapshotSchedule selects by tag, and disks restored
// from a snapshot (whose hydration is read like a snapshot's copy progress).

import { restorePoller, type Disk as SdkDisk } from "@azure/arm-compute";
import type { ArmClients, SubscriptionClients } from "../clients.ts";
import { diskId, parseDiskId, type GroupResourceRef } from "../ids.ts";
import { checkLro, decodeResumeToken, startLro, type LroAction, type LroContext } from "../lro.ts";
import { normalizeProvisioningState, type CopyProgress } from "../provisioning.ts";
import { ok, type ArmResult, type LroCheck, type LroStart } from "../result.ts";
import { attempt, collect, hasTag, iso, opt, scopeOf, tagsOf } from "./common.ts";
import type { ListByTagQuery } from "./computeSnapshots.ts";

export interface ManagedDisk extends CopyProgress {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tags: Record<string, string>;
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

export interface DisksPort {
  get(ref: GroupResourceRef): Promise<ArmResult<ManagedDisk>>;
  beginCreate(ref: GroupResourceRef, spec: DiskFromSnapshotSpec): Promise<LroStart<ManagedDisk>>;
  /** An absent disk (204 or 404) is success. */
  beginDelete(ref: GroupResourceRef): Promise<LroStart<undefined>>;
  listByTag(query: ListByTagQuery): Promise<ArmResult<ManagedDisk[]>>;
  /** Succeeded value: the disk after a create; undefined after a delete. */
  checkOperation(resumeToken: string): Promise<LroCheck<ManagedDisk | undefined>>;
}

export function toManagedDisk(d: SdkDisk, asked: { subscriptionId: string; resourceGroup: string; name?: string }): ManagedDisk {
  const scope = scopeOf(d.id, asked);
  const name = d.name ?? asked.name ?? "";
  return {
    id: d.id ?? diskId({ ...scope, name }),
    name,
    ...scope,
    location: d.location,
    tags: tagsOf(d.tags),
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
  const ctx = <T>(c: SubscriptionClients, ref: GroupResourceRef, action: LroAction, map: (r: SdkDisk | void | undefined) => T): LroContext<SdkDisk | void, T> => ({
    target: "disk",
    action,
    clients: c,
    resourceId: diskId(ref),
    now,
    map,
  });
  const diskOf = (ref: GroupResourceRef) => (r: SdkDisk | void | undefined): ManagedDisk | undefined =>
    r === undefined || r === null ? undefined : toManagedDisk(r, ref);
  const nothing = (): undefined => undefined;

  return {
    get: (ref) =>
      attempt(now, async () => toManagedDisk(await clients.forSubscription(ref.subscriptionId).compute.disks.get(ref.resourceGroup, ref.name), ref)),

    beginCreate: async (ref, spec) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "createOrUpdate", diskOf(ref)), () =>
        c.compute.disks.createOrUpdate(ref.resourceGroup, ref.name, {
          location: spec.location,
          tags: { ...(spec.tags ?? {}) },
          creationData: { createOption: "Copy", sourceResourceId: spec.sourceSnapshotId },
          ...opt("diskSizeGB", spec.diskSizeGB),
          ...opt("sku", spec.skuName === undefined ? undefined : { name: spec.skuName }),
          ...opt("zones", spec.zones === undefined ? undefined : [...spec.zones]),
        }),
      );
      if (started.kind === "succeeded" && started.value === undefined) {
        return { kind: "failed", error: { kind: "transient", code: "EmptyResponse", message: "ARM returned no disk body" } };
      }
      return started as LroStart<ManagedDisk>;
    },

    beginDelete: async (ref) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "delete", nothing), () => c.compute.disks.delete(ref.resourceGroup, ref.name));
      return started.kind === "failed" && started.error.kind === "notFound" ? { kind: "succeeded", value: undefined } : started;
    },

    listByTag: async (query) => {
      const out: ManagedDisk[] = [];
      const ops = clients.forSubscription(query.subscriptionId).compute.disks;
      for (const resourceGroup of query.resourceGroups) {
        const page = await attempt(now, () => collect(ops.listByResourceGroup(resourceGroup)));
        if (!page.ok) return page;
        for (const d of page.value) {
          if (hasTag(d.tags, query.tag)) out.push(toManagedDisk(d, { subscriptionId: query.subscriptionId, resourceGroup }));
        }
      }
      return ok(out);
    },

    checkOperation: async (resumeToken) => {
      const token = decodeResumeToken(resumeToken);
      const ref = parseDiskId(token.resourceId);
      if (token.target !== "disk" || ref === undefined) {
        throw new Error(`resume token for ${token.target} ${token.resourceId} given to the disks port`);
      }
      const c = clients.forSubscription(token.subscriptionId);
      const compute = c.compute;
      switch (token.action) {
        case "createOrUpdate":
          return checkLro(ctx(c, ref, token.action, diskOf(ref)), (s) => restorePoller(compute, s, compute.disks.createOrUpdate), token);
        case "delete":
          return checkLro(ctx(c, ref, token.action, nothing), (s) => restorePoller(compute, s, compute.disks.delete), token);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a disk operation");
      }
    },
  };
}
