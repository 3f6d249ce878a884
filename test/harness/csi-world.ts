// A world for tests that go through the real CSI snapshot path: an ARM emulator, the driver and the
// upstream snapshot controllers (startCsiPath), a VolumeSnapshotClass and StorageClass for the
// driver, and helpers that make a bound PVC on an emulator disk and snapshot it. Shared by the CSI
// path tests and every controller test that needs VolumeSnapshots.
import { inject } from "vitest";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { computeClient, FAST_POLL } from "../contract/helpers/arm-clients.ts";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../emulator/index.ts";
import { startCsiPath, type CsiPath } from "./csi.ts";
import { eventually, kubeClient, kubeConfig } from "./kube.ts";

export const CSI_SUB = "00000000-0000-0000-0000-0000000000c5";
export const CSI_RG = "rg-csi-it";
export const CSI_LOC = "westeurope";
export const DRIVER = "disk.csi.azure.com";

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: "", version: "v1", plural, kind, namespaced });
export const pvType = core("persistentvolumes", "PersistentVolume", false);
export const pvcType = core("persistentvolumeclaims", "PersistentVolumeClaim");
export const coreEventType = core("events", "Event");
export const storageClassType: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const snap = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: "snapshot.storage.k8s.io", version: "v1", plural, kind, namespaced });
export const vsType = snap("volumesnapshots", "VolumeSnapshot", true);
export const vscType = snap("volumesnapshotcontents", "VolumeSnapshotContent", false);
export const vsClassType = snap("volumesnapshotclasses", "VolumeSnapshotClass", false);

export interface VolumeSnapshot extends KubeObject {
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; error?: { message?: string } };
}
export interface Content extends KubeObject {
  status?: { readyToUse?: boolean; snapshotHandle?: string };
}

export interface CsiWorld {
  emu: RunningEmulator;
  csi: CsiPath;
  admin: KubeClient;
  /** Names of the VolumeSnapshotClass and StorageClass made for the driver. */
  vsClass: string;
  storageClass: string;
  /** Creates a cluster-scoped object and deletes it at stop. */
  create(rt: ResourceType, obj: KubeObject): Promise<KubeObject>;
  /** An Azure disk in the emulator and a static PV for it (volumeHandle = its ARM id) bound to a PVC. */
  boundClaim(ns: string, claim?: string): Promise<{ diskId: string }>;
  volumeSnapshot(ns: string, name: string, opts?: { claim?: string; labels?: Record<string, string>; className?: string }): Promise<void>;
  getVs(ns: string, name: string): Promise<VolumeSnapshot>;
  /** The VolumeSnapshotContent once csi-snapshotter has recorded the driver's snapshot handle. */
  contentWithHandle(ns: string, name: string): Promise<{ content: Content; handle: string }>;
  /** The ARM resource's properties as the emulator holds them. */
  armProps(id: string): Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * An Azure disk in the emulator and a static PV for it (volumeHandle = its ARM id) bound to a PVC
 * with `labels`; waits until Bound. `create` makes cluster-scoped objects (the caller deletes them).
 */
export async function bindClaim(
  w: {
    admin: KubeClient;
    emu: RunningEmulator;
    create(rt: ResourceType, obj: KubeObject): Promise<unknown>;
    /** Where the disk goes; default the CSI world's subscription, group and region. */
    where?: { subscriptionId: string; resourceGroup: string; location: string };
  },
  ns: string,
  claim: string,
  labels: Record<string, string> = {},
): Promise<{ diskId: string }> {
  const where = w.where ?? { subscriptionId: CSI_SUB, resourceGroup: CSI_RG, location: CSI_LOC };
  const disk = await computeClient(w.emu, where.subscriptionId).disks.createOrUpdate(
    where.resourceGroup,
    `disk-${ns}-${claim}`,
    { location: where.location, sku: { name: "Premium_LRS" }, diskSizeGB: 10, creationData: { createOption: "Empty" } },
    FAST_POLL,
  );
  const diskId = disk.id ?? "";
  const pv = `pv-${ns}-${claim}`;
  await w.create(pvType, {
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
  await w.admin.create(pvcType, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claim, namespace: ns, labels },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, storageClassName: "", volumeName: pv },
  });
  await eventually(
    async () => ((await w.admin.get(pvcType, ns, claim)) as KubeObject & { status?: { phase?: string } }).status?.phase === "Bound" || undefined,
    `${ns}/${claim} Bound`,
  );
  return { diskId };
}

export async function startCsiWorld(emulator: EmulatorOptions = {}): Promise<CsiWorld> {
  // Copies and hydration long enough to be seen mid-way; the tests hold or release them explicitly.
  const emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 300, copyDurationMs: 120_000, hydrationDurationMs: 60_000 }, ...emulator });
  emu.control.addResourceGroup(CSI_SUB, CSI_RG, CSI_LOC);
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  const admin = kubeClient(kubeConfig());
  // The sidecars run with the admin kubeconfig the global setup wrote (cluster-wide, like their RBAC).
  const csi = await startCsiPath({ kubeconfigPath: inject("kubeconfig"), arm: emu, subscriptionId: CSI_SUB, resourceGroup: CSI_RG, location: CSI_LOC });
  console.log(`[csi-path] driver + snapshot-controller + csi-snapshotter + csi-provisioner up in ${csi.startMs} ms`);
  const clusterScoped: Array<[ResourceType, string]> = [];
  const suffix = Date.now().toString(36);
  const vsClass = `aksnap-csi-${suffix}`;
  const storageClass = `aksnap-csi-${suffix}`;

  const create = async (rt: ResourceType, obj: KubeObject): Promise<KubeObject> => {
    const out = await admin.create(rt, obj);
    if (!rt.namespaced) clusterScoped.push([rt, obj.metadata.name]);
    return out;
  };
  const getVs = async (ns: string, name: string): Promise<VolumeSnapshot> => (await admin.get(vsType, ns, name)) as VolumeSnapshot;

  await create(vsClassType, { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: vsClass }, driver: DRIVER, deletionPolicy: "Delete" });
  await create(storageClassType, {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: storageClass },
    provisioner: DRIVER,
    parameters: { resourceGroup: CSI_RG, skuName: "Premium_LRS" },
    volumeBindingMode: "Immediate",
    reclaimPolicy: "Delete",
  });

  return {
    emu,
    csi,
    admin,
    vsClass,
    storageClass,
    create,
    getVs,
    boundClaim: (ns, claim = "data") => bindClaim({ admin, emu, create }, ns, claim),
    async volumeSnapshot(ns, name, opts = {}) {
      await admin.create(vsType, {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        metadata: { name, namespace: ns, ...(opts.labels ? { labels: opts.labels } : {}) },
        spec: { volumeSnapshotClassName: opts.className ?? vsClass, source: { persistentVolumeClaimName: opts.claim ?? "data" } },
      });
    },
    contentWithHandle(ns, name) {
      return eventually(async () => {
        const vscName = (await getVs(ns, name)).status?.boundVolumeSnapshotContentName;
        if (!vscName) return undefined;
        const content = (await admin.get(vscType, undefined, vscName)) as Content;
        const handle = content.status?.snapshotHandle;
        return handle ? { content, handle } : undefined;
      }, `${ns}/${name} content with a snapshotHandle`, 60_000);
    },
    armProps: (id) => (emu.control.getResource(id)?.["properties"] ?? {}) as Record<string, unknown>,
    async stop() {
      for (const [rt, name] of clusterScoped.reverse()) await admin.delete(rt, undefined, name).catch(() => undefined);
      await csi.stop();
      await emu.stop();
    },
  };
}
