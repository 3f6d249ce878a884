// The real CSI snapshot path end to end: the upstream snapshot-controller, csi-snapshotter and
// csi-provisioner against the real kube-apiserver (+ kube-controller-manager binding PVs), the
// project's test CSI driver on a unix socket, and the ARM emulator behind it. It shows the gap aksnap
// exists for: Kubernetes saying readyToUse while the Azure snapshot still copies (Azure/AKS 4555).
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { computeClient, FAST_POLL } from "../contract/helpers/arm-clients.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { startCsiPath, type CsiPath } from "../harness/csi.ts";
import { createNamespace, eventually, kubeClient, kubeConfig } from "../harness/kube.ts";

const SUB = "00000000-0000-0000-0000-0000000000c5";
const RG = "rg-csi-it";
const LOC = "westeurope";
const DRIVER = "disk.csi.azure.com";

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: "", version: "v1", plural, kind, namespaced });
const pvType = core("persistentvolumes", "PersistentVolume", false);
const pvcType = core("persistentvolumeclaims", "PersistentVolumeClaim");
const eventType = core("events", "Event");
const storageClassType: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const snap = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: "snapshot.storage.k8s.io", version: "v1", plural, kind, namespaced });
const vsType = snap("volumesnapshots", "VolumeSnapshot", true);
const vscType = snap("volumesnapshotcontents", "VolumeSnapshotContent", false);
const vsClassType = snap("volumesnapshotclasses", "VolumeSnapshotClass", false);

interface VolumeSnapshot extends KubeObject {
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; error?: { message?: string } };
}
interface Content extends KubeObject {
  status?: { readyToUse?: boolean; snapshotHandle?: string };
}

let emu: RunningEmulator;
let csi: CsiPath;
let admin: KubeClient;
const suffix = Date.now().toString(36);
const VS_CLASS = `aksnap-csi-${suffix}`;
const STORAGE_CLASS = `aksnap-csi-${suffix}`;
const clusterScoped: Array<[ResourceType, string]> = [];

beforeAll(async () => {
  // Copies and hydration long enough to be seen mid-way; the tests hold or release them explicitly.
  emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 300, copyDurationMs: 120_000, hydrationDurationMs: 60_000 } });
  emu.control.addResourceGroup(SUB, RG, LOC);
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  admin = kubeClient(kubeConfig());
  // The sidecars run with the admin kubeconfig the global setup wrote (cluster-wide, like their RBAC).
  csi = await startCsiPath({ kubeconfigPath: inject("kubeconfig"), arm: emu, subscriptionId: SUB, resourceGroup: RG, location: LOC });
  console.log(`[csi-path] driver + snapshot-controller + csi-snapshotter + csi-provisioner up in ${csi.startMs} ms`);
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
}, 180_000);

afterAll(async () => {
  for (const [rt, name] of clusterScoped.reverse()) await admin?.delete(rt, undefined, name).catch(() => undefined);
  await csi?.stop();
  await emu?.stop();
});

async function create(rt: ResourceType, obj: KubeObject): Promise<KubeObject> {
  const out = await admin.create(rt, obj);
  if (!rt.namespaced) clusterScoped.push([rt, obj.metadata.name]);
  return out;
}

/** An Azure disk in the emulator and a static PV for it (volumeHandle = its ARM id) bound to a PVC. */
async function boundClaim(ns: string, claim = "data"): Promise<{ diskId: string }> {
  const disk = await computeClient(emu, SUB).disks.createOrUpdate(
    RG,
    `disk-${ns}`,
    { location: LOC, sku: { name: "Premium_LRS" }, diskSizeGB: 10, creationData: { createOption: "Empty" } },
    FAST_POLL,
  );
  const diskId = disk.id ?? "";
  const pv = `pv-${ns}`;
  await create(pvType, {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: pv },
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      claimRef: { namespace: ns, name: claim },
      csi: { driver: DRIVER, volumeHandle: diskId, fsType: "ext4" },
    },
  });
  await admin.create(pvcType, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace: ns },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, storageClassName: "", volumeName: pv },
  });
  await eventually(async () => ((await admin.get(pvcType, ns, claim)) as KubeObject & { status?: { phase?: string } }).status?.phase === "Bound" || undefined, `${ns}/${claim} Bound`);
  return { diskId };
}

async function volumeSnapshot(ns: string, name: string, claim = "data"): Promise<void> {
  await admin.create(vsType, {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace: ns },
    spec: { volumeSnapshotClassName: VS_CLASS, source: { persistentVolumeClaimName: claim } },
  });
}

const getVs = async (ns: string, name: string): Promise<VolumeSnapshot> => (await admin.get(vsType, ns, name)) as VolumeSnapshot;

/** The VolumeSnapshotContent once csi-snapshotter has recorded the driver's snapshot handle. */
async function contentWithHandle(ns: string, name: string): Promise<{ content: Content; handle: string }> {
  return eventually(async () => {
    const vscName = (await getVs(ns, name)).status?.boundVolumeSnapshotContentName;
    if (!vscName) return undefined;
    const content = (await admin.get(vscType, undefined, vscName)) as Content;
    const handle = content.status?.snapshotHandle;
    return handle ? { content, handle } : undefined;
  }, `${ns}/${name} content with a snapshotHandle`, 60_000);
}

const armProps = (id: string): Record<string, unknown> => (emu.control.getResource(id)?.["properties"] ?? {}) as Record<string, unknown>;

describe("VolumeSnapshot through the real snapshot-controller and csi-snapshotter", () => {
  it("ready-on-provisioned (Azure/AKS 4555): Kubernetes says readyToUse while the Azure snapshot is still copying", async () => {
    await csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "csi-4555");
    const { diskId } = await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const vs = await eventually(async () => {
      const v = await getVs(ns, "nightly");
      return v.status?.readyToUse === true ? v : undefined;
    }, `${ns}/nightly readyToUse`, 60_000);
    const { content, handle } = await contentWithHandle(ns, "nightly");
    // Both at once: the Kubernetes objects say ready, ARM says the copy is not done.
    expect(vs.status?.readyToUse).toBe(true);
    expect(content.status?.readyToUse).toBe(true);
    expect(handle).toMatch(new RegExp(`^/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft\\.Compute/snapshots/snapshot-${vs.metadata.uid ?? "?"}$`, "i"));
    const az = armProps(handle);
    expect(az["provisioningState"]).toBe("Succeeded");
    expect(az["completionPercent"]).toBeLessThan(100);
    expect(az["snapshotAccessState"]).toBe("Pending");
    expect(az["incremental"]).toBe(true);
    expect((az["creationData"] as { sourceResourceId?: string }).sourceResourceId?.toLowerCase()).toBe(diskId.toLowerCase());
  });

  it("wait-for-copy: readyToUse stays false while the copy is held at 40 %, csi-snapshotter re-asks, and it turns true at 100 %", async () => {
    await csi.setBehaviour("wait-for-copy");
    const ns = await createNamespace(kubeConfig(), "csi-wait");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    emu.control.setCompletion(handle, { percent: 40, frozen: true });
    const uid = (await getVs(ns, "nightly")).metadata.uid ?? "";
    const asked = async (ready: boolean): Promise<number> =>
      (await csi.calls()).filter((c) => c.method === "CreateSnapshot" && c.subject === `snapshot-${uid}` && c.readyToUse === ready).length;
    // csi-snapshotter keeps re-calling CreateSnapshot (idempotent by name) while the driver says not ready.
    await eventually(async () => ((await asked(false)) >= 3 ? true : undefined), "three not-ready CreateSnapshot answers", 60_000);
    expect((await getVs(ns, "nightly")).status?.readyToUse).toBe(false);
    expect(armProps(handle)["completionPercent"]).toBe(40);

    emu.control.setCompletion(handle, { percent: 100 });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), `${ns}/nightly readyToUse after the copy`, 60_000);
    expect(await asked(true)).toBeGreaterThanOrEqual(1);
    // One Azure snapshot for all those calls.
    expect(emu.control.countRequests({ method: "PUT", path: `snapshots/snapshot-${uid}` })).toBe(1);
  });

  it("instant-access: readyToUse while the Azure snapshot is restorable through its instant-access window, not yet durable", async () => {
    await csi.setBehaviour("instant-access");
    const ns = await createNamespace(kubeConfig(), "csi-ia");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), `${ns}/nightly readyToUse`, 60_000);
    const { handle } = await contentWithHandle(ns, "nightly");
    const az = armProps(handle);
    expect(az["snapshotAccessState"]).toBe("InstantAccess");
    expect(az["completionPercent"]).toBeLessThan(100);
    expect((az["creationData"] as { instantAccessDurationMinutes?: number }).instantAccessDurationMinutes).toBe(60);
  });

  it("a VolumeSnapshot of a missing PVC gets SnapshotContentCreationFailed \"cannot get claim from snapshot\" (seed 003)", async () => {
    const ns = await createNamespace(kubeConfig(), "csi-noclaim");
    await volumeSnapshot(ns, "orphan", "does-not-exist");
    const ev = await eventually(async () => {
      const events = (await admin.list(eventType, ns)).items as Array<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>;
      return events.find((e) => e.involvedObject?.name === "orphan" && e.reason === "SnapshotContentCreationFailed");
    }, "SnapshotContentCreationFailed event", 60_000);
    expect(ev.message).toContain("cannot get claim from snapshot");
    const vs = await getVs(ns, "orphan");
    expect(vs.status?.readyToUse).not.toBe(true);
    expect(vs.status?.error?.message).toContain("cannot get claim from snapshot");
  });
});

describe("restore through the real csi-provisioner", () => {
  it("a PVC with dataSource VolumeSnapshot is provisioned by CreateVolume: an Azure disk with createOption Copy, hydrating, and the PVC Bound", async () => {
    await csi.setBehaviour("wait-for-copy");
    const ns = await createNamespace(kubeConfig(), "csi-restore");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    emu.control.setCompletion(handle, { percent: 100 });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), "snapshot ready", 60_000);

    await admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "restored", namespace: ns },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: STORAGE_CLASS,
        resources: { requests: { storage: "10Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "nightly" },
      },
    });
    const pvc = await eventually(async () => {
      const c = (await admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string }; spec: { volumeName?: string } };
      return c.status?.phase === "Bound" ? c : undefined;
    }, `${ns}/restored Bound`, 90_000);
    const pv = (await admin.get(pvType, undefined, pvc.spec.volumeName ?? "")) as KubeObject & { spec: { csi?: { driver?: string; volumeHandle?: string } } };
    clusterScoped.push([pvType, pv.metadata.name]);
    expect(pv.spec.csi?.driver).toBe(DRIVER);
    const diskId = pv.spec.csi?.volumeHandle ?? "";
    const disk = armProps(diskId);
    expect(disk["creationData"]).toMatchObject({ createOption: "Copy", sourceResourceId: handle });
    expect(disk["provisioningState"]).toBe("Succeeded");
    // Hydration from the snapshot runs on after the PVC is already Bound.
    expect(disk["completionPercent"]).toBeLessThan(100);
    expect((emu.control.getResource(diskId)?.["sku"] as { name?: string }).name).toBe("Premium_LRS");
  });

  it("4555 consequence: a restore from a snapshot Kubernetes calls ready is refused by Azure until the copy completes", async () => {
    await csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "csi-early-restore");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    emu.control.setCompletion(handle, { percent: 40, frozen: true });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), "snapshot 'ready'", 60_000);
    await admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "restored", namespace: ns },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: STORAGE_CLASS,
        resources: { requests: { storage: "10Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "nightly" },
      },
    });
    const refused = await eventually(async () => {
      const events = (await admin.list(eventType, ns)).items as Array<KubeObject & { message?: string; involvedObject?: { name?: string } }>;
      return events.find((e) => e.involvedObject?.name === "restored" && (e.message ?? "").includes("OperationNotAllowed"));
    }, "csi-provisioner reporting ARM's refusal", 60_000);
    expect(refused.message).toContain("background copy is at 40%");
    expect(((await admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string } }).status?.phase).toBe("Pending");

    emu.control.setCompletion(handle, { percent: 100 });
    const pvc = await eventually(async () => {
      const c = (await admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string }; spec: { volumeName?: string } };
      return c.status?.phase === "Bound" ? c : undefined;
    }, `${ns}/restored Bound once the copy is done`, 90_000);
    clusterScoped.push([pvType, pvc.spec.volumeName ?? ""]);
  });
});
