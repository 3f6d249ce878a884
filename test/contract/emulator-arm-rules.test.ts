// ARM's front-door rules the emulator enforces so a client that breaks them fails here as it would
// against ARM: bearer token, api-version, AKS's `resourcegroups` id casing, tag rules, busy and
// stopped pools refusing snapshots, 503 with Retry-After.

import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createAzure, fixedTokenCredential, sameResourceId } from "../../src/azure/index.ts";
import { DEMO_CLUSTER, DEMO_NODE_RESOURCE_GROUP, DEMO_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID } from "../emulator/index.ts";
import { computeClient, containerServiceClient } from "./helpers/arm-clients.ts";
import { rawRequest, useEmulator } from "./helpers/emulator-fixture.ts";

const t = useEmulator({ world: "demo", timing: { agentPoolOperationMs: 60_000, clusterOperationMs: 60_000 } });

const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const SNAP_RG = DEMO_SNAPSHOT_RESOURCE_GROUP;
const CL = DEMO_CLUSTER;
const clusterPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CL}`;
const poolPath = (pool: string): string => `${clusterPath}/agentPools/${pool}`;
const snapPath = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.ContainerService/snapshots/${name}`;
const AKS = "api-version=2026-06-01";

function aks() {
  return containerServiceClient(t.emu, SUB, { retryOptions: { maxRetries: 0 } });
}

function snapshotBody(pool: string, tags?: Record<string, string>) {
  return { location: "westeurope", ...(tags !== undefined ? { tags } : {}), properties: { creationData: { sourceResourceId: poolPath(pool) } } };
}

describe("bearer token", () => {
  it.each([
    { name: "no Authorization header", authorization: "", message: "header is missing" },
    { name: "not a Bearer token", authorization: "Basic dXNlcjpwYXNz", message: "invalid format" },
  ])("$name → 401 AuthenticationFailed with a WWW-Authenticate challenge", async ({ authorization, message }) => {
    const r = await rawRequest(t.emu, "GET", `${poolPath("userpool")}?${AKS}`, undefined, { authorization });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: { code: "AuthenticationFailed", message: expect.stringContaining(message) } });
    expect(r.headers["www-authenticate"]).toMatch(/^Bearer authorization_uri=/);
  });

  it("any bearer token is accepted (there is no identity to check)", async () => {
    expect((await rawRequest(t.emu, "GET", `${poolPath("userpool")}?${AKS}`, undefined, { authorization: "Bearer anything" })).status).toBe(200);
  });

  it("the control API needs no token", async () => {
    expect((await rawRequest(t.emu, "GET", "/_emulator/health", undefined, { authorization: "" })).status).toBe(200);
  });
});

describe("api-version", () => {
  it.each([
    { name: "malformed", version: "x", status: 400, code: "InvalidApiVersionParameter" },
    { name: "well-formed but not served by AKS", version: "2099-01-01", status: 400, code: "NoRegisteredProviderFound" },
    { name: "a Compute version on an AKS route", version: "2026-03-02", status: 400, code: "NoRegisteredProviderFound" },
    { name: "the AKS SDK's version", version: "2026-06-01", status: 200, code: undefined },
    { name: "an official example's version", version: "2025-10-01", status: 200, code: undefined },
  ])("$name ($version) → $status", async ({ version, status, code }) => {
    const r = await rawRequest(t.emu, "GET", `${poolPath("userpool")}?api-version=${version}`);
    expect(r.status).toBe(status);
    if (code !== undefined) expect(r.body).toMatchObject({ error: { code, message: expect.stringContaining("2026-06-01") } });
  });

  it("the real SDK clients' versions are served (AKS and Compute)", async () => {
    expect((await aks().agentPools.get(RG, CL, "userpool")).name).toBe("userpool");
    const disks = [];
    for await (const d of computeClient(t.emu, SUB).disks.listByResourceGroup(DEMO_NODE_RESOURCE_GROUP)) disks.push(d);
    expect(disks.length).toBeGreaterThan(0);
  });
});

describe("AKS id casing", () => {
  it("AKS answers ids with `resourcegroups`; Compute keeps `resourceGroups`", async () => {
    const pool = await aks().agentPools.get(RG, CL, "userpool");
    expect(pool.id).toContain("/resourcegroups/");
    // The ids differ as strings from what a client builds, and are the same resource.
    expect(pool.id === poolPath("userpool")).toBe(false);
    expect(sameResourceId(pool.id, poolPath("userpool"))).toBe(true);
    const cluster = await aks().managedClusters.get(RG, CL);
    expect(cluster.id).toContain("/resourcegroups/");
    const disk = (await computeClient(t.emu, SUB).disks.listByResourceGroup(DEMO_NODE_RESOURCE_GROUP).next()).value;
    expect(disk?.id).toContain("/resourceGroups/");
  });

  it("the Azure layer reads AKS's ids back into the names it asked for", async () => {
    const az = createAzure({ endpoint: t.emu.url, ca: t.emu.ca, credential: fixedTokenCredential("t", Date.now), registry: new Registry() });
    const got = await az.agentPools.get({ subscriptionId: SUB, resourceGroup: RG, clusterName: CL, agentPoolName: "userpool" });
    expect(got).toMatchObject({ ok: true, value: { resourceGroup: RG, clusterName: CL, name: "userpool" } });
  });
});

describe("tag rules (every PUT/PATCH carrying tags)", () => {
  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "v"]));
  const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, "v"]));
  it.each([
    { name: "51 tags", tags: many, code: "InvalidTagCount" },
    { name: "a name with '/'", tags: { "aksnap.io/owner": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with '<'", tags: { "a<b": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with '%'", tags: { "a%b": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with '\\'", tags: { "a\\b": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with '?'", tags: { "a?b": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with '&'", tags: { "a&b": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a name with a control character", tags: { "a\tb": "x" }, code: "InvalidTagNameCharacters" },
    { name: "a 513-character name", tags: { ["n".repeat(513)]: "x" }, code: "InvalidTagNameLength" },
    { name: "a 257-character value", tags: { "aksnap.io-owner": "v".repeat(257) }, code: "InvalidTagValueLength" },
    { name: "two names differing only in case", tags: { "aksnap.io-owner": "a", "AKSNAP.IO-OWNER": "b" }, code: "InvalidTagName" },
  ])("$name → 400 $code on snapshot PUT and PATCH, nothing stored", async ({ tags, code }) => {
    const put = await rawRequest(t.emu, "PUT", `${snapPath("tagged")}?${AKS}`, snapshotBody("userpool", tags));
    expect(put).toMatchObject({ status: 400, body: { error: { code } } });
    expect(t.emu.control.getResource(snapPath("tagged"))).toBeUndefined();
    expect((await rawRequest(t.emu, "PUT", `${snapPath("tagged")}?${AKS}`, snapshotBody("userpool"))).status).toBe(201);
    const patch = await rawRequest(t.emu, "PATCH", `${snapPath("tagged")}?${AKS}`, { tags });
    expect(patch).toMatchObject({ status: 400, body: { error: { code } } });
  });

  it.each([
    { name: "50 tags", tags: fifty },
    { name: "a 512-character name and a 256-character value", tags: { ["n".repeat(512)]: "v".repeat(256) } },
    { name: "the owner tag with '-' and '.'", tags: { "aksnap.io-owner": "ns/name" } },
  ])("$name is accepted", async ({ tags }) => {
    expect((await rawRequest(t.emu, "PUT", `${snapPath("ok-tags")}?${AKS}`, snapshotBody("userpool", tags))).status).toBe(201);
  });

  it("Compute disks and agent pools (properties.tags) follow the same rules", async () => {
    const disk = `/subscriptions/${SUB}/resourceGroups/${DEMO_NODE_RESOURCE_GROUP}/providers/Microsoft.Compute/disks/pvc-redis-data-0`;
    const d = await rawRequest(t.emu, "PATCH", `${disk}?api-version=2026-03-02`, { tags: { "bad/name": "x" } });
    expect(d).toMatchObject({ status: 400, body: { error: { code: "InvalidTagNameCharacters" } } });
    const p = await rawRequest(t.emu, "PUT", `${poolPath("tagpool")}?${AKS}`, { properties: { count: 1, vmSize: "Standard_D4ds_v5", tags: { "x": "v".repeat(257) } } });
    expect(p).toMatchObject({ status: 400, body: { error: { code: "InvalidTagValueLength" } } });
  });
});

describe("busy and stopped pools refuse snapshots (409 OperationNotAllowed)", () => {
  it.each([
    { name: "pool Upgrading", set: () => t.emu.control.setProvisioningState(poolPath("userpool"), "Upgrading"), text: "in progress Upgrading" },
    { name: "pool Scaling", set: () => t.emu.control.setProvisioningState(poolPath("userpool"), "Scaling"), text: "in progress Scaling" },
    { name: "cluster Updating", set: () => t.emu.control.setProvisioningState(clusterPath, "Updating"), text: "in progress Updating" },
    { name: "cluster Stopped", set: () => t.emu.control.setPowerState(clusterPath, "Stopped"), text: "is stopped" },
  ])("$name", async ({ set, text }) => {
    set();
    await expect(aks().snapshots.createOrUpdate(SNAP_RG, "while-busy", { location: "westeurope", creationData: { sourceResourceId: poolPath("userpool") } })).rejects.toMatchObject({
      statusCode: 409,
      code: "OperationNotAllowed",
      message: expect.stringMatching(new RegExp(`^Operation is not allowed because .*${text}`)),
    });
    expect(t.emu.control.getResource(snapPath("while-busy"))).toBeUndefined();
  });

  it("the pool GET shows the state; back to Succeeded/Running, the snapshot is taken", async () => {
    t.emu.control.setProvisioningState(poolPath("userpool"), "Upgrading");
    t.emu.control.setPowerState(clusterPath, "Stopped");
    expect((await aks().agentPools.get(RG, CL, "userpool")).provisioningState).toBe("Upgrading");
    expect((await aks().managedClusters.get(RG, CL)).powerState?.code).toBe("Stopped");
    t.emu.control.setProvisioningState(poolPath("userpool"), "Succeeded");
    t.emu.control.setPowerState(clusterPath, "Running");
    const snap = await aks().snapshots.createOrUpdate(SNAP_RG, "after-busy", { location: "westeurope", creationData: { sourceResourceId: poolPath("userpool") } });
    expect(snap.name).toBe("after-busy");
  });

  it("an agent-pool operation in flight refuses a snapshot too", async () => {
    const poller = aks().agentPools.upgradeNodeImageVersion(RG, CL, "userpool");
    await poller.submitted();
    await expect(aks().snapshots.createOrUpdate(SNAP_RG, "mid-op", { location: "westeurope", creationData: { sourceResourceId: poolPath("userpool") } })).rejects.toMatchObject({
      statusCode: 409,
      code: "OperationNotAllowed",
    });
  });

  it("the controls work over HTTP", async () => {
    const ps = await rawRequest(t.emu, "PUT", `/_emulator/provisioning-state${poolPath("userpool")}`, { provisioningState: "Scaling" });
    expect(ps).toMatchObject({ status: 200, body: { properties: { provisioningState: "Scaling" } } });
    const pw = await rawRequest(t.emu, "PUT", `/_emulator/power-state${clusterPath}`, { code: "Stopped" });
    expect(pw).toMatchObject({ status: 200, body: { properties: { powerState: { code: "Stopped" } } } });
    expect((await rawRequest(t.emu, "PUT", `/_emulator/power-state${clusterPath}`, { code: "Sleeping" })).status).toBe(400);
    const put = await rawRequest(t.emu, "PUT", `${snapPath("http-busy")}?${AKS}`, snapshotBody("userpool"));
    expect(put).toMatchObject({ status: 409, body: { error: { code: "OperationNotAllowed" } } });
  });
});

describe("503 with Retry-After", () => {
  it("the serverError fault carries Retry-After, and the Azure layer reports it as retryAfterMs", async () => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", action: { kind: "serverError", status: 503, retryAfterSeconds: 7 } });
    const raw = await rawRequest(t.emu, "GET", `${poolPath("userpool")}?${AKS}`);
    expect(raw).toMatchObject({ status: 503, headers: { "retry-after": "7" }, body: { error: { code: "ServiceUnavailable" } } });
    const az = createAzure({
      endpoint: t.emu.url,
      ca: t.emu.ca,
      credential: fixedTokenCredential("t", Date.now),
      registry: new Registry(),
      retry: { maxRetries: 0 },
    });
    const got = await az.agentPools.get({ subscriptionId: SUB, resourceGroup: RG, clusterName: CL, agentPoolName: "userpool" });
    expect(got).toMatchObject({ ok: false, error: { kind: "transient", code: "ServiceUnavailable", statusCode: 503, retryAfterMs: 7000 } });
  });

  const layer = () => createAzure({ endpoint: t.emu.url, ca: t.emu.ca, credential: fixedTokenCredential("t", Date.now), registry: new Registry() });
  const pool = { subscriptionId: SUB, resourceGroup: RG, clusterName: CL, agentPoolName: "userpool" };

  it.each([
    { name: "503, Retry-After 60 s", action: { kind: "serverError", status: 503, retryAfterSeconds: 60 } as const, kind: "transient" },
    { name: "429, Retry-After 60 s", action: { kind: "throttle", retryAfterSeconds: 60 } as const, kind: "throttled" },
  ])("$name: not slept out inside the call — returned at once with retryAfterMs (default retries)", async ({ action, kind }) => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", times: 1, action });
    const started = performance.now();
    const got = await layer().agentPools.get(pool);
    expect(got).toMatchObject({ ok: false, error: { kind, retryAfterMs: 60_000 } });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(t.emu.control.countRequests({ method: "GET", path: "/agentPools/userpool$" })).toBe(1);
  });

  it("a short Retry-After on 503 is waited out by the SDK and the call succeeds", async () => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", times: 1, action: { kind: "serverError", status: 503, retryAfterSeconds: 1 } });
    expect(await layer().agentPools.get(pool)).toMatchObject({ ok: true });
    expect(t.emu.control.requests({ method: "GET", path: "/agentPools/userpool$" }).map((r) => r.status)).toEqual([503, 200]);
  });
});
