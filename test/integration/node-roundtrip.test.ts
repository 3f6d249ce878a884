// The proof through the product, on a real node: a pod's data → a SnapshotSchedule run (Succeeded
// only once the verifier verified its VolumeSnapshot) → a RestoreRequest → a new pod reads the same
// checksum. Then retention under churn: several runs with the data changed between them and
// maxCount 2; every snapshot retention kept restores to the bytes of its own run, the others are gone.
// The operator runs in-process with the chart's RBAC, as in node-hooks.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestoreRequestKind, type RestoreRequest } from "../../src/crds/restorerequest.ts";
import { SnapshotScheduleKind, type SnapshotSchedule } from "../../src/crds/snapshotschedule.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { createNamespace, eventually } from "../harness/kube.ts";
import { NODE_SUB, pvcType, startNodeWorld, vscType, vsType, type NodeWorld } from "../harness/node-world.ts";
import { type InProcessOperator, operatorEnv, startInProcess } from "../harness/operator.ts";

const ssch = SnapshotScheduleKind.resource;
const rreq = RestoreRequestKind.resource;
const MIB = 4;
const BACKUP = { backup: "enabled" };
type Run = NonNullable<NonNullable<SnapshotSchedule["status"]>["lastRun"]>;

let w: NodeWorld;
let op: InProcessOperator | undefined;
let ns = "";

beforeAll(async () => {
  const t0 = Date.now();
  w = await startNodeWorld();
  console.log(`[node-world] up in ${Date.now() - t0} ms: ${JSON.stringify(w.timings)}`);
  const { env } = await operatorEnv(w.admin, w.kc, w.emu, NODE_SUB, { prefix: "nrt" });
  ns = await createNamespace(w.kc, "node-roundtrip");
  op = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": "2s" });
}, 400_000);

afterAll(async () => {
  await op?.stop();
  await w?.stop();
}, 120_000);

/** A labelled PVC the schedules select (restored PVCs never are: they carry aksnap.io/restored-by). */
async function sourceClaim(name: string): Promise<void> {
  await w.claim(ns, name);
  await w.admin.mergePatch(pvcType, ns, name, { metadata: { labels: { ...BACKUP, source: name } } });
  await w.waitBound(ns, name);
}

async function schedule(name: string, claim: string, retention?: object): Promise<void> {
  await w.admin.create(ssch, {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "SnapshotSchedule",
    metadata: { name, namespace: ns },
    spec: {
      template: {
        volumes: {
          pvcSelector: { matchLabels: { ...BACKUP, source: claim }, matchExpressions: [{ key: "aksnap.io/restored-by", operator: "DoesNotExist" }] },
          volumeSnapshotClassName: w.vsClass,
        },
      },
      ...(retention ? { retention } : {}),
    },
  });
}

async function getSchedule(name: string): Promise<SnapshotSchedule> {
  const p = SnapshotScheduleKind.parse(await w.admin.get(ssch, ns, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

/** Requests an on-demand run and waits until it ended; the run's id is new (ids are minutes). */
async function runNow(name: string, token: string): Promise<Run> {
  const before = (await getSchedule(name)).status?.lastRun?.id;
  await w.admin.mergePatch(ssch, ns, name, { metadata: { annotations: { "aksnap.io/run-requested-at": token } } });
  const s = await eventually(async () => {
    const o = await getSchedule(name);
    const r = o.status?.lastRun;
    return o.status?.lastHandledRunRequest === token && r && r.id !== before && r.completedAt !== undefined ? o : undefined;
  }, `${name}: run ${token} ended`, 180_000, 250);
  const run = s.status?.lastRun;
  if (!run) throw new Error("no lastRun");
  return run;
}

async function restore(name: string, from: object): Promise<RestoreRequest> {
  await w.admin.create(rreq, {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "RestoreRequest",
    metadata: { name, namespace: ns },
    spec: { volumes: { from, conflictPolicy: "Rename" } },
  });
  return eventually(async () => {
    const p = RestoreRequestKind.parse(await w.admin.get(rreq, ns, name));
    if (!p.ok) throw new Error(p.error);
    const phase = p.value.status?.phase;
    if (phase === "Failed") throw new Error(`restore ${name} failed: ${JSON.stringify(p.value.status)}`);
    return phase === "Succeeded" ? p.value : undefined;
  }, `restore ${name} Succeeded`, 180_000, 250);
}

/** The Azure snapshot id behind a VolumeSnapshot (its VolumeSnapshotContent's snapshotHandle). */
async function handleOf(name: string): Promise<string> {
  const vs = (await w.admin.get(vsType, ns, name)) as KubeObject & { status?: { boundVolumeSnapshotContentName?: string } };
  const vsc = (await w.admin.get(vscType, undefined, vs.status?.boundVolumeSnapshotContentName ?? "")) as KubeObject & { status?: { snapshotHandle?: string } };
  const h = vsc.status?.snapshotHandle;
  if (!h) throw new Error(`${name}: no snapshotHandle`);
  return h;
}

const vsAnnotations = async (name: string): Promise<Record<string, string>> => (await w.admin.get(vsType, ns, name)).metadata.annotations ?? {};

/** Waits for the minute after the last run's, so the next on-demand run gets an id of its own. */
async function nextMinute(lastId: string): Promise<void> {
  const id = (): string => new Date().toISOString().replace(/[-:T]/g, "").slice(0, 12);
  while (id() <= lastId) await new Promise((r) => setTimeout(r, 500));
}

describe("the product's round trip on a real node", () => {
  it("(a) a pod's data → an on-demand schedule run, Succeeded once verified → RestoreRequest (run latest, Rename) → a new pod reads the same checksum", async () => {
    const t0 = Date.now();
    await sourceClaim("db");
    const written = await w.writeData(ns, "writer-a", "db", MIB);
    await schedule("nightly", "db");
    const run = await runNow("nightly", "a");
    expect(run.phase, JSON.stringify(run)).toBe("Succeeded");
    expect(run).toMatchObject({ targets: 1, verified: 1, failed: 0 });
    const child = run.results?.find((r) => r.kind === "VolumeSnapshot" && r.target === "db");
    expect(child?.phase).toBe("Verified");
    // Succeeded means the verifier's verdict is on the VolumeSnapshot, not only readyToUse.
    expect(await vsAnnotations(child?.name ?? "")).toMatchObject({ "aksnap.io/verified": "true", "aksnap.io/verification": "Verified" });

    const rr = await restore("from-latest", { schedule: "nightly", run: "latest" });
    expect(rr.status?.volumes).toEqual([expect.objectContaining({ pvc: "db-restored", sourcePvc: "db", volumeSnapshot: child?.name, phase: "Succeeded" })]);
    const read = await w.readData(ns, "reader-a", "db-restored");
    expect(read).toEqual({ actual: written, recorded: written, exitCode: 0 });
    console.log(`[roundtrip] (a) write → run → verified → restore → read: ${Date.now() - t0} ms`);
  }, 400_000);

  // Run ids are minutes, so each run waits for a new minute: N = 3 is the smallest N that prunes
  // with maxCount 2, and keeps this case near two minutes.
  it("(b) retention under churn: 3 runs with the data changed between them, maxCount 2; the two kept snapshots restore to their own run's bytes, the first is gone", async () => {
    const t0 = Date.now();
    await sourceClaim("churn");
    await schedule("churn", "churn", { maxCount: 2, minVerified: 1 });
    const runs: Array<{ id: string; snapshot: string; handle: string; sum: string }> = [];
    for (let i = 0; i < 3; i++) {
      const last = runs[runs.length - 1]?.id;
      const [sum] = await Promise.all([w.writeData(ns, `writer-b${i}`, "churn", MIB), last ? nextMinute(last) : undefined]);
      const run = await runNow("churn", `b${i}`);
      expect(run.phase, JSON.stringify(run)).toBe("Succeeded");
      const snapshot = run.results?.find((r) => r.kind === "VolumeSnapshot" && r.target === "churn")?.name ?? "";
      expect(snapshot).not.toBe("");
      runs.push({ id: run.id, snapshot, handle: await handleOf(snapshot), sum });
    }
    expect(new Set(runs.map((r) => r.sum)).size).toBe(3);
    const [pruned, ...kept] = runs;
    // Retention runs after a run verifies: the oldest of three is deleted, the newest two stay.
    await eventually(
      async () => ((await w.admin.list(vsType, ns, { labelSelector: "aksnap.io/schedule=churn" })).items.length === 2 ? true : undefined),
      "retention pruned to 2",
      120_000,
      250,
    );
    const left = (await w.admin.list(vsType, ns, { labelSelector: "aksnap.io/schedule=churn" })).items.map((v: KubeObject) => v.metadata.name).sort();
    expect(left).toEqual(kept.map((r) => r.snapshot).sort());
    expect(left).not.toContain(pruned?.snapshot);
    // The class's deletionPolicy is Delete: the pruned run's Azure snapshot is gone too, the kept ones are not.
    await eventually(async () => (w.emu.control.getResource(pruned?.handle ?? "") === undefined ? true : undefined), "pruned Azure snapshot deleted", 60_000, 250);
    for (const r of kept) expect(w.emu.control.getResource(r.handle), r.handle).toBeDefined();
    for (const [i, r] of kept.entries()) {
      expect(await vsAnnotations(r.snapshot)).toMatchObject({ "aksnap.io/verified": "true" });
      const rr = await restore(`churn-${r.id}`, { volumeSnapshotName: r.snapshot });
      const pvc = rr.status?.volumes?.[0]?.pvc ?? "";
      expect(rr.status?.volumes).toEqual([expect.objectContaining({ sourcePvc: "churn", volumeSnapshot: r.snapshot, phase: "Succeeded" })]);
      const read = await w.readData(ns, `reader-b${i}`, pvc);
      expect(read, `run ${r.id} restored from ${r.snapshot} to ${pvc}`).toEqual({ actual: r.sum, recorded: r.sum, exitCode: 0 });
    }
    console.log(`[roundtrip] (b) 3 runs, prune, 2 restores: ${Date.now() - t0} ms`);
  }, 600_000);
});
