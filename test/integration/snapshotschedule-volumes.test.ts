// SnapshotSchedule volume targets through the real CSI path: the upstream snapshot-controller and
// csi-snapshotter, the test CSI driver `disk.csi.azure.com` backed by the ARM emulator, and the
// operator. A child VolumeSnapshot counts only when the verifier says so (aksnap.io/verified), never
// on readyToUse: the driver here says readyToUse while the Azure copy is still at 40 % (Azure/AKS 4555).
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { SnapshotScheduleKind, type SnapshotSchedule } from "../../src/crds/snapshotschedule.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { startCsiPath, type CsiPath } from "../harness/csi.ts";
import { bindClaim } from "../harness/csi-world.ts";
import { createNamespace, eventually, kubeClient, kubeConfig } from "../harness/kube.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, startInProcess } from "../harness/operator.ts";

const SUB = "00000000-0000-0000-0000-0000000000c6";
const RG = "rg-ssch-vol";
const LOC = "westeurope";
const DRIVER = "disk.csi.azure.com";
const ssch = SnapshotScheduleKind.resource;
const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: "", version: "v1", plural, kind, namespaced });
const pvcType = core("persistentvolumeclaims", "PersistentVolumeClaim");
const snap = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: "snapshot.storage.k8s.io", version: "v1", plural, kind, namespaced });
const vsType = snap("volumesnapshots", "VolumeSnapshot", true);
const vscType = snap("volumesnapshotcontents", "VolumeSnapshotContent", false);
const vsClassType = snap("volumesnapshotclasses", "VolumeSnapshotClass", false);
const VS_CLASS = `aksnap-ssch-${Date.now().toString(36)}`;

let emu: RunningEmulator;
let csi: CsiPath;
let admin: KubeClient;
let env: OperatorEnv;
let running: InProcessOperator | undefined;
const clusterScoped: Array<[ResourceType, string]> = [];

beforeAll(async () => {
  emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 300, copyDurationMs: 600_000 } });
  emu.control.addResourceGroup(SUB, RG, LOC);
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  const kc = kubeConfig();
  admin = kubeClient(kc);
  csi = await startCsiPath({ kubeconfigPath: inject("kubeconfig"), arm: emu, subscriptionId: SUB, resourceGroup: RG, location: LOC, retryIntervalMax: "5s" });
  await admin.create(vsClassType, { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: VS_CLASS }, driver: DRIVER, deletionPolicy: "Delete" });
  clusterScoped.push([vsClassType, VS_CLASS]);
  ({ env } = await operatorEnv(admin, kc, emu, SUB, { prefix: "sschv" }));
}, 180_000);

afterAll(async () => {
  for (const [rt, name] of clusterScoped.reverse()) await admin?.delete(rt, undefined, name).catch(() => undefined);
  await csi?.stop();
  await emu?.stop();
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** The operator runs the VolumeSnapshot verifier (it registers its metrics): volume children depend on it. */
const verifierRuns = (op: InProcessOperator): boolean => op.operator.registry.getSingleMetric("aksnap_volumesnapshots") !== undefined;

/** An Azure disk and a static PV for it, bound to a labelled PVC. */
async function boundClaim(ns: string, claim: string, labels: Record<string, string>): Promise<string> {
  const own = async (rt: ResourceType, obj: KubeObject): Promise<void> => {
    await admin.create(rt, obj);
    clusterScoped.push([rt, obj.metadata.name]);
  };
  return (await bindClaim({ admin, emu, create: own, where: { subscriptionId: SUB, resourceGroup: RG, location: LOC } }, ns, claim, labels)).diskId;
}

async function get(ns: string, name: string): Promise<SnapshotSchedule> {
  const p = SnapshotScheduleKind.parse(await admin.get(ssch, ns, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

async function waitFor(ns: string, name: string, what: string, pred: (o: SnapshotSchedule) => boolean, timeoutMs = 60_000): Promise<SnapshotSchedule> {
  return eventually(async () => {
    const o = await get(ns, name);
    return pred(o) ? o : undefined;
  }, `${ns}/${name} ${what}`, timeoutMs, 200);
}

function volumeSchedule(ns: string, name: string): KubeObject {
  return {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "SnapshotSchedule",
    metadata: { name, namespace: ns, annotations: { "aksnap.io/run-requested-at": "go" } },
    spec: { template: { volumes: { pvcSelector: { matchLabels: { app: "db" } }, volumeSnapshotClassName: VS_CLASS } } },
  };
}

/** The Azure snapshot behind a VolumeSnapshot, once csi-snapshotter recorded its handle. */
async function handleOf(ns: string, vs: string): Promise<string> {
  return eventually(async () => {
    const v = (await admin.get(vsType, ns, vs)) as KubeObject & { status?: { boundVolumeSnapshotContentName?: string } };
    const c = v.status?.boundVolumeSnapshotContentName;
    if (!c) return undefined;
    return ((await admin.get(vscType, undefined, c)) as KubeObject & { status?: { snapshotHandle?: string } }).status?.snapshotHandle;
  }, `${ns}/${vs} snapshot handle`, 60_000);
}

describe("SnapshotSchedule volume targets (real CSI path)", () => {
  it("a child VolumeSnapshot readyToUse with its Azure copy at 40 % does not make the run Succeeded; at 100 % (verified) it does", async () => {
    await csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "sschv-40");
    await boundClaim(ns, "data", { app: "db" });
    await boundClaim(ns, "other", { app: "web" }); // not selected
    running = await startInProcess(env, { "watch-namespaces": ns });
    await admin.create(ssch, volumeSchedule(ns, "vols"));
    const o = await waitFor(ns, "vols", "a volume child", (x) => (x.status?.lastRun?.results ?? []).length > 0);
    const child = o.status?.lastRun?.results?.[0];
    expect(child).toMatchObject({ kind: "VolumeSnapshot", target: "data" });
    const vs = await admin.get(vsType, ns, child?.name ?? "");
    expect(vs.metadata.labels).toMatchObject({ "aksnap.io/schedule": "vols", "aksnap.io/run": o.status?.lastRun?.id, "app.kubernetes.io/managed-by": "aksnap" });
    expect(vs["spec"]).toEqual({ source: { persistentVolumeClaimName: "data" }, volumeSnapshotClassName: VS_CLASS });
    const handle = await handleOf(ns, child?.name ?? "");
    emu.control.setCompletion(handle, { percent: 40, frozen: true });
    await eventually(async () => (((await admin.get(vsType, ns, child?.name ?? "")) as KubeObject & { status?: { readyToUse?: boolean } }).status?.readyToUse ? true : undefined), "readyToUse", 60_000);
    // Several polls with Kubernetes saying ready and Azure at 40 %: still running.
    await new Promise((r) => setTimeout(r, 11_000));
    const held = await get(ns, "vols");
    expect(held.status?.lastRun?.phase).toBe("Running");
    expect(held.status?.lastRun?.results?.[0]?.phase).toBe("Pending");
    expect(held.status?.lastRun?.targets).toBe(1);
    expect(verifierRuns(running)).toBe(true);
    emu.control.setCompletion(handle, { percent: 100 });
    const released = Date.now();
    const done = await waitFor(ns, "vols", "run Succeeded", (x) => x.status?.lastRun?.phase === "Succeeded", 60_000);
    console.log(`[ssch-volumes] run Succeeded ${Date.now() - released} ms after the Azure copy reached 100 % (verifier poll + schedule poll)`);
    expect(done.status?.lastRun?.results?.[0]?.phase).toBe("Verified");
  });

  it("seed 003: the child's PVC is gone when the snapshot-controller gets to it → a failed target with the verifier's reason", async () => {
    await csi.setBehaviour("wait-for-copy");
    const ns = await createNamespace(kubeConfig(), "sschv-nopvc");
    await boundClaim(ns, "data", { app: "db" });
    running = await startInProcess(env, { "watch-namespaces": ns, "verification-deadline": "10m" });
    expect(verifierRuns(running)).toBe(true);
    // A slow snapshot-controller: the PVC is deleted between the run's selection and the snapshot.
    const sc = csi.pids()[1] ?? 0;
    process.kill(sc, "SIGSTOP");
    try {
      await admin.create(ssch, volumeSchedule(ns, "gone"));
      await waitFor(ns, "gone", "a volume child", (x) => (x.status?.lastRun?.results ?? []).length > 0);
      await admin.delete(pvcType, ns, "data");
      await eventually(async () => ((await admin.tryGet(pvcType, ns, "data")) ? undefined : true), "PVC gone", 30_000);
    } finally {
      process.kill(sc, "SIGCONT");
    }
    const o = await waitFor(ns, "gone", "run Failed", (x) => x.status?.lastRun?.phase === "Failed", 90_000);
    const r = o.status?.lastRun?.results?.[0];
    expect(r).toMatchObject({ kind: "VolumeSnapshot", target: "data", phase: "Failed" });
    expect(r?.message).toMatch(/^VerificationFailed: /);
    expect(r?.message).toContain("cannot get claim from snapshot");
  });
});
