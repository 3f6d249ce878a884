// Microsoft.Compute/snapshots — incremental disk snapshots for SnapshotSchedule disks, and the
// readiness reader for verified VolumeSnapshots (the CSI snapshotHandle is such a snapshot's id).

import { restorePoller, type Snapshot as SdkComputeSnapshot } from "@azure/arm-compute";
import type { ArmClients, SubscriptionClients } from "../clients.ts";
import { computeSnapshotId, parseComputeSnapshotId, type GroupResourceRef } from "../ids.ts";
import { checkLro, decodeResumeToken, startLro, type LroAction, type LroContext } from "../lro.ts";
import { normalizeProvisioningState, snapshotReadiness, type CopyProgress, type Readiness } from "../provisioning.ts";
import { ok, type ArmResult, type LroCheck, type LroStart } from "../result.ts";
import { attempt, collect, hasTag, iso, opt, scopeOf, tagsOf, type TagSelector } from "./common.ts";

export interface ComputeSnapshot extends CopyProgress {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tags: Record<string, string>;
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

export interface ListByTagQuery {
  readonly subscriptionId: string;
  readonly resourceGroups: readonly string[];
  readonly tag: TagSelector;
}

export interface ComputeSnapshotsPort {
  get(ref: GroupResourceRef): Promise<ArmResult<ComputeSnapshot>>;
  /** GET and decide readiness (provisioningState, completionPercent, copyCompletionError, snapshotAccessState). */
  readiness(ref: GroupResourceRef): Promise<ArmResult<{ snapshot: ComputeSnapshot; readiness: Readiness }>>;
  beginCreate(ref: GroupResourceRef, spec: ComputeSnapshotSpec): Promise<LroStart<ComputeSnapshot>>;
  /** An absent snapshot (204 or 404) is success. */
  beginDelete(ref: GroupResourceRef): Promise<LroStart<undefined>>;
  /** Snapshots in the given resource groups carrying the tag (filtered client-side: ARM has no tag filter here). */
  listByTag(query: ListByTagQuery): Promise<ArmResult<ComputeSnapshot[]>>;
  /** Succeeded value: the snapshot after a create; undefined after a delete. */
  checkOperation(resumeToken: string): Promise<LroCheck<ComputeSnapshot | undefined>>;
}

export function toComputeSnapshot(s: SdkComputeSnapshot, asked: { subscriptionId: string; resourceGroup: string; name?: string }): ComputeSnapshot {
  const scope = scopeOf(s.id, asked);
  const name = s.name ?? asked.name ?? "";
  const cce = s.copyCompletionError;
  return {
    id: s.id ?? computeSnapshotId({ ...scope, name }),
    name,
    ...scope,
    location: s.location,
    tags: tagsOf(s.tags),
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
  const ctx = <T>(c: SubscriptionClients, ref: GroupResourceRef, action: LroAction, map: (r: SdkComputeSnapshot | void | undefined) => T): LroContext<SdkComputeSnapshot | void, T> => ({
    target: "computeSnapshot",
    action,
    clients: c,
    resourceId: computeSnapshotId(ref),
    now,
    map,
  });
  const snapshotOf = (ref: GroupResourceRef) => (r: SdkComputeSnapshot | void | undefined): ComputeSnapshot | undefined =>
    r === undefined || r === null ? undefined : toComputeSnapshot(r, ref);
  const nothing = (): undefined => undefined;
  const get = (ref: GroupResourceRef): Promise<ArmResult<ComputeSnapshot>> =>
    attempt(now, async () => toComputeSnapshot(await clients.forSubscription(ref.subscriptionId).compute.snapshots.get(ref.resourceGroup, ref.name), ref));

  return {
    get,

    readiness: async (ref) => {
      const r = await get(ref);
      return r.ok ? ok({ snapshot: r.value, readiness: snapshotReadiness(r.value) }) : r;
    },

    beginCreate: async (ref, spec) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "createOrUpdate", snapshotOf(ref)), () =>
        c.compute.snapshots.createOrUpdate(ref.resourceGroup, ref.name, {
          location: spec.location,
          tags: { ...(spec.tags ?? {}) },
          incremental: spec.incremental ?? true,
          creationData: { createOption: spec.createOption ?? "Copy", sourceResourceId: spec.sourceResourceId },
          ...opt("sku", spec.skuName === undefined ? undefined : { name: spec.skuName }),
        }),
      );
      if (started.kind === "succeeded" && started.value === undefined) {
        return { kind: "failed", error: { kind: "transient", code: "EmptyResponse", message: "ARM returned no snapshot body" } };
      }
      return started as LroStart<ComputeSnapshot>;
    },

    beginDelete: async (ref) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "delete", nothing), () => c.compute.snapshots.delete(ref.resourceGroup, ref.name));
      return started.kind === "failed" && started.error.kind === "notFound" ? { kind: "succeeded", value: undefined } : started;
    },

    listByTag: async (query) => {
      const out: ComputeSnapshot[] = [];
      const ops = clients.forSubscription(query.subscriptionId).compute.snapshots;
      for (const resourceGroup of query.resourceGroups) {
        const page = await attempt(now, () => collect(ops.listByResourceGroup(resourceGroup)));
        if (!page.ok) return page;
        for (const s of page.value) {
          if (hasTag(s.tags, query.tag)) out.push(toComputeSnapshot(s, { subscriptionId: query.subscriptionId, resourceGroup }));
        }
      }
      return ok(out);
    },

    checkOperation: async (resumeToken) => {
      const token = decodeResumeToken(resumeToken);
      const ref = parseComputeSnapshotId(token.resourceId);
      if (token.target !== "computeSnapshot" || ref === undefined) {
        throw new Error(`resume token for ${token.target} ${token.resourceId} given to the compute snapshots port`);
      }
      const c = clients.forSubscription(token.subscriptionId);
      const compute = c.compute;
      switch (token.action) {
        case "createOrUpdate":
          return checkLro(ctx(c, ref, token.action, snapshotOf(ref)), (s) => restorePoller(compute, s, compute.snapshots.createOrUpdate), token);
        case "delete":
          return checkLro(ctx(c, ref, token.action, nothing), (s) => restorePoller(compute, s, compute.snapshots.delete), token);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a compute snapshot operation");
      }
    },
  };
}
