// Replays every official example in shared/arm-contract/examples (beside the repository) through the real SDK clients
// against the emulator, at the example's own api-version. For each: the world is seeded from the
// example (its source resources, or its response body for reads), the SDK sends the example's
// request (asserted byte-for-byte equal as JSON), and the emulator's status codes, LRO headers and
// bodies are checked against the example's responses (see helpers/wire.ts for the rules).

import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createContainerService } from "@azure/arm-containerservice/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { emptyWorld, startEmulator, type RunningEmulator, type WorldFixture } from "../emulator/index.ts";
import { computeClient, containerServiceClient, FAST_POLL, testCredential } from "./helpers/arm-clients.ts";
import { EXAMPLES_DIR, exampleBody, exampleParam, exampleString, isJsonObject, loadExample, sameJson, wireMismatches, type ExampleFile, type Json, type MatchOptions } from "./helpers/wire.ts";

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({
    timing: { agentPoolOperationMs: 150, clusterOperationMs: 150, computeOperationMs: 100, copyDurationMs: 400, hydrationDurationMs: 300 },
  });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.control.reset(emptyWorld());
});

function lastCall(route: string, method?: string) {
  const all = emu.control.requests({ route, ...(method ? { method } : {}) });
  const e = all.at(-1);
  if (!e) throw new Error(`no ${method ?? ""} request to ${route} in the log`);
  return e;
}

function expectWire(actual: unknown, expected: unknown, opts?: MatchOptions): void {
  expect(wireMismatches(actual, expected, opts)).toEqual([]);
}

function expectRequestBody(route: string, ex: ExampleFile, param: string, method = "PUT"): void {
  const sent = lastCall(route, method).requestBody;
  const want = exampleParam(ex, param);
  if (!sameJson(sent, want)) throw new Error(`request body differs from the example:\n sent ${JSON.stringify(sent)}\n want ${JSON.stringify(want)}`);
}

function world(sub: string, rg: string, location: string, extra: Partial<WorldFixture["subscriptions"][number]["resourceGroups"][number]> = {}): WorldFixture {
  return { subscriptions: [{ subscriptionId: sub, resourceGroups: [{ name: rg, location, ...extra }] }] };
}

const REPLAYED = new Set<string>();
function example(rel: string): ExampleFile {
  REPLAYED.add(rel);
  return loadExample(rel);
}

/** AKS system data and eTags are generated; their presence and types still count. */
const AKS_GENERATED: MatchOptions = { ignoreValues: ["systemData", "properties.eTag"] };

describe("Microsoft.ContainerService/snapshots examples", () => {
  function seedSourcePool(sub: string): void {
    emu.control.loadWorld(
      world(sub, "rg1", "westus", {
        managedClusters: [
          {
            name: "cluster1",
            location: "westus",
            kubernetesVersion: "1.20.5",
            agentPools: [
              { name: "pool0", vmSize: "Standard_D2s_v3", count: 3, mode: "System", nodeImageVersion: "AKSUbuntu-1804gen2containerd-2021.09.11", osType: "Linux", osSKU: "Ubuntu", enableFIPS: false },
            ],
          },
        ],
      }),
    );
  }

  it("SnapshotsCreate: 201 on create, 200 on replace, read-only fields copied from the source pool", async () => {
    const ex = example("containerservice/2025-10-01/SnapshotsCreate.json");
    const sub = exampleString(ex, "subscriptionId");
    seedSourcePool(sub);
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const params = { location: "westus", tags: { key1: "val1", key2: "val2" }, creationData: { sourceResourceId: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/cluster1/agentPools/pool0" } };
    const created = await cs.snapshots.createOrUpdate("rg1", exampleString(ex, "resourceName"), params);
    const call = lastCall("ContainerService.Snapshots_CreateOrUpdate");
    expect(call.status).toBe(201);
    expect(call.apiVersion).toBe("2025-10-01");
    expectRequestBody("ContainerService.Snapshots_CreateOrUpdate", ex, "parameters");
    expectWire(call.responseBody, exampleBody(ex, "201"), AKS_GENERATED);
    expect(created.kubernetesVersion).toBe("1.20.5");
    expect(created.enableFips).toBe(false);

    await cs.snapshots.createOrUpdate("rg1", exampleString(ex, "resourceName"), params);
    const replaced = lastCall("ContainerService.Snapshots_CreateOrUpdate");
    expect(replaced.status).toBe(200);
    expectWire(replaced.responseBody, exampleBody(ex, "200"), AKS_GENERATED);
  });

  function seedSnapshot(ex: ExampleFile, body: unknown): void {
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(world(sub, "rg1", "westus"));
    if (!isJsonObject(body) || typeof body["id"] !== "string") throw new Error("example body without id");
    emu.control.putResource(body["id"], body);
  }

  it("SnapshotsGet: 200 with the stored snapshot", async () => {
    const ex = example("containerservice/2025-10-01/SnapshotsGet.json");
    seedSnapshot(ex, exampleBody(ex, "200"));
    const cs = containerServiceClient(emu, exampleString(ex, "subscriptionId"), { apiVersion: exampleString(ex, "api-version") });
    const got = await cs.snapshots.get(exampleString(ex, "resourceGroupName"), exampleString(ex, "resourceName"));
    expect(got.nodeImageVersion).toBe("AKSUbuntu-1804gen2containerd-2021.09.11");
    expectWire(lastCall("ContainerService.Snapshots_Get").responseBody, exampleBody(ex, "200"));
  });

  it("SnapshotsList: subscription-wide list", async () => {
    const ex = example("containerservice/2025-10-01/SnapshotsList.json");
    const want = exampleBody(ex, "200");
    const first = Array.isArray(want["value"]) ? want["value"][0] : undefined;
    seedSnapshot(ex, first);
    const cs = containerServiceClient(emu, exampleString(ex, "subscriptionId"), { apiVersion: exampleString(ex, "api-version") });
    const names: string[] = [];
    for await (const s of cs.snapshots.list()) names.push(s.name ?? "");
    expect(names).toEqual(["snapshot1"]);
    expectWire(lastCall("ContainerService.Snapshots_List").responseBody, want);
  });

  it("SnapshotsListByResourceGroup: resource-group list", async () => {
    const ex = example("containerservice/2026-06-01/SnapshotsListByResourceGroup.json");
    const want = exampleBody(ex, "200");
    seedSnapshot(ex, Array.isArray(want["value"]) ? want["value"][0] : undefined);
    const cs = containerServiceClient(emu, exampleString(ex, "subscriptionId"), { apiVersion: exampleString(ex, "api-version") });
    const names: string[] = [];
    for await (const s of cs.snapshots.listByResourceGroup("rg1")) names.push(s.name ?? "");
    expect(names).toEqual(["snapshot1"]);
    expectWire(lastCall("ContainerService.Snapshots_ListByResourceGroup").responseBody, want);
  });

  it("SnapshotsUpdateTags: PATCH replaces the tags", async () => {
    const ex = example("containerservice/2026-06-01/SnapshotsUpdateTags.json");
    const after = exampleBody(ex, "200");
    seedSnapshot(ex, { ...after, tags: { key1: "val1", key2: "val2" } });
    const cs = containerServiceClient(emu, exampleString(ex, "subscriptionId"), { apiVersion: exampleString(ex, "api-version") });
    const got = await cs.snapshots.updateTags("rg1", "snapshot1", { tags: { key2: "new-val2", key3: "val3" } });
    expect(got.tags).toEqual({ key2: "new-val2", key3: "val3" });
    expectRequestBody("ContainerService.Snapshots_UpdateTags", ex, "parameters", "PATCH");
    const call = lastCall("ContainerService.Snapshots_UpdateTags");
    expect(call.status).toBe(200);
    expectWire(call.responseBody, after, { ignoreValues: ["systemData.lastModifiedAt"] });
  });

  it("SnapshotsDelete: 200 when it existed, 204 when absent", async () => {
    const ex = example("containerservice/2026-06-01/SnapshotsDelete.json");
    const body = exampleBody(loadExample("containerservice/2025-10-01/SnapshotsGet.json"), "200");
    seedSnapshot(ex, body);
    const cs = containerServiceClient(emu, exampleString(ex, "subscriptionId"), { apiVersion: exampleString(ex, "api-version") });
    await cs.snapshots.delete("rg1", "snapshot1");
    expect(lastCall("ContainerService.Snapshots_Delete").status).toBe(200);
    await cs.snapshots.delete("rg1", "snapshot1");
    const second = lastCall("ContainerService.Snapshots_Delete");
    expect(second.status).toBe(204);
    expect(second.responseBody).toBeUndefined();
    expect(Object.keys(ex.responses).sort()).toEqual(["200", "204"]);
  });
});

describe("Microsoft.ContainerService agentPools and managedClusters examples", () => {
  it("AgentPoolsGet: 200 with eTag, versions and node image", async () => {
    const ex = example("containerservice/2026-06-01/AgentPoolsGet.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "westus", {
        managedClusters: [{ name: "clustername1", location: "westus", kubernetesVersion: "1.9.6", agentPools: [{ name: "systempool", vmSize: "Standard_DS1_v2", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu:1604:2020.03.11" }] }],
      }),
    );
    const body = exampleBody(ex, "200");
    emu.control.putResource(String(body["id"]), body);
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const pool = await cs.agentPools.get("rg1", "clustername1", "agentpool1");
    expect(pool.eTag).toBe("ebwiyfneowv");
    expectWire(lastCall("ContainerService.AgentPools_Get").responseBody, body);
  });

  it("AgentPoolsCreate_Snapshot: 201 Creating + Azure-AsyncOperation, fields from the snapshot, then 200 Succeeded", async () => {
    const ex = example("containerservice/2026-06-01/AgentPoolsCreate_Snapshot.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "westus", {
        managedClusters: [{ name: "clustername1", location: "westus", kubernetesVersion: "1.19.6", agentPools: [{ name: "systempool", vmSize: "Standard_DS2_v2", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu-1804gen2containerd-2021.09.11" }] }],
        aksSnapshots: [
          { name: "snapshot1", location: "westus", sourceAgentPoolId: `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/other/agentPools/pool0`, kubernetesVersion: "1.19.6", nodeImageVersion: "AKSUbuntu-1804gen2containerd-2021.09.11", vmSize: "Standard_DS2_v2", enableFIPS: true },
        ],
      }),
    );
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const pool = await cs.agentPools.createOrUpdate(
      "rg1",
      "clustername1",
      "agentpool1",
      { count: 3, creationData: { sourceResourceId: `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/snapshots/snapshot1` }, enableFips: true, orchestratorVersion: "", osType: "Linux", vmSize: "Standard_DS2_v2" },
      FAST_POLL,
    );
    expectRequestBody("ContainerService.AgentPools_CreateOrUpdate", ex, "parameters");
    const call = lastCall("ContainerService.AgentPools_CreateOrUpdate");
    expect(call.status).toBe(201);
    expect(call.responseHeaders["azure-asyncoperation"]).toMatch(new RegExp(`^${emu.url}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/westus/operations/[0-9a-f-]{36}\\?api-version=2017-08-31$`));
    expect(call.responseHeaders["location"]).toBeUndefined();
    expectWire(call.responseBody, exampleBody(ex, "201"), AKS_GENERATED);
    expect(pool.provisioningState).toBe("Succeeded");
    expectWire(lastCall("ContainerService.AgentPools_Get").responseBody, exampleBody(ex, "200"), AKS_GENERATED);
    expect(emu.control.countRequests({ route: "ContainerService.AsyncOperation" })).toBeGreaterThan(0);
  });

  it("AgentPools_Update: 200 Updating, then Succeeded with the requested settings", async () => {
    const ex = example("containerservice/2025-10-01/AgentPools_Update.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "westus", {
        managedClusters: [
          {
            name: "clustername1",
            location: "westus",
            kubernetesVersion: "1.9.6",
            agentPools: [
              { name: "systempool", vmSize: "Standard_DS1_v2", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu-1604-2020.03.11" },
              { name: "agentpool1", vmSize: "Standard_DS1_v2", count: 1, mode: "User", nodeImageVersion: "AKSUbuntu-1604-2020.03.11", osType: "Linux" },
            ],
          },
        ],
      }),
    );
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const pool = await cs.agentPools.createOrUpdate(
      "rg1",
      "clustername1",
      "agentpool1",
      { orchestratorVersion: "", count: 3, enableAutoScaling: true, minCount: 2, maxCount: 2, vmSize: "Standard_DS1_v2", osType: "Linux", nodeTaints: ["Key1=Value1:NoSchedule"], scaleSetPriority: "Spot", scaleSetEvictionPolicy: "Delete" },
      FAST_POLL,
    );
    expectRequestBody("ContainerService.AgentPools_CreateOrUpdate", ex, "parameters");
    const call = lastCall("ContainerService.AgentPools_CreateOrUpdate");
    expect(call.status).toBe(200);
    expect(call.responseHeaders["azure-asyncoperation"]).toBeDefined();
    // The example's 201 body is the in-flight shape (Updating); ours is the 200 of an update.
    expectWire(call.responseBody, exampleBody(ex, "201"), AKS_GENERATED);
    expect(pool.provisioningState).toBe("Succeeded");
    expectWire(lastCall("ContainerService.AgentPools_Get").responseBody, exampleBody(ex, "200"), AKS_GENERATED);
  });

  it("AgentPoolsDelete: 202 with Azure-AsyncOperation and Location, 204 when absent", async () => {
    const ex = example("containerservice/2026-06-01/AgentPoolsDelete.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "eastus", {
        managedClusters: [
          {
            name: "clustername1",
            location: "eastus",
            kubernetesVersion: "1.33.3",
            agentPools: [
              { name: "systempool", vmSize: "Standard_D4ds_v5", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0" },
              { name: "agentpool1", vmSize: "Standard_D4ds_v5", count: 1, mode: "User", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0" },
            ],
          },
        ],
      }),
    );
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    await cs.agentPools.delete("rg1", "clustername1", "agentpool1", FAST_POLL);
    const call = lastCall("ContainerService.AgentPools_Delete");
    expect(call.status).toBe(202);
    const exampleLocation = ex.responses["202"]?.headers?.["location"] ?? "";
    const ours = call.responseHeaders["location"] ?? "";
    // Same shape as the example's Location, but absolute on the emulator.
    expect(ours.replace(emu.url, "https://management.azure.com").replace(/[0-9a-f-]{36}\?/, "00000000-0000-0000-0000-000000000000?")).toBe(exampleLocation);
    expect(call.responseHeaders["azure-asyncoperation"]).toContain(`${emu.url}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/eastus/operations/`);
    await expect(cs.agentPools.get("rg1", "clustername1", "agentpool1")).rejects.toMatchObject({ statusCode: 404 });
    await cs.agentPools.delete("rg1", "clustername1", "agentpool1", FAST_POLL);
    expect(lastCall("ContainerService.AgentPools_Delete").status).toBe(204);
  });

  it("AgentPoolsUpgradeNodeImageVersion: 202 UpgradingNodeImageVersion with Azure-AsyncOperation, then the latest image", async () => {
    const ex = example("containerservice/2025-10-01/AgentPoolsUpgradeNodeImageVersion.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld({
      ...world(sub, "rg1", "westus", {
        managedClusters: [
          {
            name: "clustername1",
            location: "westus",
            kubernetesVersion: "1.9.6",
            agentPools: [{ name: "agentpool1", vmSize: "Standard_DS1_v2", count: 3, mode: "System", nodeImageVersion: "AKSUbuntu-1604-2020.03.11", osType: "Linux", osSKU: "Ubuntu" }],
          },
        ],
      }),
      latestNodeImageVersions: { Ubuntu: "AKSUbuntu-1604-2020.04.02" },
    });
    emu.control.patchResource(`/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/clustername1/agentPools/agentpool1`, { properties: { upgradeSettings: { maxSurge: "33%" } } });
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    await cs.agentPools.upgradeNodeImageVersion("rg1", "clustername1", "agentpool1", FAST_POLL);
    const call = lastCall("ContainerService.AgentPools_UpgradeNodeImageVersion");
    expect(call.status).toBe(202);
    const asyncOp = call.responseHeaders["azure-asyncoperation"] ?? "";
    const exampleAsync = ex.responses["202"]?.headers?.["Azure-AsyncOperation"] ?? "";
    expect(asyncOp.replace(/\?.*$/, "").replace(/[0-9a-f-]{36}$/, "")).toMatch(/\/providers\/Microsoft\.ContainerService\/locations\/westus\/operations\/$/);
    expect(exampleAsync).toMatch(/\/providers\/Microsoft\.ContainerService\/locations\/westus\/operations\//);
    expectWire(call.responseBody, exampleBody(ex, "202"), AKS_GENERATED);
    const pool = await cs.agentPools.get("rg1", "clustername1", "agentpool1");
    expect(pool.nodeImageVersion).toBe("AKSUbuntu-1604-2020.04.02");
    expect(pool.provisioningState).toBe("Succeeded");
  });

  it("OperationStatusResultGetByAgentPool: the agent-pool scoped operation status", async () => {
    const ex = example("containerservice/2025-05-02-preview/OperationStatusResultGetByAgentPool.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "westus", {
        managedClusters: [{ name: "clustername1", location: "westus", kubernetesVersion: "1.33.3", agentPools: [{ name: "systempool", vmSize: "Standard_D4ds_v5", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0" }] }],
      }),
    );
    emu.control.setTiming({ agentPoolOperationMs: 5_000 });
    const cs = containerServiceClient(emu, sub);
    const poller = cs.agentPools.createOrUpdate("rg1", "clustername1", "agentpool1", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL);
    await poller.submitted();
    const asyncOp = lastCall("ContainerService.AgentPools_CreateOrUpdate").responseHeaders["azure-asyncoperation"] ?? "";
    const opId = /operations\/([0-9a-f-]{36})/.exec(asyncOp)?.[1] ?? "";
    // No typed method in the stable SDK: the SDK's own REST layer (same pipeline, auth and TLS).
    const rest = createContainerService(testCredential, sub, { endpoint: emu.url, tlsOptions: { ca: emu.ca } });
    const res = await rest
      .path(`/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/clustername1/agentPools/agentpool1/operations/${opId}`)
      .get({ queryParameters: { "api-version": exampleString(ex, "api-version") } });
    expect(res.status).toBe("200");
    expectWire(res.body, exampleBody(ex, "200"), { ignoreValues: ["id", "name", "percentComplete", "startTime"] });
    expect(String((res.body as { id?: unknown }).id)).toContain(`/agentPools/agentpool1/operations/${opId}`);
    emu.control.settleOperations();
    await poller.pollUntilDone();
    emu.control.setTiming({ agentPoolOperationMs: 150 });
  });

  it("ManagedClustersCreate_Snapshot: 201 Creating with the pool from the snapshot, then Succeeded", async () => {
    const ex = example("containerservice/2026-06-01/ManagedClustersCreate_Snapshot.json");
    const sub = exampleString(ex, "subscriptionId");
    emu.control.loadWorld(
      world(sub, "rg1", "location1", {
        aksSnapshots: [
          { name: "snapshot1", location: "location1", sourceAgentPoolId: `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c0/agentPools/p0`, kubernetesVersion: "1.9.6", nodeImageVersion: "AKSUbuntu:1604:2020.03.11", vmSize: "Standard_DS2_v2", enableFIPS: true },
        ],
      }),
    );
    const cs = containerServiceClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const cluster = await cs.managedClusters.createOrUpdate(
      "rg1",
      "clustername1",
      {
        location: "location1",
        sku: { name: "Basic", tier: "Free" },
        tags: { archv2: "", tier: "production" },
        addonProfiles: {},
        agentPoolProfiles: [
          {
            name: "nodepool1",
            type: "VirtualMachineScaleSets",
            count: 3,
            creationData: { sourceResourceId: `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/snapshots/snapshot1` },
            enableFips: true,
            enableNodePublicIP: true,
            mode: "System",
            osType: "Linux",
            vmSize: "Standard_DS2_v2",
          },
        ],
        autoScalerProfile: { scaleDownDelayAfterAdd: "15m", scanInterval: "20s" },
        diskEncryptionSetID: `/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.Compute/diskEncryptionSets/des`,
        dnsPrefix: "dnsprefix1",
        enableRbac: true,
        kubernetesVersion: "",
        linuxProfile: { adminUsername: "azureuser", ssh: { publicKeys: [{ keyData: "keydata" }] } },
        networkProfile: { loadBalancerProfile: { managedOutboundIPs: { count: 2 } }, loadBalancerSku: "standard", outboundType: "loadBalancer" },
        servicePrincipalProfile: { clientId: "clientid", secret: "secret" },
        windowsProfile: { adminPassword: "replacePassword1234$", adminUsername: "azureuser" },
      },
      FAST_POLL,
    );
    expectRequestBody("ContainerService.ManagedClusters_CreateOrUpdate", ex, "parameters");
    const call = lastCall("ContainerService.ManagedClusters_CreateOrUpdate");
    expect(call.status).toBe(201);
    expect(call.responseHeaders["azure-asyncoperation"]).toBeDefined();
    // The example shows kubenet, a basic LB and made-up port/timeout numbers; the emulator's
    // defaults differ in value, not in shape.
    const defaults: MatchOptions = {
      ignoreValues: [
        ...(AKS_GENERATED.ignoreValues ?? []),
        "properties.maxAgentPools",
        "properties.fqdn",
        "properties.networkProfile.networkPlugin",
        "properties.networkProfile.loadBalancerSku",
        "properties.networkProfile.loadBalancerProfile.allocatedOutboundPorts",
        "properties.networkProfile.loadBalancerProfile.idleTimeoutInMinutes",
        "properties.networkProfile.loadBalancerProfile.effectiveOutboundIPs",
      ],
    };
    expectWire(call.responseBody, exampleBody(ex, "201"), defaults);
    expect(cluster.provisioningState).toBe("Succeeded");
    expectWire(lastCall("ContainerService.ManagedClusters_Get").responseBody, exampleBody(ex, "200"), defaults);
    const body = lastCall("ContainerService.ManagedClusters_Get").responseBody;
    expect(JSON.stringify(body)).not.toContain("replacePassword1234$");
    expect(JSON.stringify(body)).not.toContain('"secret"');
  });
});

describe("Microsoft.Compute examples", () => {
  const COMPUTE_GENERATED: MatchOptions = { ignoreValues: ["properties.timeCreated"] };

  /** Compute examples mix {subscription-id} (path) and {subscriptionId} (ids): seed under the path's. */
  function seedAt(sub: string, body: { [k: string]: Json }): void {
    emu.control.putResource(String(body["id"]).replace("{subscriptionId}", sub), body);
  }

  it("Snapshot_Get: 200 with the stored snapshot", async () => {
    const ex = example("compute/2026-03-02/Snapshot_Get.json");
    const body = exampleBody(ex, "200");
    const sub = exampleString(ex, "subscriptionId");
    seedAt(sub, body);
    emu.control.addResourceGroup(sub, "myResourceGroup", "westus");
    const c = computeClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const got = await c.snapshots.get("myResourceGroup", "mySnapshot");
    expect(got.provisioningState).toBe("Succeeded");
    expectWire(lastCall("Compute.Snapshots_Get").responseBody, body);
    expect(lastCall("Compute.Snapshots_Get").responseHeaders["x-ms-ratelimit-remaining-resource"]).toMatch(/^Microsoft\.Compute\/LowCostGet3Min;\d+,Microsoft\.Compute\/LowCostGet30Min;\d+$/);
  });

  it("Snapshot_GetIncrementalSnapshot: 200 with snapshotAccessState Available", async () => {
    const ex = example("compute/2026-03-02/Snapshot_GetIncrementalSnapshot.json");
    const body = exampleBody(ex, "200");
    const sub = exampleString(ex, "subscriptionId");
    seedAt(sub, body);
    emu.control.addResourceGroup(sub, "myResourceGroup", "westus");
    const c = computeClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const got = await c.snapshots.get("myResourceGroup", "myIncrementalSnapshot");
    expect(got.snapshotAccessState).toBe("Available");
    expectWire(lastCall("Compute.Snapshots_Get").responseBody, body);
  });

  function seedSourceSnapshot(sub: string, id: string, location: string): void {
    emu.control.putResource(id, {
      location,
      type: "Microsoft.Compute/snapshots",
      sku: { name: "Standard_ZRS", tier: "Standard" },
      properties: { creationData: { createOption: "Copy" }, diskSizeGB: 64, incremental: true, provisioningState: "Succeeded", uniqueId: "4c5b8a3e-1d2f-4a7b-9c3e-2b1a0f9e8d7c", timeCreated: "2026-01-01T00:00:00Z" },
    });
    emu.control.addResourceGroup(sub, "myResourceGroup", location);
  }

  it("Disk_Create_ByCopyingASnapshot: 202 with Location (monitor=true) and Azure-AsyncOperation, then Succeeded", async () => {
    const ex = example("compute/2026-03-02/Disk_Create_ByCopyingASnapshot.json");
    const sub = exampleString(ex, "subscriptionId");
    // The example's source lives under another placeholder subscription ({subscriptionId}).
    seedSourceSnapshot("{subscriptionId}", "/subscriptions/{subscriptionId}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot", "West US");
    emu.control.addResourceGroup(sub, "myResourceGroup", "westus");
    const c = computeClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const disk = await c.disks.createOrUpdate(
      "myResourceGroup",
      "myDisk",
      { location: "West US", creationData: { createOption: "Copy", sourceResourceId: "subscriptions/{subscriptionId}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot" } },
      FAST_POLL,
    );
    expectRequestBody("Compute.Disks_CreateOrUpdate", ex, "disk");
    const call = lastCall("Compute.Disks_CreateOrUpdate");
    expect(call.status).toBe(202);
    expect(call.responseHeaders["location"]).toMatch(/\/providers\/Microsoft\.Compute\/locations\/westus\/DiskOperations\/[0-9a-f-]{36}\?.*&monitor=true$/);
    expect(call.responseHeaders["azure-asyncoperation"]).toMatch(/\/providers\/Microsoft\.Compute\/locations\/westus\/DiskOperations\/[0-9a-f-]{36}\?p=/);
    expect(call.responseHeaders["location"]?.startsWith(emu.url)).toBe(true);
    expect(call.responseHeaders["x-ms-ratelimit-remaining-resource"]).toMatch(/CreateUpdateDisks3Min;\d+/);
    expectWire(call.responseBody, exampleBody(ex, "202"), COMPUTE_GENERATED);
    expect(disk.provisioningState).toBe("Succeeded");
    expect(disk.diskSizeGB).toBe(64);
    expectWire(lastCall("Compute.Disks_Get").responseBody, exampleBody(ex, "200"), { ignoreValues: ["properties.provisioningState"] });
  });

  it("Snapshot_Create_FromAnExistingSnapshot: Copy within the region", async () => {
    const ex = example("compute/2025-01-02/Snapshot_Create_FromAnExistingSnapshot.json");
    const sub = exampleString(ex, "subscriptionId");
    seedSourceSnapshot(sub, `/subscriptions/${sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot1`, "westus");
    const c = computeClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const snap = await c.snapshots.createOrUpdate(
      "myResourceGroup",
      "mySnapshot2",
      { location: "West US", creationData: { createOption: "Copy", sourceResourceId: `subscriptions/${sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot1` } },
      FAST_POLL,
    );
    expectRequestBody("Compute.Snapshots_CreateOrUpdate", ex, "snapshot");
    const call = lastCall("Compute.Snapshots_CreateOrUpdate");
    expect(call.status).toBe(202);
    // arm-compute pins 2026-03-02 per operation (its apiVersion option does not reach disks/snapshots).
    expect(call.apiVersion).toBe("2026-03-02");
    expect(call.responseHeaders["location"]).toContain("&monitor=true");
    expectWire(call.responseBody, exampleBody(ex, "202"), COMPUTE_GENERATED);
    expect(snap.provisioningState).toBe("Succeeded");
    expectWire(lastCall("Compute.Snapshots_Get").responseBody, exampleBody(ex, "200"), { ignoreValues: ["properties.provisioningState"] });
  });

  it("Snapshot_Create_FromAnExistingSnapshotInDifferentRegion: CopyStart, Succeeded before completionPercent reaches 100", async () => {
    const ex = example("compute/2025-01-02/Snapshot_Create_FromAnExistingSnapshotInDifferentRegion.json");
    const sub = exampleString(ex, "subscriptionId");
    seedSourceSnapshot(sub, `/subscriptions/${sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot1`, "eastus");
    emu.control.setTiming({ copyDurationMs: 60_000 });
    const c = computeClient(emu, sub, { apiVersion: exampleString(ex, "api-version") });
    const snap = await c.snapshots.createOrUpdate(
      "myResourceGroup",
      "mySnapshot2",
      { location: "West US", creationData: { createOption: "CopyStart", sourceResourceId: `subscriptions/${sub}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/snapshots/mySnapshot1` } },
      FAST_POLL,
    );
    expectRequestBody("Compute.Snapshots_CreateOrUpdate", ex, "snapshot");
    const call = lastCall("Compute.Snapshots_CreateOrUpdate");
    expect(call.status).toBe(202);
    expectWire(call.responseBody, exampleBody(ex, "202"), COMPUTE_GENERATED);
    expect(snap.provisioningState).toBe("Succeeded");
    expect(snap.completionPercent).toBeLessThan(100);
    expectWire(lastCall("Compute.Snapshots_Get").responseBody, exampleBody(ex, "200"), { ignoreValues: ["properties.provisioningState"] });
    emu.control.setTiming({ copyDurationMs: 400 });
  });
});

describe("coverage", () => {
  it("replays every example file", () => {
    const all: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith(".json")) all.push(relative(EXAMPLES_DIR, p));
      }
    };
    walk(EXAMPLES_DIR);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((f) => !REPLAYED.has(f)).sort()).toEqual([]);
  });
});
