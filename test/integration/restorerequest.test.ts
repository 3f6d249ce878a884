// RestoreRequest end to end: the real kube-apiserver (CRD, CEL immutability, status subresource),
// the operator with the chart's RBAC, and the ARM emulator through the real Azure SDK. Every mode,
// every preflight rule's failure with zero ARM writes, 409 busy, failed LROs, and deletion.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kstatusOf, type Condition } from "../../src/conditions/conditions.ts";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import { RestoreRequestKind, type RestoreRequest } from "../../src/crds/restorerequest.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { eventType } from "../../src/kube/events.ts";
import {
  DEMO_CLUSTER,
  DEMO_DR_RESOURCE_GROUP,
  DEMO_RESOURCE_GROUP,
  DEMO_SNAPSHOT_RESOURCE_GROUP,
  DEMO_SUBSCRIPTION_ID,
  type RunningEmulator,
} from "../emulator/index.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { spawnOperator, startInProcess, type InProcessOperator, type OperatorEnv, type OperatorProcess, operatorWorld } from "../harness/operator.ts";

const rrType = RestoreRequestKind.resource;
const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const CS = "Microsoft.ContainerService";
const clusterId = (rg = RG, cluster = DEMO_CLUSTER): string => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/${CS}/managedClusters/${cluster}`;
const poolId = (pool: string, rg = RG, cluster = DEMO_CLUSTER): string => `${clusterId(rg, cluster)}/agentPools/${pool}`;
const snapId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${DEMO_SNAPSHOT_RESOURCE_GROUP}/providers/${CS}/snapshots/${name}`;
const IMG = (date: string): string => `AKSUbuntu-2204gen2containerd-${date}`;
const DEMO_IMAGE = IMG("202510.03.0");
const WRITES = new Set(["PUT", "POST", "PATCH", "DELETE"]);

let emu: RunningEmulator;
let admin: KubeClient;
let env: OperatorEnv;
let running: InProcessOperator | undefined;
let dir: string;
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  ({ emu, admin, env, dir } = await operatorWorld("rr", SUB));
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await emu?.stop();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  emu.control.clearFaults();
  emu.control.clearOutcomes();
  emu.control.setTiming({ agentPoolOperationMs: 1500, clusterOperationMs: 2000 });
});

async function operatorFor(ns: string, extra: Record<string, string> = {}): Promise<InProcessOperator> {
  running = await startInProcess(env, { "watch-namespaces": ns, "stalled-recheck-period": "2s", ...extra });
  return running;
}

/** The operator as its own process (node src/main.ts), for SIGKILL. */
function spawn(ns: string): OperatorProcess {
  const p = spawnOperator(env, { "watch-namespaces": ns, "stalled-recheck-period": "2s" }, dir);
  procs.push(p);
  return p;
}

/** An ARM node-pool snapshot put straight into the emulator (no write through the operator's log). */
function putSnapshot(name: string, view: { kubernetesVersion: string; nodeImageVersion: string; vmSize: string }): string {
  const id = snapId(name);
  emu.control.putResource(id, {
    location: "westeurope",
    properties: { creationData: { sourceResourceId: poolId("userpool") }, snapshotType: "NodePool", osType: "Linux", osSku: "Ubuntu", enableFIPS: false, ...view },
  });
  return id;
}

/** An existing agent pool of the demo cluster at the given versions. */
function putPool(name: string, view: { version: string; image: string; vmSize?: string }): string {
  const id = poolId(name);
  emu.control.putResource(id, {
    properties: {
      count: 1,
      vmSize: view.vmSize ?? "Standard_D8ds_v5",
      osType: "Linux",
      osSKU: "Ubuntu",
      mode: "User",
      type: "VirtualMachineScaleSets",
      maxPods: 110,
      orchestratorVersion: view.version,
      currentOrchestratorVersion: view.version,
      nodeImageVersion: view.image,
      enableFIPS: false,
      provisioningState: "Succeeded",
      powerState: { code: "Running" },
      eTag: randomUUID(),
    },
  });
  return id;
}

function rrObject(ns: string, name: string, nodePool: Record<string, unknown>): KubeObject {
  return { apiVersion: "aksnap.io/v1alpha1", kind: "RestoreRequest", metadata: { name, namespace: ns }, spec: { nodePool } };
}

async function get(ns: string, name: string): Promise<RestoreRequest> {
  const p = RestoreRequestKind.parse(await admin.get(rrType, ns, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

const cond = (o: RestoreRequest, type: string): Condition | undefined => o.status?.conditions?.find((c) => c.type === type);

async function waitFor(ns: string, name: string, what: string, pred: (o: RestoreRequest) => boolean, timeoutMs = 45_000): Promise<RestoreRequest> {
  return eventually(async () => {
    const o = await get(ns, name);
    return pred(o) ? o : undefined;
  }, `${ns}/${name} ${what}`, timeoutMs);
}

const phase = (p: string) => (o: RestoreRequest): boolean => o.status?.phase === p && o.status.observedGeneration === o.metadata.generation;

/** The real kstatus library's verdict, and our own kstatusOf agrees with it. */
async function expectKstatus(ns: string, name: string, want: string): Promise<void> {
  const raw = await admin.get(rrType, ns, name);
  expect(kstatus(raw).status).toBe(want);
  const st = raw.status as { observedGeneration?: number; conditions?: Condition[] } | undefined;
  expect(kstatusOf(raw.metadata.generation ?? 0, st?.observedGeneration, st?.conditions)).toBe(want);
}

async function eventReasons(ns: string, name: string): Promise<string[]> {
  const list = await admin.list(eventType, ns, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => String(e.reason));
}

/** The Event of a status transition is recorded after that status write: a seen status may be ahead of it. */
async function eventuallyReasons(ns: string, name: string, want: string[]): Promise<string[]> {
  return eventually(async () => {
    const r = await eventReasons(ns, name);
    return want.every((w) => r.includes(w)) ? r : undefined;
  }, `${ns}/${name} events ${want.join(", ")}`);
}

const armWrites = (pathPart?: string): Array<{ method: string; path: string; route: string; status: number }> =>
  emu.control.requests().filter((r) => WRITES.has(r.method) && (pathPart === undefined || r.path.toLowerCase().includes(pathPart.toLowerCase())));

describe("RestoreRequest node-pool modes", () => {
  it("CreateNodePool from a NodePoolSnapshot: progress visible while the LRO runs, one PUT, Succeeded is kstatus Current, deleting the request keeps the pool", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-create");
    await operatorFor(ns);
    emu.control.setTiming({ agentPoolOperationMs: 5000 });
    await admin.create(NodePoolSnapshotKind.resource, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "NodePoolSnapshot",
      metadata: { name: "userpool-backup", namespace: ns },
      spec: { source: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } },
    });
    emu.control.clearRequests();
    // Applied together, as GitOps would: the restore waits for the snapshot to be Ready.
    await admin.create(
      rrType,
      rrObject(ns, "restore", {
        snapshotRef: { name: "userpool-backup" },
        mode: "CreateNodePool",
        target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "restored" },
        count: 2,
        labels: { restored: "true" },
        taints: [{ key: "dedicated", value: "restore", effect: "NoSchedule" }],
      }),
    );
    const during = await waitFor(ns, "restore", "Running with an operation", (o) => o.status?.phase === "Running" && o.status.nodePool?.operation?.resumeToken !== undefined);
    expect(cond(during, "Reconciling")?.status).toBe("True");
    await expectKstatus(ns, "restore", "InProgress");
    const creating = await waitFor(ns, "restore", "provisioningState Creating", (o) => o.status?.nodePool?.provisioningState === "Creating");
    expect(creating.status?.preflight?.map((c) => `${c.name}=${c.result}`)).toEqual([
      "ScopeAllowed=Passed",
      "SnapshotReady=Passed",
      "TargetExists=Passed",
      "TargetAbsent=Passed",
      "RegionAllowed=Passed",
      "VMFamilyMatches=Passed",
      "VersionsAllowed=Passed",
    ]);
    const o = await waitFor(ns, "restore", "Succeeded", phase("Succeeded"));
    expect(cond(o, "Ready")).toMatchObject({ status: "True", reason: "RestoreSucceeded" });
    expect(cond(o, "Reconciling")).toBeUndefined();
    expect(o.status?.nodePool?.id?.toLowerCase()).toBe(poolId("restored").toLowerCase());
    expect(o.status?.nodePool).toMatchObject({ provisioningState: "Succeeded", kubernetesVersion: "1.33.3", nodeImageVersion: DEMO_IMAGE });
    expect(o.status?.nodePool?.operation).toBeUndefined();
    expect(o.status?.startedAt).toBeDefined();
    expect(o.status?.completedAt).toBeDefined();
    await expectKstatus(ns, "restore", "Current");

    const pool = emu.control.getResource(poolId("restored")) as { properties: Record<string, unknown> };
    expect(pool.properties).toMatchObject({ count: 2, mode: "User", vmSize: "Standard_D8ds_v5", nodeLabels: { restored: "true" }, nodeTaints: ["dedicated=restore:NoSchedule"] });
    expect(String((pool.properties.creationData as { sourceResourceId: string }).sourceResourceId).toLowerCase()).toBe(String(o.status?.nodePool?.snapshotId).toLowerCase());
    expect((pool.properties.tags as Record<string, string>)["aksnap.io-restore"]).toBe(`${ns}/restore`);
    const puts = armWrites("/agentPools/restored");
    expect(puts.map((p) => `${p.method} ${p.status}`)).toEqual(["PUT 201"]);
    await eventuallyReasons(ns, "restore", ["PreflightPassed", "OperationStarted", "RestoreSucceeded"]);

    // The spec is immutable (CEL).
    await expect(admin.mergePatch(rrType, ns, "restore", { spec: { nodePool: { count: 3 } } })).rejects.toThrow(/immutable/);
    // Deleting the request never deletes what it restored.
    await admin.delete(rrType, ns, "restore");
    await eventually(async () => ((await admin.tryGet(rrType, ns, "restore")) ? undefined : true), "request gone");
    await new Promise((r) => setTimeout(r, 1000));
    expect(emu.control.getResource(poolId("restored"))).toBeDefined();
    expect(armWrites("/agentPools/restored").filter((w) => w.method === "DELETE")).toHaveLength(0);
  });

  it("UpgradeNodePool moves an older pool to the snapshot's Kubernetes version and node image", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-upgrade");
    putPool("oldpool", { version: "1.32.5", image: IMG("202509.12.0") });
    const snapshot = putSnapshot("snap-13303-202511", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    await operatorFor(ns);
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "upgrade", { snapshotId: snapshot, mode: "UpgradeNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "oldpool" } }));
    const o = await waitFor(ns, "upgrade", "Succeeded", phase("Succeeded"));
    expect(o.status?.nodePool).toMatchObject({ kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), provisioningState: "Succeeded" });
    const pool = emu.control.getResource(poolId("oldpool")) as { properties: Record<string, unknown> };
    expect(pool.properties).toMatchObject({ orchestratorVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0") });
    const writes = armWrites("/agentPools/oldpool");
    expect(writes.map((w) => `${w.method} ${w.status}`)).toEqual(["PUT 200"]);
    await expectKstatus(ns, "upgrade", "Current");
  });

  it("UpgradeNodeImage takes the node-image-only path with the snapshot id (same Kubernetes version)", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-image");
    putPool("imgpool", { version: "1.33.3", image: DEMO_IMAGE });
    const snapshot = putSnapshot("snap-13303-202512", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202512.01.0"), vmSize: "Standard_D4ds_v5" });
    await operatorFor(ns);
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "image", { snapshotId: snapshot, mode: "UpgradeNodeImage", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "imgpool" } }));
    const o = await waitFor(ns, "image", "Succeeded", phase("Succeeded"));
    expect(o.status?.nodePool).toMatchObject({ kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202512.01.0") });
    const writes = emu.control.requests().filter((r) => WRITES.has(r.method));
    expect(writes.map((w) => `${w.method} ${w.route} ${w.status}`)).toEqual(["POST ContainerService.AgentPools_UpgradeNodeImageVersion 202"]);
    const post = emu.control.requests({ method: "POST" })[0];
    expect(post?.requestHeaders["akssnapshotid"]?.toLowerCase()).toBe(snapshot.toLowerCase());
  });

  it("CreateCluster: a new cluster whose system pool comes from the snapshot", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-cluster");
    const snapshot = putSnapshot("snap-cluster", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D4ds_v5" });
    await operatorFor(ns);
    emu.control.clearRequests();
    await admin.create(
      rrType,
      rrObject(ns, "newcluster", { snapshotId: snapshot, mode: "CreateCluster", target: { resourceGroup: DEMO_DR_RESOURCE_GROUP, clusterName: "aks-restored" }, count: 1, cluster: { location: "northeurope" }, labels: { tier: "system" }, taints: [{ key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule" }] }),
    );
    const o = await waitFor(ns, "newcluster", "Succeeded", phase("Succeeded"));
    expect(o.status?.nodePool?.id?.toLowerCase()).toBe(clusterId(DEMO_DR_RESOURCE_GROUP, "aks-restored").toLowerCase());
    const c = emu.control.getResource(clusterId(DEMO_DR_RESOURCE_GROUP, "aks-restored")) as { location: string; tags: Record<string, string>; properties: Record<string, unknown> };
    expect(c.location).toBe("northeurope");
    expect(c.properties.kubernetesVersion).toBe("1.33.3");
    expect(c.tags["aksnap.io-restore"]).toBe(`${ns}/newcluster`);
    const sys = emu.control.getResource(poolId("nodepool1", DEMO_DR_RESOURCE_GROUP, "aks-restored")) as { properties: Record<string, unknown> };
    expect(sys.properties).toMatchObject({ mode: "System", vmSize: "Standard_D4ds_v5", nodeImageVersion: IMG("202511.01.0"), nodeLabels: { tier: "system" }, nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"] });
    expect(armWrites().map((w) => `${w.method} ${w.route} ${w.status}`)).toEqual(["PUT ContainerService.ManagedClusters_CreateOrUpdate 201"]);
  });
});

describe("RestoreRequest preflight: a failed rule writes nothing to ARM", () => {
  const other = "00000000-0000-0000-0000-0000000000aa";
  // [row, operator flags, nodePool spec (snapshot filled in), rule, reason]
  it.each<[string, Record<string, string>, (snap: string) => Record<string, unknown>, string, string]>([
    [
      "ScopeAllowed",
      { "allowed-scopes": `*=/subscriptions/${other}` },
      (snap) => ({ snapshotId: snap, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "scopepool" }, count: 1 }),
      "ScopeAllowed",
      "ScopeNotAllowed",
    ],
    [
      "SnapshotReady",
      {},
      () => ({ snapshotId: snapId("no-such-snapshot"), mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "nosnap" }, count: 1 }),
      "SnapshotReady",
      "SnapshotNotReady",
    ],
    [
      "TargetExists",
      {},
      (snap) => ({ snapshotId: snap, mode: "UpgradeNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "ghostpool" } }),
      "TargetExists",
      "TargetNotFound",
    ],
    [
      "TargetAbsent",
      {},
      (snap) => ({ snapshotId: snap, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" }, count: 1 }),
      "TargetAbsent",
      "TargetAlreadyExists",
    ],
    [
      "RegionAllowed",
      { "allowed-regions": "northeurope" },
      (snap) => ({ snapshotId: snap, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "regionpool" }, count: 1 }),
      "RegionAllowed",
      "RegionNotAllowed",
    ],
    [
      "VMFamilyMatches",
      {},
      (snap) => ({ snapshotId: snap, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "gpupool" }, count: 1, vmSize: "Standard_NC6s_v3" }),
      "VMFamilyMatches",
      "VMFamilyMismatch",
    ],
    [
      "VersionsAllowed",
      {},
      (snap) => ({ snapshotId: snap, mode: "UpgradeNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }),
      "VersionsAllowed",
      "VersionNotAllowed",
    ],
  ])("%s", async (row, flags, spec, rule, reason) => {
    const ns = await createNamespace(kubeConfig(), `rr-pf-${row}`);
    const snapshot = putSnapshot(`snap-pf-${row.toLowerCase()}`, { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    await operatorFor(ns, flags);
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "pf", spec(snapshot)));
    const o = await waitFor(ns, "pf", "Failed", phase("Failed"));
    expect(cond(o, "Stalled")).toMatchObject({ status: "True", reason });
    expect(cond(o, "Stalled")?.message).toContain(`preflight ${rule} failed`);
    expect(cond(o, "Ready")).toMatchObject({ status: "False", reason });
    expect(o.status?.preflight?.find((c) => c.name === rule)?.result).toBe("Failed");
    expect(o.status?.completedAt).toBeDefined();
    await expectKstatus(ns, "pf", "Failed");
    await eventuallyReasons(ns, "pf", ["PreflightFailed"]);
    // A little longer than a recheck: a terminal Failed is never retried and never writes.
    await new Promise((r) => setTimeout(r, 2500));
    expect(armWrites()).toEqual([]);
    if (row === "ScopeAllowed") expect(emu.control.requests()).toEqual([]);
  });
});

describe("RestoreRequest LRO outcomes", () => {
  it("waits while ARM answers 409 OperationNotAllowed (busy target), then succeeds", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-busy");
    putPool("busypool", { version: "1.33.3", image: DEMO_IMAGE });
    const snapshot = putSnapshot("snap-busy", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    await operatorFor(ns);
    emu.control.clearRequests();
    emu.control.addFault({
      method: "POST",
      path: "/agentPools/busypool/upgradeNodeImageVersion",
      times: 2,
      action: { kind: "error", status: 409, code: "OperationNotAllowed", message: "Operation is not allowed because there's an in progress Scaling operation on agent pool 'busypool'." },
    });
    await admin.create(rrType, rrObject(ns, "busy", { snapshotId: snapshot, mode: "UpgradeNodeImage", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "busypool" } }));
    const waiting = await waitFor(ns, "busy", "TargetBusy", (o) => cond(o, "Reconciling")?.reason === "TargetBusy");
    expect(waiting.status?.phase).toBe("Running");
    expect(cond(waiting, "Reconciling")?.message).toContain("OperationNotAllowed");
    await expectKstatus(ns, "busy", "InProgress");
    await waitFor(ns, "busy", "Succeeded", phase("Succeeded"));
    expect(emu.control.requests({ method: "POST" }).map((r) => r.status)).toEqual([409, 409, 202]);
  });

  it("a failed LRO ends Failed with AKS's provisioningError code and message", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-lrofail");
    const snapshot = putSnapshot("snap-lrofail", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    await operatorFor(ns);
    emu.control.injectOutcome({
      kind: "agentPool",
      idPattern: "/agentPools/quotapool$",
      operation: "create",
      outcome: { type: "failed", code: "QuotaExceeded", message: "Operation could not be completed as it results in exceeding approved standardDDSv5Family Cores quota." },
    });
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "quota", { snapshotId: snapshot, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "quotapool" }, count: 50 }));
    const o = await waitFor(ns, "quota", "Failed", phase("Failed"));
    expect(cond(o, "Stalled")).toMatchObject({ status: "True", reason: "OperationFailed" });
    expect(cond(o, "Stalled")?.message).toContain("QuotaExceeded");
    expect(cond(o, "Stalled")?.message).toContain("standardDDSv5Family Cores quota");
    expect(o.status?.nodePool?.error).toMatchObject({ code: "QuotaExceeded" });
    await expectKstatus(ns, "quota", "Failed");
    await eventuallyReasons(ns, "quota", ["RestoreFailed"]);
    // One-shot: the failure is not retried.
    await new Promise((r) => setTimeout(r, 2500));
    expect(armWrites("/agentPools/quotapool")).toHaveLength(1);
  });

  it("an operation still running at --restore-deadline ends the request Failed (DeadlineExceeded) and undoes nothing", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-deadline");
    const snapshot = putSnapshot("snap-deadline", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    emu.control.setTiming({ agentPoolOperationMs: 30_000 });
    await operatorFor(ns, { "restore-deadline": "4s" });
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "slow", { snapshotId: snapshot, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "slowpool" }, count: 1 }));
    const o = await waitFor(ns, "slow", "Failed", phase("Failed"));
    expect(cond(o, "Stalled")).toMatchObject({ status: "True", reason: "DeadlineExceeded" });
    expect(cond(o, "Stalled")?.message).toContain("still running");
    expect(o.status?.nodePool?.operation).toBeUndefined();
    await expectKstatus(ns, "slow", "Failed");
    const pool = emu.control.getResource(poolId("slowpool")) as { properties: { provisioningState: string } };
    expect(pool.properties.provisioningState).toBe("Creating");
    expect(armWrites("/agentPools/slowpool").map((w) => w.method)).toEqual(["PUT"]);
  });

  it("SIGKILL after the operation's token was recorded: the next process resumes it, no second write", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-kill-token");
    const snapshot = putSnapshot("snap-kill-token", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    emu.control.setTiming({ agentPoolOperationMs: 8000 });
    emu.control.clearRequests();
    await admin.create(rrType, rrObject(ns, "kill", { snapshotId: snapshot, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "killpool" }, count: 1 }));
    const first = spawn(ns);
    const token = (await waitFor(ns, "kill", "an operation token", (o) => o.status?.nodePool?.operation?.resumeToken !== undefined)).status?.nodePool?.operation?.resumeToken;
    first.child.kill("SIGKILL");
    await first.exited;
    const second = spawn(ns);
    const o = await waitFor(ns, "kill", "Succeeded", phase("Succeeded"));
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(token).toBeDefined();
    expect(o.status?.nodePool?.operation).toBeUndefined();
    expect(armWrites("/agentPools/killpool").map((w) => `${w.method} ${w.status}`)).toEqual(["PUT 201"]);
  });

  it("SIGKILL while the PUT is in flight (token never recorded): the next process finds the write on the pool and waits for it", async () => {
    const ns = await createNamespace(kubeConfig(), "rr-kill-put");
    const snapshot = putSnapshot("snap-kill-put", { kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" });
    emu.control.setTiming({ agentPoolOperationMs: 4000 });
    emu.control.clearRequests();
    // ARM takes the PUT but answers late: the process dies before it hears back.
    const late = emu.control.addFault({ method: "PUT", path: "/agentPools/lostpool", times: 1, action: { kind: "delay", ms: 5000 } });
    await admin.create(rrType, rrObject(ns, "lost", { snapshotId: snapshot, mode: "CreateNodePool", target: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "lostpool" }, count: 1 }));
    const first = spawn(ns);
    await waitFor(ns, "lost", "Running", (o) => o.status?.phase === "Running");
    // Kill once ARM holds the PUT (a fixed 1 s after Running could come before the preflight's reads
    // were done and the PUT sent, and then nothing is orphaned).
    await eventually(async () => ((emu.control.faults().find((f) => f.id === late)?.hits ?? 0) > 0 ? true : undefined), "the PUT held by ARM", 30_000, 20);
    first.child.kill("SIGKILL");
    await first.exited;
    const before = await get(ns, "lost");
    expect(before.status?.nodePool?.operation).toBeUndefined();
    await eventually(async () => (emu.control.getResource(poolId("lostpool")) ? true : undefined), "ARM to carry out the orphaned PUT", 15_000);
    const second = spawn(ns);
    const o = await waitFor(ns, "lost", "Succeeded", phase("Succeeded"));
    second.child.kill("SIGTERM");
    await second.exited;
    expect(o.status?.nodePool?.provisioningState).toBe("Succeeded");
    expect(armWrites("/agentPools/lostpool")).toHaveLength(1);
    await eventuallyReasons(ns, "lost", ["OperationResumed"]);
  });
});
