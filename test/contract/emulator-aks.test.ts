// Behaviour of the emulator's Microsoft.ContainerService surface through the real SDK client:
// snapshot rules, LROs to completion, 409 while busy, 412 on eTags, 404 shapes, failed LROs with
// provisioningError, create/upgrade from snapshots with AKS's rules, clusters, pagination.

import { describe, expect, it } from "vitest";
import { DEMO_CLUSTER, DEMO_DR_CLUSTER, DEMO_DR_RESOURCE_GROUP, DEMO_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID } from "../emulator/index.ts";
import { containerServiceClient, FAST_POLL } from "./helpers/arm-clients.ts";
import { rawRequest, useEmulator } from "./helpers/emulator-fixture.ts";

const t = useEmulator({
  world: "demo",
  timing: { agentPoolOperationMs: 300, clusterOperationMs: 300, computeOperationMs: 100, copyDurationMs: 500, hydrationDurationMs: 300 },
});

const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const CL = DEMO_CLUSTER;
const SNAP_RG = DEMO_SNAPSHOT_RESOURCE_GROUP;
const poolId = (pool: string, cluster = CL, rg = RG): string =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${cluster}/agentPools/${pool}`;
const snapshotId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.ContainerService/snapshots/${name}`;

function client(opts: Parameters<typeof containerServiceClient>[2] = {}) {
  return containerServiceClient(t.emu, SUB, { retryOptions: { maxRetries: 0 }, ...opts });
}

async function snapshotOf(pool: string, name: string) {
  return client().snapshots.createOrUpdate(SNAP_RG, name, { location: "westeurope", creationData: { sourceResourceId: poolId(pool) } });
}

describe("node-pool snapshots", () => {
  it("copies read-only fields from the source pool and answers 201 then 200", async () => {
    const cs = client();
    const snap = await snapshotOf("userpool", "userpool-1");
    expect(snap).toMatchObject({
      name: "userpool-1",
      type: "Microsoft.ContainerService/snapshots",
      location: "westeurope",
      kubernetesVersion: "1.33.3",
      nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0",
      osType: "Linux",
      osSku: "Ubuntu",
      vmSize: "Standard_D8ds_v5",
      enableFips: false,
      snapshotType: "NodePool",
    });
    // AKS's ids say `resourcegroups`: equal to ours only when compared as ARM compares ids.
    expect(snap.creationData?.sourceResourceId?.toLowerCase()).toBe(poolId("userpool").toLowerCase());
    expect(t.last("ContainerService.Snapshots_CreateOrUpdate").status).toBe(201);
    const again = await cs.snapshots.createOrUpdate(SNAP_RG, "userpool-1", { location: "westeurope", tags: { a: "b" }, creationData: { sourceResourceId: poolId("userpool") } });
    expect(t.last("ContainerService.Snapshots_CreateOrUpdate").status).toBe(200);
    expect(again.tags).toEqual({ a: "b" });
    expect(again.nodeImageVersion).toBe(snap.nodeImageVersion);
  });

  it("refuses a region other than the source pool's with 400 InvalidParameter on location", async () => {
    const cs = client();
    await expect(cs.snapshots.createOrUpdate(SNAP_RG, "wrong-region", { location: "northeurope", creationData: { sourceResourceId: poolId("userpool") } })).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: expect.stringContaining("same region"),
    });
    const body = t.last("ContainerService.Snapshots_CreateOrUpdate").responseBody;
    expect(body).toMatchObject({ error: { code: "InvalidParameter", target: "location" } });
  });

  it("answers 404 NotFound when the source pool does not exist", async () => {
    await expect(client().snapshots.createOrUpdate(SNAP_RG, "ghost", { location: "westeurope", creationData: { sourceResourceId: poolId("nopool") } })).rejects.toMatchObject({
      statusCode: 404,
      code: "NotFound",
    });
  });

  it("validates the name, the source id and source immutability", async () => {
    const cs = client();
    await expect(cs.snapshots.createOrUpdate(SNAP_RG, "-bad-", { location: "westeurope", creationData: { sourceResourceId: poolId("userpool") } })).rejects.toMatchObject({ statusCode: 400 });
    await expect(cs.snapshots.createOrUpdate(SNAP_RG, "notapool", { location: "westeurope", creationData: { sourceResourceId: `/subscriptions/${SUB}/resourceGroups/${RG}` } })).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
    });
    await expect(cs.snapshots.createOrUpdate(SNAP_RG, "nosource", { location: "westeurope" })).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
    await snapshotOf("userpool", "fixed-source");
    await expect(snapshotOf("systempool", "fixed-source")).rejects.toMatchObject({ statusCode: 400, code: "PropertyChangeNotAllowed" });
  });

  it("treats ids case-insensitively but keeps the casing of creation", async () => {
    await snapshotOf("userpool", "CaseKept");
    const got = await containerServiceClient(t.emu, SUB.toUpperCase()).snapshots.get(SNAP_RG.toUpperCase(), "casekept");
    // The name keeps its creation casing; the resource-group segment is AKS's lower-case one.
    expect(got.id).toBe(snapshotId("CaseKept").replace("/resourceGroups/", "/resourcegroups/"));
    const raw = await rawRequest(t.emu, "GET", `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/${SNAP_RG}/PROVIDERS/microsoft.containerservice/SNAPSHOTS/casekept?api-version=2026-06-01`);
    expect(raw.status).toBe(200);
  });

  it("PATCH replaces tags; DELETE answers 200 then 204", async () => {
    const cs = client();
    await snapshotOf("userpool", "tagged");
    const patched = await cs.snapshots.updateTags(SNAP_RG, "tagged", { tags: { "aksnap.io-owner": "ns/name" } });
    expect(patched.tags).toEqual({ "aksnap.io-owner": "ns/name" });
    await cs.snapshots.delete(SNAP_RG, "tagged");
    expect(t.last("ContainerService.Snapshots_Delete").status).toBe(200);
    await cs.snapshots.delete(SNAP_RG, "tagged");
    expect(t.last("ContainerService.Snapshots_Delete").status).toBe(204);
    await expect(cs.snapshots.updateTags(SNAP_RG, "tagged", { tags: {} })).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
  });
});

describe("404 shapes", () => {
  it("ResourceNotFound, ResourceGroupNotFound and SubscriptionNotFound with ARM's messages", async () => {
    await expect(client().snapshots.get(SNAP_RG, "absent")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
      message: `The Resource 'Microsoft.ContainerService/snapshots/absent' under resource group '${SNAP_RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
    await expect(client().agentPools.get(RG, CL, "absent")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
      message: expect.stringContaining(`'Microsoft.ContainerService/managedClusters/${CL}/agentPools/absent' under resource group '${RG}'`),
    });
    await expect(client().snapshots.get("rg-missing", "x")).rejects.toMatchObject({ statusCode: 404, code: "ResourceGroupNotFound", message: "Resource group 'rg-missing' could not be found." });
    await expect(containerServiceClient(t.emu, "11111111-1111-1111-1111-111111111111", { retryOptions: { maxRetries: 0 } }).snapshots.get("rg", "x")).rejects.toMatchObject({
      statusCode: 404,
      code: "SubscriptionNotFound",
    });
    const body = t.last("ContainerService.Snapshots_Get").responseBody;
    expect(body).toEqual({ error: { code: "SubscriptionNotFound", message: "The subscription '11111111-1111-1111-1111-111111111111' could not be found." } });
  });
});

describe("agent pools", () => {
  it("runs a create as an LRO: 201 Creating, status polls, then Succeeded", async () => {
    const cs = client();
    t.emu.control.setTiming({ agentPoolOperationMs: 400 });
    const poller = cs.agentPools.createOrUpdate(RG, CL, "batch", { count: 2, vmSize: "Standard_D4ds_v5", mode: "User" }, FAST_POLL);
    await poller.submitted();
    const during = await cs.agentPools.get(RG, CL, "batch");
    expect(during.provisioningState).toBe("Creating");
    const done = await poller.pollUntilDone();
    expect(done).toMatchObject({ provisioningState: "Succeeded", count: 2, orchestratorVersion: "1.33.3", currentOrchestratorVersion: "1.33.3", osSKU: "Ubuntu", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202511.07.0" });
    const polls = t.emu.control.requests({ route: "ContainerService.AsyncOperation" });
    expect(polls.length).toBeGreaterThan(1);
    expect(polls.at(0)?.responseBody).toMatchObject({ status: "InProgress", startTime: expect.any(String) });
    expect(polls.at(-1)?.responseBody).toMatchObject({ status: "Succeeded", endTime: expect.any(String) });
    expect(polls.at(-1)?.apiVersion).toBe("2017-08-31");
  });

  it("answers 409 OperationNotAllowed while an operation is in flight, wrapped or unwrapped", async () => {
    const cs = client();
    t.emu.control.setTiming({ agentPoolOperationMs: 10_000 });
    const first = cs.agentPools.createOrUpdate(RG, CL, "busy", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL);
    await first.submitted();
    await expect(cs.agentPools.createOrUpdate(RG, CL, "busy", { count: 3, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 409, code: "OperationNotAllowed" });
    expect(t.last("ContainerService.AgentPools_CreateOrUpdate").responseBody).toMatchObject({ error: { code: "OperationNotAllowed" } });

    t.emu.control.setBehaviour({ conflictBody: "unwrapped" });
    await expect(cs.agentPools.delete(RG, CL, "busy", FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 409, code: "OperationNotAllowed" });
    const bare = t.last("ContainerService.AgentPools_Delete").responseBody;
    expect(bare).toMatchObject({ code: "OperationNotAllowed", message: expect.stringContaining("in progress"), subcode: "", details: [] });
    expect(bare).not.toHaveProperty("error");
    await expect(cs.agentPools.upgradeNodeImageVersion(RG, CL, "busy", FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 409 });

    t.emu.control.settleOperations();
    await first.pollUntilDone();
    const updated = await cs.agentPools.createOrUpdate(RG, CL, "busy", { count: 3, vmSize: "Standard_D4ds_v5" }, FAST_POLL).submitted();
    expect(updated).toBeUndefined();
    expect(t.last("ContainerService.AgentPools_CreateOrUpdate").status).toBe(200);
  });

  it("checks eTags: If-Match mismatch and If-None-Match * on an existing pool give 412", async () => {
    const cs = client();
    const pool = await cs.agentPools.get(RG, CL, "userpool");
    await expect(cs.agentPools.createOrUpdate(RG, CL, "userpool", { count: 5 }, { ...FAST_POLL, ifMatch: "stale" }).pollUntilDone()).rejects.toMatchObject({ statusCode: 412, code: "PreconditionFailed" });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "userpool", { count: 5 }, { ...FAST_POLL, ifNoneMatch: "*" }).pollUntilDone()).rejects.toMatchObject({ statusCode: 412 });
    expect(t.last("ContainerService.AgentPools_CreateOrUpdate").requestHeaders["if-none-match"]).toBe("*");
    const updated = await cs.agentPools.createOrUpdate(RG, CL, "userpool", { count: 5 }, { ...FAST_POLL, ifMatch: pool.eTag ?? "" }).pollUntilDone();
    expect(updated.count).toBe(5);
    expect(updated.eTag).not.toBe(pool.eTag);
    await expect(cs.agentPools.delete(RG, CL, "userpool", { ...FAST_POLL, ifMatch: pool.eTag ?? "" }).pollUntilDone()).rejects.toMatchObject({ statusCode: 412 });
    const created = await cs.agentPools.createOrUpdate(RG, CL, "fresh", { count: 1, vmSize: "Standard_D4ds_v5" }, { ...FAST_POLL, ifNoneMatch: "*" }).pollUntilDone();
    expect(created.provisioningState).toBe("Succeeded");
  });

  it("ends a failed LRO with a plain SDK error and properties.status.provisioningError on the pool", async () => {
    const cs = client();
    t.emu.control.injectOutcome({ kind: "agentPool", operation: "create", outcome: { type: "failed", code: "ReconcileVMSSAgentPoolFailed", message: "Code=\"AllocationFailed\" Message=\"Allocation failed.\"" } });
    const err: unknown = await cs.agentPools.createOrUpdate(RG, CL, "doomed", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const pool = await cs.agentPools.get(RG, CL, "doomed");
    expect(pool.provisioningState).toBe("Failed");
    expect(pool.status?.provisioningError).toMatchObject({ code: "ReconcileVMSSAgentPoolFailed", message: expect.stringContaining("AllocationFailed") });
    const status = t.emu.control.requests({ route: "ContainerService.AsyncOperation" }).at(-1)?.responseBody;
    expect(status).toMatchObject({ status: "Failed", error: { code: "ReconcileVMSSAgentPoolFailed" } });
    // The injected outcome is used up: the retry succeeds and clears the error.
    const retried = await cs.agentPools.createOrUpdate(RG, CL, "doomed", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone();
    expect(retried.provisioningState).toBe("Succeeded");
    expect(retried.status?.provisioningError).toBeUndefined();
  });

  it("can end an LRO Canceled", async () => {
    const cs = client();
    t.emu.control.injectOutcome({ kind: "agentPool", idPattern: "/agentPools/stopme$", outcome: { type: "canceled" } });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "stopme", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone()).rejects.toThrow();
    expect((await cs.agentPools.get(RG, CL, "stopme")).provisioningState).toBe("Canceled");
  });

  it("creates a pool from a snapshot: unset fields from the snapshot, same VM family only, versions within skew", async () => {
    const cs = client();
    const snap = await snapshotOf("userpool", "golden");
    const pool = await cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 2, creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone();
    expect(pool).toMatchObject({ vmSize: "Standard_D8ds_v5", osType: "Linux", osSKU: "Ubuntu", orchestratorVersion: "1.33.3", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0", creationData: { sourceResourceId: snap.id } });
    const bigger = await cs.agentPools.createOrUpdate(RG, CL, "bigger", { count: 1, vmSize: "Standard_D16ds_v5", creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone();
    expect(bigger.vmSize).toBe("Standard_D16ds_v5");
    await expect(cs.agentPools.createOrUpdate(RG, CL, "gpu", { count: 1, vmSize: "Standard_NC6s_v3", creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: expect.stringContaining("VM family"),
    });
    // Cross-region use is allowed: the DR cluster in North Europe takes the West Europe snapshot.
    const dr = await cs.agentPools.createOrUpdate(DEMO_DR_RESOURCE_GROUP, DEMO_DR_CLUSTER, "restored", { count: 1, creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone();
    expect(dr.nodeImageVersion).toBe(snap.nodeImageVersion);
    await expect(cs.agentPools.createOrUpdate(RG, CL, "ghost", { count: 1, creationData: { sourceResourceId: snapshotId("nope") } }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 404, code: "NotFound" });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "old", { count: 1, vmSize: "Standard_D4ds_v5", orchestratorVersion: "1.30.5" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      code: "NodePoolMcVersionIncompatible",
    });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "newer", { count: 1, vmSize: "Standard_D4ds_v5", orchestratorVersion: "1.34.0" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      code: "NodePoolMcVersionIncompatible",
    });
    const skewed = await cs.agentPools.createOrUpdate(RG, CL, "skewed", { count: 1, vmSize: "Standard_D4ds_v5", orchestratorVersion: "1.31.2" }, FAST_POLL).pollUntilDone();
    expect(skewed.currentOrchestratorVersion).toBe("1.31.2");
    await expect(cs.agentPools.createOrUpdate(RG, CL, "Bad_Name", { count: 1 }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400 });
    await expect(cs.agentPools.createOrUpdate(RG, "no-cluster", "pool", { count: 1 }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 404, code: "ParentResourceNotFound" });
  });

  it("upgrades a pool's node image to a snapshot with the AKSSnapshotId header", async () => {
    const cs = client();
    const now = await cs.agentPools.get(RG, CL, "userpool");
    // A newer image on systempool (same Kubernetes version) to capture.
    t.emu.control.patchResource(poolId("systempool"), { properties: { nodeImageVersion: "AKSUbuntu-2204gen2containerd-202511.07.0" } });
    const snap = await snapshotOf("systempool", "newer-image");
    await cs.agentPools.upgradeNodeImageVersion(RG, CL, "userpool", { ...FAST_POLL, requestOptions: { headers: { AKSSnapshotId: snap.id ?? "" } } }).pollUntilDone();
    const call = t.last("ContainerService.AgentPools_UpgradeNodeImageVersion");
    expect(call.requestHeaders["akssnapshotid"]).toBe(snap.id);
    expect(call.status).toBe(202);
    expect(call.responseBody).toMatchObject({ properties: { provisioningState: "UpgradingNodeImageVersion", nodeImageVersion: now.nodeImageVersion } });
    const after = await cs.agentPools.get(RG, CL, "userpool");
    expect(after.nodeImageVersion).toBe("AKSUbuntu-2204gen2containerd-202511.07.0");
    expect(after.provisioningState).toBe("Succeeded");

    // An older image is refused; so is a snapshot of another Kubernetes version.
    t.emu.control.patchResource(poolId("systempool"), { properties: { nodeImageVersion: "AKSUbuntu-2204gen2containerd-202501.01.0" } });
    const older = await snapshotOf("systempool", "older-image");
    await expect(cs.agentPools.upgradeNodeImageVersion(RG, CL, "userpool", { ...FAST_POLL, requestOptions: { headers: { AKSSnapshotId: older.id ?? "" } } }).pollUntilDone()).rejects.toMatchObject({ statusCode: 400 });
    t.emu.control.patchResource(poolId("systempool"), { properties: { currentOrchestratorVersion: "1.32.6", orchestratorVersion: "1.32.6", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202512.01.0" } });
    const otherVersion = await snapshotOf("systempool", "other-version");
    await expect(cs.agentPools.upgradeNodeImageVersion(RG, CL, "userpool", { ...FAST_POLL, requestOptions: { headers: { AKSSnapshotId: otherVersion.id ?? "" } } }).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("Kubernetes version"),
    });
    // Without a snapshot: the newest image of the pool's OS SKU.
    t.emu.control.patchResource(poolId("userpool"), { properties: { nodeImageVersion: "AKSUbuntu-2204gen2containerd-202509.01.0" } });
    await cs.agentPools.upgradeNodeImageVersion(RG, CL, "userpool", FAST_POLL).pollUntilDone();
    expect((await cs.agentPools.get(RG, CL, "userpool")).nodeImageVersion).toBe("AKSUbuntu-2204gen2containerd-202511.07.0");
  });

  it("a read-modify-write PUT of a pool made from a snapshot is an ordinary update, not an upgrade", async () => {
    const cs = client();
    const snap = await snapshotOf("userpool", "rmw");
    const pool = await cs.agentPools.createOrUpdate(RG, CL, "rmw", { count: 1, creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone();
    const again = await cs.agentPools.createOrUpdate(RG, CL, "rmw", { ...pool, count: 4 }, { ...FAST_POLL, ifMatch: pool.eTag ?? "" }).pollUntilDone();
    expect(again).toMatchObject({ count: 4, nodeImageVersion: pool.nodeImageVersion, creationData: { sourceResourceId: snap.id } });
    // Sending back another node image is a rollback AKS allows only to recently used versions.
    await expect(cs.agentPools.createOrUpdate(RG, CL, "rmw", { ...again, nodeImageVersion: "AKSUbuntu-2204gen2containerd-202401.01.0" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400 });
  });

  it("upgrades a pool to a snapshot by PUT only when the snapshot's Kubernetes version is newer", async () => {
    const cs = client();
    await cs.agentPools.createOrUpdate(RG, CL, "legacy", { count: 1, vmSize: "Standard_D4ds_v5", orchestratorVersion: "1.32.6" }, FAST_POLL).pollUntilDone();
    const same = await snapshotOf("legacy", "legacy-snap");
    await expect(cs.agentPools.createOrUpdate(RG, CL, "legacy", { creationData: { sourceResourceId: same.id ?? "" } }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("upgradeNodeImageVersion"),
    });
    t.emu.control.patchResource(poolId("legacy"), { properties: { nodeImageVersion: "AKSUbuntu-2204gen2containerd-202507.21.0" } });
    const modern = await snapshotOf("userpool", "modern");
    const upgraded = await cs.agentPools.createOrUpdate(RG, CL, "legacy", { creationData: { sourceResourceId: modern.id ?? "" } }, FAST_POLL).pollUntilDone();
    expect(upgraded).toMatchObject({ orchestratorVersion: "1.33.3", currentOrchestratorVersion: "1.33.3", nodeImageVersion: modern.nodeImageVersion });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "legacy", { orchestratorVersion: "1.32.6" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400, code: "NotAllowedDowngrade" });
    await expect(cs.agentPools.createOrUpdate(RG, CL, "legacy", { vmSize: "Standard_E4ds_v5" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400, code: "PropertyChangeNotAllowed" });
  });

  it("deletes with 202 + Azure-AsyncOperation + Location, keeps the last System pool", async () => {
    const cs = client();
    const poller = cs.agentPools.delete(RG, CL, "userpool", FAST_POLL);
    await poller.submitted();
    expect((await cs.agentPools.get(RG, CL, "userpool")).provisioningState).toBe("Deleting");
    await poller.pollUntilDone();
    await expect(cs.agentPools.get(RG, CL, "userpool")).rejects.toMatchObject({ statusCode: 404 });
    const del = t.emu.control.requests({ route: "ContainerService.AgentPools_Delete" }).at(0);
    const location = del?.responseHeaders["location"] ?? "";
    expect(location).toMatch(/\/operationresults\/[0-9a-f-]{36}\?api-version=2026-06-01$/);
    const result = await rawRequest(t.emu, "GET", location);
    expect(result.status).toBe(204);
    await expect(cs.agentPools.delete(RG, CL, "systempool", FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("last System agent pool") });
  });

  it("lists pools across pages with absolute nextLinks", async () => {
    t.emu.control.setBehaviour({ pageSize: 1 });
    const names: string[] = [];
    for await (const p of client().agentPools.list(RG, CL)) names.push(p.name ?? "");
    expect(names).toEqual(["systempool", "userpool"]);
    const pages = t.emu.control.requests({ route: "ContainerService.AgentPools_List" });
    expect(pages).toHaveLength(2);
    const nextLink = (pages[0]?.responseBody as { nextLink?: string }).nextLink ?? "";
    expect(nextLink.startsWith(`${t.emu.url}/subscriptions/${SUB}/`)).toBe(true);
    expect(pages[1]?.path).toContain("/agentPools");
  });
});

describe("snapshot pagination", () => {
  it("follows nextLink across pages for subscription and resource-group lists", async () => {
    t.emu.control.setBehaviour({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await snapshotOf(i % 2 === 0 ? "userpool" : "systempool", `snap-${i}`);
    const all: string[] = [];
    for await (const s of client().snapshots.list()) all.push(s.name ?? "");
    expect(all).toEqual(["snap-0", "snap-1", "snap-2", "snap-3", "snap-4"]);
    expect(t.emu.control.countRequests({ route: "ContainerService.Snapshots_List" })).toBe(3);
    const byRg: string[] = [];
    for await (const s of client().snapshots.listByResourceGroup(SNAP_RG)) byRg.push(s.name ?? "");
    expect(byRg).toHaveLength(5);
    const last = t.last("ContainerService.Snapshots_ListByResourceGroup").responseBody;
    expect(last).not.toHaveProperty("nextLink");
  });
});

describe("managed clusters", () => {
  it("creates a cluster whose system pool comes from a snapshot, composes agentPoolProfiles, deletes with its pools", async () => {
    const cs = client();
    const snap = await snapshotOf("systempool", "cluster-template");
    const cluster = await cs.managedClusters
      .createOrUpdate(
        RG,
        "aks-clone",
        {
          location: "westeurope",
          dnsPrefix: "aks-clone",
          kubernetesVersion: "",
          identity: { type: "SystemAssigned" },
          agentPoolProfiles: [{ name: "system", mode: "System", count: 1, creationData: { sourceResourceId: snap.id ?? "" } }],
        },
        FAST_POLL,
      )
      .pollUntilDone();
    expect(cluster).toMatchObject({ provisioningState: "Succeeded", kubernetesVersion: "1.33.3", currentKubernetesVersion: "1.33.3", nodeResourceGroup: "MC_rg-aks-demo_aks-clone_westeurope" });
    expect(cluster.agentPoolProfiles?.[0]).toMatchObject({ name: "system", vmSize: "Standard_D4ds_v5", nodeImageVersion: snap.nodeImageVersion, provisioningState: "Succeeded" });
    expect(cluster.fqdn).toMatch(/^aks-clone-[0-9a-f]{8}\.hcp\.westeurope\.azmk8s\.io$/);
    const pool = await cs.agentPools.get(RG, "aks-clone", "system");
    expect(pool.creationData?.sourceResourceId).toBe(snap.id);

    // While the cluster is busy, pool writes get 409.
    t.emu.control.setTiming({ clusterOperationMs: 10_000 });
    const update = cs.managedClusters.createOrUpdate(RG, "aks-clone", { location: "westeurope", tags: { env: "clone" }, agentPoolProfiles: [{ name: "system", mode: "System", count: 2 }] }, FAST_POLL);
    await update.submitted();
    expect(t.last("ContainerService.ManagedClusters_CreateOrUpdate").status).toBe(200);
    await expect(cs.agentPools.createOrUpdate(RG, "aks-clone", "extra", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 409 });
    t.emu.control.settleOperations();
    const updated = await update.pollUntilDone();
    expect(updated.tags).toEqual({ env: "clone" });
    expect(updated.agentPoolProfiles?.[0]?.count).toBe(2);

    t.emu.control.setTiming({ clusterOperationMs: 200 });
    await cs.managedClusters.delete(RG, "aks-clone", FAST_POLL).pollUntilDone();
    expect(t.last("ContainerService.ManagedClusters_Delete").status).toBe(202);
    await expect(cs.managedClusters.get(RG, "aks-clone")).rejects.toMatchObject({ statusCode: 404 });
    await expect(cs.agentPools.get(RG, "aks-clone", "system")).rejects.toMatchObject({ statusCode: 404 });
    await cs.managedClusters.delete(RG, "aks-clone", FAST_POLL).pollUntilDone();
    expect(t.last("ContainerService.ManagedClusters_Delete").status).toBe(204);
  });

  it("keeps the cluster eTag at the top level (as specified) and checks If-Match against it", async () => {
    const cs = client();
    const cluster = await cs.managedClusters.get(RG, CL);
    expect(cluster.eTag).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.last("ContainerService.ManagedClusters_Get").responseBody).not.toHaveProperty("properties.eTag");
    await expect(cs.managedClusters.createOrUpdate(RG, CL, { location: "westeurope", tags: { x: "y" } }, { ...FAST_POLL, ifMatch: "stale" }).pollUntilDone()).rejects.toMatchObject({ statusCode: 412 });
    const updated = await cs.managedClusters.createOrUpdate(RG, CL, { location: "westeurope", tags: { x: "y" } }, { ...FAST_POLL, ifMatch: cluster.eTag ?? "" }).pollUntilDone();
    expect(updated.eTag).not.toBe(cluster.eTag);
    expect(updated.agentPoolProfiles?.map((p) => p.name)).toEqual(["systempool", "userpool"]);
  });

  it("requires a System pool and refuses downgrades", async () => {
    const cs = client();
    await expect(cs.managedClusters.createOrUpdate(RG, "no-system", { location: "westeurope", agentPoolProfiles: [{ name: "user", mode: "User", count: 1 }] }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({
      statusCode: 400,
      code: "MustDefineAtLeastOneSystemPool",
    });
    await expect(cs.managedClusters.createOrUpdate(RG, CL, { location: "westeurope", kubernetesVersion: "1.32.0" }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 400, code: "NotAllowedDowngrade" });
    const list: string[] = [];
    for await (const c of cs.managedClusters.list()) list.push(c.name ?? "");
    expect(list).toEqual([CL, DEMO_DR_CLUSTER]);
  });
});
