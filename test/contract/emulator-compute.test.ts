// Behaviour of the emulator's Microsoft.Compute surface through the real SDK client, on a manual
// clock so progress is exact: LROs with Location + Azure-AsyncOperation, completionPercent rising
// after provisioningState is already Succeeded, snapshotAccessState, copyCompletionError, disks
// hydrating from snapshots, region and source rules, PATCH, lists with pages, deletes.

import { describe, expect, it } from "vitest";
import { DEMO_NODE_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, ManualClock } from "../emulator/index.ts";
import { computeClient, FAST_POLL } from "./helpers/arm-clients.ts";
import { rawRequest, useEmulator } from "./helpers/emulator-fixture.ts";

const clock = new ManualClock();
const t = useEmulator({
  world: "demo",
  clock,
  timing: { computeOperationMs: 100, copyDurationMs: 1000, hydrationDurationMs: 1000 },
});

const SUB = DEMO_SUBSCRIPTION_ID;
const NODE_RG = DEMO_NODE_RESOURCE_GROUP;
const SNAP_RG = DEMO_SNAPSHOT_RESOURCE_GROUP;
const diskId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${NODE_RG}/providers/Microsoft.Compute/disks/${name}`;
const snapId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.Compute/snapshots/${name}`;

function client() {
  return computeClient(t.emu, SUB, { retryOptions: { maxRetries: 0 } });
}

/** Creates an incremental snapshot of a disk and lets its LRO finish (one compute operation of time). */
async function snapshotDisk(disk: string, name: string, extra: { instantAccessDurationMinutes?: number } = {}) {
  const p = client().snapshots.createOrUpdate(SNAP_RG, name, { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId(disk), ...extra } }, FAST_POLL);
  await p.submitted();
  clock.advance(100);
  return p.pollUntilDone();
}

describe("long-running creates and deletes", () => {
  it("creates a disk: 202 with Location (monitor=true) and Azure-AsyncOperation, Updating, then Succeeded", async () => {
    const c = client();
    const p = c.disks.createOrUpdate(NODE_RG, "data-1", { location: "westeurope", sku: { name: "Premium_LRS" }, diskSizeGB: 64, creationData: { createOption: "Empty" }, tags: { app: "shop" } }, FAST_POLL);
    await p.submitted();
    const call = t.last("Compute.Disks_CreateOrUpdate");
    expect(call.status).toBe(202);
    const location = call.responseHeaders["location"] ?? "";
    const asyncOp = call.responseHeaders["azure-asyncoperation"] ?? "";
    expect(location).toMatch(new RegExp(`^${t.emu.url}/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westeurope/DiskOperations/[0-9a-f-]{36}\\?p=[0-9a-f]{8}&api-version=2026-03-02&monitor=true$`));
    expect(location.replace("&monitor=true", "")).toBe(asyncOp);
    expect(call.responseHeaders["x-ms-ratelimit-remaining-resource"]).toMatch(/^Microsoft\.Compute\/CreateUpdateDisks3Min;\d+,Microsoft\.Compute\/CreateUpdateDisks30Min;\d+$/);
    expect(call.responseHeaders["x-ms-ratelimit-remaining-subscription-writes"]).toMatch(/^\d+$/);
    expect((await c.disks.get(NODE_RG, "data-1")).provisioningState).toBe("Updating");
    const monitor = await rawRequest(t.emu, "GET", location);
    expect(monitor.status).toBe(202);
    expect(monitor.headers["location"]).toBe(location);

    clock.advance(100);
    const disk = await p.pollUntilDone();
    expect(disk).toMatchObject({ provisioningState: "Succeeded", diskSizeGB: 64, diskSizeBytes: 64 * 1024 ** 3, diskState: "Unattached", sku: { name: "Premium_LRS", tier: "Premium" }, tags: { app: "shop" } });
    const status = t.emu.control.requests({ route: "Compute.DiskOperation" }).at(-1)?.responseBody;
    expect(status).toMatchObject({ status: "Succeeded", startTime: expect.any(String), endTime: expect.any(String), properties: { output: { name: "data-1" } } });
    const done = await rawRequest(t.emu, "GET", location);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ name: "data-1", properties: { provisioningState: "Succeeded" } });
  });

  it("deletes with 202 and both headers, then the resource is gone; 204 when absent", async () => {
    const c = client();
    const p = c.disks.delete(NODE_RG, "pvc-scratch-0", FAST_POLL);
    await p.submitted();
    const call = t.last("Compute.Disks_Delete");
    expect(call.status).toBe(202);
    expect(call.responseHeaders["location"]).toContain("&monitor=true");
    expect(call.responseHeaders["azure-asyncoperation"]).toContain("/DiskOperations/");
    expect(call.responseHeaders["x-ms-ratelimit-remaining-subscription-deletes"]).toMatch(/^\d+$/);
    clock.advance(100);
    await p.pollUntilDone();
    await expect(c.disks.get(NODE_RG, "pvc-scratch-0")).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    const again = c.disks.delete(NODE_RG, "pvc-scratch-0", FAST_POLL);
    await again.pollUntilDone();
    expect(t.last("Compute.Disks_Delete").status).toBe(204);
  });

  it("ends a failed create with an SDK error and provisioningState Failed", async () => {
    const c = client();
    t.emu.control.injectOutcome({ kind: "computeSnapshot", outcome: { type: "failed", code: "InternalDiskManagementError", message: "An internal disk management error occurred." } });
    const p = c.snapshots.createOrUpdate(SNAP_RG, "broken", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId("pvc-postgres-data-0") } }, FAST_POLL);
    await p.submitted();
    clock.advance(100);
    await expect(p.pollUntilDone()).rejects.toThrow();
    expect((await c.snapshots.get(SNAP_RG, "broken")).provisioningState).toBe("Failed");
    expect(t.emu.control.requests({ route: "Compute.DiskOperation" }).at(-1)?.responseBody).toMatchObject({ status: "Failed", error: { code: "InternalDiskManagementError" } });
  });
});

describe("readiness lags provisioning", () => {
  it("Premium SSD v2 incremental snapshot: Succeeded at 0%, completionPercent rises to 100, Pending → Available", async () => {
    const c = client();
    const snap = await snapshotDisk("pvc-analytics-0", "analytics-1");
    expect(snap).toMatchObject({ provisioningState: "Succeeded", completionPercent: 0, snapshotAccessState: "Pending", incremental: true, diskSizeGB: 512 });
    expect(snap.incrementalSnapshotFamilyId).toMatch(/^[0-9a-f-]{36}$/);
    clock.advance(500);
    expect(await c.snapshots.get(SNAP_RG, "analytics-1")).toMatchObject({ provisioningState: "Succeeded", completionPercent: 50, snapshotAccessState: "Pending" });
    clock.advance(600);
    const done = await c.snapshots.get(SNAP_RG, "analytics-1");
    expect(done).toMatchObject({ completionPercent: 100, snapshotAccessState: "Available" });
    expect(done.copyCompletionError).toBeUndefined();
    const second = await snapshotDisk("pvc-analytics-0", "analytics-2");
    expect(second.incrementalSnapshotFamilyId).toBe(snap.incrementalSnapshotFamilyId);
  });

  it("ordinary incremental snapshots carry no completionPercent unless copyProgress is allIncremental", async () => {
    const plain = await snapshotDisk("pvc-postgres-data-0", "pg-1");
    expect(plain.completionPercent).toBeUndefined();
    expect(plain.snapshotAccessState).toBe("Available");
    t.emu.control.setBehaviour({ copyProgress: "allIncremental" });
    const slow = await snapshotDisk("pvc-postgres-data-0", "pg-2");
    expect(slow).toMatchObject({ completionPercent: 0, snapshotAccessState: "Pending" });
    t.emu.control.setBehaviour({ copyProgress: "never" });
    const none = await snapshotDisk("pvc-analytics-0", "analytics-never");
    expect(none.completionPercent).toBeUndefined();
  });

  it("stops at an injected copyCompletionError and refuses disks from that snapshot", async () => {
    const c = client();
    t.emu.control.injectOutcome({ kind: "computeSnapshot", outcome: { type: "copyError", errorCode: "CopySourceNotFound", errorMessage: "The source of the copy was deleted.", atPercent: 40 } });
    await snapshotDisk("pvc-analytics-0", "doomed-copy");
    clock.advance(300);
    expect(await c.snapshots.get(SNAP_RG, "doomed-copy")).toMatchObject({ completionPercent: 30 });
    clock.advance(5000);
    const stuck = await c.snapshots.get(SNAP_RG, "doomed-copy");
    expect(stuck).toMatchObject({ provisioningState: "Succeeded", completionPercent: 40, snapshotAccessState: "Pending", copyCompletionError: { errorCode: "CopySourceNotFound", errorMessage: "The source of the copy was deleted." } });
    await expect(
      c.disks.createOrUpdate(NODE_RG, "from-doomed", { location: "westeurope", creationData: { createOption: "Copy", sourceResourceId: snapId("doomed-copy") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 409, code: "OperationNotAllowed" });
  });

  it("control API: hold completionPercent, set and clear copyCompletionError out of band", async () => {
    const c = client();
    await snapshotDisk("pvc-analytics-0", "held");
    t.emu.control.setCompletion(snapId("held"), { percent: 73, frozen: true });
    clock.advance(10_000);
    expect((await c.snapshots.get(SNAP_RG, "held")).completionPercent).toBe(73);
    t.emu.control.setCompletion(snapId("held"), { percent: 90, durationMs: 1000 });
    clock.advance(100);
    expect((await c.snapshots.get(SNAP_RG, "held")).completionPercent).toBe(100);
    t.emu.control.setCopyError(snapId("held"), { errorCode: "CopySourceNotFound", errorMessage: "gone" });
    expect((await c.snapshots.get(SNAP_RG, "held")).copyCompletionError?.errorCode).toBe("CopySourceNotFound");
    t.emu.control.setCopyError(snapId("held"), null);
    expect((await c.snapshots.get(SNAP_RG, "held")).copyCompletionError).toBeUndefined();
  });

  it("refuses a disk from an unfinished slow snapshot, then hydrates the disk after the copy", async () => {
    const c = client();
    await snapshotDisk("pvc-analytics-0", "restore-src");
    await expect(
      c.disks.createOrUpdate(NODE_RG, "restored", { location: "westeurope", sku: { name: "PremiumV2_LRS" }, creationData: { createOption: "Copy", sourceResourceId: snapId("restore-src") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 409, code: "OperationNotAllowed", message: expect.stringContaining("0%") });
    clock.advance(1000);
    const p = c.disks.createOrUpdate(NODE_RG, "restored", { location: "westeurope", sku: { name: "PremiumV2_LRS" }, creationData: { createOption: "Copy", sourceResourceId: snapId("restore-src") } }, FAST_POLL);
    await p.submitted();
    clock.advance(100);
    const disk = await p.pollUntilDone();
    expect(disk).toMatchObject({ provisioningState: "Succeeded", completionPercent: 0, diskSizeGB: 512 });
    expect(disk.creationData?.sourceUniqueId).toMatch(/^[0-9a-f-]{36}$/);
    clock.advance(1000);
    expect((await c.disks.get(NODE_RG, "restored")).completionPercent).toBe(100);
  });

  it("instant access: usable while copying (InstantAccess), AvailableWithInstantAccess after, Available once it expires", async () => {
    const c = client();
    const snap = await snapshotDisk("pvc-analytics-0", "ia", { instantAccessDurationMinutes: 60 });
    expect(snap).toMatchObject({ snapshotAccessState: "InstantAccess", completionPercent: 0 });
    const p = c.disks.createOrUpdate(NODE_RG, "fast-restore", { location: "westeurope", creationData: { createOption: "Copy", sourceResourceId: snapId("ia") } }, FAST_POLL);
    await p.submitted();
    clock.advance(1000);
    await p.pollUntilDone();
    expect((await c.snapshots.get(SNAP_RG, "ia")).snapshotAccessState).toBe("AvailableWithInstantAccess");
    clock.advance(60 * 60_000);
    expect((await c.snapshots.get(SNAP_RG, "ia")).snapshotAccessState).toBe("Available");
  });
});

describe("sources, regions and updates", () => {
  it("Copy must stay in the source's region; CopyStart crosses regions from a snapshot; missing sources are 404", async () => {
    const c = client();
    await snapshotDisk("pvc-postgres-data-0", "pg-base");
    await expect(
      c.snapshots.createOrUpdate(SNAP_RG, "pg-ne", { location: "northeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId("pvc-postgres-data-0") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter", message: expect.stringContaining("CopyStart") });
    await expect(
      c.snapshots.createOrUpdate(SNAP_RG, "pg-ne", { location: "northeurope", incremental: true, creationData: { createOption: "CopyStart", sourceResourceId: diskId("pvc-postgres-data-0") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 400 });
    const p = c.snapshots.createOrUpdate(SNAP_RG, "pg-ne", { location: "northeurope", incremental: true, creationData: { createOption: "CopyStart", sourceResourceId: snapId("pg-base") } }, FAST_POLL);
    await p.submitted();
    clock.advance(100);
    const copy = await p.pollUntilDone();
    expect(copy).toMatchObject({ location: "northeurope", provisioningState: "Succeeded", completionPercent: 0 });
    expect(t.last("Compute.Snapshots_CreateOrUpdate").responseHeaders["location"]).toContain("/locations/northeurope/DiskOperations/");
    await expect(
      c.snapshots.createOrUpdate(SNAP_RG, "orphan", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId("nope") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 404, code: "NotFound" });
    await expect(c.disks.createOrUpdate(NODE_RG, "nosize", { location: "westeurope", creationData: { createOption: "Empty" } }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      message: "Required parameter 'diskSizeGB' is missing (null).",
    });
  });

  it("PATCH and PUT on existing resources are synchronous 200s; creation data is immutable", async () => {
    const c = client();
    await snapshotDisk("pvc-postgres-data-0", "tagme");
    const patched = await c.snapshots.update(SNAP_RG, "tagme", { tags: { retentionTime: "7", "aksnap.io-schedule": "ns/daily" } }, FAST_POLL).pollUntilDone();
    expect(patched.tags).toEqual({ retentionTime: "7", "aksnap.io-schedule": "ns/daily" });
    expect(t.last("Compute.Snapshots_Update").status).toBe(200);
    const put = await c.snapshots.createOrUpdate(SNAP_RG, "tagme", { location: "westeurope", incremental: true, tags: { a: "1" }, creationData: { createOption: "Copy", sourceResourceId: diskId("pvc-postgres-data-0") } }, FAST_POLL).pollUntilDone();
    expect(put.tags).toEqual({ a: "1" });
    expect(t.last("Compute.Snapshots_CreateOrUpdate").status).toBe(200);
    await expect(
      c.snapshots.createOrUpdate(SNAP_RG, "tagme", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId("pvc-redis-data-0") } }, FAST_POLL).pollUntilDone(),
    ).rejects.toMatchObject({ statusCode: 400, code: "PropertyChangeNotAllowed" });
    const grown = await c.disks.update(NODE_RG, "pvc-redis-data-0", { diskSizeGB: 64 }, FAST_POLL).pollUntilDone();
    expect(grown.diskSizeGB).toBe(64);
    await expect(c.disks.update(NODE_RG, "pvc-redis-data-0", { diskSizeGB: 16 }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400 });
  });

  it("lists disks and snapshots by resource group and subscription across pages", async () => {
    const c = client();
    t.emu.control.setBehaviour({ pageSize: 2 });
    const disks = [];
    for await (const d of c.disks.listByResourceGroup(NODE_RG)) disks.push(d);
    expect(disks.map((d) => d.name)).toEqual(["pvc-postgres-data-0", "pvc-redis-data-0", "pvc-analytics-0", "pvc-scratch-0"]);
    expect(t.emu.control.countRequests({ route: "Compute.Disks_ListByResourceGroup" })).toBe(2);
    // Tag selection is the client's job (ARM's disk list has no tag filter).
    expect(disks.filter((d) => d.tags?.["aksSnapshotBackupEnabled"] === "true").map((d) => d.name)).toEqual(["pvc-postgres-data-0", "pvc-redis-data-0", "pvc-analytics-0"]);
    for (const n of ["a", "b", "c"]) await snapshotDisk("pvc-postgres-data-0", `s-${n}`);
    const subSnaps: string[] = [];
    for await (const s of c.snapshots.list()) subSnaps.push(s.name ?? "");
    expect(subSnaps).toEqual(["s-a", "s-b", "s-c"]);
    expect(t.emu.control.countRequests({ route: "Compute.Snapshots_List" })).toBe(2);
    const allDisks: string[] = [];
    for await (const d of c.disks.list()) allDisks.push(d.name ?? "");
    expect(allDisks).toHaveLength(4);
  });
});
