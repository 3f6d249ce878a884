// A restart of an operator holding hundreds of Ready NodePoolSnapshots under ARM's real
// per-subscription read limits (the emulator's token buckets, made small enough to be hit): no
// object ever leaves Ready (last known good), and the throttling is logged at warn without stacks.
// Before the fix, a restart of 500 Ready objects flipped 85 of them to Ready=False Throttled.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodePoolSnapshot as ArmSnapshot } from "../../src/azure/ports/nodePoolSnapshots.ts";
import { OWNER_TAG, snapshotNameFor } from "../../src/controllers/nodepoolsnapshot/desired.ts";
import { FINALIZER } from "../../src/controllers/nodepoolsnapshot/reconciler.ts";
import { nextStatus } from "../../src/controllers/nodepoolsnapshot/status.ts";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { writeStatus } from "../../src/kube/status.ts";
import { DEFAULT_RATE_LIMITS, DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, type RunningEmulator } from "../emulator/index.ts";
import { createNamespace, kubeConfig } from "../harness/kube.ts";
import { spawnOperator, type OperatorEnv, type OperatorProcess, operatorWorld } from "../harness/operator.ts";

const nps = NodePoolSnapshotKind.resource;
const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const POOL = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
const OBJECTS = 300;
/** Short, so that every object's first check after the start falls inside the test's window. */
const RESYNC = "20s";
const WINDOW_MS = 30_000;

let emu: RunningEmulator;
let admin: KubeClient;
let env: OperatorEnv;
let dir: string;
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  ({ emu, admin, env, dir } = await operatorWorld("restart", SUB));
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await emu?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a previous operator process left: the ARM snapshot (ours by its owner tag) and a Ready object recording it. */
async function seedReady(ns: string, name: string, now: Date): Promise<void> {
  const snapName = snapshotNameFor(ns, name);
  const id = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/snapshots/${snapName}`;
  emu.control.putResource(id, {
    location: "westeurope",
    tags: { [OWNER_TAG]: `${ns}/${name}` },
    properties: { creationData: { sourceResourceId: POOL }, snapshotType: "NodePool", kubernetesVersion: "1.32.6", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202507.21.0", osType: "Linux", osSku: "Ubuntu", vmSize: "Standard_D8ds_v5", enableFIPS: false },
  });
  const created = await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name, namespace: ns, finalizers: [FINALIZER] }, spec: { source: { agentPoolId: POOL } } });
  const snapshot: ArmSnapshot = { id, name: snapName, subscriptionId: SUB, resourceGroup: RG, location: "westeurope", tags: {}, sourceResourceId: POOL, kubernetesVersion: "1.32.6" };
  const status = nextStatus({ prev: undefined, generation: created.metadata.generation ?? 1, readiness: { state: "ready", reason: "SnapshotReady", message: `snapshot ${snapName}` }, now, snapshot, managedTagKeys: [OWNER_TAG] });
  await writeStatus(admin, nps, created, status, "aksnap");
}

const readyOf = (o: KubeObject): string | undefined =>
  ((o.status as { conditions?: Array<{ type: string; status: string; reason: string }> } | undefined)?.conditions ?? []).find((c) => c.type === "Ready")?.status;

describe("NodePoolSnapshot restart under ARM throttling", () => {
  it(`a restart with ${OBJECTS} Ready objects and a read bucket small enough to be hit: no object leaves Ready; 429s logged at warn, no error lines, no stacks`, { timeout: 300_000 }, async () => {
    const ns = await createNamespace(kubeConfig(), "nps-restart");
    const now = new Date();
    for (let i = 0; i < OBJECTS; i += 20) await Promise.all(Array.from({ length: Math.min(20, OBJECTS - i) }, (_, j) => seedReady(ns, `s${i + j}`, now)));

    // Every Ready condition of every object as the apiserver's watch shows it, from before the start.
    const seen = new Map<string, string[]>();
    const watching = new AbortController();
    const informer = new Informer(admin, nps, { namespace: ns });
    const note = (o: KubeObject): void => {
      const k = o.metadata.name;
      const list = seen.get(k) ?? [];
      list.push(readyOf(o) ?? "absent");
      seen.set(k, list);
    };
    informer.addHandler({ onAdd: note, onUpdate: (_old, o) => note(o), onDelete: () => {} });
    await informer.start(watching.signal);
    await informer.waitForSync();
    expect(seen.size).toBe(OBJECTS);

    // The first process: its start spreads the checks; then it stops (a rollout).
    const first = spawnOperator(env, { "watch-namespaces": ns, "resync-period": RESYNC, "log-level": "info" }, dir);
    procs.push(first);
    await sleep(5_000);
    first.child.kill("SIGTERM");
    await first.exited;

    // ARM's read bucket, made small: a LIST of the group takes more pages than it holds.
    emu.control.setBehaviour({ pageSize: 10 });
    emu.control.setRateLimits({ reads: { capacity: 8, refillPerSecond: 2 } });
    emu.control.clearRequests();
    const second = spawnOperator(env, { "watch-namespaces": ns, "resync-period": RESYNC, "log-level": "info" }, dir);
    procs.push(second);
    await sleep(WINDOW_MS);
    const throttledReads = emu.control.requests({ method: "GET" }).filter((r) => r.status === 429).length;
    // ARM recovers: the checks complete and still nothing leaves Ready.
    emu.control.setRateLimits(DEFAULT_RATE_LIMITS);
    await sleep(15_000);
    const listPages = emu.control.requests({ method: "GET" }).filter((r) => r.route === "ContainerService.Snapshots_ListByResourceGroup");
    second.child.kill("SIGTERM");
    await second.exited;
    watching.abort();
    await informer.stopped();

    const left = [...seen].filter(([, states]) => states.some((s) => s !== "True"));
    console.log(
      `[restart] ${OBJECTS} Ready objects: ${throttledReads} reads throttled (429) in the ${WINDOW_MS / 1000} s window, ` +
        `${listPages.length} LIST pages (${listPages.filter((r) => r.status === 200).length} answered), ` +
        `${[...seen.values()].reduce((a, s) => a + s.length, 0) - OBJECTS} status changes seen, ${left.length} objects left Ready`,
    );
    expect(throttledReads).toBeGreaterThan(0);
    expect(left).toEqual([]);
    // The checks did happen: every page of a listing was answered at least once after ARM recovered.
    expect(listPages.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(Math.ceil(OBJECTS / 10));

    const lines = readFileSync(second.logFile, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown; stack?: unknown });
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(lines.filter((l) => l.err !== undefined || l.stack !== undefined || JSON.stringify(l).includes("    at "))).toEqual([]);
    const warns = lines.filter((l) => l.level === 40);
    expect(warns.some((l) => l.msg.includes("429"))).toBe(true);
    // Once per episode, not per request or per key.
    expect(warns.length).toBeLessThanOrEqual(10);
  });
});
