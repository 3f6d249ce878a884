// NodePoolSnapshot end to end: the real kube-apiserver (CRDs, CEL, status subresource, finalizers),
// the operator with the chart's RBAC, and the ARM emulator reached through the real Azure SDK.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kstatusOf, type Condition } from "../../src/conditions/conditions.ts";
import { NodePoolSnapshotKind, type NodePoolSnapshot } from "../../src/crds/nodepoolsnapshot.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { eventType } from "../../src/kube/events.ts";
import { Informer } from "../../src/kube/informer.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, type RunningEmulator } from "../emulator/index.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { startInProcess, type InProcessOperator, type OperatorEnv, operatorWorld } from "../harness/operator.ts";

const nps = NodePoolSnapshotKind.resource;
const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const poolId = (pool: string): string => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/${pool}`;
const snapId = (name: string, rg = RG): string => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ContainerService/snapshots/${name}`;

let emu: RunningEmulator;
let admin: KubeClient;
let env: OperatorEnv;
let running: InProcessOperator | undefined;

beforeAll(async () => {
  ({ emu, admin, env } = await operatorWorld("nps", SUB));
});

afterAll(async () => {
  await emu?.stop();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  emu.control.clearFaults();
});

async function operatorFor(ns: string, extra: Record<string, string> = {}): Promise<InProcessOperator> {
  running = await startInProcess(env, { "watch-namespaces": ns, "stalled-recheck-period": "2s", ...extra });
  return running;
}

function npsObject(ns: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name, namespace: ns }, spec };
}

async function get(ns: string, name: string): Promise<NodePoolSnapshot> {
  const raw = await admin.get(nps, ns, name);
  const p = NodePoolSnapshotKind.parse(raw);
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

function condition(o: NodePoolSnapshot, type: string): { status: string; reason: string; message: string } | undefined {
  return o.status?.conditions?.find((c) => c.type === type);
}

async function waitFor(ns: string, name: string, what: string, pred: (o: NodePoolSnapshot) => boolean, timeoutMs = 30_000): Promise<NodePoolSnapshot> {
  return eventually(async () => {
    const o = await get(ns, name);
    return pred(o) ? o : undefined;
  }, `${ns}/${name} ${what}`, timeoutMs);
}

const isReady = (o: NodePoolSnapshot): boolean => condition(o, "Ready")?.status === "True" && o.status?.observedGeneration === o.metadata.generation;
const stalledWith = (reason: string) => (o: NodePoolSnapshot): boolean => condition(o, "Stalled")?.status === "True" && condition(o, "Stalled")?.reason === reason;

/** The real kstatus library's verdict, and our own kstatusOf agrees with it. */
async function expectKstatus(ns: string, name: string, want: string): Promise<void> {
  const raw = await admin.get(nps, ns, name);
  expect(kstatus(raw).status).toBe(want);
  const st = raw.status as { observedGeneration?: number; conditions?: Condition[] } | undefined;
  expect(kstatusOf(raw.metadata.generation ?? 0, st?.observedGeneration, st?.conditions)).toBe(want);
}

async function eventsOf(ns: string, name: string): Promise<Array<{ reason: string; type: string; message: string }>> {
  const list = await admin.list(eventType, ns, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: String(e.reason), type: String(e.type), message: String(e.message) }));
}

/** The object's events once one has `reason`: they are sent in the background, after the status write. */
async function eventsOnceThere(ns: string, name: string, reason: string): Promise<Array<{ reason: string; type: string; message: string }>> {
  return eventually(async () => {
    const evs = await eventsOf(ns, name);
    return evs.some((e) => e.reason === reason) ? evs : undefined;
  }, `${ns}/${name} event ${reason}`);
}

async function eventWith(ns: string, name: string, reason: string): Promise<void> {
  await eventsOnceThere(ns, name, reason);
}

describe("NodePoolSnapshot", () => {
  it("creates the ARM snapshot and mirrors every read-only property; kstatus Current", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-happy");
    await operatorFor(ns);
    emu.control.clearRequests();
    await admin.create(nps, npsObject(ns, "backup", { source: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" }, tags: { env: "prod" } }));
    const o = await waitFor(ns, "backup", "Ready", isReady);
    const arm = emu.control.getResource(o.status?.snapshotId ?? "") as Record<string, unknown> | undefined;
    expect(arm).toBeDefined();
    const props = (arm?.properties ?? {}) as Record<string, unknown>;
    expect(o.status).toMatchObject({
      snapshotId: expect.stringMatching(/\/providers\/Microsoft\.ContainerService\/snapshots\//i),
      location: "westeurope",
      kubernetesVersion: props.kubernetesVersion,
      nodeImageVersion: props.nodeImageVersion,
      vmSize: "Standard_D8ds_v5",
      osType: props.osType,
      osSku: props.osSku,
      enableFips: props.enableFIPS,
      observedGeneration: o.metadata.generation,
    });
    expect(o.status?.sourceResourceId?.toLowerCase()).toBe(poolId("userpool").toLowerCase());
    expect(o.status?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((arm?.tags as Record<string, string>)["aksnap.io-owner"]).toBe(`${ns}/backup`);
    expect((arm?.tags as Record<string, string>).env).toBe("prod");
    expect(o.metadata.finalizers).toContain("aksnap.io/snapshot-protection");
    await expectKstatus(ns, "backup", "Current");
    const calls = emu.control.requests().filter((r) => r.route !== "control");
    console.log(`[nps] ARM calls to create one snapshot: ${calls.length} (${calls.map((c) => `${c.method} ${c.route}`).join(", ")})`);
    expect(calls.filter((c) => c.method === "PUT")).toHaveLength(1);
    await eventWith(ns, "backup", "SnapshotCreated");
  });

  it("creating one snapshot costs the apiserver a finalizer patch, ONE status write and one Event (no Reconciling write before a fast PUT)", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-writes");
    const op = await operatorFor(ns);
    const updates: string[] = [];
    const watching = new AbortController();
    const informer = new Informer(admin, nps, { namespace: ns });
    informer.addHandler({ onAdd: () => {}, onUpdate: (old, o) => updates.push(old.metadata.finalizers?.length !== o.metadata.finalizers?.length ? "finalizer" : "status"), onDelete: () => {} });
    await informer.start(watching.signal);
    await informer.waitForSync();
    await admin.create(nps, npsObject(ns, "frugal", { source: { agentPoolId: poolId("userpool") } }));
    await waitFor(ns, "frugal", "Ready", isReady);
    await new Promise((r) => setTimeout(r, 2000)); // a trailing write would show up here
    watching.abort();
    await informer.stopped();
    // Before: finalizer, status (Reconciling/Creating), status (Ready): 3 updates and 2 reconciles.
    expect(updates).toEqual(["finalizer", "status"]);
    expect((await eventsOnceThere(ns, "frugal", "SnapshotCreated")).map((e) => e.reason)).toEqual(["SnapshotCreated"]);
    // One reconcile: the echoes of our own finalizer patch and status write do not start another.
    expect(await op.metric("controller_runtime_reconcile_total", { controller: "nodepoolsnapshot" })).toBe(1);
  });

  it("shows Reconciling (kstatus InProgress) while the ARM write is in flight", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-progress");
    await operatorFor(ns);
    emu.control.addFault({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/", times: 1, action: { kind: "delay", ms: 4000 } });
    await admin.create(nps, npsObject(ns, "slow", { source: { agentPoolId: poolId("systempool") } }));
    const during = await waitFor(ns, "slow", "Reconciling", (o) => condition(o, "Reconciling")?.status === "True");
    expect(condition(during, "Ready")?.status).toBe("False");
    await expectKstatus(ns, "slow", "InProgress");
    await waitFor(ns, "slow", "Ready", isReady);
    const after = await get(ns, "slow");
    expect(condition(after, "Reconciling")).toBeUndefined();
    await expectKstatus(ns, "slow", "Current");
  });

  it("stalls with SourceAgentPoolNotFound when the source pool does not exist, without a hot loop; kstatus Failed", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-nosrc");
    await operatorFor(ns, { "stalled-recheck-period": "1h" });
    await admin.create(nps, npsObject(ns, "ghost", { source: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "nosuchpool" } }));
    const o = await waitFor(ns, "ghost", "Stalled", stalledWith("SourceAgentPoolNotFound"));
    expect(condition(o, "Ready")).toMatchObject({ status: "False", reason: "SourceAgentPoolNotFound" });
    expect(condition(o, "Stalled")?.message).toContain("nosuchpool");
    await expectKstatus(ns, "ghost", "Failed");
    const before = emu.control.countRequests({ path: "nosuchpool" });
    await new Promise((r) => setTimeout(r, 3000));
    expect(emu.control.countRequests({ path: "nosuchpool" })).toBe(before);
    const ev = await eventsOnceThere(ns, "ghost", "SourceAgentPoolNotFound");
    expect(ev.find((e) => e.reason === "SourceAgentPoolNotFound")?.type).toBe("Warning");
  });

  it("stalls with SnapshotNameConflict when the ARM name is taken by a snapshot of another source, and never deletes it", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-conflict");
    await operatorFor(ns);
    emu.control.putResource(snapId("taken-name"), { location: "westeurope", properties: { creationData: { sourceResourceId: poolId("systempool") }, snapshotType: "NodePool" } });
    await admin.create(nps, npsObject(ns, "clash", { source: { agentPoolId: poolId("userpool") }, snapshot: { name: "taken-name" } }));
    const o = await waitFor(ns, "clash", "Stalled", stalledWith("SnapshotNameConflict"));
    expect(condition(o, "Stalled")?.message).toContain("not this object's");
    await admin.delete(nps, ns, "clash");
    await eventually(async () => ((await admin.tryGet(nps, ns, "clash")) ? undefined : true), "object gone");
    expect(emu.control.getResource(snapId("taken-name"))).toBeDefined();
  });

  it("refuses a snapshot outside the source pool's region with LocationMismatch (cross-region DR attempt)", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-region");
    await operatorFor(ns);
    await admin.create(nps, npsObject(ns, "dr", { source: { agentPoolId: poolId("userpool") }, snapshot: { location: "northeurope" } }));
    const o = await waitFor(ns, "dr", "Stalled", stalledWith("LocationMismatch"));
    expect(condition(o, "Stalled")?.message).toMatch(/westeurope.*northeurope/);
    expect(emu.control.countRequests({ method: "PUT", path: "/snapshots/" + o.metadata.namespace })).toBe(0);
  });

  it("honours Retry-After on a 429 and converges", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-429");
    await operatorFor(ns);
    emu.control.clearRequests();
    emu.control.addFault({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/", times: 1, action: { kind: "throttle", retryAfterSeconds: 2 } });
    await admin.create(nps, npsObject(ns, "throttled", { source: { agentPoolId: poolId("userpool") } }));
    await waitFor(ns, "throttled", "Ready", isReady);
    const puts = emu.control.requests({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/" });
    expect(puts.map((p) => p.status)).toEqual([429, 201]);
    const gap = Date.parse(puts[1]?.time ?? "") - Date.parse(puts[0]?.time ?? "");
    expect(gap).toBeGreaterThanOrEqual(1900);
  });

  it("retries through 5xx and connection resets, then recovers", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-5xx");
    await operatorFor(ns);
    emu.control.addFault({ method: "GET", path: "/providers/Microsoft\\.ContainerService/snapshots/", times: 2, action: { kind: "serverError", status: 503 } });
    emu.control.addFault({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/", times: 1, action: { kind: "reset" } });
    await admin.create(nps, npsObject(ns, "flaky", { source: { agentPoolId: poolId("userpool") } }));
    const o = await waitFor(ns, "flaky", "Ready", isReady);
    expect(o.status?.snapshotId).toBeDefined();
    const puts = emu.control.requests({ method: "PUT", path: `/snapshots/${ns}` });
    expect(puts.filter((p) => p.status >= 200 && p.status < 300).length).toBeLessThanOrEqual(1);
  });

  it("deletes the ARM snapshot with deletionPolicy Delete and keeps it with Retain", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-delete");
    await operatorFor(ns);
    await admin.create(nps, npsObject(ns, "gone", { source: { agentPoolId: poolId("userpool") } }));
    await admin.create(nps, npsObject(ns, "kept", { source: { agentPoolId: poolId("userpool") }, deletionPolicy: "Retain" }));
    const gone = await waitFor(ns, "gone", "Ready", isReady);
    const kept = await waitFor(ns, "kept", "Ready", isReady);
    await admin.delete(nps, ns, "gone");
    await admin.delete(nps, ns, "kept");
    await eventually(async () => ((await admin.tryGet(nps, ns, "gone")) || (await admin.tryGet(nps, ns, "kept")) ? undefined : true), "both objects gone");
    expect(emu.control.getResource(gone.status?.snapshotId ?? "x")).toBeUndefined();
    expect(emu.control.getResource(kept.status?.snapshotId ?? "x")).toBeDefined();
  });

  it("adopts an existing snapshot, mirrors it, adds user tags without the owner tag, and retains it on delete", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-adopt");
    await operatorFor(ns);
    const id = snapId("golden-1-33");
    emu.control.putResource(id, {
      location: "westeurope",
      tags: { team: "platform" },
      properties: {
        creationData: { sourceResourceId: poolId("systempool") },
        snapshotType: "NodePool",
        kubernetesVersion: "1.32.6",
        nodeImageVersion: "AKSUbuntu-2204gen2containerd-202507.21.0",
        osType: "Linux",
        osSku: "Ubuntu",
        vmSize: "Standard_D4ds_v5",
        enableFIPS: false,
      },
    });
    await admin.create(nps, npsObject(ns, "golden", { snapshot: { id }, tags: { purpose: "template" } }));
    const o = await waitFor(ns, "golden", "Ready", isReady);
    expect(o.status?.snapshotId?.toLowerCase()).toBe(id.toLowerCase());
    expect(o.status?.vmSize).toBe("Standard_D4ds_v5");
    const tags = (emu.control.getResource(id)?.tags ?? {}) as Record<string, string>;
    expect(tags).toMatchObject({ team: "platform", purpose: "template" });
    expect(tags["aksnap.io-owner"]).toBeUndefined();
    await eventWith(ns, "golden", "SnapshotAdopted");
    await admin.delete(nps, ns, "golden");
    await eventually(async () => ((await admin.tryGet(nps, ns, "golden")) ? undefined : true), "object gone");
    expect(emu.control.getResource(id)).toBeDefined();
  });

  it("applies tag changes with PATCH, keeping tags others set", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-tags");
    await operatorFor(ns);
    await admin.create(nps, npsObject(ns, "tagged", { source: { agentPoolId: poolId("userpool") }, tags: { env: "dev", owner: "team-a" } }));
    const o = await waitFor(ns, "tagged", "Ready", isReady);
    const id = o.status?.snapshotId ?? "";
    emu.control.patchResource(id, { tags: { ...(emu.control.getResource(id)?.tags as Record<string, string>), "policy-added": "yes" } });
    emu.control.clearRequests();
    // Merge patch: `owner: null` removes the key from spec.tags; the operator must then remove it in ARM.
    await admin.mergePatch(nps, ns, "tagged", { spec: { tags: { env: "staging", owner: null } } });
    await waitFor(ns, "tagged", "Ready at generation 2", (x) => isReady(x) && x.metadata.generation === 2);
    const tags = emu.control.getResource(id)?.tags as Record<string, string>;
    expect(tags).toEqual({ env: "staging", "policy-added": "yes", "aksnap.io-owner": `${ns}/tagged` });
    expect(emu.control.countRequests({ method: "PATCH" })).toBe(1);
    expect(emu.control.countRequests({ method: "PUT" })).toBe(0);
    // A schedule label (no new generation) is reflected in the ARM tags at once, not at the next resync.
    await admin.mergePatch(nps, ns, "tagged", { metadata: { labels: { "aksnap.io/schedule": "nightly" } } });
    await eventually(async () => ((emu.control.getResource(id)?.tags as Record<string, string>)["aksnap.io-schedule"] === "nightly" ? true : undefined), "schedule tag in ARM");
  });

  it("rejects a change of spec.source at admission (CEL immutability)", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-immutable");
    await admin.create(nps, npsObject(ns, "fixed", { source: { agentPoolId: poolId("userpool") } }));
    const err = await admin.mergePatch(nps, ns, "fixed", { spec: { source: { agentPoolId: poolId("systempool") } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKubeError(err, "invalid")).toBe(true);
    expect(String((err as Error).message)).toContain("spec.source is immutable");
  });

  it("reports SnapshotMissing after an out-of-band deletion, and recreates only when asked", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-missing");
    await operatorFor(ns, { "resync-period": "2s" });
    await admin.create(nps, npsObject(ns, "report", { source: { agentPoolId: poolId("userpool") } }));
    await admin.create(nps, npsObject(ns, "recreate", { source: { agentPoolId: poolId("userpool") }, missingSnapshotPolicy: "Recreate" }));
    const a = await waitFor(ns, "report", "Ready", isReady);
    const b = await waitFor(ns, "recreate", "Ready", isReady);
    emu.control.deleteResource(a.status?.snapshotId ?? "");
    emu.control.deleteResource(b.status?.snapshotId ?? "");
    const missing = await waitFor(ns, "report", "SnapshotMissing", (o) => condition(o, "Ready")?.reason === "SnapshotMissing");
    expect(condition(missing, "Ready")?.status).toBe("False");
    // Stalled, so GitOps tools (kstatus Failed) show it instead of waiting on InProgress forever.
    expect(condition(missing, "Stalled")).toMatchObject({ status: "True", reason: "SnapshotMissing" });
    await expectKstatus(ns, "report", "Failed");
    await eventually(async () => (emu.control.getResource(b.status?.snapshotId ?? "") ? true : undefined), "recreated snapshot");
    await waitFor(ns, "recreate", "Ready again", isReady);
    expect(emu.control.getResource(a.status?.snapshotId ?? "")).toBeUndefined();
    // Recreated within one reconcile, the object may never leave Ready: the event follows the PUT.
    await eventually(async () => ((await eventsOf(ns, "recreate")).some((e) => e.reason === "SnapshotRecreated") ? true : undefined), "SnapshotRecreated event");
  });

  it("makes no ARM call for Ready objects in steady state", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-steady");
    const op = await operatorFor(ns);
    for (let i = 0; i < 5; i++) await admin.create(nps, npsObject(ns, `s${i}`, { source: { agentPoolId: poolId("userpool") } }));
    for (let i = 0; i < 5; i++) await waitFor(ns, `s${i}`, "Ready", isReady);
    await new Promise((r) => setTimeout(r, 500));
    emu.control.clearRequests();
    const reconcilesBefore = await op.metric("controller_runtime_reconcile_total");
    // Touch every object (a label change: a watch event, a new reconcile, but no new generation).
    for (let i = 0; i < 5; i++) await admin.mergePatch(nps, ns, `s${i}`, { metadata: { labels: { touched: "yes" } } });
    await eventually(async () => ((await op.metric("controller_runtime_reconcile_total")) >= reconcilesBefore + 5 ? true : undefined), "reconciles after touch");
    await new Promise((r) => setTimeout(r, 2000));
    expect(emu.control.countRequests({ method: "GET" }) + emu.control.countRequests({ method: "PUT" }) + emu.control.countRequests({ method: "PATCH" })).toBe(0);
  });
});

/** ARM writes (PUT, PATCH, DELETE) the operator sent to one snapshot, from the emulator's request log. */
function writesTo(name: string): Array<{ method: string; path: string }> {
  return emu.control
    .requests({ path: `/providers/Microsoft\\.ContainerService/snapshots/${name}$` })
    .filter((r) => r.route !== "control" && ["PUT", "PATCH", "DELETE"].includes(r.method))
    .map((r) => ({ method: r.method, path: r.path }));
}

async function gone(ns: string, name: string): Promise<void> {
  await eventually(async () => ((await admin.tryGet(nps, ns, name)) ? undefined : true), `${ns}/${name} gone`);
}

describe("NodePoolSnapshot ownership: never a write to a snapshot that is not ours", () => {
  it("a golden snapshot of the same pool with the same name: Stalled SnapshotNameConflict, no write, not deleted", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-golden");
    await operatorFor(ns);
    const id = snapId("golden-userpool");
    emu.control.putResource(id, { location: "westeurope", tags: { golden: "true" }, properties: { creationData: { sourceResourceId: poolId("userpool") }, snapshotType: "NodePool" } });
    emu.control.clearRequests();
    await admin.create(nps, npsObject(ns, "grab", { source: { agentPoolId: poolId("userpool") }, snapshot: { name: "golden-userpool" }, tags: { env: "prod" } }));
    await waitFor(ns, "grab", "Stalled", stalledWith("SnapshotNameConflict"));
    await expectKstatus(ns, "grab", "Failed");
    await admin.delete(nps, ns, "grab");
    await gone(ns, "grab");
    expect(writesTo("golden-userpool")).toEqual([]);
    expect(emu.control.getResource(id)?.tags).toEqual({ golden: "true" });
    await eventWith(ns, "grab", "SnapshotNameConflict");
  });

  it("two objects in two namespaces with the same snapshot name: the second is Stalled and never writes or deletes the first's", async () => {
    const ns1 = await createNamespace(kubeConfig(), "nps-own-a");
    const ns2 = await createNamespace(kubeConfig(), "nps-own-b");
    await operatorFor(`${ns1},${ns2}`);
    const spec = { source: { agentPoolId: poolId("userpool") }, snapshot: { name: "shared-name" } };
    await admin.create(nps, npsObject(ns1, "first", spec));
    await waitFor(ns1, "first", "Ready", isReady);
    emu.control.clearRequests();
    await admin.create(nps, npsObject(ns2, "second", { ...spec, tags: { team: "b" } }));
    const o = await waitFor(ns2, "second", "Stalled", stalledWith("SnapshotNameConflict"));
    expect(condition(o, "Stalled")?.message).toContain(`${ns1}/first`);
    await admin.delete(nps, ns2, "second");
    await gone(ns2, "second");
    expect(writesTo("shared-name")).toEqual([]);
    const arm = emu.control.getResource(snapId("shared-name"));
    expect((arm?.tags as Record<string, string>)["aksnap.io-owner"]).toBe(`${ns1}/first`);
    await expectKstatus(ns1, "first", "Current");
  });

  it("after --default-subscription-id changes, the finalizer deletes the snapshot recorded in status (not one at a recomputed id)", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-movedsub");
    const op = await operatorFor(ns);
    await admin.create(nps, npsObject(ns, "keepid", { source: { resourceGroup: RG, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }));
    const o = await waitFor(ns, "keepid", "Ready", isReady);
    const recorded = o.status?.snapshotId ?? "";
    expect(recorded.toLowerCase()).toContain(SUB.toLowerCase());
    await op.stop();
    running = undefined;
    emu.control.clearRequests();
    await operatorFor(ns, { "default-subscription-id": "00000000-0000-0000-0000-0000000000ff" });
    await admin.delete(nps, ns, "keepid");
    await gone(ns, "keepid");
    expect(emu.control.getResource(recorded)).toBeUndefined();
    const deletes = emu.control.requests({ method: "DELETE" }).filter((r) => r.route !== "control");
    expect(deletes.map((d) => d.path.toLowerCase())).toEqual([recorded.toLowerCase()]);
  });
});

describe("NodePoolSnapshot owner tag within ARM's limits", () => {
  it("an object whose <namespace>/<name> exceeds 256 characters gets a hashed owner tag ARM accepts, and stays its owner", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-longname");
    await operatorFor(ns);
    // A valid 253-character DNS subdomain: four labels of ≤ 63.
    const name = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
    expect(`${ns}/${name}`.length).toBeGreaterThan(256);
    await admin.create(nps, npsObject(ns, name, { source: { agentPoolId: poolId("userpool") } }));
    const o = await waitFor(ns, name, "Ready", isReady);
    const owner = ((emu.control.getResource(o.status?.snapshotId ?? "")?.tags ?? {}) as Record<string, string>)["aksnap.io-owner"] ?? "";
    expect(owner.length).toBeLessThanOrEqual(256);
    expect(owner.startsWith(`${ns}/${name.slice(0, 200)}`)).toBe(true);
    expect(owner).toMatch(/#[0-9a-f]{16}$/);
    // A resync reads it back and recognises it as its own (no conflict, no rewrite).
    await admin.mergePatch(nps, ns, name, { spec: { tags: { env: "prod" } } });
    await waitFor(ns, name, "Ready at generation 2", (x) => isReady(x) && x.metadata.generation === 2);
  });
});

describe("NodePoolSnapshot source pool state", () => {
  it("waits (Reconciling SourcePoolBusy, kstatus InProgress) while the pool upgrades, with no PUT; snapshots once it is Succeeded", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-busy");
    await operatorFor(ns);
    emu.control.setProvisioningState(poolId("userpool"), "Upgrading");
    try {
      emu.control.clearRequests();
      await admin.create(nps, npsObject(ns, "patient", { source: { agentPoolId: poolId("userpool") } }));
      const o = await waitFor(ns, "patient", "SourcePoolBusy", (x) => condition(x, "Reconciling")?.reason === "SourcePoolBusy");
      expect(condition(o, "Ready")?.message).toContain("Upgrading");
      await expectKstatus(ns, "patient", "InProgress");
      expect(emu.control.countRequests({ method: "PUT", path: "/snapshots/" })).toBe(0);
    } finally {
      emu.control.setProvisioningState(poolId("userpool"), "Succeeded");
    }
    await waitFor(ns, "patient", "Ready", isReady);
    expect(emu.control.countRequests({ method: "PUT", path: "/snapshots/" })).toBe(1);
  });

  it("a PUT refused with 409 OperationNotAllowed (the pool became busy after it was read): SourcePoolBusy, then Ready — not Reconciling forever", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-409");
    await operatorFor(ns);
    emu.control.clearRequests();
    emu.control.addFault({
      method: "PUT",
      path: "/providers/Microsoft\\.ContainerService/snapshots/",
      times: 2,
      action: { kind: "error", status: 409, code: "OperationNotAllowed", message: "Operation is not allowed because there's an in progress upgrade operation" },
    });
    await admin.create(nps, npsObject(ns, "refused", { source: { agentPoolId: poolId("userpool") } }));
    await waitFor(ns, "refused", "SourcePoolBusy", (x) => condition(x, "Reconciling")?.reason === "SourcePoolBusy");
    await waitFor(ns, "refused", "Ready", isReady);
    const puts = emu.control.requests({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/" });
    expect(puts.map((p) => p.status)).toEqual([409, 409, 201]);
    // Each refusal re-reads the pool (the cached "ready" is dropped) and waits ≥ the 2 s recheck.
    expect(Date.parse(puts[1]?.time ?? "") - Date.parse(puts[0]?.time ?? "")).toBeGreaterThanOrEqual(1900);
  });

  it("--reconcile-timeout ends a reconcile stuck on an unanswered ARM call (the signal reaches the port): retried, converges long before ARM answers", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-timeout");
    const op = await operatorFor(ns, { "reconcile-timeout": "2s" });
    emu.control.addFault({ method: "PUT", path: "/providers/Microsoft\\.ContainerService/snapshots/", times: 1, action: { kind: "delay", ms: 25_000 } });
    const started = Date.now();
    await admin.create(nps, npsObject(ns, "stuck", { source: { agentPoolId: poolId("userpool") } }));
    await waitFor(ns, "stuck", "Ready", isReady, 20_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await op.metric("controller_runtime_reconcile_errors_total", { controller: "nodepoolsnapshot" })).toBeGreaterThanOrEqual(1);
  });

  it("a stopped cluster: Stalled SourceClusterStopped (kstatus Failed), no PUT; heals when started", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-stopped");
    await operatorFor(ns);
    const clusterId = poolId("userpool").replace(/\/agentPools\/.*$/, "");
    emu.control.setPowerState(clusterId, "Stopped");
    try {
      emu.control.clearRequests();
      await admin.create(nps, npsObject(ns, "asleep", { source: { agentPoolId: poolId("userpool") } }));
      await waitFor(ns, "asleep", "Stalled", stalledWith("SourceClusterStopped"));
      await expectKstatus(ns, "asleep", "Failed");
      // This namespace's snapshots only: the timeout test's PUT, held 25 s by ARM, is answered (and logged) later.
      expect(emu.control.countRequests({ method: "PUT", path: `/snapshots/${ns}` })).toBe(0);
    } finally {
      emu.control.setPowerState(clusterId, "Running");
    }
    await waitFor(ns, "asleep", "Ready", isReady);
  });

  it("a batch of snapshots of one pool reads the cluster and the pool about once: ≤ 2.5 ARM calls per created snapshot", async () => {
    const ns = await createNamespace(kubeConfig(), "nps-batch");
    await operatorFor(ns);
    emu.control.clearRequests();
    const n = 30;
    for (let i = 0; i < n; i++) await admin.create(nps, npsObject(ns, `b${i}`, { source: { agentPoolId: poolId("userpool") } }));
    for (let i = 0; i < n; i++) await waitFor(ns, `b${i}`, "Ready", isReady);
    const calls = emu.control.requests().filter((r) => r.route !== "control");
    const reads = (re: RegExp): number => calls.filter((c) => c.method === "GET" && re.test(c.path)).length;
    const perSnapshot = calls.length / n;
    console.log(`[nps] batch of ${n}: ${calls.length} ARM calls (${perSnapshot.toFixed(2)} per snapshot; cluster GETs ${reads(/managedClusters\/[^/]+$/i)}, pool GETs ${reads(/agentPools\//i)})`);
    expect(perSnapshot).toBeLessThanOrEqual(2.5);
  });
});
