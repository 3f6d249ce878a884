// Benchmark (make bench): NodePoolSnapshot at scale, every figure a ratio or count measured in this
// one run, against a real kube-apiserver, the ARM emulator, and the operator as its own process
// (dist/src/main.js with the image's Node flags, as deployed):
//   1. the floor: the time this apiserver takes to store N objects and write one status each;
//   2. apply→Ready of N objects with the write budget out of the way, against that floor; the
//      apiserver writes per object (watch events of the kind + Event writes) against the floor's 2;
//      ARM calls per snapshot created (a batch from one cluster);
//   3. the bucket-limited minimum for N ARM writes at the default budget (computed from the defaults);
//   4. ARM calls per Ready object-hour: a restarted operator at a short resync period, scaled to 1 h;
//   5. operator RSS (/proc/<pid>/status VmRSS) idle and with --memory-objects Ready objects.
//   node bench/scale.ts [--objects 1000] [--memory-objects 10000] [--resync 20s] [--window 40s] [--concurrency 16]
//     [--workers N] [--apply-only] [--cpu-prof DIR] [--heap-snapshot] [--rss-watch DURATION]
//   node bench/scale.ts --rss-only [--memory-objects 10000]   (5. alone: a minute or two)
//   --heap-snapshot: the operator with --memory-objects writes a V8 heap snapshot to the current
//   directory once its RSS has settled. AKSNAP_NODE_FLAGS replaces the operator's Node flags.
//   --rss-watch DURATION: after that RSS settled, prints it and where it is every 10 s for DURATION.
//   --apply-only: only 1 and 2 (the floor and apply→Ready), with where the time went: apiserver
//   requests per object by verb, CPU seconds per process, the operator's queue wait and reconcile
//   time. --cpu-prof DIR: the operator of part 2 writes a V8 CPU profile there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { loadConfig, parseDuration } from "../src/config.ts";
import { NODE_FLAGS } from "../src/operator.ts";
import { snapshotNameFor } from "../src/controllers/nodepoolsnapshot/desired.ts";
import { NodePoolSnapshotKind } from "../src/crds/nodepoolsnapshot.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { eventType } from "../src/kube/events.ts";
import { Informer } from "../src/kube/informer.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator } from "../test/emulator/index.ts";
import { ensureTools, freePort, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../test/harness/crds.ts";
import { operatorEnv, type OperatorProcess, repoRoot, spawnOperator } from "../test/harness/operator.ts";

const { values } = parseArgs({
  options: {
    objects: { type: "string" },
    "memory-objects": { type: "string" },
    resync: { type: "string" },
    window: { type: "string" },
    concurrency: { type: "string" },
    workers: { type: "string" },
    "apply-only": { type: "boolean" },
    "rss-only": { type: "boolean" },
    "cpu-prof": { type: "string" },
    "heap-snapshot": { type: "boolean" },
    "rss-watch": { type: "string" },
  },
});
const N = Number(values.objects ?? 1000);
const MEM_N = Number(values["memory-objects"] ?? 10_000);
const resyncMs = parseDuration(values.resync ?? "20s", "resync");
const windowMs = parseDuration(values.window ?? "40s", "window");
const C = Number(values.concurrency ?? 16);
/** --workers for the operator under test (unset: its default). */
const workerFlag: Record<string, string> = values.workers ? { workers: values.workers } : {};
const HOUR = 3_600_000;

const nps = NodePoolSnapshotKind.resource;
const nsType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false } as const;
const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const POOL = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Runs fn(0..n-1) with at most c in flight. */
async function pool(n: number, c: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(c, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const npsObject = (ns: string, name: string): KubeObject => ({ apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name, namespace: ns }, spec: { source: { agentPoolId: POOL } } });
const readyOf = (o: KubeObject): boolean =>
  ((o.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m?.[1] ? Number(m[1]) / 1024 : NaN;
}

/** RSS after it stops moving (three samples 2 s apart within 2 %), or the last sample after maxMs. */
async function settledRss(pid: number, maxMs = 60_000): Promise<number> {
  const samples: number[] = [];
  const t0 = Date.now();
  for (;;) {
    await sleep(2000);
    samples.push(rssMiB(pid));
    const last = samples.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 0.02 * Math.max(...last)) return last[2] ?? NaN;
    if (Date.now() - t0 > maxMs) return samples.at(-1) ?? NaN;
  }
}

/**
 * Where a process's RSS is, from /proc/<pid>/smaps (MiB): the node binary's own pages, other files
 * (shared libraries), glibc's main heap ([heap]), stacks, and anonymous mappings (V8's heap, malloc
 * arenas, buffers); with V8's heap spaces from the operator's /metrics when a port is given.
 */
async function memoryBreakdown(pid: number, metricsPort?: number): Promise<string> {
  const sums = new Map<string, number>();
  let current = "anon";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? "";
      const perms = /^\S+ (\S+)/.exec(line)?.[1] ?? "";
      current = name === process.execPath ? `node binary ${perms.includes("x") ? "code" : "data"}` : name.startsWith("/") ? "other files" : name === "[heap]" ? "malloc heap" : name.startsWith("[stack") ? "stacks" : "anonymous";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sums.set(current, (sums.get(current) ?? 0) + Number(rss[1]) / 1024);
  }
  const parts = [...sums].filter(([, v]) => v >= 0.5).map(([k, v]) => `${k} ${v.toFixed(0)}`);
  if (metricsPort !== undefined) {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const bySpace = new Map<string, { used: number; total: number }>();
    for (const line of text.split("\n")) {
      const m = /^nodejs_heap_space_size_(total|used)_bytes\{space="([^"]+)"\} (\S+)/.exec(line);
      if (!m?.[1] || !m[2]) continue;
      const s = bySpace.get(m[2]) ?? { used: 0, total: 0 };
      s[m[1] as "used" | "total"] = Number(m[3]) / 2 ** 20;
      bySpace.set(m[2], s);
    }
    const committed = [...bySpace.values()].reduce((a, s) => a + s.total, 0);
    const spaces = [...bySpace].filter(([, s]) => s.total >= 0.5);
    const shown = spaces.map(([k, s]) => `${k} ${s.used.toFixed(1)}/${s.total.toFixed(1)}`);
    parts.push(`V8 heap committed ${committed.toFixed(0)} (used/committed by space: ${shown.join(", ")})`);
  }
  return parts.join(", ");
}

/** CPU seconds (user + system) the processes have used so far (/proc/<pid>/stat, 100 ticks/s). */
function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  }
  return ticks / 100;
}
const cpuSecondsOf = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

/** apiserver_request_total by "VERB resource[/subresource]", watches left out. */
async function apiserverRequests(client: KubeClient): Promise<Map<string, number>> {
  const body = (await client.request("GET", "/metrics")) as { message?: string };
  const counts = new Map<string, number>();
  for (const line of (body.message ?? "").split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const label = (k: string): string => new RegExp(`[{,]${k}="([^"]*)"`).exec(line)?.[1] ?? "";
    const verb = label("verb");
    if (verb === "WATCH" || !label("resource")) continue;
    const key = `${verb} ${label("resource")}${label("subresource") ? `/${label("subresource")}` : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return counts;
}
function diffCounts(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

/** The NodePoolSnapshot controller's queue wait, reconcile time and count from the operator's /metrics. */
async function operatorMetrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new Map<string, number>();
  const sum = (re: RegExp, key: string): void => {
    for (const line of text.split("\n")) if (re.test(line)) m.set(key, (m.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  };
  sum(/^workqueue_queue_duration_seconds_sum\{[^}]*name="nodepoolsnapshot"/, "queueSum");
  sum(/^workqueue_queue_duration_seconds_count\{[^}]*name="nodepoolsnapshot"/, "queueCount");
  sum(/^workqueue_work_duration_seconds_sum\{[^}]*name="nodepoolsnapshot"/, "workSum");
  sum(/^workqueue_work_duration_seconds_count\{[^}]*name="nodepoolsnapshot"/, "workCount");
  sum(/^controller_runtime_reconcile_total\{[^}]*controller="nodepoolsnapshot"/, "reconciles");
  return m;
}
const meanMs = (sumS: number, count: number): string => (count > 0 ? ((1000 * sumS) / count).toFixed(0) : "-");

const tools = ensureTools("control-plane");
ensureTools("helm");
const cp = await startControlPlane({ tools });
const emu = await startEmulator({ world: "demo", rateLimits: { enabled: false } });
const procs: OperatorProcess[] = [];
const out: string[] = [];
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const admin = new KubeClient(kc);
  // The CSI snapshot CRDs too: the operator's VolumeSnapshot verifier waits for them.
  await installCrds(admin, [...crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")), ...crdFilesIn(tools.snapshotCrds)]);
  const { env, dir } = await operatorEnv(admin, kc, emu, SUB, { prefix: "bench-scale" });
  for (const ns of ["floor", "apply", "idle", "mem"]) await admin.create(nsType, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const spawn = (ns: string, extra: Record<string, string> = {}): OperatorProcess => {
    const p = spawnOperator(env, { "watch-namespaces": ns, "log-level": "warn", ...extra }, dir);
    procs.push(p);
    return p;
  };
  const stop = async (p: OperatorProcess): Promise<void> => {
    p.child.kill("SIGTERM");
    await p.exited;
  };

  // 5. RSS idle, and with MEM_N Ready objects (seeded as a previous process would leave them).
  const measureRss = async (): Promise<{ rssIdle: number; rssFull: number; where: string; whereIdle: string }> => {
    log("rss idle");
    const idle = spawn("idle");
    const rssIdle = await settledRss(idle.child.pid ?? 0);
    const whereIdle = await memoryBreakdown(idle.child.pid ?? 0);
    await stop(idle);
    if (MEM_N > 0) log(`seeding ${MEM_N} Ready objects`);
    const now = new Date().toISOString();
    await pool(MEM_N, C * 2, async (i) => {
      // (MEM_N 0: skipped, and RSS "with MEM_N" is that of an operator watching an empty namespace.)
      const name = `m${i}`;
      const o = await admin.create(nps, { ...npsObject("mem", name), metadata: { name, namespace: "mem", finalizers: ["aksnap.io/snapshot-protection"] } });
      const id = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/snapshots/${snapshotNameFor("mem", name)}`;
      emu.control.putResource(id, { location: "westeurope", tags: { "aksnap.io-owner": `mem/${name}` }, properties: { creationData: { sourceResourceId: POOL }, snapshotType: "NodePool" } });
      await admin.request("PUT", `/apis/aksnap.io/v1alpha1/namespaces/mem/nodepoolsnapshots/${name}/status`, {
        body: {
          ...o,
          status: {
            observedGeneration: 1,
            snapshotId: id,
            location: "westeurope",
            sourceResourceId: POOL,
            managedTagKeys: ["aksnap.io-owner"],
            conditions: [{ type: "Ready", status: "True", reason: "SnapshotReady", message: `snapshot ${name}`, lastTransitionTime: now, observedGeneration: 1 }],
          },
        },
      });
    });
    log(`rss with ${MEM_N}`);
    const memPort = await freePort();
    const flags = process.env.AKSNAP_NODE_FLAGS;
    if (values["heap-snapshot"]) process.env.AKSNAP_NODE_FLAGS = `${flags ?? NODE_FLAGS.join(" ")} --heapsnapshot-signal=SIGUSR2`;
    const full = spawn("mem", { "metrics-bind-address": `127.0.0.1:${memPort}` });
    if (flags === undefined) delete process.env.AKSNAP_NODE_FLAGS;
    else process.env.AKSNAP_NODE_FLAGS = flags;
    const rssFull = await settledRss(full.child.pid ?? 0, 120_000);
    const where = await memoryBreakdown(full.child.pid ?? 0, memPort);
    if (values["rss-watch"]) {
      // How RSS moves after it first settled (V8's memory reducer, resyncs): one line per 10 s.
      const until = performance.now() + parseDuration(values["rss-watch"], "rss-watch");
      while (performance.now() < until) {
        await sleep(10_000);
        const breakdown = await memoryBreakdown(full.child.pid ?? 0, memPort);
        log(`rss ${rssMiB(full.child.pid ?? 0).toFixed(0)} MiB: ${breakdown}`);
      }
    }
    if (values["heap-snapshot"]) {
      full.child.kill("SIGUSR2");
      await sleep(20_000); // written to the current directory (Heap.*.heapsnapshot)
    }
    await stop(full);
    return { rssIdle, rssFull, where, whereIdle };
  };
  if (values["rss-only"]) {
    const r = await measureRss();
    process.stdout.write(`operator RSS: idle ${r.rssIdle.toFixed(0)} MiB, ${MEM_N} Ready objects ${r.rssFull.toFixed(0)} MiB (target ≤ 120)\n`);
    process.stdout.write(`  idle, MiB: ${r.whereIdle}\n  with ${MEM_N}, MiB: ${r.where}\n`);
    await emu.stop();
    await cp.stop();
    process.exit(0);
  }

  // 1. The floor: store N objects and write one status each, as fast as this apiserver goes.
  log(`floor: ${N} creates + ${N} status writes`);
  const cpFloor = cpuOf(cp.pids());
  const f0 = performance.now();
  await pool(N, C, async (i) => {
    const o = await admin.create(nps, npsObject("floor", `f${i}`));
    await admin.request("PUT", `/apis/aksnap.io/v1alpha1/namespaces/floor/nodepoolsnapshots/f${i}/status`, {
      body: { ...o, status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "SnapshotReady", message: "x", lastTransitionTime: new Date().toISOString(), observedGeneration: 1 }] } },
    });
  });
  const floorMs = performance.now() - f0;
  const floorCpu = cpuOf(cp.pids()) - cpFloor;

  // 2. apply→Ready with the write budget out of the way; every write to the kind seen by a watch.
  let writes = 0;
  const ready = new Set<string>();
  const watching = new AbortController();
  const informer = new Informer(admin, nps, { namespace: "apply" });
  const seeObj = (o: KubeObject): void => {
    writes += 1;
    if (readyOf(o)) ready.add(o.metadata.name);
  };
  informer.addHandler({ onAdd: seeObj, onUpdate: (_old, o) => seeObj(o), onDelete: () => {} });
  await informer.start(watching.signal);
  await informer.waitForSync();
  const metricsPort = await freePort();
  if (values["cpu-prof"]) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${values["cpu-prof"]}`.trim();
  const opA = spawn("apply", { "arm-write-qps": "1000000", "arm-write-burst": "1000000", "metrics-bind-address": `127.0.0.1:${metricsPort}`, ...workerFlag });
  if (values["cpu-prof"]) delete process.env.NODE_OPTIONS;
  await sleep(3000); // the process starts and lists before the clock runs
  emu.control.clearRequests();
  const reqBefore = await apiserverRequests(admin);
  const cpuBefore = { cp: cpuOf(cp.pids()), op: cpuOf([opA.child.pid ?? 0]), bench: process.cpuUsage() };
  const opBefore = await operatorMetrics(metricsPort);
  log(`apply: ${N} NodePoolSnapshots`);
  const a0 = performance.now();
  await pool(N, C, (i) => admin.create(nps, npsObject("apply", `a${i}`)));
  while (ready.size < N) await sleep(100);
  const applyMs = performance.now() - a0;
  const cpuApply = { cp: cpuOf(cp.pids()) - cpuBefore.cp, op: cpuOf([opA.child.pid ?? 0]) - cpuBefore.op, bench: cpuSecondsOf(process.cpuUsage(cpuBefore.bench)) };
  const opAfter = await operatorMetrics(metricsPort);
  await sleep(5000); // trailing writes (a second status) are counted too
  // The operator's Events are paced (kube/events.ts): they trail Ready; wait for them (up to 60 s).
  const countEvents = async (): Promise<number> => (await admin.list(eventType, "apply")).items.reduce((a, e) => a + Number((e as { count?: number }).count ?? 1), 0);
  let events = await countEvents();
  while (events < N && performance.now() - a0 - applyMs < 60_000) {
    await sleep(500);
    events = await countEvents();
  }
  const eventsTrailS = (performance.now() - a0 - applyMs) / 1000;
  const reqs = diffCounts(await apiserverRequests(admin), reqBefore);
  const armCreate = emu.control.requests().filter((r) => r.route !== "control").length;
  watching.abort();
  await informer.stopped();
  await stop(opA);
  const writesPerObject = (writes + events) / N;
  const opDelta = (k: string): number => (opAfter.get(k) ?? 0) - (opBefore.get(k) ?? 0);
  const reconciles = opDelta("reconciles");
  const applyLines = [
    `objects: ${N} (concurrency ${C}); apiserver floor (create + one status each): ${(floorMs / 1000).toFixed(1)} s (control plane CPU ${floorCpu.toFixed(1)} s)`,
    `apply→Ready, write budget out of the way: ${(applyMs / 1000).toFixed(1)} s = ${(applyMs / floorMs).toFixed(2)}× the floor (target ≤ 1.5×)`,
    `  operator --workers ${values.workers ?? "default"}; apiserver writes per object: ${writesPerObject.toFixed(2)} (${(writes / N).toFixed(2)} to the object, ${(events / N).toFixed(2)} Events) = ${(writesPerObject / 2).toFixed(2)}× the floor's 2; the Events, paced, all written ≤ ${eventsTrailS.toFixed(0)} s after the last Ready`,
    `  apiserver requests per object (watches excluded): ${[...reqs].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join(", ")}`,
    `  CPU s during apply→Ready: control plane ${cpuApply.cp.toFixed(1)}, operator ${cpuApply.op.toFixed(1)}, bench + emulator ${cpuApply.bench.toFixed(1)} (wall ${(applyMs / 1000).toFixed(1)} s, 2 cores = ${((2 * applyMs) / 1000).toFixed(1)} CPU s)`,
    `  operator: ${reconciles} reconciles (${(reconciles / N).toFixed(2)} per object); mean queue wait ${meanMs(opDelta("queueSum"), opDelta("queueCount"))} ms, mean reconcile ${meanMs(opDelta("workSum"), opDelta("workCount"))} ms`,
    `  ARM calls per snapshot created: ${(armCreate / N).toFixed(2)} (${armCreate} for ${N}; target ≤ 2.5)`,
  ];
  if (values["apply-only"]) {
    process.stdout.write(`${applyLines.join("\n")}\n`);
    await emu.stop();
    await cp.stop();
    process.exit(0);
  }

  // 3. The budget's floor for N ARM writes at the default bucket.
  const cfg = loadConfig([`--default-subscription-id=${SUB}`, "--credential=static-token"], { AKSNAP_STATIC_TOKEN: "x" });
  if (cfg === "help") throw new Error("help");
  const bucketMinS = Math.max(0, N - cfg.armWriteBurst) / cfg.armWriteQps;

  // 4. Steady state after a restart: ARM calls per Ready object-hour at the default period.
  log(`steady state: restart over ${N} Ready objects at --resync-period=${resyncMs}ms for ${windowMs} ms`);
  const opB = spawn("apply", { "resync-period": `${resyncMs}ms` });
  emu.control.clearRequests();
  const w0 = performance.now();
  await sleep(windowMs);
  const steadyCalls = emu.control.requests().filter((r) => r.route !== "control").length;
  const wMs = performance.now() - w0;
  const rssN = rssMiB(opB.child.pid ?? 0);
  await stop(opB);
  const perObjectPeriod = steadyCalls / N / (wMs / resyncMs);
  const perObjectHour = perObjectPeriod * (HOUR / 3_600_000); // the default period is 1 h

  const { rssIdle, rssFull, where, whereIdle } = await measureRss();

  out.push(
    ...applyLines,
    `bucket-limited minimum for ${N} ARM writes at the default budget (${cfg.armWriteQps}/s, burst ${cfg.armWriteBurst}): ${bucketMinS.toFixed(0)} s = ${((bucketMinS * 1000) / floorMs).toFixed(2)}× the floor`,
    `ARM calls per Ready object-hour at --resync-period=1h: ${perObjectHour.toFixed(3)} (${steadyCalls} calls for ${N} objects over ${(wMs / 1000).toFixed(0)} s at ${resyncMs / 1000} s; target ≤ 0.1)`,
    `operator RSS: idle ${rssIdle.toFixed(0)} MiB, ${N} Ready objects ${rssN.toFixed(0)} MiB, ${MEM_N} Ready objects ${rssFull.toFixed(0)} MiB (target ≤ 120)`,
    `  idle, MiB: ${whereIdle}`,
    `  with ${MEM_N}, MiB: ${where}`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await emu.stop();
  await cp.stop();
}
