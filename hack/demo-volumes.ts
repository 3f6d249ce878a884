// The demo's volume part: the real CSI snapshot path (upstream snapshot-controller, csi-snapshotter,
// csi-provisioner and the project's test driver `disk.csi.azure.com` on the ARM emulator), a PVC on
// an emulator disk and a VolumeSnapshot of it. The driver answers like the AKS driver of issue 4555:
// `readyToUse: true` as soon as Azure accepted the snapshot, while the copy still runs. The table
// shows Kubernetes' READYTOUSE beside aksnap's VERIFIED and the copy progress, until it verifies.
import { mkdirSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { ANNOTATION_COMPLETION_PERCENT, ANNOTATION_VERIFIED } from "../src/crds/names.ts";
import type { KubeClient, KubeObject, ResourceType } from "../src/kube/client.ts";
import { isKubeError } from "../src/kube/errors.ts";
import { startCsiPath, type CsiPath } from "../test/harness/csi.ts";
import { pvcType, pvType, vsClassType, vsType } from "../test/harness/csi-world.ts";
import { STATIC_TOKEN } from "../test/harness/operator.ts";

export const DEMO_VOLUME_SNAPSHOT = "app-data-nightly";

function control(url: string, ca: string, method: string, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/_emulator/${path}`, { method, ca, headers: { "content-type": "application/json", authorization: `Bearer ${STATIC_TOKEN}` } }, (res) => {
      res.resume();
      res.on("end", () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`emulator ${method} ${path}: ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function ensure(admin: KubeClient, rt: ResourceType, obj: KubeObject): Promise<void> {
  try {
    await admin.create(rt, obj);
  } catch (e) {
    if (!isKubeError(e, "alreadyExists")) throw e;
  }
}

export interface VolumeDemo {
  csi: CsiPath;
  rows(): Promise<string[][]>;
  verified(): Promise<boolean>;
}

/** Starts the CSI path and creates the disk, PV, PVC and VolumeSnapshot the demo shows. */
export async function startVolumeDemo(o: {
  admin: KubeClient;
  kubeconfigPath: string;
  arm: { url: string; ca: string };
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  namespace: string;
  dir: string;
}): Promise<VolumeDemo> {
  // Every incremental snapshot copies in the background, as Premium SSD v2 / Ultra ones do in Azure.
  await control(o.arm.url, o.arm.ca, "PUT", "behaviour", { copyProgress: "allIncremental" });
  const diskId = `/subscriptions/${o.subscriptionId}/resourceGroups/${o.resourceGroup}/providers/Microsoft.Compute/disks/app-data`;
  await control(o.arm.url, o.arm.ca, "PUT", `resources${diskId}`, {
    location: o.location,
    sku: { name: "Premium_LRS" },
    properties: { diskSizeGB: 32, creationData: { createOption: "Empty" }, provisioningState: "Succeeded", diskState: "Unattached" },
  });
  const csiDir = join(o.dir, "csi");
  mkdirSync(csiDir, { recursive: true });
  const csi = await startCsiPath({
    kubeconfigPath: o.kubeconfigPath,
    arm: o.arm,
    subscriptionId: o.subscriptionId,
    resourceGroup: o.resourceGroup,
    location: o.location,
    behaviour: "ready-on-provisioned",
    dir: csiDir,
  });
  const { admin, namespace: ns } = o;
  await ensure(admin, vsClassType, {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotClass",
    // The default class: the schedule's volume target names none.
    metadata: { name: "csi-azuredisk-vsc", annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" } },
    driver: "disk.csi.azure.com",
    deletionPolicy: "Delete",
  });
  await ensure(admin, pvType, {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "app-data" },
    spec: {
      capacity: { storage: "32Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      claimRef: { namespace: ns, name: "app-data" },
      csi: { driver: "disk.csi.azure.com", volumeHandle: diskId, fsType: "ext4" },
    },
  });
  await ensure(admin, pvcType, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    // The on-demand schedule sample snapshots PVCs labelled backup=enabled.
    metadata: { name: "app-data", namespace: ns, labels: { backup: "enabled" } },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "32Gi" } }, storageClassName: "", volumeName: "app-data" },
  });
  await ensure(admin, vsType, {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    // A snapshot made by someone else (here: the demo), opted in to aksnap's verification.
    metadata: { name: DEMO_VOLUME_SNAPSHOT, namespace: ns, labels: { "aksnap.io/verify": "true" } },
    spec: { volumeSnapshotClassName: "csi-azuredisk-vsc", source: { persistentVolumeClaimName: "app-data" } },
  });
  const list = async (): Promise<KubeObject[]> => (await admin.list(vsType, ns)).items;
  return {
    csi,
    async rows() {
      return (await list()).map((v) => {
        const a = v.metadata.annotations ?? {};
        const st = (v.status ?? {}) as { readyToUse?: boolean };
        const pct = a[ANNOTATION_COMPLETION_PERCENT];
        return [v.metadata.name, String(st.readyToUse ?? false), a[ANNOTATION_VERIFIED] ?? "-", pct === undefined ? "-" : `${pct}%`, a["aksnap.io/verification-reason"] ?? "-"];
      });
    },
    async verified() {
      return (await list()).every((v) => v.metadata.annotations?.[ANNOTATION_VERIFIED] === "true");
    },
  };
}

export const VOLUME_HEAD = ["VOLUMESNAPSHOT", "READYTOUSE (K8S)", "VERIFIED (AKSNAP)", "AZURE COPY", "REASON"];
