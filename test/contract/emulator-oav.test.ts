// Strong proof that the emulator speaks ARM: drive every ARM route (successes and the error answers
// the operator meets) through the real SDK clients, then validate every recorded request/response
// pair with Microsoft's oav LiveValidator against the official swagger at the SDKs' api-versions.
// LRO status polls and the preview agent-pool operation route are not in these specs; fault-injected
// answers are scripted, not emulated, so both are left out.

import { join } from "node:path";
import { LiveValidator } from "oav";
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_CLUSTER, DEMO_NODE_RESOURCE_GROUP, DEMO_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, type RequestLogEntry } from "../emulator/index.ts";
import { isObject } from "../emulator/json.ts";
import { ROUTES } from "../emulator/routes.ts";
import { computeClient, containerServiceClient, FAST_POLL } from "./helpers/arm-clients.ts";
import { useEmulator } from "./helpers/emulator-fixture.ts";
import { SHARED_DIR } from "./helpers/wire.ts";

const SPECS = join(SHARED_DIR, "arm-contract/swagger/specification");
const NOT_IN_SPEC = new Set(["ContainerService.AsyncOperation", "ContainerService.OperationResult", "ContainerService.OperationStatusResult_GetByAgentPool", "Compute.DiskOperation"]);

const t = useEmulator({ world: "demo", timing: { agentPoolOperationMs: 100, clusterOperationMs: 100, computeOperationMs: 50, copyDurationMs: 300, hydrationDurationMs: 200 } }, false);

const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const CL = DEMO_CLUSTER;
const SNAP_RG = DEMO_SNAPSHOT_RESOURCE_GROUP;
const NODE_RG = DEMO_NODE_RESOURCE_GROUP;
const poolId = (p: string): string => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CL}/agentPools/${p}`;

let validator: LiveValidator;
beforeAll(async () => {
  validator = new LiveValidator({
    directory: SPECS,
    swaggerPathsPattern: [
      "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-06-01/managedClusters.json",
      "compute/resource-manager/Microsoft.Compute/Compute/stable/2026-03-02/DiskRP.json",
    ],
    git: { shouldClone: false },
    isPathCaseSensitive: false,
  });
  await validator.initialize();
}, 60_000);

/** Runs an SDK call that is expected to fail, keeping only its recorded traffic. */
async function failing(p: Promise<unknown>): Promise<void> {
  await p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    () => undefined,
  );
}

async function driveEveryRoute(): Promise<void> {
  const cs = containerServiceClient(t.emu, SUB, { retryOptions: { maxRetries: 0 } });
  const c = computeClient(t.emu, SUB, { retryOptions: { maxRetries: 0 } });

  // Node-pool snapshots.
  const snap = await cs.snapshots.createOrUpdate(SNAP_RG, "np-1", { location: "westeurope", tags: { k: "v" }, creationData: { sourceResourceId: poolId("userpool") } });
  await cs.snapshots.createOrUpdate(SNAP_RG, "np-1", { location: "westeurope", creationData: { sourceResourceId: poolId("userpool") } });
  await cs.snapshots.createOrUpdate(SNAP_RG, "np-2", { location: "westeurope", creationData: { sourceResourceId: poolId("systempool") } });
  await cs.snapshots.get(SNAP_RG, "np-1");
  await cs.snapshots.updateTags(SNAP_RG, "np-1", { tags: { k: "w" } });
  t.emu.control.setBehaviour({ pageSize: 1 });
  for await (const _ of cs.snapshots.list()) void _;
  for await (const _ of cs.snapshots.listByResourceGroup(SNAP_RG)) void _;
  t.emu.control.setBehaviour({ pageSize: 100 });
  await failing(cs.snapshots.get(SNAP_RG, "absent"));
  await failing(cs.snapshots.get("rg-absent", "absent"));
  await failing(cs.snapshots.createOrUpdate(SNAP_RG, "np-x", { location: "northeurope", creationData: { sourceResourceId: poolId("userpool") } }));
  await failing(cs.snapshots.createOrUpdate(SNAP_RG, "np-y", { location: "westeurope", creationData: { sourceResourceId: poolId("nopool") } }));

  // Agent pools.
  await cs.agentPools.get(RG, CL, "userpool");
  for await (const _ of cs.agentPools.list(RG, CL)) void _;
  const created = await cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 2, mode: "User", creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone();
  await cs.agentPools.createOrUpdate(RG, CL, "restored", { ...created, count: 3 }, FAST_POLL).pollUntilDone();
  t.emu.control.setTiming({ agentPoolOperationMs: 60_000 });
  const busy = cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 4 }, FAST_POLL);
  await busy.submitted();
  await failing(cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 5 }, FAST_POLL).pollUntilDone());
  t.emu.control.setBehaviour({ conflictBody: "unwrapped" });
  await failing(cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 5 }, FAST_POLL).pollUntilDone());
  t.emu.control.setBehaviour({ conflictBody: "wrapped" });
  t.emu.control.settleOperations();
  await busy.pollUntilDone();
  t.emu.control.setTiming({ agentPoolOperationMs: 100 });
  await failing(cs.agentPools.createOrUpdate(RG, CL, "restored", { count: 5 }, { ...FAST_POLL, ifMatch: "stale" }).pollUntilDone());
  await failing(cs.agentPools.createOrUpdate(RG, CL, "gpu", { count: 1, vmSize: "Standard_NC6s_v3", creationData: { sourceResourceId: snap.id ?? "" } }, FAST_POLL).pollUntilDone());
  await cs.agentPools.upgradeNodeImageVersion(RG, CL, "restored", FAST_POLL).pollUntilDone();
  await cs.agentPools.delete(RG, CL, "restored", FAST_POLL).pollUntilDone();
  await cs.agentPools.delete(RG, CL, "restored", FAST_POLL).pollUntilDone();
  await failing(cs.agentPools.get(RG, CL, "restored"));

  // Managed clusters.
  await cs.managedClusters.createOrUpdate(
    RG,
    "aks-copy",
    { location: "westeurope", dnsPrefix: "aks-copy", identity: { type: "SystemAssigned" }, agentPoolProfiles: [{ name: "system", mode: "System", count: 1, creationData: { sourceResourceId: snap.id ?? "" } }] },
    FAST_POLL,
  ).pollUntilDone();
  const cluster = await cs.managedClusters.get(RG, "aks-copy");
  await cs.managedClusters.createOrUpdate(RG, "aks-copy", { ...cluster, tags: { env: "copy" } }, FAST_POLL).pollUntilDone();
  for await (const _ of cs.managedClusters.list()) void _;
  for await (const _ of cs.managedClusters.listByResourceGroup(RG)) void _;
  await cs.managedClusters.delete(RG, "aks-copy", FAST_POLL).pollUntilDone();
  await cs.managedClusters.delete(RG, "aks-copy", FAST_POLL).pollUntilDone();
  await cs.snapshots.delete(SNAP_RG, "np-2");
  await cs.snapshots.delete(SNAP_RG, "np-2");

  // Disks.
  await c.disks.createOrUpdate(NODE_RG, "data-1", { location: "westeurope", sku: { name: "PremiumV2_LRS" }, diskSizeGB: 64, creationData: { createOption: "Empty" } }, FAST_POLL).pollUntilDone();
  await c.disks.createOrUpdate(NODE_RG, "data-1", { location: "westeurope", sku: { name: "PremiumV2_LRS" }, diskSizeGB: 64, tags: { a: "b" }, creationData: { createOption: "Empty" } }, FAST_POLL).pollUntilDone();
  await c.disks.update(NODE_RG, "data-1", { tags: { a: "c" } }, FAST_POLL).pollUntilDone();
  await c.disks.get(NODE_RG, "data-1");
  t.emu.control.setBehaviour({ pageSize: 2 });
  for await (const _ of c.disks.list()) void _;
  for await (const _ of c.disks.listByResourceGroup(NODE_RG)) void _;
  t.emu.control.setBehaviour({ pageSize: 100 });
  await failing(c.disks.get(NODE_RG, "absent"));

  // Snapshots, including the in-flight readiness fields and a copy error.
  const diskId = `/subscriptions/${SUB}/resourceGroups/${NODE_RG}/providers/Microsoft.Compute/disks/data-1`;
  await c.snapshots.createOrUpdate(SNAP_RG, "inc-1", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId } }, FAST_POLL).pollUntilDone();
  await c.snapshots.get(SNAP_RG, "inc-1");
  t.emu.control.injectOutcome({ kind: "computeSnapshot", outcome: { type: "copyError", errorCode: "CopySourceNotFound", errorMessage: "The source was deleted." } });
  await c.snapshots.createOrUpdate(SNAP_RG, "inc-2", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: diskId } }, FAST_POLL).pollUntilDone();
  await c.snapshots.get(SNAP_RG, "inc-2");
  await c.snapshots.update(SNAP_RG, "inc-1", { tags: { retentionTime: "7" } }, FAST_POLL).pollUntilDone();
  for await (const _ of c.snapshots.list()) void _;
  for await (const _ of c.snapshots.listByResourceGroup(SNAP_RG)) void _;
  await new Promise((r) => setTimeout(r, 350));
  await c.disks.createOrUpdate(NODE_RG, "restored-1", { location: "westeurope", creationData: { createOption: "Copy", sourceResourceId: `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.Compute/snapshots/inc-1` } }, FAST_POLL).pollUntilDone();
  await c.disks.get(NODE_RG, "restored-1");
  await failing(c.disks.createOrUpdate(NODE_RG, "restored-2", { location: "westeurope", creationData: { createOption: "Copy", sourceResourceId: `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.Compute/snapshots/inc-2` } }, FAST_POLL).pollUntilDone());
  await c.snapshots.delete(SNAP_RG, "inc-2", FAST_POLL).pollUntilDone();
  await c.snapshots.delete(SNAP_RG, "inc-2", FAST_POLL).pollUntilDone();
  await c.disks.delete(NODE_RG, "restored-1", FAST_POLL).pollUntilDone();
  await c.disks.delete(NODE_RG, "restored-1", FAST_POLL).pollUntilDone();

  // ARM's own throttling answer.
  t.emu.control.setRateLimits({ reads: { capacity: 1, refillPerSecond: 0.01 } });
  await cs.snapshots.get(SNAP_RG, "np-1");
  await failing(cs.snapshots.get(SNAP_RG, "np-1"));
  t.emu.control.setRateLimits({ reads: { capacity: 250, refillPerSecond: 25 } });
}

interface Verdict {
  readonly entry: string;
  readonly problems: readonly string[];
}

function issues(side: string, r: { errors?: readonly { code?: string; message?: string; jsonPathsInPayload?: readonly string[] }[]; runtimeException?: { code?: string; message?: string } }): string[] {
  const out = (r.errors ?? []).map((e) => `${side} ${e.code ?? ""}: ${e.message ?? ""} ${(e.jsonPathsInPayload ?? []).join(",")}`);
  if (r.runtimeException) out.push(`${side} runtime exception ${r.runtimeException.code ?? ""}: ${r.runtimeException.message ?? ""}`);
  return out;
}

async function validate(e: RequestLogEntry): Promise<Verdict> {
  const url = `${t.emu.url}${e.path.split("/").map(encodeURIComponent).join("/")}?api-version=${e.apiVersion ?? ""}`;
  const json = { "content-type": "application/json; charset=utf-8" };
  const result = await validator.validateLiveRequestResponse({
    liveRequest: { method: e.method.toLowerCase(), url, headers: e.requestBody === undefined ? {} : json, body: isObject(e.requestBody) ? e.requestBody : undefined },
    liveResponse: { statusCode: String(e.status), headers: { ...e.responseHeaders, ...(e.responseBody === undefined ? {} : json) }, body: isObject(e.responseBody) ? e.responseBody : undefined },
  });
  return {
    entry: `${e.method} ${e.route} ${e.status}`,
    problems: [...issues("request", result.requestValidationResult), ...issues("response", result.responseValidationResult)],
  };
}

describe("oav LiveValidator on recorded traffic", () => {
  it("every recorded pair from every ARM route conforms to the official swagger", async () => {
    t.emu.control.reset();
    await driveEveryRoute();
    const recorded = t.emu.control.requests().filter((e) => !NOT_IN_SPEC.has(e.route) && e.route !== "unmatched" && e.fault === undefined && e.status !== 0);
    // AKS's bare 409 body is a known deviation from its own spec (the SDK accepts both shapes): the
    // emulator reproduces it on purpose, and oav must flag exactly that.
    const isBare = (e: RequestLogEntry): boolean => e.status === 409 && typeof e.responseBody === "object" && e.responseBody !== null && !("error" in e.responseBody);
    const bare = recorded.filter(isBare);
    expect(bare).toHaveLength(1);
    const bareVerdict = await validate(bare[0] as RequestLogEntry);
    expect(bareVerdict.problems.join("\n")).toContain("Additional properties not allowed: code");

    const pairs = recorded.filter((e) => !isBare(e));
    const verdicts: Verdict[] = [];
    for (const e of pairs) verdicts.push(await validate(e));
    const bad = verdicts.filter((v) => v.problems.length > 0);
    expect(bad).toEqual([]);

    // Coverage: every ARM route of the table was exercised and validated, with its error answers too.
    const armRoutes = new Set(ROUTES.map((r) => r.name).filter((n) => !NOT_IN_SPEC.has(n)));
    const seen = new Set(pairs.map((p) => p.route));
    expect([...armRoutes].filter((r) => !seen.has(r))).toEqual([]);
    const statuses = new Set(pairs.map((p) => p.status));
    for (const s of [200, 201, 202, 204, 400, 404, 409, 412, 429]) expect(statuses).toContain(s);
    expect(pairs.length).toBeGreaterThan(60);
  }, 120_000);
});
