// SnapshotSchedule end to end: the real kube-apiserver (CRDs, status subresource, finalizers), the
// operator with the chart's RBAC, the NodePoolSnapshot controller doing the node-pool ARM work, and
// the ARM emulator for tagged disks and their incremental snapshots (copy progress held and
// released, copy errors, request log).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kstatusOf, type Condition } from "../../src/conditions/conditions.ts";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import { SnapshotScheduleKind, type SnapshotSchedule } from "../../src/crds/snapshotschedule.ts";
import { TAG_RETENTION_DAYS, TAG_RUN, TAG_SOURCE_DISK } from "../../src/controllers/snapshotschedule/children.ts";
import { runId } from "../../src/controllers/snapshotschedule/runs.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { eventType } from "../../src/kube/events.ts";
import {
  DEMO_CLUSTER,
  DEMO_NODE_RESOURCE_GROUP,
  DEMO_RESOURCE_GROUP,
  DEMO_SNAPSHOT_RESOURCE_GROUP,
  DEMO_SUBSCRIPTION_ID,
  type RunningEmulator,
} from "../emulator/index.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { spawnOperator, startInProcess, type InProcessOperator, type OperatorEnv, type OperatorProcess, operatorWorld } from "../harness/operator.ts";

const ssch = SnapshotScheduleKind.resource;
const nps = NodePoolSnapshotKind.resource;
const SUB = DEMO_SUBSCRIPTION_ID;
const snapshotsPath = `/resourceGroups/${DEMO_SNAPSHOT_RESOURCE_GROUP}/providers/Microsoft.Compute/snapshots/`;
const snapId = (name: string): string => `/subscriptions/${SUB}${snapshotsPath}${name}`;
const diskId = (name: string): string => `/subscriptions/${SUB}/resourceGroups/${DEMO_NODE_RESOURCE_GROUP}/providers/Microsoft.Compute/disks/${name}`;

let emu: RunningEmulator;
let admin: KubeClient;
let env: OperatorEnv;
let dir: string;
let running: InProcessOperator | undefined;
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  ({ emu, admin, env, dir } = await operatorWorld("ssch", SUB));
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
  emu.control.setBehaviour({ copyProgress: "slowSources" });
  emu.control.setTiming({ computeOperationMs: 500, copyDurationMs: 2000 });
});

async function operatorFor(ns: string): Promise<InProcessOperator> {
  running = await startInProcess(env, { "watch-namespaces": ns });
  return running;
}

/** A disk of this test only, carrying a tag no other disk has (tests share the emulator world). */
function makeDisk(name: string, tags: Record<string, string>): string {
  const id = diskId(name);
  emu.control.putResource(id, {
    location: "westeurope",
    sku: { name: "StandardSSD_LRS" },
    tags,
    properties: { diskSizeGB: 32, creationData: { createOption: "Empty" }, provisioningState: "Succeeded", diskState: "Unattached" },
  });
  return id;
}

function schedule(ns: string, name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: "aksnap.io/v1alpha1", kind: "SnapshotSchedule", metadata: { name, namespace: ns, annotations }, spec };
}

async function get(ns: string, name: string): Promise<SnapshotSchedule> {
  const p = SnapshotScheduleKind.parse(await admin.get(ssch, ns, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

const cond = (o: SnapshotSchedule, type: string): Condition | undefined => o.status?.conditions?.find((c) => c.type === type);

async function waitFor(ns: string, name: string, what: string, pred: (o: SnapshotSchedule) => boolean, timeoutMs = 60_000): Promise<SnapshotSchedule> {
  return eventually(async () => {
    const o = await get(ns, name);
    return pred(o) ? o : undefined;
  }, `${ns}/${name} ${what}`, timeoutMs, 200);
}

const lastPhase = (phase: string) => (o: SnapshotSchedule): boolean => o.status?.lastRun?.phase === phase && (o.status.activeRuns ?? []).length === 0;

async function requestRun(ns: string, name: string, token: string): Promise<void> {
  await admin.mergePatch(ssch, ns, name, { metadata: { annotations: { "aksnap.io/run-requested-at": token } } });
}

async function eventsOf(ns: string, name: string): Promise<Array<{ reason: string; type: string; message: string }>> {
  const list = await admin.list(eventType, ns, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: String(e.reason), type: String(e.type), message: String(e.message) }));
}

/** Compute snapshots in the snapshot resource group whose tags say this schedule made them. */
function diskSnapshotsOf(ns: string, name: string): Array<{ id: string; tags: Record<string, string> }> {
  return emu.control
    .listResources()
    .filter((r) => r.id.toLowerCase().includes(snapshotsPath.toLowerCase()))
    .map((r) => ({ id: r.id, tags: ((emu.control.getResource(r.id) ?? {}) as { tags?: Record<string, string> }).tags ?? {} }))
    .filter((r) => r.tags["aksnap.io-schedule"] === `${ns}/${name}`);
}

describe("SnapshotSchedule", () => {
  it("on-demand run of node pools: children Ready → run Succeeded, schedule Ready, kstatus Current", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-np");
    const op = await operatorFor(ns);
    await admin.create(
      ssch,
      schedule(ns, "pools", { template: { nodePools: [{ source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }, { source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "systempool" } }] } }, { "aksnap.io/run-requested-at": "first" }),
    );
    const o = await waitFor(ns, "pools", "run Succeeded", lastPhase("Succeeded"));
    expect(o.status?.lastHandledRunRequest).toBe("first");
    expect(o.status?.lastRun).toMatchObject({ targets: 2, verified: 2, failed: 0 });
    expect(o.status?.lastRun?.id).toMatch(/^\d{12}$/);
    expect(o.status?.lastSuccessfulTime).toBeDefined();
    expect(o.status?.nextScheduleTime).toBeUndefined();
    expect(cond(o, "Ready")).toMatchObject({ status: "True", reason: "LastRunSucceeded" });
    const raw = await admin.get(ssch, ns, "pools");
    expect(kstatus(raw).status).toBe("Current");
    expect(kstatusOf(raw.metadata.generation ?? 0, o.status?.observedGeneration, o.status?.conditions)).toBe("Current");
    const children = (await admin.list(nps, ns)).items;
    expect(children).toHaveLength(2);
    for (const c of children) {
      expect(c.metadata.labels).toMatchObject({ "aksnap.io/schedule": "pools", "aksnap.io/run": o.status?.lastRun?.id, "app.kubernetes.io/managed-by": "aksnap" });
      expect(c.metadata.ownerReferences ?? []).toHaveLength(0); // childDeletionPolicy Retain (default)
    }
    const reasons = (await eventsOf(ns, "pools")).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["RunStarted", "RunSucceeded"]));
    expect(await op.metric("aksnap_schedule_runs_total", { phase: "Succeeded" })).toBe(1);
    expect(await op.metric("aksnap_schedule_last_success_timestamp_seconds", { namespace: ns, name: "pools" })).toBeGreaterThan(0);
    // The same token again does nothing; a new one in the same minute joins the run that exists.
    await requestRun(ns, "pools", "first");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await admin.list(nps, ns)).items).toHaveLength(2);
  });

  it("a disk create answered 429 with Retry-After: the run retries after ARM's wait, not at the next 5 s poll", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-429");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    await operatorFor(ns);
    const puts = (): Array<{ time: string; status: number }> => emu.control.requests({ method: "PUT", path: `Microsoft\\.Compute/snapshots/${ns}-a` });
    const reads = (): number =>
      emu.control.countRequests({ method: "GET", path: "Microsoft\\.Compute/disks$" }) + emu.control.countRequests({ method: "GET", path: `Microsoft\\.Compute/snapshots/${ns}-a` });
    emu.control.addFault({ method: "PUT", path: `Microsoft\\.Compute/snapshots/${ns}-a`, times: 1, action: { kind: "throttle", retryAfterSeconds: 15 } });
    await admin.create(
      ssch,
      schedule(ns, "disks", { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } }, { "aksnap.io/run-requested-at": "go" }),
    );
    await eventually(async () => (puts().some((p) => p.status === 429) ? true : undefined), "the create throttled", 30_000);
    const readsAtThrottle = reads();
    await waitFor(ns, "disks", "run Succeeded", lastPhase("Succeeded"), 60_000);
    const [first, second] = puts();
    const gapMs = Date.parse(second?.time ?? "") - Date.parse(first?.time ?? "");
    console.log(`[ssch-429] create retried ${gapMs} ms after the 429 (Retry-After 15 s); ${reads() - readsAtThrottle} reads after the 429`);
    expect(first?.status).toBe(429);
    expect(gapMs).toBeGreaterThanOrEqual(14_500); // before: the next 5 s poll sent it again
    expect(puts()).toHaveLength(2);
  });

  it("disk targets: incremental snapshots tagged; held at 40 % → not Succeeded; released → Succeeded within one poll", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-disk");
    const mark = `t-${ns}`;
    const d1 = makeDisk(`${ns}-a`, { backup: mark });
    const d2 = makeDisk(`${ns}-b`, { backup: mark, retentionTime: "7" });
    makeDisk(`${ns}-c`, { other: mark }); // not selected
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    emu.control.setTiming({ copyDurationMs: 600_000 });
    await operatorFor(ns);
    emu.control.clearRequests();
    await admin.create(
      ssch,
      schedule(ns, "disks", { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } }, { "aksnap.io/run-requested-at": "go" }),
    );
    const snaps = await eventually(async () => {
      const s = diskSnapshotsOf(ns, "disks");
      return s.length === 2 ? s : undefined;
    }, "two disk snapshots", 30_000);
    for (const s of snaps) emu.control.setCompletion(s.id, { percent: 40, frozen: true });
    const running1 = await waitFor(ns, "disks", "run Running at 40 %", (o) => o.status?.lastRun?.results?.some((r) => r.completionPercent === 40) === true);
    expect(running1.status?.lastRun?.phase).toBe("Running");
    expect(cond(running1, "Reconciling")?.status).toBe("True");
    const runIdNow = running1.status?.lastRun?.id ?? "";
    const byDisk = new Map(snaps.map((s) => [s.tags[TAG_SOURCE_DISK]?.toLowerCase(), s]));
    expect(byDisk.get(d1.toLowerCase())?.tags).toMatchObject({ [TAG_RUN]: runIdNow, "aksnap.io-schedule": `${ns}/disks` });
    expect(byDisk.get(d1.toLowerCase())?.tags[TAG_RETENTION_DAYS]).toBeUndefined();
    expect(byDisk.get(d2.toLowerCase())?.tags[TAG_RETENTION_DAYS]).toBe("7");
    for (const s of snaps) expect((emu.control.getResource(s.id) as { properties?: { incremental?: boolean } }).properties?.incremental).toBe(true);
    // Several polls at 40 %: still not Succeeded; each poll reads the two snapshots, not the disk list.
    const lists = (): number => emu.control.countRequests({ method: "GET", path: "Microsoft\\.Compute/disks$" });
    const reads = (): number => emu.control.countRequests({ method: "GET", path: snapshotsPath });
    const [lists0, reads0] = [lists(), reads()];
    expect(lists0).toBeGreaterThan(0); // the run found its disks by listing
    await new Promise((r) => setTimeout(r, 6000));
    expect((await get(ns, "disks")).status?.lastRun?.phase).toBe("Running");
    expect(reads()).toBeGreaterThan(reads0);
    expect(lists()).toBe(lists0);
    for (const s of snaps) emu.control.setCompletion(s.id, { percent: 100 });
    const released = Date.now();
    await waitFor(ns, "disks", "run Succeeded", lastPhase("Succeeded"), 20_000);
    const took = Date.now() - released;
    console.log(`[ssch] Succeeded ${took} ms after the copy reached 100 %`);
    expect(took).toBeLessThan(5000 + 3000); // one poll (5 s) plus a loaded machine's slack
    const puts = emu.control.requests({ method: "PUT", path: snapshotsPath }).filter((r) => r.status >= 200 && r.status < 300);
    expect(puts).toHaveLength(2);
    console.log(`[ssch] ARM calls for a 2-disk run: ${emu.control.requests().length}`);
  });

  it("copyCompletionError → run Failed with the ARM code in results; schedule LastRunFailed", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-copyerr");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    emu.control.setTiming({ copyDurationMs: 600_000 });
    await operatorFor(ns);
    await admin.create(
      ssch,
      schedule(ns, "bad", { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } }, { "aksnap.io/run-requested-at": "go" }),
    );
    const [snap] = await eventually(async () => {
      const s = diskSnapshotsOf(ns, "bad");
      return s.length === 1 ? s : undefined;
    }, "disk snapshot", 30_000);
    emu.control.setCopyError(snap?.id ?? "", { errorCode: "CopySourceNotFound", errorMessage: "the source disk went away" });
    const o = await waitFor(ns, "bad", "run Failed", lastPhase("Failed"));
    expect(o.status?.lastRun?.results?.[0]).toMatchObject({ kind: "DiskSnapshot", phase: "Failed" });
    expect(o.status?.lastRun?.results?.[0]?.message).toContain("CopySourceNotFound");
    expect(cond(o, "Ready")).toMatchObject({ status: "False", reason: "LastRunFailed" });
    const ev = await eventsOf(ns, "bad");
    expect(ev.find((e) => e.reason === "RunFailed")).toMatchObject({ type: "Warning" });
    expect(ev.find((e) => e.reason === "RunFailed")?.message).toContain("CopySourceNotFound");
  });
  it("a disk snapshot create that ARM fails → run Failed with ARM's code, read from the operation the status kept", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-lrofail");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    emu.control.setTiming({ computeOperationMs: 3000 });
    emu.control.injectOutcome({ kind: "computeSnapshot", idPattern: ns, operation: "create", outcome: { type: "failed", code: "OperationNotAllowed", message: "Snapshot quota exceeded for this disk" } });
    await operatorFor(ns);
    await admin.create(
      ssch,
      schedule(ns, "lro", { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } }, { "aksnap.io/run-requested-at": "go" }),
    );
    const inFlight = await waitFor(ns, "lro", "the create's operation kept in status", (o) => o.status?.lastRun?.results?.[0]?.operation !== undefined, 30_000);
    expect(inFlight.status?.lastRun?.phase).toBe("Running");
    const o = await waitFor(ns, "lro", "run Failed", lastPhase("Failed"), 30_000);
    const r = o.status?.lastRun?.results?.[0];
    expect(r).toMatchObject({ kind: "DiskSnapshot", phase: "Failed" });
    expect(r?.message).toContain("OperationNotAllowed");
    expect(r?.operation).toBeUndefined();
  });

  it("retention with verification failing on new runs keeps the last verified snapshot and bounds failed ones", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-ret");
    const mark = `t-${ns}`;
    const disk = makeDisk(`${ns}-a`, { backup: mark });
    // Earlier runs' snapshots, as ARM would hold them: two verified, two whose copy failed.
    const old = (name: string, hoursAgo: number, failed: boolean): string => {
      const id = snapId(`${ns}-${name}`);
      emu.control.putResource(id, {
        location: "westeurope",
        tags: { "aksnap.io-schedule": `${ns}/ret`, "aksnap.io-owner": `${ns}/ret`, [TAG_RUN]: runId(new Date(Date.now() - hoursAgo * 3_600_000)), [TAG_SOURCE_DISK]: disk },
        properties: {
          creationData: { createOption: "Copy", sourceResourceId: disk },
          incremental: true,
          provisioningState: "Succeeded",
          completionPercent: failed ? 30 : 100,
          snapshotAccessState: failed ? "Pending" : "Available",
          ...(failed ? { copyCompletionError: { errorCode: "CopySourceNotFound", errorMessage: "failed earlier" } } : {}),
        },
      });
      return id;
    };
    const v3 = old("v3", 3, false);
    const v2 = old("v2", 2, false);
    const f15 = old("f15", 1.5, true);
    const f1 = old("f1", 1, true);
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    emu.control.setTiming({ copyDurationMs: 600_000 });
    await operatorFor(ns);
    await admin.create(
      ssch,
      schedule(
        ns,
        "ret",
        { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } }, retention: { maxCount: 1, failedHistoryLimit: 1 } },
        { "aksnap.io/run-requested-at": "go" },
      ),
    );
    const fresh = await eventually(async () => diskSnapshotsOf(ns, "ret").find((x) => ![v3, v2, f15, f1].includes(x.id)), "the new run's snapshot", 30_000);
    emu.control.setCopyError(fresh.id, { errorCode: "CopySourceNotFound", errorMessage: "failing again" });
    const o = await waitFor(ns, "ret", "run Failed", lastPhase("Failed"));
    expect(o.status?.lastRun?.results?.[0]?.message).toContain("CopySourceNotFound");
    const left = await eventually(async () => {
      const ids = diskSnapshotsOf(ns, "ret").map((x) => x.id).sort();
      return ids.length === 2 ? ids : undefined;
    }, "retention down to two snapshots", 30_000);
    // The newest verified one survives (minVerified, maxCount 1); the newest failed one is kept for inspection.
    expect(left).toEqual([fresh.id, v2].sort());
    expect(o.status?.counts ?? (await get(ns, "ret")).status?.counts).toEqual({ total: 2, verified: 1, failed: 1 });
    const deleted = (await eventsOf(ns, "ret")).filter((e) => e.reason === "DeletedByRetention").map((e) => e.message);
    expect(deleted).toHaveLength(3);
    expect(deleted.join("\n")).toContain("(MaxCount)");
    expect(deleted.filter((m) => m.includes("(FailedHistoryLimit)"))).toHaveLength(2);
  });

  it("disk cleanup works from ARM tags alone: a fresh schedule after every Kubernetes object and the operator are gone", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-lost");
    const mark = `t-${ns}`;
    const disk = makeDisk(`${ns}-a`, { backup: mark, retentionTime: "1" });
    const spec = { template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } };
    await operatorFor(ns);
    await admin.create(ssch, schedule(ns, "lost", spec, { "aksnap.io/run-requested-at": "one" }));
    await waitFor(ns, "lost", "first run Succeeded", lastPhase("Succeeded"));
    const [first] = diskSnapshotsOf(ns, "lost");
    expect(first?.tags[TAG_RETENTION_DAYS]).toBe("1");
    // A snapshot the lost cluster made three days ago, known only by its tags.
    const ancient = snapId(`${ns}-ancient`);
    emu.control.putResource(ancient, {
      location: "westeurope",
      tags: { "aksnap.io-schedule": `${ns}/lost`, [TAG_RUN]: runId(new Date(Date.now() - 3 * 86_400_000)), [TAG_SOURCE_DISK]: disk, [TAG_RETENTION_DAYS]: "1" },
      properties: { creationData: { createOption: "Copy", sourceResourceId: disk }, incremental: true, provisioningState: "Succeeded", snapshotAccessState: "Available" },
    });
    // Everything in Kubernetes goes, and the operator with its memory.
    await admin.delete(ssch, ns, "lost");
    await eventually(async () => ((await admin.tryGet(ssch, ns, "lost")) ? undefined : true), "schedule gone");
    await running?.stop();
    running = undefined;
    expect(diskSnapshotsOf(ns, "lost").map((x) => x.id)).toContain(ancient);
    await operatorFor(ns);
    await admin.create(ssch, schedule(ns, "lost", spec, { "aksnap.io/run-requested-at": "two" }));
    await waitFor(ns, "lost", "fresh schedule's run Succeeded", lastPhase("Succeeded"));
    await eventually(async () => (diskSnapshotsOf(ns, "lost").some((x) => x.id === ancient) ? undefined : true), "the ancient snapshot pruned", 30_000);
    expect(diskSnapshotsOf(ns, "lost").map((x) => x.id)).toContain(first?.id);
    const ev = (await eventsOf(ns, "lost")).filter((e) => e.reason === "DeletedByRetention");
    expect(ev.map((e) => e.message).join("\n")).toContain("(RetentionDays)");
  });

  it("childDeletionPolicy Delete: deleting the schedule deletes its children and disk snapshots", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-del");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    await operatorFor(ns);
    await admin.create(
      ssch,
      schedule(
        ns,
        "gone",
        {
          childDeletionPolicy: "Delete",
          template: {
            nodePools: [{ source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }],
            disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP },
          },
        },
        { "aksnap.io/run-requested-at": "go" },
      ),
    );
    await waitFor(ns, "gone", "run Succeeded", lastPhase("Succeeded"));
    const [child] = (await admin.list(nps, ns)).items;
    expect(child?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "SnapshotSchedule", name: "gone" });
    const npsArmId = String((child?.status as { snapshotId?: string } | undefined)?.snapshotId);
    expect(diskSnapshotsOf(ns, "gone")).toHaveLength(1);
    await admin.delete(ssch, ns, "gone");
    await eventually(async () => ((await admin.tryGet(ssch, ns, "gone")) ? undefined : true), "schedule gone", 30_000);
    expect(diskSnapshotsOf(ns, "gone")).toHaveLength(0);
    await eventually(async () => ((await admin.list(nps, ns)).items.length === 0 ? true : undefined), "child NodePoolSnapshots gone", 30_000);
    await eventually(async () => (emu.control.getResource(npsArmId) ? undefined : true), "the child's ARM snapshot deleted", 30_000);
  });

  it("SIGKILL of the operator during a run: no duplicate child or ARM snapshot, the run completes", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-kill");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    emu.control.setTiming({ copyDurationMs: 600_000 });
    emu.control.clearRequests();
    const spawn = (): OperatorProcess => {
      const p = spawnOperator(env, { "watch-namespaces": ns }, dir);
      procs.push(p);
      return p;
    };
    const first = spawn();
    await admin.create(
      ssch,
      schedule(
        ns,
        "kill",
        {
          template: {
            nodePools: [{ source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "systempool" } }],
            disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP },
          },
        },
        { "aksnap.io/run-requested-at": "go" },
      ),
    );
    const [snap] = await eventually(async () => {
      const s = diskSnapshotsOf(ns, "kill");
      return s.length === 1 ? s : undefined;
    }, "the disk snapshot submitted", 60_000);
    emu.control.setCompletion(snap?.id ?? "", { percent: 40, frozen: true });
    first.child.kill("SIGKILL");
    await first.exited;
    const during = await get(ns, "kill");
    expect(during.status?.activeRuns?.map((r) => r.id)).toEqual([during.status?.lastRun?.id]);
    const second = spawn();
    await new Promise((r) => setTimeout(r, 3000));
    emu.control.setCompletion(snap?.id ?? "", { percent: 100 });
    const o = await waitFor(ns, "kill", "run Succeeded after the restart", lastPhase("Succeeded"), 90_000);
    expect(o.status?.lastRun?.id).toBe(during.status?.lastRun?.id);
    expect((await admin.list(nps, ns)).items).toHaveLength(1);
    expect(diskSnapshotsOf(ns, "kill")).toHaveLength(1);
    const created = (path: string): number => emu.control.requests({ method: "PUT", path }).filter((r) => r.status >= 200 && r.status < 300).length;
    expect(created(`/snapshots/${snap?.id.split("/").pop() ?? ""}`)).toBe(1);
    second.child.kill("SIGTERM");
    await second.exited;
  });

  it("two replicas → one run: only the lease holder acts; SIGKILLed mid-run, the standby completes the same run", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-ha");
    const mark = `t-${ns}`;
    makeDisk(`${ns}-a`, { backup: mark });
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    emu.control.setTiming({ copyDurationMs: 600_000 });
    const leaseName = `aksnap-ssch-${ns}`;
    const replica = (id: string): OperatorProcess => {
      const p = spawnOperator(env, { "watch-namespaces": ns, "leader-elect": "true", "leader-election-namespace": "aksnap-system", "leader-election-id": leaseName, identity: id }, dir);
      procs.push(p);
      return p;
    };
    const replicas = { a: replica("replica-a"), b: replica("replica-b") };
    await admin.create(
      ssch,
      schedule(
        ns,
        "ha",
        {
          template: {
            nodePools: [{ source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }],
            disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { backup: mark }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP },
          },
        },
        { "aksnap.io/run-requested-at": "go" },
      ),
    );
    const [snap] = await eventually(async () => {
      const s = diskSnapshotsOf(ns, "ha");
      return s.length === 1 ? s : undefined;
    }, "the disk snapshot submitted", 60_000);
    emu.control.setCompletion(snap?.id ?? "", { percent: 40, frozen: true });
    const lease = await admin.get({ group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true }, "aksnap-system", leaseName);
    const holder = (lease["spec"] as { holderIdentity?: string }).holderIdentity;
    const leader = holder === "replica-a" ? replicas.a : replicas.b;
    const runBefore = (await get(ns, "ha")).status?.lastRun?.id;
    leader.child.kill("SIGKILL");
    await leader.exited;
    emu.control.setCompletion(snap?.id ?? "", { percent: 100 });
    const o = await waitFor(ns, "ha", "run Succeeded by the standby", lastPhase("Succeeded"), 90_000);
    expect(o.status?.lastRun?.id).toBe(runBefore);
    expect(o.status?.lastRun).toMatchObject({ targets: 2, verified: 2 });
    expect((await admin.list(nps, ns)).items).toHaveLength(1);
    expect(diskSnapshotsOf(ns, "ha")).toHaveLength(1);
    const creates = emu.control.requests({ method: "PUT", path: `/snapshots/${snap?.id.split("/").pop() ?? ""}` }).filter((r) => r.status >= 200 && r.status < 300);
    expect(creates).toHaveLength(1);
    const started = (await eventsOf(ns, "ha")).filter((e) => e.reason === "RunStarted");
    expect(started).toHaveLength(1);
    for (const p of Object.values(replicas)) if (p.child.exitCode === null) p.child.kill("SIGTERM");
  });

  it("a suspended schedule runs on demand only; resumed, it runs at the next minute", async () => {
    const ns = await createNamespace(kubeConfig(), "ssch-susp");
    await operatorFor(ns);
    const pools = [{ source: { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" } }];
    await admin.create(ssch, schedule(ns, "susp", { schedule: "* * * * *", suspend: true, template: { nodePools: pools } }, { "aksnap.io/run-requested-at": "please" }));
    const o = await waitFor(ns, "susp", "on-demand run Succeeded", lastPhase("Succeeded"));
    expect(o.status?.nextScheduleTime).toBeUndefined();
    const onDemandRun = o.status?.lastRun?.id;
    // Past the next minute boundary: nothing scheduled ran.
    const toBoundary = 60_000 - (Date.now() % 60_000);
    await new Promise((r) => setTimeout(r, toBoundary + 4000));
    expect((await get(ns, "susp")).status?.lastRun?.id).toBe(onDemandRun);
    expect((await admin.list(nps, ns)).items).toHaveLength(1);
    await admin.mergePatch(ssch, ns, "susp", { spec: { suspend: false } });
    const resumed = await waitFor(ns, "susp", "next scheduled time set", (x) => x.status?.nextScheduleTime !== undefined, 20_000);
    const next = resumed.status?.nextScheduleTime ?? "";
    const op = running as InProcessOperator;
    await eventually(
      async () => ((await op.metric("aksnap_schedule_next_run_timestamp_seconds", { namespace: ns, name: "susp" })) === Date.parse(next) / 1000 ? true : undefined),
      "next-run metric",
      10_000,
    );
    const ran = await waitFor(ns, "susp", "the scheduled run Succeeded", (x) => x.status?.lastRun?.id !== onDemandRun && lastPhase("Succeeded")(x), 90_000);
    expect(ran.status?.lastRun?.id).toBe(runId(new Date(next)));
    expect(ran.status?.lastRun?.scheduledTime).toBe(next);
    const late = Date.parse(ran.status?.lastRun?.startedAt ?? "") - Date.parse(next);
    console.log(`[ssch] scheduled run started ${late} ms after its time`);
    expect(late).toBeLessThan(10_000);
  });
});
