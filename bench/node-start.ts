// Benchmark: what the real test node costs (test/harness/node.ts, ../shared/real-node.md).
// Cold parts are timed by their scripts (hack/node/install-deps.sh, hack/build-tools.sh node,
// hack/node/images.sh print their own durations when they do work); this measures the warm start:
// a control plane with `node: true`, then containerd + kubelet to a Ready Node, a first pod run to
// completion, and the teardown — N times, with the median and the spread.
//   node bench/node-start.ts [--runs 3]
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../src/kube/client.ts";
import { ensureTools, startControlPlane } from "../test/harness/control-plane.ts";
import { ensureNodeTools, runPod, startNode } from "../test/harness/node.ts";

const { values } = parseArgs({ options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? 3);
const t0 = Date.now();
const tools = ensureTools("control-plane");
ensureNodeTools();
console.log(`tools + Debian packages + kubelet + images present/built in ${Date.now() - t0} ms`);

const rows: Array<Record<string, number>> = [];
for (let i = 0; i < runs; i++) {
  const a = Date.now();
  const cp = await startControlPlane({ node: true, tools });
  const b = Date.now();
  const node = await startNode(cp);
  const c = Date.now();
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const client = new KubeClient(kc);
  await client.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } });
  const r = await runPod(client, node, "bench", "first", { script: "echo ok > /dev/termination-log" });
  if (r.phase !== "Succeeded") throw new Error(`first pod: ${JSON.stringify(r)}`);
  const d = Date.now();
  await node.stop();
  const e = Date.now();
  await cp.stop();
  client.close();
  rows.push({ controlPlaneMs: b - a, nodeStartMs: c - b, nodeReadyAfterSpawnMs: node.readyMs, firstPodMs: d - c, nodeStopMs: e - d });
  console.log(`run ${i + 1}: ${JSON.stringify(rows[rows.length - 1])}`);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
for (const k of Object.keys(rows[0] ?? {})) {
  const xs = rows.map((r) => r[k] ?? 0);
  console.log(`${k.padEnd(24)} median ${median(xs)} ms  (min ${Math.min(...xs)}, max ${Math.max(...xs)})`);
}
