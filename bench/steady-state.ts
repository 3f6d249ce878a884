// Benchmark: what NodePoolSnapshots cost in ARM calls — per snapshot created, and per hour of
// steady state for 100 Ready objects. Real kube-apiserver, the emulator, the operator in-process.
// Counts, not timings; the steady-state window runs at a short resync period and is scaled to the
// default (1h) by the ratio of periods, both measured in this run.
//   node bench/steady-state.ts [--objects 100] [--resync 10s] [--window 30s]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { parseDuration } from "../src/config.ts";
import { NodePoolSnapshotKind } from "../src/crds/nodepoolsnapshot.ts";
import { KubeClient } from "../src/kube/client.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator } from "../test/emulator/index.ts";
import { ensureTools, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../test/harness/crds.ts";
import { operatorEnv, repoRoot, startInProcess } from "../test/harness/operator.ts";

const { values } = parseArgs({ options: { objects: { type: "string" }, resync: { type: "string" }, window: { type: "string" } } });
const N = Number(values.objects ?? 100);
const resyncMs = parseDuration(values.resync ?? "10s", "resync");
const windowMs = parseDuration(values.window ?? "30s", "window");
const DEFAULT_RESYNC_MS = 3_600_000;

const tools = ensureTools("control-plane");
ensureTools("helm");
const cp = await startControlPlane({ tools });
const emu = await startEmulator({ world: "demo", rateLimits: { enabled: false } });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const admin = new KubeClient(kc);
  // The CSI snapshot CRDs too: the operator's VolumeSnapshot verifier waits for them.
  await installCrds(admin, [...crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")), ...crdFilesIn(tools.snapshotCrds)]);
  const { env } = await operatorEnv(admin, kc, emu, DEMO_SUBSCRIPTION_ID, { prefix: "bench" });
  const ns = "bench";
  await admin.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const op = await startInProcess(env, { "watch-namespaces": ns, "resync-period": `${resyncMs}ms`, workers: "4" });
  const pool = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
  emu.control.clearRequests();
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    await admin.create(NodePoolSnapshotKind.resource, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: `b${i}`, namespace: ns }, spec: { source: { agentPoolId: pool } } });
  }
  for (;;) {
    const list = await admin.list(NodePoolSnapshotKind.resource, ns);
    const ready = list.items.filter((o) => ((o.status ?? {}) as { conditions?: Array<{ type: string; status: string }> }).conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
    if (ready === N) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const createMs = Date.now() - t0;
  const armCalls = (): number => emu.control.requests().filter((r) => r.route !== "control").length;
  const createCalls = armCalls();
  const reconcilesAfterCreate = await op.metric("controller_runtime_reconcile_total");

  emu.control.clearRequests();
  const w0 = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const steadyCalls = armCalls();
  const windowActual = Date.now() - w0;
  const reconcilesInWindow = (await op.metric("controller_runtime_reconcile_total")) - reconcilesAfterCreate;
  await op.stop();

  const perObjectPerPeriod = steadyCalls / N / (windowActual / resyncMs);
  const perHourDefault = perObjectPerPeriod * N * (3_600_000 / DEFAULT_RESYNC_MS);
  const out = [
    `objects: ${N}`,
    `ARM calls to create them: ${createCalls} (${(createCalls / N).toFixed(2)} per snapshot created); all Ready in ${(createMs / 1000).toFixed(1)} s`,
    `steady state at --resync-period=${resyncMs / 1000}s over ${(windowActual / 1000).toFixed(1)} s: ${steadyCalls} ARM calls, ${reconcilesInWindow} reconciles`,
    `  = ${perObjectPerPeriod.toFixed(2)} ARM calls per object per resync period`,
    `  → at the default --resync-period=1h: ${perHourDefault.toFixed(0)} ARM calls per hour for ${N} Ready objects (ratio window/period ${(windowActual / resyncMs).toFixed(2)})`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  await emu.stop();
  await cp.stop();
}
