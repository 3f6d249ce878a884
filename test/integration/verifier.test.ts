// Real readiness through the real CSI path: the upstream snapshot-controller and csi-snapshotter make
// VolumeSnapshots `readyToUse`, the project's CSI driver backs them with emulator snapshots, and the
// operator (with the chart's RBAC) verifies them against Azure. The point of the product: Kubernetes
// says ready while the Azure copy sits at 40 %; aksnap says not verified until the copy is complete.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.ts";
import { coreEventType, CSI_SUB, startCsiWorld, vsClassType, vscType, vsType, type CsiWorld } from "../harness/csi-world.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, type OperatorProcess, spawnOperator, startInProcess } from "../harness/operator.ts";

const POLL = "2s";
let w: CsiWorld;
let env: OperatorEnv;
let running: InProcessOperator | undefined;
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  w = await startCsiWorld();
  ({ env } = await operatorEnv(w.admin, kubeConfig(), w.emu, CSI_SUB, { prefix: "verify" }));
}, 180_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await w?.stop();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
  w.emu.control.clearFaults();
});

async function operatorFor(ns: string, extra: Record<string, string> = {}): Promise<InProcessOperator> {
  running = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": POLL, ...extra });
  return running;
}

const annotations = async (ns: string, name: string): Promise<Record<string, string>> => (await w.getVs(ns, name)).metadata.annotations ?? {};

/** Waits until the VolumeSnapshot's recorded verification matches. */
async function verification(ns: string, name: string, want: Record<string, string>, timeoutMs = 60_000): Promise<Record<string, string>> {
  return eventually(async () => {
    const a = await annotations(ns, name);
    return Object.entries(want).every(([k, v]) => a[k] === v) ? a : undefined;
  }, `${ns}/${name} annotations ${JSON.stringify(want)}`, timeoutMs);
}

const OPT_IN = { "aksnap.io/verify": "true" };
const handleGets = (handle: string): number => w.emu.control.countRequests({ method: "GET", path: handle.split("/").pop() ?? "" });

/** A bound claim and a VolumeSnapshot of it whose Azure copy is held at `percent`. */
async function heldSnapshot(ns: string, name: string, percent: number, labels: Record<string, string> = OPT_IN): Promise<string> {
  await w.boundClaim(ns, `claim-${name}`);
  await w.volumeSnapshot(ns, name, { claim: `claim-${name}`, labels });
  const { handle } = await w.contentWithHandle(ns, name);
  w.emu.control.setCompletion(handle, { percent, frozen: true });
  await eventually(async () => ((await w.getVs(ns, name)).status?.readyToUse === true ? true : undefined), `${ns}/${name} readyToUse`, 60_000);
  return handle;
}

describe("VolumeSnapshot verification through the real CSI controllers", () => {
  it("4555: readyToUse true while Azure holds the copy at 40 % is not verified; at 100 % it is, within one poll", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-4555");
    const handle = await heldSnapshot(ns, "nightly", 40);
    await operatorFor(ns);
    const a = await verification(ns, "nightly", { "aksnap.io/verification-reason": "CopyInProgress" });
    expect((await w.getVs(ns, "nightly")).status?.readyToUse).toBe(true);
    expect(a).toMatchObject({ "aksnap.io/verified": "false", "aksnap.io/completion-percent": "40", "aksnap.io/verification": "Waiting" });

    w.emu.control.setCompletion(handle, { percent: 100 });
    const released = Date.now();
    const getsAtRelease = handleGets(handle);
    await verification(ns, "nightly", { "aksnap.io/verified": "true" }, 30_000);
    const lag = Date.now() - released;
    console.log(`[verify] verified ${lag} ms after the copy reached 100 % (poll interval ${POLL})`);
    // Within one poll, counted in polls rather than ms: a loaded machine stretches the time, not the count.
    expect(handleGets(handle) - getsAtRelease).toBe(1);
    // The Event follows the annotation patch that the test just saw: wait for it rather than race it.
    const reasons = await eventually(async () => {
      const r = await eventReasons(ns, "nightly");
      return r.includes("SnapshotVerified") ? r : undefined;
    }, "the SnapshotVerified event");
    expect(reasons).toEqual(expect.arrayContaining(["VerificationWaiting", "SnapshotVerified"]));
    // None once verified.
    const after = handleGets(handle);
    await new Promise((r) => setTimeout(r, 5_000));
    expect(handleGets(handle)).toBe(after);
  });

  it("copyCompletionError fails with the ARM code", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-copyerr");
    const handle = await heldSnapshot(ns, "nightly", 55);
    w.emu.control.setCopyError(handle, { errorCode: "CopySourceNotFound", errorMessage: "the source disk was deleted during the copy" });
    await operatorFor(ns);
    const a = await verification(ns, "nightly", { "aksnap.io/verification": "Failed" });
    expect(a["aksnap.io/verification-reason"]).toBe("CopyFailed");
    expect(a["aksnap.io/verification-message"]).toContain("CopySourceNotFound");
    // The Event is recorded after the annotation patch the test just saw: wait for it rather than race it.
    await eventually(async () => ((await eventReasons(ns, "nightly")).includes("VerificationFailed") ? true : undefined), "the VerificationFailed event");
  });

  it("a VolumeSnapshotContent status.error (the driver's CreateSnapshot failed) fails with that error", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-vscerr");
    await w.boundClaim(ns, "data");
    w.emu.control.addFault({ method: "PUT", path: "/snapshots/snapshot-", action: { kind: "error", status: 400, code: "QuotaExceeded", message: "snapshot quota exceeded" } });
    await w.volumeSnapshot(ns, "nightly", { labels: OPT_IN });
    await operatorFor(ns);
    const a = await verification(ns, "nightly", { "aksnap.io/verification": "Failed" });
    expect(["ContentError", "VolumeSnapshotError"]).toContain(a["aksnap.io/verification-reason"]);
    expect(a["aksnap.io/verification-message"]).toContain("QuotaExceeded");
  });

  it("seed 003: a VolumeSnapshot of a missing PVC is reported with SnapshotContentCreationFailed", async () => {
    const ns = await createNamespace(kubeConfig(), "verify-noclaim");
    await w.volumeSnapshot(ns, "orphan", { claim: "does-not-exist", labels: OPT_IN });
    await operatorFor(ns);
    const a = await verification(ns, "orphan", { "aksnap.io/verification": "Failed" });
    expect(a["aksnap.io/verification-reason"]).toBe("SnapshotContentCreationFailed");
    expect(a["aksnap.io/verification-message"]).toContain("cannot get claim from snapshot");
  });

  it("the deadline: still copying after --verification-deadline is Failed DeadlineExceeded", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-deadline");
    await heldSnapshot(ns, "nightly", 40);
    await operatorFor(ns, { "verification-deadline": "15s" });
    const a = await verification(ns, "nightly", { "aksnap.io/verification-reason": "DeadlineExceeded" }, 45_000);
    expect(a["aksnap.io/verification"]).toBe("Failed");
    expect(a["aksnap.io/verification-message"]).toMatch(/not verified within 15s of creation: CopyInProgress/);
  });

  it("Instant Access: restorable but not durable is its own state, not verified", async () => {
    await w.csi.setBehaviour("instant-access");
    const ns = await createNamespace(kubeConfig(), "verify-ia");
    await heldSnapshot(ns, "nightly", 30);
    await operatorFor(ns);
    const a = await verification(ns, "nightly", { "aksnap.io/verification": "InstantAccess" });
    expect(a).toMatchObject({ "aksnap.io/verified": "false", "aksnap.io/verification-reason": "InstantAccessOnly", "aksnap.io/completion-percent": "30" });
  });

  it("a VolumeSnapshot deleted while waiting stops the polling", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-delete");
    const handle = await heldSnapshot(ns, "nightly", 40);
    await operatorFor(ns);
    await verification(ns, "nightly", { "aksnap.io/verification-reason": "CopyInProgress" });
    await w.admin.delete(vsType, ns, "nightly");
    await eventually(async () => ((await w.admin.tryGet(vsType, ns, "nightly")) === null ? true : undefined), "VolumeSnapshot gone");
    const before = handleGets(handle);
    await new Promise((r) => setTimeout(r, 6_000));
    // A poll that read the snapshot from the cache just before the delete reached it may still land
    // after `before`; polling on would be three GETs in 6 s.
    expect(handleGets(handle) - before).toBeLessThanOrEqual(1);
  });

  it("another driver is NotVerifiable; an unlabelled foreign snapshot is left alone", async () => {
    const ns = await createNamespace(kubeConfig(), "verify-scope");
    const otherClass = `other-${ns}`;
    await w.create(vsClassType, { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: otherClass }, driver: "ebs.csi.aws.com", deletionPolicy: "Retain" });
    const content = `content-${ns}`;
    await w.create(vscType, {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshotContent",
      metadata: { name: content },
      spec: { driver: "ebs.csi.aws.com", deletionPolicy: "Retain", source: { snapshotHandle: "snap-0123" }, volumeSnapshotRef: { namespace: ns, name: "ebs" }, volumeSnapshotClassName: otherClass },
    });
    await w.admin.create(vsType, {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name: "ebs", namespace: ns, labels: OPT_IN },
      spec: { volumeSnapshotClassName: otherClass, source: { volumeSnapshotContentName: content } },
    });
    await w.csi.setBehaviour("ready-on-provisioned");
    const handle = await heldSnapshot(ns, "velero-made", 40, { "velero.io/backup-name": "b1" });
    const driverGets = handleGets(handle); // the CSI driver's own reads while it made the snapshot
    await operatorFor(ns);
    const a = await verification(ns, "ebs", { "aksnap.io/verification": "NotVerifiable" });
    expect(a["aksnap.io/verification-reason"]).toBe("DriverNotVerifiable");
    await new Promise((r) => setTimeout(r, 3_000));
    expect(Object.keys(await annotations(ns, "velero-made")).filter((k) => k.startsWith("aksnap.io/"))).toEqual([]);
    expect(handleGets(handle)).toBe(driverGets);
  });
});

describe("an operator restart while 20 snapshots wait", () => {
  it("converges after SIGKILL, with no more than one GET per snapshot per poll interval", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "verify-kill");
    const handles: string[] = [];
    for (let i = 0; i < 20; i++) handles.push(await heldSnapshot(ns, `s${i}`, 40));
    w.emu.control.clearRequests();
    const extra = { "watch-namespaces": ns, "verification-poll-interval": "4s" };
    const first = spawnOperator(env, extra);
    procs.push(first);
    for (let i = 0; i < 20; i++) await verification(ns, `s${i}`, { "aksnap.io/verification-reason": "CopyInProgress" });
    first.child.kill("SIGKILL");
    await first.exited;
    const second = spawnOperator(env, extra);
    procs.push(second);
    try {
      await new Promise((r) => setTimeout(r, 6_000));
      for (const h of handles) w.emu.control.setCompletion(h, { percent: 100 });
      for (let i = 0; i < 20; i++) await verification(ns, `s${i}`, { "aksnap.io/verified": "true" });
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
    // Per handle, consecutive GETs are at least one interval apart, across the kill.
    let tightest = Infinity;
    for (const h of handles) {
      const name = h.split("/").pop() ?? "";
      const times = w.emu.control
        .requests({ method: "GET", path: name })
        .map((r) => Date.parse(r.time))
        .sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) tightest = Math.min(tightest, (times[i] ?? 0) - (times[i - 1] ?? 0));
    }
    console.log(`[verify] SIGKILL with 20 waiting: tightest gap between two GETs of one handle ${tightest} ms (interval 4000 ms)`);
    // Annotation times have second precision: allow that much.
    expect(tightest).toBeGreaterThanOrEqual(3_000);
  });
});

async function eventReasons(ns: string, name: string): Promise<string[]> {
  const events = (await w.admin.list(coreEventType, ns)).items as Array<KubeObject & { reason?: string; involvedObject?: { name?: string; kind?: string } }>;
  return events.filter((e) => e.involvedObject?.name === name && e.involvedObject.kind === "VolumeSnapshot").map((e) => e.reason ?? "");
}
