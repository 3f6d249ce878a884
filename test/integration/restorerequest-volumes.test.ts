// RestoreRequest volumes through the real CSI path: the upstream snapshot-controller, csi-snapshotter
// and csi-provisioner with the project's test CSI driver (disk.csi.azure.com) against the ARM
// emulator, and the operator's own verifier deciding which snapshots are verified. New PVCs only
// from verified snapshots, every conflict policy (an existing PVC is never
// touched), `latest` skipping an unverified run, the namespace grant, and hydration awaited.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Condition } from "../../src/conditions/conditions.ts";
import { RestoreRequestKind, type RestoreRequest } from "../../src/crds/restorerequest.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { startCsiPath, type CsiPath } from "../harness/csi.ts";
import { bindClaim } from "../harness/csi-world.ts";
import { createNamespace, eventually, kubeClient, kubeConfig, namespaceType } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, startInProcess } from "../harness/operator.ts";

const SUB = "00000000-0000-0000-0000-0000000000c6";
const RG = "rg-rr-vol";
const LOC = "westeurope";
const DRIVER = "disk.csi.azure.com";
const AKS_RG = "rg-rr-aks";
const AKS_CLUSTER = "aks-vol";
const GOLDEN = `/subscriptions/${SUB}/resourceGroups/${AKS_RG}/providers/Microsoft.ContainerService/snapshots/golden`;
const IMAGE = "AKSUbuntu-2204gen2containerd-202510.03.0";

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: "", version: "v1", plural, kind, namespaced });
const pvType = core("persistentvolumes", "PersistentVolume", false);
const pvcType = core("persistentvolumeclaims", "PersistentVolumeClaim");
const storageClassType: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const snap = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: "snapshot.storage.k8s.io", version: "v1", plural, kind, namespaced });
const vsType = snap("volumesnapshots", "VolumeSnapshot", true);
const vscType = snap("volumesnapshotcontents", "VolumeSnapshotContent", false);
const vsClassType = snap("volumesnapshotclasses", "VolumeSnapshotClass", false);
const rrType = RestoreRequestKind.resource;

type Pvc = KubeObject & { spec: { volumeName?: string; dataSource?: { name?: string } }; status?: { phase?: string } };

let emu: RunningEmulator;
let csi: CsiPath;
let admin: KubeClient;
let env: OperatorEnv;
let running: InProcessOperator | undefined;
const suffix = Date.now().toString(36);
const VS_CLASS = `aksnap-rr-${suffix}`;
const STORAGE_CLASS = `aksnap-rr-${suffix}`;
const clusterScoped: Array<[ResourceType, string]> = [];

beforeAll(async () => {
  emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 300, copyDurationMs: 1000, hydrationDurationMs: 8000 } });
  emu.control.addResourceGroup(SUB, RG, LOC);
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  // A cluster and a node-pool snapshot for requests that restore a pool and volumes together.
  emu.control.loadWorld({
    subscriptions: [
      {
        subscriptionId: SUB,
        resourceGroups: [
          {
            name: AKS_RG,
            location: LOC,
            managedClusters: [{ name: AKS_CLUSTER, location: LOC, kubernetesVersion: "1.33.3", agentPools: [{ name: "systempool", vmSize: "Standard_D4ds_v5", count: 1, mode: "System", nodeImageVersion: IMAGE }] }],
          },
        ],
      },
    ],
  });
  emu.control.putResource(GOLDEN, {
    location: LOC,
    properties: {
      creationData: { sourceResourceId: `/subscriptions/${SUB}/resourceGroups/${AKS_RG}/providers/Microsoft.ContainerService/managedClusters/${AKS_CLUSTER}/agentPools/systempool` },
      snapshotType: "NodePool",
      kubernetesVersion: "1.33.3",
      nodeImageVersion: IMAGE,
      vmSize: "Standard_D4ds_v5",
      osType: "Linux",
      osSku: "Ubuntu",
      enableFIPS: false,
    },
  });
  const kc = kubeConfig();
  admin = kubeClient(kc);
  csi = await startCsiPath({ kubeconfigPath: inject("kubeconfig"), arm: emu, subscriptionId: SUB, resourceGroup: RG, location: LOC, retryIntervalMax: "5s" });
  await csi.setBehaviour("wait-for-copy");
  await create(vsClassType, { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: VS_CLASS }, driver: DRIVER, deletionPolicy: "Delete" });
  await create(storageClassType, {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS },
    provisioner: DRIVER,
    parameters: { resourceGroup: RG, skuName: "Premium_LRS" },
    volumeBindingMode: "Immediate",
    reclaimPolicy: "Delete",
  });
  ({ env } = await operatorEnv(admin, kc, emu, SUB, { prefix: "rrv" }));
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

async function create(rt: ResourceType, obj: KubeObject): Promise<KubeObject> {
  const out = await admin.create(rt, obj);
  if (!rt.namespaced) clusterScoped.push([rt, obj.metadata.name]);
  return out;
}

async function operatorFor(namespaces: string[]): Promise<void> {
  running = await startInProcess(env, { "watch-namespaces": namespaces.join(","), "stalled-recheck-period": "2s", "verification-poll-interval": "1s" });
}

/** A PVC bound to a static PV over an emulator disk (the volume to back up). */
async function boundClaim(ns: string, claim: string): Promise<void> {
  await bindClaim({ admin, emu, create, where: { subscriptionId: SUB, resourceGroup: RG, location: LOC } }, ns, claim);
}

/**
 * A VolumeSnapshot through the real CSI path, verified by the operator's own verifier (opted in):
 * `verified` lets the Azure copy finish, so it is ready and verified; `held` keeps the copy at 40 %,
 * so the verifier records `aksnap.io/verified: "false"` (Waiting) and it never becomes restorable.
 */
async function snapshotOf(ns: string, claim: string, name: string, want: "verified" | "held", labels: Record<string, string> = {}): Promise<void> {
  if (want === "held") emu.control.setTiming({ copyDurationMs: 600_000 });
  await admin.create(vsType, {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace: ns, labels: { "aksnap.io/verify": "true", ...labels } },
    spec: { volumeSnapshotClassName: VS_CLASS, source: { persistentVolumeClaimName: claim } },
  });
  const handle = await eventually(async () => {
    const content = (await admin.get(vsType, ns, name)).status as { boundVolumeSnapshotContentName?: string } | undefined;
    if (!content?.boundVolumeSnapshotContentName) return undefined;
    return ((await admin.get(vscType, undefined, content.boundVolumeSnapshotContentName)).status as { snapshotHandle?: string } | undefined)?.snapshotHandle;
  }, `${ns}/${name} snapshot handle`, 90_000);
  if (want === "held") {
    emu.control.setCompletion(handle, { percent: 40, frozen: true });
    emu.control.setTiming({ copyDurationMs: 1000 });
  }
  const verdict = want === "verified" ? "true" : "false";
  await eventually(async () => (await admin.get(vsType, ns, name)).metadata.annotations?.["aksnap.io/verified"] === verdict || undefined, `${ns}/${name} verified=${verdict} by the verifier`, 90_000);
}

function rr(ns: string, name: string, volumes: Record<string, unknown>): KubeObject {
  return { apiVersion: "aksnap.io/v1alpha1", kind: "RestoreRequest", metadata: { name, namespace: ns }, spec: { volumes } };
}

async function get(ns: string, name: string): Promise<RestoreRequest> {
  const p = RestoreRequestKind.parse(await admin.get(rrType, ns, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

const cond = (o: RestoreRequest, type: string): Condition | undefined => o.status?.conditions?.find((c) => c.type === type);

async function waitFor(ns: string, name: string, what: string, pred: (o: RestoreRequest) => boolean, timeoutMs = 120_000): Promise<RestoreRequest> {
  return eventually(async () => {
    const o = await get(ns, name);
    return pred(o) ? o : undefined;
  }, `${ns}/${name} ${what}`, timeoutMs, 200);
}

const phase = (p: string) => (o: RestoreRequest): boolean => o.status?.phase === p;
const pvcNames = async (ns: string): Promise<string[]> => (await admin.list(pvcType, ns)).items.map((p) => p.metadata.name).sort();

describe("RestoreRequest volumes", () => {
  it("Rename: a new PVC from a verified snapshot beside the existing one, hydration awaited with progress in status", async () => {
    const ns = await createNamespace(kubeConfig(), "rrv-rename");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    await snapshotOf(ns, "data", "nightly", "verified");
    const before = (await admin.get(pvcType, ns, "data")).metadata.resourceVersion;
    const disksBefore = new Set(emu.control.listResources("disk").map((r) => r.id));
    await admin.create(rrType, rr(ns, "restore", { from: { volumeSnapshotName: "nightly" }, storageClassName: STORAGE_CLASS, conflictPolicy: "Rename" }));
    // Hold the new disk's hydration at 40 %: left to run, its 8 s could be over before a loaded
    // machine's provisioner, binder and operator got to look, and Hydrating would never be seen.
    const restored = await eventually(async () => emu.control.listResources("disk").find((r) => !disksBefore.has(r.id))?.id, "the restored disk", 120_000, 20);
    emu.control.setCompletion(restored, { percent: 40, frozen: true });
    const hydrating = await waitFor(ns, "restore", "a volume Hydrating", (o) => o.status?.volumes?.[0]?.phase === "Hydrating" && (o.status.volumes[0].completionPercent ?? 100) < 100);
    expect(hydrating.status?.phase).toBe("Running");
    expect(cond(hydrating, "Reconciling")?.reason).toBe("RestoringVolumes");
    emu.control.setCompletion(restored, { percent: 100 });
    const o = await waitFor(ns, "restore", "Succeeded", phase("Succeeded"));
    expect(o.status?.volumes).toEqual([expect.objectContaining({ pvc: "data-restored", sourcePvc: "data", volumeSnapshot: "nightly", phase: "Succeeded", completionPercent: 100 })]);
    expect(kstatus(await admin.get(rrType, ns, "restore")).status).toBe("Current");
    const pvc = (await admin.get(pvcType, ns, "data-restored")) as Pvc;
    expect(pvc.spec.dataSource?.name).toBe("nightly");
    expect(pvc.metadata.ownerReferences).toBeUndefined();
    const pv = (await admin.get(pvType, undefined, pvc.spec.volumeName ?? "")) as KubeObject & { spec: { csi?: { volumeHandle?: string } } };
    clusterScoped.push([pvType, pv.metadata.name]);
    const disk = emu.control.getResource(pv.spec.csi?.volumeHandle ?? "")?.["properties"] as { completionPercent?: number };
    expect(disk.completionPercent).toBe(100);
    expect((await admin.get(pvcType, ns, "data")).metadata.resourceVersion).toBe(before);
    // Deleting the request keeps the restored PVC.
    await admin.delete(rrType, ns, "restore");
    await new Promise((r) => setTimeout(r, 1000));
    expect(await pvcNames(ns)).toEqual(["data", "data-restored"]);
  });

  it("Fail (default): an existing PVC fails the preflight; nothing is created and theirs is untouched", async () => {
    const ns = await createNamespace(kubeConfig(), "rrv-fail");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    await snapshotOf(ns, "data", "nightly", "verified");
    const before = (await admin.get(pvcType, ns, "data")).metadata.resourceVersion;
    await admin.create(rrType, rr(ns, "restore", { from: { volumeSnapshotName: "nightly" }, storageClassName: STORAGE_CLASS }));
    const o = await waitFor(ns, "restore", "Failed", phase("Failed"));
    expect(cond(o, "Stalled")).toMatchObject({ status: "True", reason: "PVCAlreadyExists" });
    expect(kstatus(await admin.get(rrType, ns, "restore")).status).toBe("Failed");
    expect(await pvcNames(ns)).toEqual(["data"]);
    expect((await admin.get(pvcType, ns, "data")).metadata.resourceVersion).toBe(before);
  });

  it("Skip: the existing PVC is left as is and counts as skipped", async () => {
    const ns = await createNamespace(kubeConfig(), "rrv-skip");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    await snapshotOf(ns, "data", "nightly", "verified");
    const before = (await admin.get(pvcType, ns, "data")).metadata.resourceVersion;
    await admin.create(rrType, rr(ns, "restore", { from: { volumeSnapshotName: "nightly" }, storageClassName: STORAGE_CLASS, conflictPolicy: "Skip" }));
    const o = await waitFor(ns, "restore", "Succeeded", phase("Succeeded"));
    expect(o.status?.volumes?.map((v) => `${v.pvc}=${v.phase}`)).toEqual(["data=Skipped"]);
    expect(await pvcNames(ns)).toEqual(["data"]);
    expect((await admin.get(pvcType, ns, "data")).metadata.resourceVersion).toBe(before);
  });

  it("an unverified VolumeSnapshot is never restored: the request waits (Pending) and creates nothing", async () => {
    const ns = await createNamespace(kubeConfig(), "rrv-unverified");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    await snapshotOf(ns, "data", "copying", "held");
    await admin.create(rrType, rr(ns, "restore", { from: { volumeSnapshotName: "copying" }, storageClassName: STORAGE_CLASS, conflictPolicy: "Rename" }));
    const o = await waitFor(ns, "restore", "Pending", phase("Pending"));
    expect(cond(o, "Reconciling")?.reason).toBe("WaitingForSnapshot");
    expect(o.status?.preflight?.find((c) => c.name === "SnapshotsVerified")?.result).toBe("Pending");
    await new Promise((r) => setTimeout(r, 2000));
    expect(await pvcNames(ns)).toEqual(["data"]);
  });

  it.each<[string, (ns: string) => Promise<Record<string, unknown>>, string]>([
    [
      "a VolumeSnapshot whose verification Failed",
      async (ns) => {
        // Opted out of the verifier, so the verdict recorded here (as the verifier records a failed copy) stays.
        await admin.create(vsType, {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshot",
          metadata: { name: "broken", namespace: ns, labels: { "aksnap.io/verify": "false" } },
          spec: { volumeSnapshotClassName: VS_CLASS, source: { persistentVolumeClaimName: "data" } },
        });
        const annotations = { "aksnap.io/verified": "false", "aksnap.io/verification": "Failed", "aksnap.io/verification-reason": "CopyFailed" };
        await admin.mergePatch(vsType, ns, "broken", { metadata: { annotations } });
        return { volumeSnapshotName: "broken" };
      },
      "SnapshotNotVerified",
    ],
    ["a VolumeSnapshot that does not exist", () => Promise.resolve({ volumeSnapshotName: "nothing-here" }), "SnapshotNotFound"],
    ["a schedule with no fully verified run", () => Promise.resolve({ schedule: "never-ran", run: "latest" }), "SnapshotNotVerified"],
  ])("preflight SnapshotsVerified refuses %s and creates nothing", async (_n, from, reason) => {
    const ns = await createNamespace(kubeConfig(), "rrv-notverified");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    const f = await from(ns);
    await admin.create(rrType, rr(ns, "restore", { from: f, storageClassName: STORAGE_CLASS, conflictPolicy: "Rename" }));
    const o = await waitFor(ns, "restore", "Failed", phase("Failed"));
    expect(cond(o, "Stalled")).toMatchObject({ status: "True", reason });
    expect(o.status?.preflight?.find((c) => c.name === "SnapshotsVerified")?.result).toBe("Failed");
    expect(await pvcNames(ns)).toEqual(["data"]);
  });

  it("run latest skips the newest run, which has an unverified snapshot, and restores the newest fully verified run", async () => {
    const ns = await createNamespace(kubeConfig(), "rrv-latest");
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    const label = (run: string): Record<string, string> => ({ "aksnap.io/schedule": "nightly", "aksnap.io/run": run });
    await snapshotOf(ns, "data", "nightly-data-202611270200", "verified", label("202611270200"));
    await snapshotOf(ns, "data", "nightly-data-202611280200", "held", label("202611280200"));
    await admin.create(rrType, rr(ns, "restore", { from: { schedule: "nightly", run: "latest" }, storageClassName: STORAGE_CLASS, conflictPolicy: "Rename", waitForHydration: false }));
    const o = await waitFor(ns, "restore", "Succeeded", phase("Succeeded"));
    expect(o.status?.volumes?.map((v) => `${v.pvc}<-${v.volumeSnapshot}`)).toEqual(["data-restored<-nightly-data-202611270200"]);
    expect(((await admin.get(pvcType, ns, "data-restored")) as Pvc).spec.dataSource?.name).toBe("nightly-data-202611270200");
  });

  // A node pool restored first keeps the request Running for seconds after the preflight checked the
  // PVC names: a PVC someone else creates then is what the create must respect. The source PVC is
  // gone (the disaster case), so the planned name is free at preflight time.
  it.each<["Fail" | "Skip" | "Rename", string, string[]]>([
    ["Fail", "Failed", ["data"]],
    ["Skip", "Succeeded", ["data"]],
    ["Rename", "Succeeded", ["data", "data-restored"]],
  ])("conflictPolicy %s: a PVC created by someone else between the preflight and the create is left as is", async (policy, want, names) => {
    const ns = await createNamespace(kubeConfig(), `rrv-race-${policy}`);
    await operatorFor([ns]);
    await boundClaim(ns, "data");
    await snapshotOf(ns, "data", "nightly", "verified");
    await admin.delete(pvcType, ns, "data");
    await eventually(async () => ((await admin.tryGet(pvcType, ns, "data")) ? undefined : true), "the source PVC gone");
    emu.control.setTiming({ agentPoolOperationMs: 6000 });
    await admin.create(rrType, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "RestoreRequest",
      metadata: { name: "both", namespace: ns },
      spec: {
        nodePool: { snapshotId: GOLDEN, mode: "CreateNodePool", target: { resourceGroup: AKS_RG, clusterName: AKS_CLUSTER, agentPoolName: `race${policy.toLowerCase()}` }, count: 1 },
        volumes: { from: { volumeSnapshotName: "nightly" }, storageClassName: STORAGE_CLASS, conflictPolicy: policy, waitForHydration: false },
      },
    });
    const during = await waitFor(ns, "both", "the node pool operation running", (o) => o.status?.nodePool?.operation !== undefined);
    expect(during.status?.volumes?.map((v) => `${v.pvc}=${v.phase}`)).toEqual(["data=Pending"]);
    // Someone else takes the planned name now.
    await admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: ns, labels: { owner: "someone-else" } },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "none" },
    });
    const theirs = (await admin.get(pvcType, ns, "data")).metadata.resourceVersion;
    const o = await waitFor(ns, "both", want, phase(want));
    expect(o.status?.nodePool?.completedAt).toBeDefined();
    expect(await pvcNames(ns)).toEqual(names);
    const after = await admin.get(pvcType, ns, "data");
    expect(after.metadata.resourceVersion).toBe(theirs);
    expect(after.metadata.labels).toEqual({ owner: "someone-else" });
    if (policy === "Fail") expect(cond(o, "Stalled")).toMatchObject({ reason: "VolumeRestoreFailed" });
    if (policy === "Skip") expect(o.status?.volumes?.map((v) => `${v.pvc}=${v.phase}`)).toEqual(["data=Skipped"]);
    if (policy === "Rename") expect(o.status?.volumes?.map((v) => `${v.pvc}=${v.phase}`)).toEqual(["data-restored=Succeeded"]);
  });

  it("across namespaces: refused without the source namespace's grant, restored through a bound Retain content with it, and the restore's temporary objects cleaned up", async () => {
    const source = await createNamespace(kubeConfig(), "rrv-src");
    const target = await createNamespace(kubeConfig(), "rrv-dst");
    await operatorFor([source, target]);
    await boundClaim(source, "data");
    await snapshotOf(source, "data", "nightly", "verified");
    const sourceVs = await admin.get(vsType, source, "nightly");
    const sourceContent = (sourceVs.status as { boundVolumeSnapshotContentName?: string }).boundVolumeSnapshotContentName ?? "";
    const contentsBefore = (await admin.list(vscType)).items.length;

    await admin.create(rrType, rr(target, "denied", { from: { volumeSnapshotName: "nightly", namespace: source }, storageClassName: STORAGE_CLASS }));
    const denied = await waitFor(target, "denied", "Failed", phase("Failed"));
    expect(cond(denied, "Stalled")).toMatchObject({ reason: "RestoreNotGranted" });
    expect(cond(denied, "Stalled")?.message).toContain(`aksnap.io/restore-to-namespaces must list ${target}`);
    expect(await pvcNames(target)).toEqual([]);
    expect((await admin.list(vscType)).items.length).toBe(contentsBefore);

    await admin.mergePatch(namespaceType, undefined, source, { metadata: { annotations: { "aksnap.io/restore-to-namespaces": `other, ${target}` } } });
    await admin.create(rrType, rr(target, "granted", { from: { volumeSnapshotName: "nightly", namespace: source }, storageClassName: STORAGE_CLASS }));
    const o = await waitFor(target, "granted", "Succeeded", phase("Succeeded"));
    expect(o.status?.volumes).toEqual([expect.objectContaining({ pvc: "data", phase: "Succeeded", completionPercent: 100 })]);
    const pvc = (await admin.get(pvcType, target, "data")) as Pvc;
    expect(pvc.status?.phase).toBe("Bound");
    clusterScoped.push([pvType, pvc.spec.volumeName ?? ""]);
    // The bound copy the restore made is gone again; the source snapshot and its content are not.
    expect((await admin.list(vsType, target)).items).toEqual([]);
    expect((await admin.list(vscType)).items.filter((c) => c.metadata.annotations?.["aksnap.io/restore-uid"] === o.metadata.uid)).toEqual([]);
    expect(await admin.tryGet(vsType, source, "nightly")).not.toBeNull();
    expect(await admin.tryGet(vscType, undefined, sourceContent)).not.toBeNull();
  });
});
