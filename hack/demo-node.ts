// `make demo-node` (or `AKSNAP_DEMO_NODE=1 make demo`): the backup proven by its bytes, on a real
// node (kubelet + containerd + runc, needs root; hack/node/README.md). A pod writes data and its
// sha256 to a PVC, an on-demand SnapshotSchedule run snapshots it and succeeds only once aksnap
// verified the snapshot against ARM, a RestoreRequest restores that run to a new PVC, and a new pod
// reads the checksum back. Ctrl-C stops it all (by pid and path, like the node tests).
//   node hack/demo-node.ts [--once]     (--once: exit after the checksum comparison; used by a test)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RestoreRequestKind, type RestoreRequest } from "../src/crds/restorerequest.ts";
import { SnapshotScheduleKind, type SnapshotSchedule } from "../src/crds/snapshotschedule.ts";
import { eventually, namespaceType } from "../test/harness/kube.ts";
import { NODE_SUB, pvcType, startNodeWorld, type NodeWorld } from "../test/harness/node-world.ts";
import { operatorKubeconfig, startInProcess, type InProcessOperator } from "../test/harness/operator.ts";

const once = process.argv.includes("--once");
const NS = "aksnap-demo";
const MIB = 8;
const say = (s: string): void => void process.stdout.write(`${s}\n`);

async function getSchedule(w: NodeWorld, name: string): Promise<SnapshotSchedule> {
  const p = SnapshotScheduleKind.parse(await w.admin.get(SnapshotScheduleKind.resource, NS, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

async function getRestore(w: NodeWorld, name: string): Promise<RestoreRequest> {
  const p = RestoreRequestKind.parse(await w.admin.get(RestoreRequestKind.resource, NS, name));
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say("demo-node needs root: it runs containerd, runc and a kubelet (see hack/node/README.md). Try: sudo make demo-node");
    return 2;
  }
  let w: NodeWorld | undefined;
  let op: InProcessOperator | undefined;
  const dir = mkdtempSync(join(tmpdir(), "aksnap-demo-node-"));
  const stop = async (): Promise<void> => {
    await op?.stop();
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    say("starting a control plane, a real node (kubelet + containerd + runc), the ARM emulator and the CSI path …");
    const t0 = Date.now();
    w = await startNodeWorld();
    say(`  up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    writeFileSync(join(dir, "ca.pem"), w.emu.ca);
    const kubeconfig = await operatorKubeconfig(w.admin, w.kc, dir);
    await w.admin.create(namespaceType, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    op = await startInProcess({ kubeconfig, armEndpoint: w.emu.url, armCaFile: join(dir, "ca.pem"), subscriptionId: NODE_SUB }, { "watch-namespaces": NS });

    await w.claim(NS, "app-data");
    await w.admin.mergePatch(pvcType, NS, "app-data", { metadata: { labels: { backup: "enabled" } } });
    await w.waitBound(NS, "app-data");
    const written = await w.writeData(NS, "writer", "app-data", MIB);
    say(`1. pod writer wrote ${MIB} MiB to PVC app-data, sha256 ${written}`);

    await w.admin.create(SnapshotScheduleKind.resource, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "SnapshotSchedule",
      metadata: { name: "app-backup", namespace: NS, annotations: { "aksnap.io/run-requested-at": new Date().toISOString() } },
      spec: {
        template: {
          volumes: {
            pvcSelector: { matchLabels: { backup: "enabled" }, matchExpressions: [{ key: "aksnap.io/restored-by", operator: "DoesNotExist" }] },
            volumeSnapshotClassName: w.vsClass,
          },
        },
      },
    });
    const sched = await eventually(async () => {
      const s = await getSchedule(w as NodeWorld, "app-backup");
      return s.status?.lastRun?.completedAt !== undefined ? s : undefined;
    }, "the on-demand run ended", 180_000, 500);
    const run = sched.status?.lastRun;
    const child = run?.results?.[0];
    say(`2. SnapshotSchedule app-backup, on-demand run ${run?.id}: ${run?.phase}, ${run?.verified}/${run?.targets} verified (${child?.name}: ${child?.phase})`);
    if (run?.phase !== "Succeeded") throw new Error(`the run did not succeed: ${JSON.stringify(run)}`);

    await w.admin.create(RestoreRequestKind.resource, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "RestoreRequest",
      metadata: { name: "app-restore", namespace: NS },
      spec: { volumes: { from: { schedule: "app-backup", run: "latest" }, conflictPolicy: "Rename" } },
    });
    const rr = await eventually(async () => {
      const r = await getRestore(w as NodeWorld, "app-restore");
      return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
    }, "the restore ended", 180_000, 500);
    const vol = rr.status?.volumes?.[0];
    say(`3. RestoreRequest app-restore (run latest, conflictPolicy Rename): ${rr.status?.phase}, PVC ${vol?.pvc} from ${vol?.volumeSnapshot} (${vol?.completionPercent ?? "-"}% hydrated)`);
    if (rr.status?.phase !== "Succeeded" || !vol) throw new Error(`the restore did not succeed: ${JSON.stringify(rr.status)}`);

    const read = await w.readData(NS, "reader", vol.pvc);
    const match = read.exitCode === 0 && read.actual === written && read.recorded === written;
    say(`4. pod reader on PVC ${vol.pvc}: sha256 ${read.actual || "(none)"}`);
    say(match ? "checksum matches: the backup restores to the bytes the pod wrote" : `checksum MISMATCH: wrote ${written}, read ${JSON.stringify(read)}`);
    if (!match) return 1;
    if (once) return 0;
    say(`\nexport KUBECONFIG=${w.cp.kubeconfigPath}\nkubectl -n ${NS} get ssch,rr,vs,pvc,pods    # Ctrl-C stops it all`);
    await new Promise<void>((r) => {
      process.once("SIGINT", r);
      process.once("SIGTERM", r);
    });
    return 0;
  } finally {
    await stop();
  }
}

main().then(
  (rc) => process.exit(rc),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
