// Benchmark: what verifying VolumeSnapshots costs in ARM reads, and how late aksnap says
// "verified" after Azure's copy completed. Real kube-apiserver + kube-controller-manager, the real
// snapshot-controller and csi-snapshotter with the project's CSI driver (answering readyToUse at once,
// as in Azure/AKS#4555), the emulator, the operator in-process at the default poll interval.
// N VolumeSnapshots wait on copies of different lengths; figures are counts and ratios from one run.
//   node bench/verification.ts [--snapshots 100] [--poll 15s] [--min-copy 30s] [--max-copy 120s]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { parseDuration } from "../src/config.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { ensureTools, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../test/harness/crds.ts";
import { startCsiPath } from "../test/harness/csi.ts";
import { pvcType, pvType, vsClassType, vscType, vsType } from "../test/harness/csi-world.ts";
import { operatorEnv, repoRoot, startInProcess } from "../test/harness/operator.ts";

const { values } = parseArgs({ options: { snapshots: { type: "string" }, poll: { type: "string" }, "min-copy": { type: "string" }, "max-copy": { type: "string" } } });
const N = Number(values.snapshots ?? 100);
const pollMs = parseDuration(values.poll ?? "15s", "poll");
const minCopy = parseDuration(values["min-copy"] ?? "30s", "min-copy");
const maxCopy = parseDuration(values["max-copy"] ?? "120s", "max-copy");
const SUB = "00000000-0000-0000-0000-0000000000b9";
const RG = "rg-bench";
const LOC = "westeurope";
const ns = "bench-verify";

const tools = ensureTools("control-plane");
ensureTools("helm");
const cp = await startControlPlane({ tools });
const emu = await startEmulator({ world: "empty", rateLimits: { enabled: false }, timing: { computeOperationMs: 200, copyDurationMs: maxCopy * 10 } });
let csi: Awaited<ReturnType<typeof startCsiPath>> | undefined;
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const admin = new KubeClient(kc);
  await installCrds(admin, [...crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")), ...crdFilesIn(tools.snapshotCrds)]);
  emu.control.addResourceGroup(SUB, RG, LOC);
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  csi = await startCsiPath({ kubeconfigPath: cp.kubeconfigPath, arm: emu, subscriptionId: SUB, resourceGroup: RG, location: LOC, behaviour: "ready-on-provisioned" });
  const { env } = await operatorEnv(admin, kc, emu, SUB, { prefix: "bench" });
  await admin.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await admin.create(vsClassType, { apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: "bench" }, driver: "disk.csi.azure.com", deletionPolicy: "Delete" });

  process.stdout.write(`creating ${N} PVCs and VolumeSnapshots through the real CSI path…\n`);
  for (let i = 0; i < N; i++) {
    const diskId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/disks/d${i}`;
    emu.control.putResource(diskId, { location: LOC, sku: { name: "Premium_LRS" }, properties: { diskSizeGB: 8, creationData: { createOption: "Empty" }, provisioningState: "Succeeded" } });
    await admin.create(pvType, {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `bench-pv-${i}` },
      spec: { capacity: { storage: "8Gi" }, accessModes: ["ReadWriteOnce"], storageClassName: "", claimRef: { namespace: ns, name: `c${i}` }, csi: { driver: "disk.csi.azure.com", volumeHandle: diskId } },
    });
    await admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: `c${i}`, namespace: ns },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "8Gi" } }, storageClassName: "", volumeName: `bench-pv-${i}` },
    });
    await admin.create(vsType, {
      apiVersion: "snapshot.storage.k8s.io/v1",
      kind: "VolumeSnapshot",
      metadata: { name: `s${i}`, namespace: ns, labels: { "aksnap.io/verify": "true" } },
      spec: { volumeSnapshotClassName: "bench", source: { persistentVolumeClaimName: `c${i}` } },
    });
  }
  // Every snapshot Kubernetes-ready, each copy held, then released with its own length.
  const handles = new Map<string, string>();
  for (;;) {
    for (const vs of (await admin.list(vsType, ns)).items) {
      const st = (vs.status ?? {}) as { readyToUse?: boolean; boundVolumeSnapshotContentName?: string };
      if (handles.has(vs.metadata.name) || st.readyToUse !== true || !st.boundVolumeSnapshotContentName) continue;
      const vsc = (await admin.get(vscType, undefined, st.boundVolumeSnapshotContentName)) as KubeObject & { status?: { snapshotHandle?: string } };
      if (vsc.status?.snapshotHandle) {
        handles.set(vs.metadata.name, vsc.status.snapshotHandle);
        emu.control.setCompletion(vsc.status.snapshotHandle, { percent: 0, frozen: true });
      }
    }
    if (handles.size === N) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  emu.control.clearRequests();
  const op = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": `${pollMs}ms`, workers: "4" });
  const t0 = Date.now();
  const doneAt = new Map<string, number>();
  [...handles.entries()].forEach(([name, h], i) => {
    const len = Math.round(minCopy + ((maxCopy - minCopy) * i) / Math.max(1, N - 1));
    emu.control.setCompletion(h, { percent: 0, durationMs: len });
    doneAt.set(name, t0 + len);
  });
  const verifiedAt = new Map<string, number>();
  while (verifiedAt.size < N && Date.now() - t0 < maxCopy + 10 * pollMs) {
    const now = Date.now();
    for (const vs of (await admin.list(vsType, ns)).items) {
      if (!verifiedAt.has(vs.metadata.name) && vs.metadata.annotations?.["aksnap.io/verified"] === "true") verifiedAt.set(vs.metadata.name, now);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await op.stop();
  // GETs of each handle by the operator while it waited (the driver stopped reading once it answered ready).
  let gets = 0;
  let waitMinutes = 0;
  const lags: number[] = [];
  for (const [name, h] of handles) {
    const last = h.split("/").pop() ?? "";
    gets += emu.control.countRequests({ method: "GET", path: last });
    const v = verifiedAt.get(name);
    const d = doneAt.get(name) ?? t0;
    if (v !== undefined) {
      waitMinutes += (v - t0) / 60_000;
      lags.push(v - d);
    }
  }
  lags.sort((a, b) => a - b);
  const pct = (p: number): number => lags[Math.min(lags.length - 1, Math.ceil((p / 100) * lags.length) - 1)] ?? NaN;
  const out = [
    `snapshots: ${N}, copies ${minCopy / 1000}–${maxCopy / 1000} s, poll interval ${pollMs / 1000} s; verified ${verifiedAt.size}/${N}`,
    `ARM GETs while waiting: ${gets} over ${waitMinutes.toFixed(1)} snapshot-minutes = ${(gets / waitMinutes).toFixed(2)} GETs per waiting snapshot per minute ` +
      `(${((gets - handles.size) / waitMinutes).toFixed(2)} without each snapshot's first read; ${(60_000 / pollMs).toFixed(1)} = one per interval)`,
    `lag from completionPercent 100 to verified: p50 ${(pct(50) / 1000).toFixed(1)} s, p99 ${(pct(99) / 1000).toFixed(1)} s, max ${((lags.at(-1) ?? NaN) / 1000).toFixed(1)} s = ${(pct(99) / pollMs).toFixed(2)} × the poll interval (p99)`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await csi?.stop();
  await emu.stop();
  await cp.stop();
}
