// Every port method of src/azure through the real @azure/arm-containerservice and @azure/arm-compute
// clients against the ARM emulator. LROs run long in the emulator (60 s) so a check is seen
// InProgress; the test then settles them through the control API instead of sleeping.

import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  agentPoolId,
  computeSnapshotId,
  createAzure,
  diskId,
  fixedTokenCredential,
  nodePoolSnapshotId,
  sameResourceId,
  type AzureLayer,
  type LroCheck,
  type LroStart,
} from "../../src/azure/index.ts";
import { DEFAULT_LATEST_NODE_IMAGES, startEmulator, type RunningEmulator, type WorldFixture } from "../emulator/index.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const APP = "rg-app";
const SNAPS = "rg-snap";
const DISKS = "rg-disks";
const DR = "rg-dr";
const IMG_OLD = "AKSUbuntu-2204gen2containerd-202509.12.0";
const IMG_NEW = "AKSUbuntu-2204gen2containerd-202511.07.0";

const pool = (agentPoolName: string) => ({ subscriptionId: SUB, resourceGroup: APP, clusterName: "c1", agentPoolName });
const inGroup = (resourceGroup: string, name: string) => ({ subscriptionId: SUB, resourceGroup, name });
const GOLDEN = nodePoolSnapshotId(inGroup(SNAPS, "golden"));

function world(): WorldFixture {
  const linux = { osType: "Linux", osSKU: "Ubuntu" } as const;
  return {
    latestNodeImageVersions: DEFAULT_LATEST_NODE_IMAGES,
    subscriptions: [
      {
        subscriptionId: SUB,
        resourceGroups: [
          {
            name: APP,
            location: "westeurope",
            managedClusters: [
              {
                name: "c1",
                location: "westeurope",
                kubernetesVersion: "1.33.3",
                dnsPrefix: "c1",
                agentPools: [
                  { name: "system", vmSize: "Standard_D4ds_v5", count: 1, mode: "System", nodeImageVersion: IMG_OLD, ...linux },
                  { name: "userpool", vmSize: "Standard_D8ds_v5", count: 2, mode: "User", nodeImageVersion: IMG_OLD, nodeLabels: { app: "web" }, ...linux },
                  { name: "old", vmSize: "Standard_D8ds_v5", count: 1, mode: "User", orchestratorVersion: "1.32.7", nodeImageVersion: IMG_OLD, ...linux },
                  { name: "same", vmSize: "Standard_D8ds_v5", count: 1, mode: "User", nodeImageVersion: IMG_OLD, ...linux },
                  { name: "busy", vmSize: "Standard_D8ds_v5", count: 1, mode: "User", nodeImageVersion: IMG_OLD, ...linux },
                  { name: "doomed", vmSize: "Standard_D8ds_v5", count: 1, mode: "User", nodeImageVersion: IMG_OLD, ...linux },
                ],
              },
            ],
          },
          {
            name: SNAPS,
            location: "westeurope",
            aksSnapshots: [
              {
                name: "golden",
                location: "westeurope",
                sourceAgentPoolId: agentPoolId(pool("userpool")),
                kubernetesVersion: "1.33.3",
                nodeImageVersion: IMG_NEW,
                vmSize: "Standard_D8ds_v5",
                osType: "Linux",
                osSku: "Ubuntu",
              },
            ],
          },
          {
            name: DISKS,
            location: "westeurope",
            disks: [
              { name: "data-v2", location: "westeurope", diskSizeGB: 256, sku: "PremiumV2_LRS", tags: { backup: "true" } },
              { name: "data-p", location: "westeurope", diskSizeGB: 64, sku: "Premium_LRS", tags: { Backup: "true", retentionTime: "7" } },
              { name: "scratch", location: "westeurope", diskSizeGB: 32, sku: "StandardSSD_LRS", tags: { backup: "false" } },
            ],
          },
          { name: DR, location: "northeurope" },
        ],
      },
    ],
  };
}

let emu: RunningEmulator;
let az: AzureLayer;

function layer(): AzureLayer {
  return createAzure({
    endpoint: emu.url,
    credential: fixedTokenCredential("contract-test", Date.now),
    ca: emu.ca,
    registry: new Registry(),
    userAgent: "aksnap/contract-test",
  });
}

beforeAll(async () => {
  emu = await startEmulator({
    world: world(),
    timing: { agentPoolOperationMs: 60_000, clusterOperationMs: 60_000, computeOperationMs: 60_000, copyDurationMs: 60_000, hydrationDurationMs: 60_000 },
  });
  az = layer();
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => {
  emu.control.clearRequests();
});

function tokenOf<T>(s: LroStart<T> | LroCheck<T>): string {
  if (s.kind !== "submitted" && s.kind !== "inProgress") throw new Error(`expected a running operation, got ${JSON.stringify(s)}`);
  return s.resumeToken;
}

/** Checks once (must still be running), lets the emulator finish every operation, checks again. */
async function finish<T>(port: { checkOperation(t: string): Promise<LroCheck<T>> }, started: LroStart<T>): Promise<LroCheck<T>> {
  const first = await port.checkOperation(tokenOf(started));
  expect(first.kind).toBe("inProgress");
  emu.control.settleOperations();
  return port.checkOperation(tokenOf(first));
}

function value<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.error)}`);
  return r.value;
}

describe("NodePoolSnapshotsPort", () => {
  const ref = inGroup(SNAPS, "snap-userpool");

  it("put creates a snapshot carrying the source pool's read-only fields", async () => {
    const r = value(await az.nodePoolSnapshots.put(ref, { location: "westeurope", sourceResourceId: agentPoolId(pool("userpool")), tags: { "aksnap.io-owner": "ns/a" } }));
    expect(sameResourceId(r.id, nodePoolSnapshotId(ref))).toBe(true);
    expect(r).toMatchObject({
      name: "snap-userpool",
      subscriptionId: SUB,
      resourceGroup: SNAPS,
      location: "westeurope",
      tags: { "aksnap.io-owner": "ns/a" },
      snapshotType: "NodePool",
      kubernetesVersion: "1.33.3",
      nodeImageVersion: IMG_OLD,
      vmSize: "Standard_D8ds_v5",
      osType: "Linux",
      osSku: "Ubuntu",
      enableFips: false,
    });
    expect(sameResourceId(r.sourceResourceId, agentPoolId(pool("userpool")))).toBe(true);
    expect(r.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(emu.control.requests({ route: "ContainerService.Snapshots_CreateOrUpdate" })[0]?.status).toBe(201);
  });

  it("put again replaces (200) and get reads it back", async () => {
    const again = await az.nodePoolSnapshots.put(ref, { location: "westeurope", sourceResourceId: agentPoolId(pool("userpool")), tags: { v: "2" } });
    expect(value(again).tags).toEqual({ v: "2" });
    expect(emu.control.requests({ route: "ContainerService.Snapshots_CreateOrUpdate" })[0]?.status).toBe(200);
    expect(value(await az.nodePoolSnapshots.get(ref)).tags).toEqual({ v: "2" });
  });

  it("updateTags replaces the tags with a PATCH", async () => {
    const r = value(await az.nodePoolSnapshots.updateTags(ref, { a: "1", b: "2" }));
    expect(r.tags).toEqual({ a: "1", b: "2" });
    expect(emu.control.countRequests({ method: "PATCH" })).toBe(1);
  });

  it("listByResourceGroup follows nextLink across pages", async () => {
    emu.control.setBehaviour({ pageSize: 1 });
    try {
      const all = value(await az.nodePoolSnapshots.listByResourceGroup(SUB, SNAPS));
      expect(all.map((s) => s.name).sort()).toEqual(["golden", "snap-userpool"]);
      expect(emu.control.countRequests({ route: "ContainerService.Snapshots_ListByResourceGroup" })).toBeGreaterThanOrEqual(2);
    } finally {
      emu.control.setBehaviour({ pageSize: 100 });
    }
  });

  it("a missing source pool is notFound; a region other than the pool's is invalid", async () => {
    const missing = await az.nodePoolSnapshots.put(inGroup(SNAPS, "x1"), { location: "westeurope", sourceResourceId: agentPoolId(pool("nope")) });
    expect(missing).toMatchObject({ ok: false, error: { kind: "notFound", statusCode: 404 } });
    const elsewhere = await az.nodePoolSnapshots.put(inGroup(SNAPS, "x2"), { location: "northeurope", sourceResourceId: agentPoolId(pool("userpool")) });
    expect(elsewhere).toMatchObject({ ok: false, error: { kind: "invalid", code: "InvalidParameter", statusCode: 400 } });
  });

  it("delete removes it; get is then notFound; deleting again is still success (204)", async () => {
    expect(await az.nodePoolSnapshots.delete(ref)).toEqual({ ok: true, value: undefined });
    expect(await az.nodePoolSnapshots.get(ref)).toMatchObject({ ok: false, error: { kind: "notFound", code: "ResourceNotFound" } });
    expect(await az.nodePoolSnapshots.delete(ref)).toEqual({ ok: true, value: undefined });
    expect(emu.control.requests({ method: "DELETE" }).map((r) => r.status)).toEqual([200, 204]);
  });

  it("a missing resource group is notFound (ResourceGroupNotFound)", async () => {
    expect(await az.nodePoolSnapshots.listByResourceGroup(SUB, "rg-nope")).toMatchObject({ ok: false, error: { kind: "notFound", code: "ResourceGroupNotFound" } });
  });
});

describe("AgentPoolsPort", () => {
  it("get maps the pool to a domain object", async () => {
    const p = value(await az.agentPools.get(pool("userpool")));
    expect(p).toMatchObject({
      name: "userpool",
      clusterName: "c1",
      resourceGroup: APP,
      provisioningState: "succeeded",
      rawProvisioningState: "Succeeded",
      count: 2,
      vmSize: "Standard_D8ds_v5",
      mode: "User",
      orchestratorVersion: "1.33.3",
      nodeImageVersion: IMG_OLD,
      nodeLabels: { app: "web" },
    });
    expect(p.eTag).toBeTruthy();
    expect(await az.agentPools.get(pool("nope"))).toMatchObject({ ok: false, error: { kind: "notFound" } });
  });

  it("beginCreateOrUpdate from a snapshot returns a token without waiting, then completes", async () => {
    const started = await az.agentPools.beginCreateOrUpdate(pool("restored"), { count: 1, mode: "User", creationSourceResourceId: GOLDEN });
    expect(started.kind).toBe("submitted");
    // Submitting is one PUT: nothing polled.
    expect(emu.control.requests().map((r) => r.route)).toEqual(["ContainerService.AgentPools_CreateOrUpdate"]);
    const done = await finish(az.agentPools, started);
    expect(done.kind).toBe("succeeded");
    if (done.kind !== "succeeded") return;
    expect(done.value).toMatchObject({ name: "restored", provisioningState: "succeeded", vmSize: "Standard_D8ds_v5", orchestratorVersion: "1.33.3", nodeImageVersion: IMG_NEW });
    expect(sameResourceId(done.value?.creationSourceResourceId, GOLDEN)).toBe(true);
  });

  it("a second write while one is in flight is a conflict (409 OperationNotAllowed), in both body shapes", async () => {
    const first = await az.agentPools.beginCreateOrUpdate(pool("busy"), { count: 2, mode: "User" });
    expect(first.kind).toBe("submitted");
    for (const conflictBody of ["wrapped", "unwrapped"] as const) {
      emu.control.setBehaviour({ conflictBody });
      const second = await az.agentPools.beginCreateOrUpdate(pool("busy"), { count: 3, mode: "User" });
      expect(second).toMatchObject({ kind: "failed", error: { kind: "conflict", code: "OperationNotAllowed", statusCode: 409 } });
    }
    emu.control.setBehaviour({ conflictBody: "wrapped" });
    emu.control.settleOperations();
    expect(value(await az.agentPools.get(pool("busy"))).count).toBe(2);
  });

  it("If-None-Match: * on an existing pool is a conflict (412)", async () => {
    const r = await az.agentPools.beginCreateOrUpdate(pool("userpool"), { count: 2, mode: "User" }, { ifNoneMatch: "*" });
    expect(r).toMatchObject({ kind: "failed", error: { kind: "conflict", statusCode: 412 } });
  });

  it("beginUpgradeNodeImage sends the snapshot id in the AKSSnapshotId header", async () => {
    const started = await az.agentPools.beginUpgradeNodeImage(pool("same"), GOLDEN);
    expect(started.kind).toBe("submitted");
    const post = emu.control.requests({ method: "POST" })[0];
    expect(post?.requestHeaders["akssnapshotid"]).toBe(GOLDEN);
    expect(await finish(az.agentPools, started)).toEqual({ kind: "succeeded", value: undefined });
    const after = value(await az.agentPools.get(pool("same")));
    expect(after.nodeImageVersion).toBe(IMG_NEW);
    expect(sameResourceId(after.creationSourceResourceId, GOLDEN)).toBe(true);
  });

  it("beginUpgradeNodeImage refused by ARM's rules is invalid", async () => {
    // "old" runs 1.32.7; a node-image-only upgrade needs a snapshot of the same Kubernetes version.
    const r = await az.agentPools.beginUpgradeNodeImage(pool("old"), GOLDEN);
    expect(r).toMatchObject({ kind: "failed", error: { kind: "invalid", statusCode: 400 } });
  });

  it("beginUpgradeFromSnapshot moves Kubernetes and node image, guarded by If-Match", async () => {
    const started = await az.agentPools.beginUpgradeFromSnapshot(pool("old"), { id: GOLDEN, kubernetesVersion: "1.33.3" });
    expect(started.kind).toBe("submitted");
    const put = emu.control.requests({ method: "PUT" })[0];
    expect(put?.requestHeaders["if-match"]).toBeTruthy();
    const done = await finish(az.agentPools, started);
    expect(done).toMatchObject({ kind: "succeeded", value: { orchestratorVersion: "1.33.3", nodeImageVersion: IMG_NEW, count: 1 } });
  });

  it("beginDelete runs to completion; deleting an absent pool is immediate success", async () => {
    const started = await az.agentPools.beginDelete(pool("doomed"));
    expect(started.kind).toBe("submitted");
    expect(await finish(az.agentPools, started)).toEqual({ kind: "succeeded", value: undefined });
    expect(await az.agentPools.get(pool("doomed"))).toMatchObject({ ok: false, error: { kind: "notFound" } });
    expect(await az.agentPools.beginDelete(pool("doomed"))).toEqual({ kind: "succeeded", value: undefined });
  });

  it("a failed LRO surfaces the pool's provisioningError as a typed ArmError", async () => {
    emu.control.injectOutcome({
      kind: "agentPool",
      idPattern: "/agentPools/failing$",
      operation: "create",
      outcome: { type: "failed", code: "QuotaExceeded", message: "Operation could not be completed as it results in exceeding approved standardDDSv5Family Cores quota." },
    });
    const started = await az.agentPools.beginCreateOrUpdate(pool("failing"), { count: 3, mode: "User", vmSize: "Standard_D8ds_v5" });
    const done = await finish(az.agentPools, started);
    expect(done).toMatchObject({ kind: "failed", error: { kind: "invalid", code: "QuotaExceeded" } });
    if (done.kind === "failed") expect(done.error.message).toContain("quota");
    // The cause came from re-reading the pool (the SDK's own error for a failed LRO has no code).
    expect(emu.control.countRequests({ route: "ContainerService.AgentPools_Get" })).toBe(1);
    const p = value(await az.agentPools.get(pool("failing")));
    expect(p.provisioningState).toBe("failed");
    expect(p.provisioningError?.code).toBe("QuotaExceeded");
  });

  it("a canceled LRO is a conflict (OperationCanceled)", async () => {
    emu.control.injectOutcome({ kind: "agentPool", idPattern: "/agentPools/canceled$", operation: "create", outcome: { type: "canceled" } });
    const started = await az.agentPools.beginCreateOrUpdate(pool("canceled"), { count: 1, mode: "User" });
    expect(await finish(az.agentPools, started)).toMatchObject({ kind: "failed", error: { kind: "conflict", code: "OperationCanceled" } });
  });

  it("checkOperation refuses another port's token and tokens it did not make", async () => {
    const other = await az.computeSnapshots.beginCreate(inGroup(SNAPS, "snap-for-token"), { location: "westeurope", sourceResourceId: diskId(inGroup(DISKS, "data-p")) });
    await expect(az.agentPools.checkOperation(tokenOf(other))).rejects.toThrow(/agent pools port/);
    await expect(az.agentPools.checkOperation("garbage")).rejects.toThrow(/malformed/);
    emu.control.settleOperations();
  });
});

describe("ManagedClustersPort", () => {
  const cluster = { subscriptionId: SUB, resourceGroup: DR, clusterName: "c-dr" };

  it("get reads the cluster with its pools", async () => {
    const c = value(await az.managedClusters.get({ subscriptionId: SUB, resourceGroup: APP, clusterName: "c1" }));
    expect(c).toMatchObject({ name: "c1", location: "westeurope", provisioningState: "succeeded", kubernetesVersion: "1.33.3" });
    expect(c.agentPoolProfiles.map((p) => p.name)).toContain("system");
    expect(await az.managedClusters.get(cluster)).toMatchObject({ ok: false, error: { kind: "notFound" } });
  });

  it("beginCreate builds a cluster whose system pool comes from a snapshot (in another region)", async () => {
    const started = await az.managedClusters.beginCreate(
      cluster,
      { location: "northeurope", dnsPrefix: "c-dr", kubernetesVersion: "1.33.3", tags: { "aksnap.io-owner": "ns/rr" }, systemPool: { name: "system", count: 1, creationSourceResourceId: GOLDEN } },
      { ifNoneMatch: "*" },
    );
    expect(started.kind).toBe("submitted");
    const done = await finish(az.managedClusters, started);
    expect(done.kind).toBe("succeeded");
    if (done.kind !== "succeeded" || done.value === undefined) return;
    expect(done.value).toMatchObject({ name: "c-dr", location: "northeurope", provisioningState: "succeeded", tags: { "aksnap.io-owner": "ns/rr" } });
    const sys = done.value.agentPoolProfiles.find((p) => p.name === "system");
    expect(sys).toMatchObject({ mode: "System", vmSize: "Standard_D8ds_v5", nodeImageVersion: IMG_NEW });
    expect(sameResourceId(sys?.creationSourceResourceId, GOLDEN)).toBe(true);
  });

  it("beginDelete removes it", async () => {
    const started = await az.managedClusters.beginDelete(cluster);
    expect(started.kind).toBe("submitted");
    expect(await finish(az.managedClusters, started)).toEqual({ kind: "succeeded", value: undefined });
    expect(await az.managedClusters.get(cluster)).toMatchObject({ ok: false, error: { kind: "notFound" } });
    expect(await az.managedClusters.beginDelete(cluster)).toEqual({ kind: "succeeded", value: undefined });
  });
});

describe("ComputeSnapshotsPort and DisksPort", () => {
  const snapV2 = inGroup(SNAPS, "snap-data-v2");
  const restored = inGroup(DISKS, "restored-v2");

  it("listByTag selects disks by tag across resource groups (tag name case-insensitive)", async () => {
    const disks = value(await az.disks.listByTag({ subscriptionId: SUB, resourceGroups: [DISKS, SNAPS], tag: { name: "backup", value: "true" } }));
    expect(disks.map((d) => d.name).sort()).toEqual(["data-p", "data-v2"]);
    expect(disks.find((d) => d.name === "data-v2")).toMatchObject({ skuName: "PremiumV2_LRS", diskSizeGB: 256, provisioningState: "succeeded" });
    const anyValue = value(await az.disks.listByTag({ subscriptionId: SUB, resourceGroups: [DISKS], tag: { name: "BACKUP" } }));
    expect(anyValue).toHaveLength(3);
    expect(await az.disks.listByTag({ subscriptionId: SUB, resourceGroups: ["rg-nope"], tag: { name: "backup" } })).toMatchObject({ ok: false, error: { kind: "notFound" } });
  });

  it("beginCreate makes an incremental snapshot; readiness waits for the copy, not just provisioningState", async () => {
    const started = await az.computeSnapshots.beginCreate(snapV2, {
      location: "westeurope",
      sourceResourceId: diskId(inGroup(DISKS, "data-v2")),
      tags: { "aksnap.io-schedule": "ns/nightly", "aksnap.io-run": "202603010000" },
    });
    expect(started.kind).toBe("submitted");
    const pending = value(await az.computeSnapshots.readiness(snapV2));
    expect(pending.readiness).toMatchObject({ kind: "pending", reason: "Provisioning" });

    const done = await finish(az.computeSnapshots, started);
    expect(done).toMatchObject({ kind: "succeeded", value: { name: "snap-data-v2", incremental: true, provisioningState: "succeeded" } });

    // Premium SSD v2 source: Succeeded long before the data is copied (Azure/AKS#4555).
    const copying = value(await az.computeSnapshots.readiness(snapV2));
    expect(copying.snapshot.provisioningState).toBe("succeeded");
    expect(copying.readiness).toMatchObject({ kind: "pending", reason: "Copying" });

    emu.control.setCompletion(computeSnapshotId(snapV2), { percent: 100 });
    const ready = value(await az.computeSnapshots.readiness(snapV2));
    expect(ready.readiness).toEqual({ kind: "ready" });
    expect(ready.snapshot.completionPercent).toBe(100);

    const tagged = value(await az.computeSnapshots.listByTag({ subscriptionId: SUB, resourceGroups: [SNAPS], tag: { name: "aksnap.io-schedule", value: "ns/nightly" } }));
    expect(tagged.map((s) => s.name)).toEqual(["snap-data-v2"]);
    expect(sameResourceId(tagged[0]?.sourceResourceId, diskId(inGroup(DISKS, "data-v2")))).toBe(true);
  });

  it("a copy that fails shows copyCompletionError as a failed readiness", async () => {
    const ref = inGroup(SNAPS, "snap-copyerr");
    emu.control.injectOutcome({
      kind: "computeSnapshot",
      idPattern: "snap-copyerr$",
      operation: "create",
      outcome: { type: "copyError", errorCode: "CopySourceNotFound", errorMessage: "The source of the copy was deleted.", atPercent: 30 },
    });
    const started = await az.computeSnapshots.beginCreate(ref, { location: "westeurope", sourceResourceId: diskId(inGroup(DISKS, "data-v2")) });
    expect((await finish(az.computeSnapshots, started)).kind).toBe("succeeded");
    emu.control.setCompletion(computeSnapshotId(ref), { percent: 100 });
    const r = value(await az.computeSnapshots.readiness(ref));
    expect(r.readiness).toEqual({ kind: "failed", code: "CopySourceNotFound", message: "The source of the copy was deleted." });
    expect(r.snapshot.copyCompletionError?.code).toBe("CopySourceNotFound");
  });

  it("a failed Compute LRO reports the operation status document's error", async () => {
    const ref = inGroup(SNAPS, "snap-fails");
    emu.control.injectOutcome({
      kind: "computeSnapshot",
      idPattern: "snap-fails$",
      operation: "create",
      outcome: { type: "failed", code: "InternalDiskManagementError", message: "An internal execution error occurred." },
    });
    const started = await az.computeSnapshots.beginCreate(ref, { location: "westeurope", sourceResourceId: diskId(inGroup(DISKS, "data-p")) });
    expect(await finish(az.computeSnapshots, started)).toMatchObject({
      kind: "failed",
      error: { kind: "transient", code: "InternalDiskManagementError", message: "An internal execution error occurred." },
    });
  });

  it("disks: beginCreate from the snapshot, hydration progress, get, delete", async () => {
    const started = await az.disks.beginCreate(restored, {
      location: "westeurope",
      sourceSnapshotId: computeSnapshotId(snapV2),
      skuName: "PremiumV2_LRS",
      zones: ["1"],
      tags: { "aksnap.io-restore": "ns/rr" },
    });
    expect(started.kind).toBe("submitted");
    const done = await finish(az.disks, started);
    expect(done).toMatchObject({ kind: "succeeded", value: { name: "restored-v2", skuName: "PremiumV2_LRS", createOption: "Copy" } });
    const d = value(await az.disks.get(restored));
    expect(sameResourceId(d.sourceResourceId, computeSnapshotId(snapV2))).toBe(true);
    expect(d.tags).toEqual({ "aksnap.io-restore": "ns/rr" });

    const del = await az.disks.beginDelete(restored);
    expect(del.kind).toBe("submitted");
    expect(await finish(az.disks, del)).toEqual({ kind: "succeeded", value: undefined });
    expect(await az.disks.get(restored)).toMatchObject({ ok: false, error: { kind: "notFound" } });
    expect(await az.disks.beginDelete(restored)).toEqual({ kind: "succeeded", value: undefined });
  });

  it("compute snapshot delete", async () => {
    const del = await az.computeSnapshots.beginDelete(snapV2);
    expect(del.kind).toBe("submitted");
    expect(await finish(az.computeSnapshots, del)).toEqual({ kind: "succeeded", value: undefined });
    expect(await az.computeSnapshots.get(snapV2)).toMatchObject({ ok: false, error: { kind: "notFound" } });
    expect(await az.computeSnapshots.beginDelete(snapV2)).toEqual({ kind: "succeeded", value: undefined });
  });
});

describe("resuming an operation after a process restart", () => {
  it("a new layer (new clients, new registry) finishes the operation from the stored token alone", async () => {
    const first = layer();
    const started = await first.agentPools.beginCreateOrUpdate(pool("restarted"), { count: 1, mode: "User", creationSourceResourceId: GOLDEN });
    const stored = tokenOf(started); // what a controller writes into status

    // The process dies; a new one starts with nothing but the token.
    const second = layer();
    const midway = await second.agentPools.checkOperation(stored);
    expect(midway.kind).toBe("inProgress");
    emu.control.settleOperations();
    const third = layer();
    const done = await third.agentPools.checkOperation(tokenOf(midway));
    expect(done).toMatchObject({ kind: "succeeded", value: { name: "restarted", provisioningState: "succeeded", nodeImageVersion: IMG_NEW } });
    // Checking a finished operation again is harmless (the token still names a running state).
    expect((await third.agentPools.checkOperation(stored)).kind).toBe("succeeded");
  });

  it("works for Compute operations too", async () => {
    const ref = inGroup(SNAPS, "snap-after-restart");
    const started = await layer().computeSnapshots.beginCreate(ref, { location: "westeurope", sourceResourceId: diskId(inGroup(DISKS, "data-p")) });
    const stored = tokenOf(started);
    expect((await layer().computeSnapshots.checkOperation(stored)).kind).toBe("inProgress");
    emu.control.settleOperations();
    expect(await layer().computeSnapshots.checkOperation(stored)).toMatchObject({ kind: "succeeded", value: { name: "snap-after-restart", provisioningState: "succeeded" } });
  });
});
