// Decision tables for the NodePoolSnapshot reconciler over in-memory fakes of its two I/O
// boundaries (ARM ports, the Kubernetes REST client). End-to-end behaviour against a real
// apiserver and the ARM emulator is in test/integration/nodepoolsnapshot.test.ts.
import { describe, expect, it } from "vitest";
import type { ArmError } from "../../../../src/azure/errors.ts";
import { agentPoolId, nodePoolSnapshotId } from "../../../../src/azure/ids.ts";
import { parseAllowedScopes } from "../../../../src/config.ts";
import { OWNER_TAG, snapshotNameFor } from "../../../../src/controllers/nodepoolsnapshot/desired.ts";
import { EventReasons, Reasons } from "../../../../src/controllers/nodepoolsnapshot/reasons.ts";
import { createNodePoolSnapshotReconciler, FINALIZER, SOURCE_BUSY_RECHECK_MS, SOURCE_STATE_TTL_MS } from "../../../../src/controllers/nodepoolsnapshot/reconciler.ts";
import type { NodePoolSnapshotSpec } from "../../../../src/crds/nodepoolsnapshot.ts";
import type { KubeObject } from "../../../../src/kube/client.ts";
import type { ReconcileContext } from "../../../../src/runtime/controller.ts";
import { createNoopLogger } from "../../../../src/runtime/logger.ts";
import { TransientError, type ReconcileResult } from "../../../../src/runtime/result.ts";
import { FakeArm, FakeKube, RecordingEvents, type ArmOp } from "./support/fakes.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const NS = "team-a";
const NAME = "backup";
const KEY = `${NS}/${NAME}`;
const SOURCE = { subscriptionId: SUB, resourceGroup: "rg-aks", clusterName: "aks1", agentPoolName: "userpool" };
const OTHER_POOL = { ...SOURCE, agentPoolName: "other" };
const SNAP = { subscriptionId: SUB, resourceGroup: "rg-aks", name: snapshotNameFor(NS, NAME) };
const SNAP_ID = nodePoolSnapshotId(SNAP);
const RESYNC = 3_600_000;
/** The verification interval with random 0.5: 70 % of the period (65–75 %, so that with a listing ≤ 25 % old a change is seen within one period). */
const VERIFY = RESYNC * 0.7;
const RECHECK = 600_000;
const NOW = new Date("2025-06-01T12:00:00Z");

interface World {
  arm: FakeArm;
  kube: FakeKube;
  events: RecordingEvents;
  reconcile: () => Promise<ReconcileResult>;
  /** The signal every reconcile of this world gets (as the controller's would). */
  signal: AbortSignal;
  setNow: (d: Date) => void;
}

interface Setup {
  spec?: NodePoolSnapshotSpec;
  /** Object state before the reconcile under test. */
  finalizer?: boolean;
  deleting?: boolean;
  generation?: number;
  status?: Record<string, unknown>;
  allowedScopes?: string;
  /** [0,1) jitter source; 0.5 means none. */
  random?: number;
  /** The operator's --default-subscription-id. */
  defaultSubscriptionId?: string;
  /** When a new generation's ARM work counts as slow: "now" (at once) or "never". Default: the real 1 s timer. */
  slow?: "now" | "never";
}

function world(s: Setup = {}): World {
  const arm = new FakeArm()
    .addCluster(SOURCE, "westeurope")
    .addPool(SOURCE, { currentOrchestratorVersion: "1.30.4", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202409.04.0", vmSize: "Standard_D4s_v5" })
    .addPool(OTHER_POOL);
  const generation = s.generation ?? 1;
  const obj: KubeObject = {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "NodePoolSnapshot",
    metadata: {
      name: NAME,
      namespace: NS,
      uid: "uid-1",
      resourceVersion: "10",
      generation,
      ...(s.finalizer === false ? {} : { finalizers: [FINALIZER] }),
      ...(s.deleting ? { deletionTimestamp: "2025-06-01T11:00:00Z" } : {}),
    },
    spec: s.spec ?? { source: SOURCE },
    ...(s.status ? { status: s.status } : { status: { observedGeneration: generation } }),
  };
  const kube = new FakeKube(obj);
  const events = new RecordingEvents();
  let now = NOW;
  const reconcile = createNodePoolSnapshotReconciler({
    client: kube,
    cache: kube.cache,
    arm,
    events,
    defaults: { defaultSubscriptionId: s.defaultSubscriptionId },
    allowedScopes: s.allowedScopes ? parseAllowedScopes(s.allowedScopes) : undefined,
    resyncPeriodMs: RESYNC,
    stalledRecheckMs: RECHECK,
    now: () => now,
    random: () => s.random ?? 0.5, // 0.5: no jitter (0.9 + 0.2 * 0.5 = 1)
    ...(s.slow === undefined ? {} : { delay: () => (s.slow === "now" ? Promise.resolve() : new Promise<void>(() => {})) }),
  });
  const ctx: ReconcileContext = { signal: new AbortController().signal, log: createNoopLogger(), reconcileId: "r1" };
  return { arm, kube, events, reconcile: () => reconcile(KEY, ctx), signal: ctx.signal, setNow: (d) => (now = d) };
}

function conditions(w: World): Record<string, { status: string; reason: string; message: string }> {
  const list = (w.kube.status?.conditions ?? []) as Array<{ type: string; status: string; reason: string; message: string }>;
  return Object.fromEntries(list.map((c) => [c.type, { status: c.status, reason: c.reason, message: c.message }]));
}

function kstatus(w: World): string {
  return Object.entries(conditions(w))
    .map(([t, c]) => `${t}=${c.status}/${c.reason}`)
    .join(" ");
}

const err = (kind: ArmError["kind"], code: string, extra: Partial<ArmError> = {}): ArmError => ({ kind, code, message: `${code} happened`, ...extra });

describe("NodePoolSnapshot reconciler: ARM error mapping", () => {
  // [name, failing op, error, expected conditions, expected result]
  it.each<[string, ArmOp, ArmError, string, ReconcileResult]>([
    ["throttled: retry no sooner than Retry-After", "snapshots.get", err("throttled", "SubscriptionRequestsThrottled", { retryAfterMs: 17_000, statusCode: 429 }), "Ready=False/Throttled Reconciling=True/Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 17_000 }],
    ["throttled without Retry-After: 1s floor", "snapshots.get", err("throttled", "TooManyRequests", { statusCode: 429 }), "Ready=False/Throttled Reconciling=True/Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 1000 }],
    ["transient: retry with backoff", "snapshots.get", err("transient", "InternalServerError", { statusCode: 500 }), "Ready=False/ArmUnavailable Reconciling=True/ArmUnavailable", { kind: "retry", error: expect.any(Error) }],
    ["conflict: retry, honouring Retry-After", "snapshots.get", err("conflict", "OperationNotAllowed", { retryAfterMs: 5000, statusCode: 409 }), "Ready=False/ArmConflict Reconciling=True/ArmConflict", { kind: "retry", error: expect.any(Error), notBeforeMs: 5000 }],
    ["invalid: Stalled ArmRequestRejected, slow requeue", "snapshots.get", err("invalid", "AuthorizationFailed", { statusCode: 403 }), "Ready=False/ArmRequestRejected Stalled=True/ArmRequestRejected", { kind: "requeueAfter", afterMs: RECHECK }],
    ["snapshot's resource group missing: Stalled ResourceGroupNotFound", "snapshots.get", err("notFound", "ResourceGroupNotFound", { statusCode: 404 }), "Ready=False/ResourceGroupNotFound Stalled=True/ResourceGroupNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["source cluster missing: Stalled SourceAgentPoolNotFound", "clusters.get", err("notFound", "ResourceNotFound"), "Ready=False/SourceAgentPoolNotFound Stalled=True/SourceAgentPoolNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["source cluster read throttled", "clusters.get", err("throttled", "TooManyRequests", { retryAfterMs: 2000 }), "Ready=False/Throttled Reconciling=True/Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 2000 }],
    ["source pool missing: Stalled SourceAgentPoolNotFound", "pools.get", err("notFound", "NotFound"), "Ready=False/SourceAgentPoolNotFound Stalled=True/SourceAgentPoolNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["source pool read fails with 5xx", "pools.get", err("transient", "ServiceUnavailable"), "Ready=False/ArmUnavailable Reconciling=True/ArmUnavailable", { kind: "retry", error: expect.any(Error) }],
    ["PUT: source vanished in between (404)", "snapshots.put", err("notFound", "NotFound"), "Ready=False/SourceAgentPoolNotFound Stalled=True/SourceAgentPoolNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["PUT: resource group missing", "snapshots.put", err("notFound", "ResourceGroupNotFound"), "Ready=False/ResourceGroupNotFound Stalled=True/ResourceGroupNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["PUT: denied by policy", "snapshots.put", err("invalid", "RequestDisallowedByPolicy"), "Ready=False/ArmRequestRejected Stalled=True/ArmRequestRejected", { kind: "requeueAfter", afterMs: RECHECK }],
    ["PUT: throttled", "snapshots.put", err("throttled", "ClientWriteRateLimited", { retryAfterMs: 250 }), "Ready=False/Throttled Reconciling=True/Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 250 }],
  ])("%s", async (_n, op, error, want, result) => {
    const w = world();
    w.arm.failNext(op, error);
    expect(await w.reconcile()).toEqual(result);
    expect(kstatus(w)).toBe(want);
    // The message names the cause: the ARM code, unless the reason already is that code.
    for (const c of Object.values(conditions(w))) expect(c.reason === error.code || c.message.includes(error.code), c.message).toBe(true);
    expect(w.kube.status?.observedGeneration).toBe(1);
    expect(w.arm.count("snapshots.put")).toBe(op === "snapshots.put" ? 1 : 0);
  });

  it("a stalled verdict records one Warning event, not one per retry", async () => {
    const w = world();
    w.arm.failNext("snapshots.get", err("invalid", "AuthorizationFailed")).failNext("snapshots.get", err("invalid", "AuthorizationFailed"));
    await w.reconcile();
    await w.reconcile();
    expect(w.events.events).toEqual([{ type: "Warning", reason: Reasons.ArmRequestRejected, message: expect.stringContaining("AuthorizationFailed") }]);
  });

  it("tag PATCH errors map the same way", async () => {
    const w = world({ spec: { source: SOURCE, tags: { env: "prod" } } });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } });
    w.arm.failNext("snapshots.updateTags", err("throttled", "TooManyRequests", { retryAfterMs: 9000 }));
    expect(await w.reconcile()).toEqual({ kind: "retry", error: expect.any(Error), notBeforeMs: 9000 });
    expect(kstatus(w)).toBe("Ready=False/Throttled Reconciling=True/Throttled");
  });
});

describe("NodePoolSnapshot reconciler: decisions", () => {
  it("adds the finalizer before anything else", async () => {
    const w = world({ finalizer: false, status: {}, generation: 1 });
    await w.reconcile();
    expect(w.kube.object.metadata.finalizers).toEqual([FINALIZER]);
  });

  it("a new object: the snapshot GET goes out with the finalizer patch (one round trip, not two in a row), and is not repeated; the PUT waits for the finalizer", async () => {
    const w = world({ finalizer: false, status: {}, generation: 1, slow: "never" });
    // Hold the finalizer patch until the test lets it through.
    let letThrough: () => void = () => {};
    const held = new Promise<void>((r) => (letThrough = r));
    const request = w.kube.request.bind(w.kube);
    const armAtPatch: string[][] = [];
    w.kube.request = async (method, path, opts) => {
      if (method === "PATCH") {
        await held;
        armAtPatch.push(w.arm.calls.map((c) => c.op));
      }
      return request(method, path, opts);
    };
    const done = w.reconcile();
    await new Promise((r) => setImmediate(r));
    expect(w.arm.calls.map((c) => c.op)).toEqual(["snapshots.get"]); // in flight beside the patch; nothing written
    letThrough();
    expect(await done).toEqual({ kind: "requeueAfter", afterMs: VERIFY });
    expect(armAtPatch).toEqual([["snapshots.get"]]);
    expect(w.arm.calls.map((c) => c.op)).toEqual(["snapshots.get", "clusters.get", "pools.get", "snapshots.put"]);
    expect(w.kube.object.metadata.finalizers).toEqual([FINALIZER]);
  });

  it("a failed finalizer patch: the prefetched GET is dropped and nothing is written to ARM", async () => {
    const w = world({ finalizer: false, status: {}, generation: 1, slow: "never" });
    const request = w.kube.request.bind(w.kube);
    w.kube.request = (method, path, opts) => (method === "PATCH" ? Promise.reject(new Error("conflict")) : request(method, path, opts));
    await expect(w.reconcile()).rejects.toThrow("conflict");
    expect(w.arm.calls.map((c) => c.op)).toEqual(["snapshots.get"]);
  });

  it("an object that already has the finalizer: no prefetch; the steps read the snapshot themselves, once", async () => {
    const w = world({ status: {}, generation: 1, slow: "never" });
    await w.reconcile();
    expect(w.arm.count("snapshots.get")).toBe(1);
    expect(w.arm.count("snapshots.put")).toBe(1);
  });

  const statusWrites = (w: World): string[] =>
    w.kube.writes
      .filter((x) => x.method === "PUT" && x.path.endsWith("/status"))
      .map((x) => {
        const c = ((x.body as { status?: { conditions?: Array<{ type: string; status: string; reason: string }> } }).status?.conditions ?? []).filter((k) => k.status === "True");
        return c.map((k) => `${k.type}/${k.reason}`).join(" ");
      });

  it("a fast create of a new generation: one status write (Ready) in one reconcile, no Reconciling write before it", async () => {
    const w = world({ status: {}, generation: 1, slow: "never" });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: VERIFY });
    expect(statusWrites(w)).toEqual(["Ready/SnapshotReady"]);
    expect(w.arm.count("snapshots.put")).toBe(1);
  });

  it("a slow create: Reconciling/Creating is written while ARM works (kstatus InProgress), then Ready in the same reconcile", async () => {
    const w = world({ status: {}, generation: 1, slow: "now" });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: VERIFY });
    expect(statusWrites(w)).toEqual(["Reconciling/Creating", "Ready/SnapshotReady"]);
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
  });

  it("a slow spec change of a snapshot it has: Reconciling/UpdatingTags meanwhile", async () => {
    const w = world({ generation: 2, status: { observedGeneration: 1, snapshotId: SNAP_ID }, slow: "now", spec: { source: SOURCE, tags: { env: "prod" } } });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } });
    await w.reconcile();
    expect(statusWrites(w)).toEqual(["Reconciling/UpdatingTags", "Ready/SnapshotReady"]);
    expect(w.arm.count("snapshots.updateTags")).toBe(1);
  });

  it("creates the snapshot in the source cluster's region with the operator's tags; Ready; verified again within the period", async () => {
    const w = world({ spec: { source: SOURCE, tags: { env: "prod" } } });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: VERIFY });
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    const s = w.arm.snapshots.values().next().value;
    expect(s).toMatchObject({ id: SNAP_ID, location: "westeurope", sourceResourceId: agentPoolId(SOURCE), tags: { env: "prod", [OWNER_TAG]: KEY } });
    expect(w.kube.status).toMatchObject({ snapshotId: SNAP_ID, kubernetesVersion: "1.30.4", vmSize: "Standard_D4s_v5", managedTagKeys: [OWNER_TAG, "env"].sort() });
    expect(w.events.events.map((e) => e.reason)).toEqual([EventReasons.Created]);
  });

  it("GET before PUT: an existing snapshot of the same source is used, never re-created", async () => {
    const w = world();
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE).toLowerCase(), tags: { [OWNER_TAG]: KEY } });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    expect(w.arm.count("snapshots.put")).toBe(0);
    expect(w.events.events.map((e) => e.reason)).toEqual([EventReasons.Found]);
  });

  it("a Ready object costs no ARM call until its verification is due, then one LIST of its resource group", async () => {
    const w = world();
    await w.reconcile();
    const calls = w.arm.calls.length;
    w.setNow(new Date(NOW.getTime() + 60_000));
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: VERIFY - 60_000 });
    expect(w.arm.calls.length).toBe(calls);
    w.setNow(new Date(NOW.getTime() + VERIFY));
    await w.reconcile();
    expect(w.arm.calls.slice(calls).map((c) => c.op)).toEqual(["snapshots.list"]);
  });

  it.each([
    ["shortest jitter", 0, 0.65],
    ["middle", 0.5, 0.7],
    ["longest jitter", 0.999, 0.7499],
  ])("verification with %s: exactly one ARM LIST, when the jittered interval is due", async (_n, random, factor) => {
    const w = world({ random });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: Math.round(RESYNC * factor) });
    const due = NOW.getTime() + Math.round(RESYNC * factor);
    const before = w.arm.calls.length;
    w.setNow(new Date(due - 1));
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: 1 });
    expect(w.arm.calls.length).toBe(before);
    w.setNow(new Date(due));
    await w.reconcile();
    expect(w.arm.calls.slice(before).map((c) => c.op)).toEqual(["snapshots.list"]);
  });

  it("a same-named snapshot of another source: Stalled SnapshotNameConflict, untouched", async () => {
    const w = world();
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(OTHER_POOL), tags: { keep: "me" } });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: RECHECK });
    expect(kstatus(w)).toBe("Ready=False/SnapshotNameConflict Stalled=True/SnapshotNameConflict");
    expect(w.arm.count("snapshots.updateTags")).toBe(0);
  });

  it.each([
    ["another region: Stalled LocationMismatch, no requeue (spec problem), nothing created", "eastus", "Ready=False/LocationMismatch Stalled=True/LocationMismatch", 0],
    ["the source's region: created", "westeurope", "Ready=True/SnapshotReady", 1],
  ])("spec.snapshot.location, %s", async (_n, location, want, puts) => {
    const w = world({ spec: { source: SOURCE, snapshot: { location } } });
    const r = await w.reconcile();
    expect(kstatus(w)).toBe(want);
    expect(w.arm.count("snapshots.put")).toBe(puts);
    if (puts === 0) expect(r).toEqual({ kind: "terminal", error: expect.any(Error) });
  });

  it.each<[string, NodePoolSnapshotSpec["missingSnapshotPolicy"], string | undefined, string, number, string[]]>([
    ["Report (default): Stalled SnapshotMissing (kstatus Failed), nothing recreated", undefined, "2025-01-01T00:00:00.000Z", "Ready=False/SnapshotMissing Stalled=True/SnapshotMissing", 0, [EventReasons.Missing]],
    ["Report, ARM never sent systemData (no createdAt): still Report, never a recreate", undefined, undefined, "Ready=False/SnapshotMissing Stalled=True/SnapshotMissing", 0, [EventReasons.Missing]],
    ["Recreate: a new snapshot of the source", "Recreate", "2025-01-01T00:00:00.000Z", "Ready=True/SnapshotReady", 1, [EventReasons.Recreated]],
  ])("snapshot deleted out of band, %s", async (_n, missingSnapshotPolicy, createdAt, want, puts, events) => {
    const w = world({
      spec: { source: SOURCE, ...(missingSnapshotPolicy ? { missingSnapshotPolicy } : {}) },
      status: { observedGeneration: 1, snapshotId: SNAP_ID, ...(createdAt ? { createdAt } : {}), conditions: [{ type: "Ready", status: "True", reason: "SnapshotReady", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z", observedGeneration: 1 }] },
    });
    await w.reconcile();
    expect(kstatus(w)).toBe(want);
    expect(w.arm.count("snapshots.put")).toBe(puts);
    expect(w.events.events.map((e) => e.reason)).toEqual(events);
  });

  it("adopted snapshot missing: Stalled SnapshotMissing, rechecked, never created", async () => {
    const w = world({ spec: { snapshot: { id: SNAP_ID } } });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: RECHECK });
    expect(kstatus(w)).toBe("Ready=False/SnapshotMissing Stalled=True/SnapshotMissing");
    expect(w.arm.count("snapshots.put")).toBe(0);
  });

  it("adopt: mirrors, adds the user's tags but never the owner tag", async () => {
    const w = world({ spec: { snapshot: { id: SNAP_ID }, tags: { env: "prod" } } });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(OTHER_POOL), tags: { golden: "true" } });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    expect(w.arm.snapshots.get(SNAP_ID.toLowerCase())?.tags).toEqual({ golden: "true", env: "prod" });
    expect(w.kube.status?.managedTagKeys).toEqual(["env"]);
    expect(w.events.events.map((e) => e.reason)).toEqual([EventReasons.Adopted]);
  });

  it.each<[string, string, string]>([
    ["snapshot outside the allowed scopes", `${NS}=/subscriptions/${SUB}/resourceGroups/rg-other`, "Ready=False/ScopeNotAllowed Stalled=True/ScopeNotAllowed"],
    ["namespace not listed and no * entry", `other-ns=/subscriptions/${SUB}`, "Ready=False/ScopeNotAllowed Stalled=True/ScopeNotAllowed"],
  ])("%s: Stalled ScopeNotAllowed, no ARM call, terminal (no requeue until the spec changes)", async (_n, scopes, want) => {
    const w = world({ allowedScopes: scopes });
    expect(await w.reconcile()).toEqual({ kind: "terminal", error: expect.any(Error) });
    expect(kstatus(w)).toBe(want);
    expect(w.arm.calls).toEqual([]);
  });

  it("the resource group scope admits it", async () => {
    const w = world({ allowedScopes: `${NS}=/subscriptions/${SUB}/resourceGroups/RG-AKS` });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
  });

  it.each<[string, Setup, string, ReconcileResult]>([
    ["SubscriptionUnknown is a world problem: slow requeue", { spec: { source: { resourceGroup: "rg", clusterName: "c", agentPoolName: "p" } } }, "Ready=False/SubscriptionUnknown Stalled=True/SubscriptionUnknown", { kind: "requeueAfter", afterMs: RECHECK }],
    ["a spec the parser rejects: InvalidSpec, terminal", { spec: { source: { agentPoolId: "not-an-id" } } }, "Ready=False/InvalidSpec Stalled=True/InvalidSpec", { kind: "terminal", error: expect.any(Error) }],
  ])("%s", async (_n, setup, want, result) => {
    const w = world(setup);
    expect(await w.reconcile()).toEqual(result);
    expect(kstatus(w)).toBe(want);
    expect(w.arm.calls).toEqual([]);
  });
});

/** A Ready object as a previous process left it (its status records the snapshot and its tag keys). */
const READY_STATUS = {
  observedGeneration: 1,
  snapshotId: SNAP_ID,
  managedTagKeys: [OWNER_TAG],
  conditions: [{ type: "Ready", status: "True", reason: "SnapshotReady", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z", observedGeneration: 1 }],
};

function readyWorld(random = 0.5): World {
  const w = world({ status: READY_STATUS, random });
  w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } });
  return w;
}

/** The first check after a start is spread; this moves past it. */
async function pastFirstCheck(w: World): Promise<void> {
  const r = await w.reconcile();
  expect(r.kind).toBe("requeueAfter");
  w.setNow(new Date(NOW.getTime() + (r.kind === "requeueAfter" ? r.afterMs : 0)));
}

describe("NodePoolSnapshot reconciler: a restart does not read every Ready object at once", () => {
  it.each([
    ["random 0.2", 0.2, 0.15],
    ["random 0.5", 0.5, 0.375],
    ["random 0.999", 0.999, 0.74925],
  ])("a Ready object first seen by this process (%s): no ARM call, checked at that point of the first three quarters of the period", async (_n, random, factor) => {
    const w = readyWorld(random);
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: Math.floor(RESYNC * factor) });
    expect(w.arm.calls).toEqual([]);
    expect(w.kube.writes).toEqual([]);
  });

  it("its operator tags changed while no process watched (a schedule label added): checked now, the tag repaired", async () => {
    const w = readyWorld();
    w.kube.object.metadata.labels = { "aksnap.io/schedule": "nightly" };
    await w.reconcile();
    // The PATCH replaces every tag, so it is computed from a fresh GET, not from the listing.
    expect(w.arm.calls.map((c) => c.op)).toEqual(["snapshots.list", "snapshots.get", "snapshots.updateTags"]);
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
  });

  it("a tag someone added after the listing survives the repair PATCH", async () => {
    const w = readyWorld();
    await pastFirstCheck(w);
    await w.reconcile(); // listed: nothing to repair
    const s = [...w.arm.snapshots.values()][0];
    if (!s) throw new Error("no snapshot");
    w.arm.snapshots.set([...w.arm.snapshots.keys()][0] ?? "", { ...s, tags: { ...s.tags, "policy-added": "yes" } });
    w.kube.object.metadata.labels = { "aksnap.io/schedule": "nightly" };
    await w.reconcile(); // the listing (still fresh) lacks policy-added
    expect([...w.arm.snapshots.values()][0]?.tags).toEqual({ [OWNER_TAG]: KEY, "aksnap.io-schedule": "nightly", "policy-added": "yes" });
  });
});

describe("NodePoolSnapshot reconciler: a Ready object keeps Ready while ARM cannot answer (last known good)", () => {
  // [name, failing op, error, notBeforeMs]
  it.each<[string, ArmOp, ArmError, number | undefined]>([
    ["LIST throttled (429 Retry-After 9 s)", "snapshots.list", err("throttled", "SubscriptionRequestsThrottled", { retryAfterMs: 9000, statusCode: 429 }), 9000],
    ["LIST throttled without Retry-After", "snapshots.list", err("throttled", "TooManyRequests", { statusCode: 429 }), 1000],
    ["LIST 503 with Retry-After", "snapshots.list", err("transient", "ServiceUnavailable", { retryAfterMs: 4000, statusCode: 503 }), 4000],
    ["LIST timed out", "snapshots.list", err("transient", "RequestTimeout"), undefined],
    ["LIST 409", "snapshots.list", err("conflict", "Conflict", { statusCode: 409 }), undefined],
    ["tag repair PATCH throttled", "snapshots.updateTags", err("throttled", "TooManyRequests", { retryAfterMs: 2000, statusCode: 429 }), 2000],
  ])("%s: status untouched, no event, retried no sooner than Retry-After", async (_n, op, error, notBefore) => {
    const w = readyWorld();
    if (op === "snapshots.updateTags") w.kube.object.metadata.labels = { "aksnap.io/schedule": "nightly" };
    else await pastFirstCheck(w);
    const before = structuredClone(w.kube.status);
    w.arm.failNext(op, error);
    const r = await w.reconcile();
    expect(r).toEqual({ kind: "retry", error: expect.any(TransientError), ...(notBefore === undefined ? {} : { notBeforeMs: notBefore }) });
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.status).toEqual(before);
    expect(w.events.events).toEqual([]);
    // The retry verifies for real and the object stays Ready.
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
  });

  it("a definitive answer still changes Ready: deleted out of band (absent from the LIST, GET 404) → Stalled SnapshotMissing", async () => {
    const w = readyWorld();
    await pastFirstCheck(w);
    w.arm.snapshots.clear();
    await w.reconcile();
    expect(w.arm.calls.map((c) => c.op)).toEqual(["snapshots.list", "snapshots.get"]);
    expect(kstatus(w)).toBe("Ready=False/SnapshotMissing Stalled=True/SnapshotMissing");
  });

  it("absent from the LIST but the confirming GET is throttled: Ready kept, retried", async () => {
    const w = readyWorld();
    await pastFirstCheck(w);
    w.arm.snapshots.clear();
    w.arm.failNext("snapshots.get", err("throttled", "TooManyRequests", { retryAfterMs: 3000 }));
    expect(await w.reconcile()).toEqual({ kind: "retry", error: expect.any(TransientError), notBeforeMs: 3000 });
    expect(w.kube.writes).toEqual([]);
  });

  it("a definitive refusal of the LIST (403) is not last known good: Stalled ArmRequestRejected", async () => {
    const w = readyWorld();
    await pastFirstCheck(w);
    w.arm.failNext("snapshots.list", err("invalid", "AuthorizationFailed", { statusCode: 403 }));
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=False/ArmRequestRejected Stalled=True/ArmRequestRejected");
  });

  it("someone else's owner tag found in the LIST: Stalled SnapshotNameConflict, nothing written", async () => {
    const w = readyWorld();
    await pastFirstCheck(w);
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: "other/obj" } });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=False/SnapshotNameConflict Stalled=True/SnapshotNameConflict");
    expect(w.arm.count("snapshots.updateTags")).toBe(0);
  });
});

describe("NodePoolSnapshot reconciler: ownership (never write to a snapshot that is not ours)", () => {
  const writes = (w: World): number => w.arm.count("snapshots.put") + w.arm.count("snapshots.updateTags") + w.arm.count("snapshots.delete");

  it.each<[string, Record<string, string>, Record<string, unknown> | undefined]>([
    ["a golden snapshot of the same pool (no owner tag)", { golden: "true" }, undefined],
    ["another namespace's object with the same snapshot name", { [OWNER_TAG]: `team-b/${NAME}` }, undefined],
    ["recorded in our status, but another object's owner tag", { [OWNER_TAG]: `team-b/${NAME}` }, { observedGeneration: 1, snapshotId: SNAP_ID }],
  ])("%s: Stalled SnapshotNameConflict, no write of any kind", async (_n, tags, status) => {
    const w = world({ spec: { source: SOURCE, tags: { env: "prod" } }, ...(status ? { status } : {}) });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: RECHECK });
    expect(kstatus(w)).toBe("Ready=False/SnapshotNameConflict Stalled=True/SnapshotNameConflict");
    expect(writes(w)).toBe(0);
    expect(w.arm.snapshots.get(SNAP_ID.toLowerCase())?.tags).toEqual(tags);
  });

  it("the snapshot our status recorded, its tags stripped by someone: ours, owner tag restored", async () => {
    const w = world({ status: { observedGeneration: 1, snapshotId: SNAP_ID } });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: {} });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    expect(w.arm.snapshots.get(SNAP_ID.toLowerCase())?.tags).toEqual({ [OWNER_TAG]: KEY });
  });
});

describe("NodePoolSnapshot reconciler: source pool state", () => {
  const setPool = (w: World, props: Record<string, unknown>): void => {
    const key = agentPoolId(SOURCE).toLowerCase();
    const p = w.arm.pools.get(key);
    if (p) w.arm.pools.set(key, { ...p, ...props });
  };
  const setCluster = (w: World, props: Record<string, unknown>): void => {
    const [key, c] = [...w.arm.clusters.entries()][0] ?? [];
    if (key && c) w.arm.clusters.set(key, { ...c, ...props });
  };

  it.each<[string, (w: World) => void, string]>([
    ["pool Upgrading", (w) => setPool(w, { provisioningState: "inProgress", rawProvisioningState: "Upgrading" }), "Upgrading"],
    ["pool Scaling", (w) => setPool(w, { provisioningState: "inProgress", rawProvisioningState: "Scaling" }), "Scaling"],
    ["pool Deleting", (w) => setPool(w, { provisioningState: "deleting", rawProvisioningState: "Deleting" }), "Deleting"],
    ["cluster Upgrading", (w) => setCluster(w, { provisioningState: "inProgress", rawProvisioningState: "Upgrading" }), "Upgrading"],
  ])("%s: Reconciling SourcePoolBusy, a backed-off wait (not an error), no PUT", async (_n, busy, word) => {
    const w = world();
    busy(w);
    expect(await w.reconcile()).toEqual({ kind: "retry", error: undefined, notBeforeMs: SOURCE_BUSY_RECHECK_MS });
    expect(kstatus(w)).toBe("Ready=False/SourcePoolBusy Reconciling=True/SourcePoolBusy");
    expect(conditions(w).Ready?.message).toContain(word);
    expect(w.arm.count("snapshots.put")).toBe(0);
  });

  it("a busy pool that becomes Succeeded: the snapshot is taken then", async () => {
    const w = world();
    setPool(w, { provisioningState: "inProgress", rawProvisioningState: "Upgrading" });
    await w.reconcile();
    setPool(w, { provisioningState: "succeeded", rawProvisioningState: "Succeeded" });
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    expect(w.arm.count("snapshots.put")).toBe(1);
  });

  it("a stopped cluster: Stalled SourceClusterStopped, rechecked, no PUT", async () => {
    const w = world();
    setCluster(w, { powerState: "Stopped" });
    expect(await w.reconcile()).toEqual({ kind: "requeueAfter", afterMs: RECHECK });
    expect(kstatus(w)).toBe("Ready=False/SourceClusterStopped Stalled=True/SourceClusterStopped");
    expect(w.arm.count("snapshots.put")).toBe(0);
  });

  it("PUT answered 409 OperationNotAllowed: waits (SourcePoolBusy, honouring Retry-After), then re-reads the pool", async () => {
    const w = world();
    w.arm.failNext("snapshots.put", err("conflict", "OperationNotAllowed", { statusCode: 409, retryAfterMs: 60_000 }));
    expect(await w.reconcile()).toEqual({ kind: "retry", error: undefined, notBeforeMs: 60_000 });
    expect(kstatus(w)).toBe("Ready=False/SourcePoolBusy Reconciling=True/SourcePoolBusy");
    const reads = w.arm.count("pools.get");
    await w.reconcile();
    expect(w.arm.count("pools.get")).toBe(reads + 1);
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
  });

  it.each<[string, number, number]>([
    ["within the TTL: the cluster and pool are not read again (a batch reads them once)", SOURCE_STATE_TTL_MS - 1, 1],
    ["after the TTL: read again", SOURCE_STATE_TTL_MS, 2],
  ])("a source seen ready, %s", async (_n, later, reads) => {
    const w = world();
    w.arm.failNext("snapshots.put", err("throttled", "TooManyRequests", { retryAfterMs: 1000 }));
    await w.reconcile();
    w.setNow(new Date(NOW.getTime() + later));
    await w.reconcile();
    expect(kstatus(w)).toBe("Ready=True/SnapshotReady");
    expect([w.arm.count("clusters.get"), w.arm.count("pools.get")]).toEqual([reads, reads]);
  });
});

describe("NodePoolSnapshot reconciler: deletion", () => {
  const owned = (w: World): void => {
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } });
  };

  it.each<[string, NodePoolSnapshotSpec, boolean, string]>([
    ["Delete (default): the ARM snapshot is deleted, then the finalizer released", { source: SOURCE }, false, EventReasons.Deleted],
    ["Retain: the ARM snapshot is left, the finalizer released", { source: SOURCE, deletionPolicy: "Retain" }, true, EventReasons.Retained],
    ["adopted (Retain by default): left in place", { snapshot: { id: SNAP_ID } }, true, EventReasons.Retained],
    ["adopted with Delete: deleted", { snapshot: { id: SNAP_ID }, deletionPolicy: "Delete" }, false, EventReasons.Deleted],
  ])("%s", async (_n, spec, kept, event) => {
    const w = world({ spec, deleting: true });
    owned(w);
    expect(await w.reconcile()).toEqual({ kind: "done" });
    expect(w.arm.snapshots.has(SNAP_ID.toLowerCase())).toBe(kept);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
    expect(w.events.events.map((e) => e.reason)).toEqual([event]);
  });

  it("never deletes a same-named snapshot of another source", async () => {
    const w = world({ deleting: true });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(OTHER_POOL) });
    await w.reconcile();
    expect(w.arm.count("snapshots.delete")).toBe(0);
    expect(w.arm.snapshots.has(SNAP_ID.toLowerCase())).toBe(true);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
    expect(w.events.events).toEqual([{ type: "Warning", reason: Reasons.SnapshotNameConflict, message: expect.stringContaining("not deleting") }]);
  });

  it("an already-gone snapshot releases the finalizer", async () => {
    const w = world({ deleting: true });
    await w.reconcile();
    expect(w.arm.count("snapshots.delete")).toBe(0);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
  });

  it("outside the allowed scopes: released without an ARM call", async () => {
    const w = world({ deleting: true, allowedScopes: `*=/subscriptions/00000000-0000-0000-0000-000000000009` });
    owned(w);
    await w.reconcile();
    expect(w.arm.calls).toEqual([]);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
    expect(w.events.events.map((e) => e.reason)).toEqual([Reasons.ScopeNotAllowed]);
  });

  it.each<[string, ArmOp, ArmError, string, ReconcileResult]>([
    ["DELETE refused: Stalled DeleteFailed, finalizer kept", "snapshots.delete", err("invalid", "ScopeLocked"), "Ready=False/DeleteFailed Stalled=True/DeleteFailed", { kind: "requeueAfter", afterMs: RECHECK }],
    ["DELETE throttled: Reconciling Deleting, retry after Retry-After", "snapshots.delete", err("throttled", "TooManyRequests", { retryAfterMs: 4000 }), "Ready=False/Deleting Reconciling=True/Deleting", { kind: "retry", error: expect.any(Error), notBeforeMs: 4000 }],
    ["DELETE 5xx: Reconciling Deleting, retry", "snapshots.delete", err("transient", "InternalServerError"), "Ready=False/Deleting Reconciling=True/Deleting", { kind: "retry", error: expect.any(Error) }],
    ["GET before DELETE refused: Stalled ArmRequestRejected, finalizer kept", "snapshots.get", err("invalid", "AuthorizationFailed"), "Ready=False/ArmRequestRejected Stalled=True/ArmRequestRejected", { kind: "requeueAfter", afterMs: RECHECK }],
  ])("%s", async (_n, op, error, want, result) => {
    const w = world({ deleting: true });
    owned(w);
    w.arm.failNext(op, error);
    expect(await w.reconcile()).toEqual(result);
    expect(kstatus(w)).toBe(want);
    expect(w.kube.object.metadata.finalizers).toEqual([FINALIZER]);
    expect(w.arm.snapshots.has(SNAP_ID.toLowerCase())).toBe(true);
  });

  it("DeleteFailed says how to release the object", async () => {
    const w = world({ deleting: true });
    owned(w);
    w.arm.failNext("snapshots.delete", err("invalid", "ScopeLocked"));
    await w.reconcile();
    expect(conditions(w).Stalled?.message).toContain("set spec.deletionPolicy: Retain");
  });
});

describe("NodePoolSnapshot reconciler: the finalizer deletes the recorded snapshot, and only ours", () => {
  const OTHER_SUB = "00000000-0000-0000-0000-000000000002";
  const MOVED = { subscriptionId: OTHER_SUB, resourceGroup: "rg-aks", name: snapshotNameFor(NS, NAME) };

  it("deletes status.snapshotId, not an id recomputed from today's flags (the default subscription changed)", async () => {
    // The object relied on --default-subscription-id when its snapshot was made in OTHER_SUB; now the default is SUB.
    const w = world({ deleting: true, defaultSubscriptionId: SUB, spec: { source: { resourceGroup: SOURCE.resourceGroup, clusterName: SOURCE.clusterName, agentPoolName: SOURCE.agentPoolName } }, status: { observedGeneration: 1, snapshotId: nodePoolSnapshotId(MOVED) } });
    w.arm.addSnapshot(MOVED, { tags: { [OWNER_TAG]: KEY } });
    w.arm.addSnapshot(SNAP, { tags: { [OWNER_TAG]: KEY } });
    await w.reconcile();
    expect(w.arm.calls.filter((c) => c.op === "snapshots.delete").map((c) => c.id)).toEqual([nodePoolSnapshotId(MOVED)]);
    expect(w.arm.snapshots.has(SNAP_ID.toLowerCase())).toBe(true);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
  });

  it.each<[string, Record<string, string>]>([
    ["a golden snapshot of the same pool with our name", { golden: "true" }],
    ["another namespace's object's snapshot", { [OWNER_TAG]: `team-b/${NAME}` }],
  ])("never deletes %s: released with a Warning, nothing written", async (_n, tags) => {
    const w = world({ deleting: true });
    w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags });
    await w.reconcile();
    expect(w.arm.count("snapshots.delete")).toBe(0);
    expect(w.kube.object.metadata.finalizers).toEqual([]);
    expect(w.events.events.map((e) => e.reason)).toEqual([Reasons.SnapshotNameConflict]);
  });
});

describe("NodePoolSnapshot reconciler: every ARM call carries the reconcile's signal (timeouts and shutdown end it)", () => {
  it.each<[string, Setup, (w: World) => void]>([
    ["create: GET snapshot, GET cluster, GET pool, PUT", {}, () => {}],
    ["tag drift: GET, PATCH", { spec: { source: SOURCE, tags: { env: "prod" } } }, (w) => void w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } })],
    ["deletion: GET, DELETE", { deleting: true }, (w) => void w.arm.addSnapshot(SNAP, { sourceResourceId: agentPoolId(SOURCE), tags: { [OWNER_TAG]: KEY } })],
  ])("%s", async (_n, setup, arrange) => {
    const w = world(setup);
    arrange(w);
    await w.reconcile();
    expect(w.arm.calls.length).toBeGreaterThanOrEqual(2);
    for (const s of w.arm.signals) expect(s).toBe(w.signal);
  });
});
