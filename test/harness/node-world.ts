// Everything a test on a real node needs, in one call: a control plane of its own started for a
// kubelet (`node: true`; the shared one of global-setup keeps its plain flags), our CRDs and the CSI
// snapshot CRDs, the node (containerd + runc + kubelet, test/harness/node.ts), the ARM emulator, the
// real CSI path (snapshot-controller, csi-snapshotter, csi-provisioner) with the test driver's Node
// service registered with that kubelet, a CSIDriver (attachRequired false), a StorageClass and a
// VolumeSnapshotClass. Helpers write and read data through pods. stop() undoes it all, in order.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { ensureTools, startControlPlane, type ControlPlane } from "./control-plane.ts";
import { crdFilesIn, installCrds } from "./crds.ts";
import { startCsiPath, type CsiPath } from "./csi.ts";
import { eventually } from "./kube.ts";
import { runPod, startNode, type RealNode } from "./node.ts";

const repoRootDir = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const NODE_SUB = "00000000-0000-0000-0000-0000000000d7";
export const NODE_RG = "rg-node-it";
export const NODE_LOC = "westeurope";
export const DRIVER = "disk.csi.azure.com";

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: "", version: "v1", plural, kind, namespaced });
export const pvcType = core("persistentvolumeclaims", "PersistentVolumeClaim");
export const eventType = core("events", "Event");
const storageType = (plural: string, kind: string): ResourceType => ({ group: "storage.k8s.io", version: "v1", plural, kind, namespaced: false });
const snapType = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: "snapshot.storage.k8s.io", version: "v1", plural, kind, namespaced });
export const vsType = snapType("volumesnapshots", "VolumeSnapshot", true);
export const vscType = snapType("volumesnapshotcontents", "VolumeSnapshotContent", false);

export interface NodeWorld {
  cp: ControlPlane;
  kc: KubeConfig;
  admin: KubeClient;
  node: RealNode;
  emu: RunningEmulator;
  csi: CsiPath;
  storageClass: string;
  vsClass: string;
  /** Wall times of the parts, for the report. */
  timings: Record<string, number>;
  /** A PVC of the StorageClass (csi-provisioner → CreateVolume), optionally restored from a VolumeSnapshot. */
  claim(ns: string, name: string, fromSnapshot?: string): Promise<void>;
  waitBound(ns: string, name: string, timeoutMs?: number): Promise<void>;
  /** A pod writes `mib` MiB of random bytes and their sha256 to the claim; returns the sha256. */
  writeData(ns: string, pod: string, claim: string, mib: number): Promise<string>;
  /** A pod reads the claim: the sha256 of the data now, and the one recorded when it was written. */
  readData(ns: string, pod: string, claim: string): Promise<{ actual: string; recorded: string; exitCode: number }>;
  volumeSnapshot(ns: string, name: string, claim: string, labels?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeWorldOptions {
  /** Background copy rate of the driver (default 8 MiB/s). */
  copyBytesPerSecond?: number;
}

export async function startNodeWorld(opts: NodeWorldOptions = {}): Promise<NodeWorld> {
  const timings: Record<string, number> = {};
  const lap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const v = await f();
    timings[what] = Date.now() - t0;
    return v;
  };
  const tools = ensureTools("control-plane");
  const cp = await lap("controlPlane", () => startControlPlane({ node: true, tools }));
  const cleanups: Array<() => Promise<void>> = [() => cp.stop()];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => console.error(`[node-world] cleanup: ${String(e)}`));
  };
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const admin = new KubeClient(kc);
    const ours = join(repoRootDir, "deploy/helm/aksnap/crds");
    await lap("crds", () => installCrds(admin, [...(existsSync(ours) ? crdFilesIn(ours) : []), ...crdFilesIn(tools.snapshotCrds)]));
    const node = await lap("node", () => startNode(cp));
    cleanups.push(() => node.stop());
    timings["nodeReady"] = node.readyMs;
    const emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 300, copyDurationMs: 120_000, hydrationDurationMs: 60_000 } });
    cleanups.push(() => emu.stop());
    emu.control.addResourceGroup(NODE_SUB, NODE_RG, NODE_LOC);
    emu.control.setBehaviour({ copyProgress: "allIncremental" });
    // attachRequired false: the kubelet mounts without a VolumeAttachment (no external-attacher).
    await admin.create(storageType("csidrivers", "CSIDriver"), {
      apiVersion: "storage.k8s.io/v1",
      kind: "CSIDriver",
      metadata: { name: DRIVER },
      spec: { attachRequired: false, podInfoOnMount: false, volumeLifecycleModes: ["Persistent"] },
    });
    const csiDir = mkdtempSync(join(tmpdir(), "aksnap-ncsi-"));
    cleanups.push(async () => rmSync(csiDir, { recursive: true, force: true }));
    const csi = await lap("csiPath", () =>
      startCsiPath({
        kubeconfigPath: cp.kubeconfigPath,
        arm: emu,
        subscriptionId: NODE_SUB,
        resourceGroup: NODE_RG,
        location: NODE_LOC,
        dir: csiDir,
        ...(opts.copyBytesPerSecond !== undefined ? { copyBytesPerSecond: opts.copyBytesPerSecond } : {}),
        node: { nodeId: node.nodeName, registrationDir: node.registrationDir, registrationProto: node.pluginProto },
      }),
    );
    cleanups.push(() => csi.stop());
    // The kubelet found the registration socket, called GetInfo and NodeGetInfo, and said so.
    await lap("registration", () =>
      eventually(async () => {
        const r = await csi.registration();
        if (r && !r.registered) throw new Error(`kubelet refused the plugin: ${r.error}`);
        const csiNode = (await admin.get(storageType("csinodes", "CSINode"), undefined, node.nodeName)) as KubeObject & { spec?: { drivers?: Array<{ name: string }> } };
        return r?.registered && csiNode.spec?.drivers?.some((d) => d.name === DRIVER) ? true : undefined;
      }, "the driver registered with the kubelet (CSINode lists it)", 60_000, 200),
    );
    const storageClass = "aksnap-node";
    const vsClass = "aksnap-node";
    await admin.create(storageType("storageclasses", "StorageClass"), {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: storageClass },
      provisioner: DRIVER,
      parameters: { resourceGroup: NODE_RG, skuName: "Premium_LRS" },
      volumeBindingMode: "Immediate",
      reclaimPolicy: "Delete",
    });
    await admin.create(snapType("volumesnapshotclasses", "VolumeSnapshotClass", false), {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshotClass",
      metadata: { name: vsClass },
      driver: DRIVER,
      deletionPolicy: "Delete",
    });
    const dataDir = "/data";
    return {
      cp,
      kc,
      admin,
      node,
      emu,
      csi,
      storageClass,
      vsClass,
      timings,
      async claim(ns, name, fromSnapshot) {
        await admin.create(pvcType, {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name, namespace: ns },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: storageClass,
            resources: { requests: { storage: "1Gi" } },
            ...(fromSnapshot ? { dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: fromSnapshot } } : {}),
          },
        });
      },
      async waitBound(ns, name, timeoutMs = 60_000) {
        await eventually(
          async () => ((await admin.get(pvcType, ns, name)) as KubeObject & { status?: { phase?: string } }).status?.phase === "Bound" || undefined,
          `${ns}/${name} Bound`,
          timeoutMs,
          200,
        );
      },
      async writeData(ns, pod, claim, mib) {
        const r = await runPod(admin, node, ns, pod, {
          claim,
          script:
            `set -e; dd if=/dev/urandom of=${dataDir}/blob bs=1048576 count=${mib} 2>/dev/null; ` +
            `sha256sum ${dataDir}/blob | cut -d' ' -f1 > ${dataDir}/blob.sha256; sync; cat ${dataDir}/blob.sha256 > /dev/termination-log`,
        });
        if (r.phase !== "Succeeded" || !/^[0-9a-f]{64}$/.test(r.message)) throw new Error(`writer ${ns}/${pod}: ${JSON.stringify(r)}`);
        return r.message;
      },
      async readData(ns, pod, claim) {
        const r = await runPod(admin, node, ns, pod, {
          claim,
          readOnly: true,
          script: `a=$(sha256sum ${dataDir}/blob 2>/dev/null | cut -d' ' -f1); b=$(cat ${dataDir}/blob.sha256 2>/dev/null); echo "$a $b" > /dev/termination-log; [ -n "$a" ] && [ "$a" = "$b" ]`,
        });
        const [actual = "", recorded = ""] = r.message.split(" ");
        return { actual, recorded, exitCode: r.exitCode };
      },
      async volumeSnapshot(ns, name, claim, labels) {
        await admin.create(vsType, {
          apiVersion: "snapshot.storage.k8s.io/v1",
          kind: "VolumeSnapshot",
          metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
          spec: { volumeSnapshotClassName: vsClass, source: { persistentVolumeClaimName: claim } },
        });
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
