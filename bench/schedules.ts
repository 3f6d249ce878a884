// Benchmark: N SnapshotSchedules due in the same minute, each with one disk target (the same tagged
// disk: N incremental snapshots). Real kube-apiserver, the ARM emulator (its rate limits off), the
// operator as its own process (for its RSS). Reports, from one run: how late each run started
// (status.lastRun.startedAt − scheduled time, 1 s resolution), how late each ARM snapshot PUT was
// sent (emulator request log, ms), the time until every child existed and every run succeeded,
// ARM calls per disk snapshot created, and the operator's peak RSS.
//   node bench/schedules.ts [--schedules 1000] [--workers 4] [--arm-write-qps 10] [--arm-write-burst 200]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { SnapshotScheduleKind } from "../src/crds/snapshotschedule.ts";
import { KubeClient } from "../src/kube/client.ts";
import { DEMO_NODE_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator } from "../test/emulator/index.ts";
import { ensureTools, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../test/harness/crds.ts";
import { operatorEnv, repoRoot, spawnOperator } from "../test/harness/operator.ts";

const { values } = parseArgs({
  options: { schedules: { type: "string" }, workers: { type: "string" }, "arm-write-qps": { type: "string" }, "arm-write-burst": { type: "string" } },
});
const N = Number(values.schedules ?? 1000);
const flags = {
  workers: values.workers ?? "4",
  // The operator's defaults (ARM's own write bucket).
  "arm-write-qps": values["arm-write-qps"] ?? "10",
  "arm-write-burst": values["arm-write-burst"] ?? "200",
};

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const rssKb = (pid: number, key: "VmRSS" | "VmHWM"): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);

const tools = ensureTools("control-plane");
ensureTools("helm");
const cp = await startControlPlane({ tools });
const emu = await startEmulator({ world: "demo", rateLimits: { enabled: false } });
let op: ReturnType<typeof spawnOperator> | undefined;
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const admin = new KubeClient(kc);
  await installCrds(admin, crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")));
  const { env, dir } = await operatorEnv(admin, kc, emu, DEMO_SUBSCRIPTION_ID, { prefix: "bench" });
  const ns = "bench";
  await admin.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const diskId = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_NODE_RESOURCE_GROUP}/providers/Microsoft.Compute/disks/bench-disk`;
  emu.control.putResource(diskId, {
    location: "westeurope",
    sku: { name: "StandardSSD_LRS" },
    tags: { benchBackup: "true" },
    properties: { diskSizeGB: 32, creationData: { createOption: "Empty" }, provisioningState: "Succeeded" },
  });
  op = spawnOperator(env, { "watch-namespaces": ns, ...flags }, dir);
  const pid = op.child.pid ?? 0;

  // The minute all schedules are due: far enough ahead for N creates and the operator to see them.
  const due = new Date(Math.ceil((Date.now() + 60_000 + N * 40) / 60_000) * 60_000);
  const cron = `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
  const c0 = Date.now();
  const queue = Array.from({ length: N }, (_, i) => i);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        await admin.create(SnapshotScheduleKind.resource, {
          apiVersion: "aksnap.io/v1alpha1",
          kind: "SnapshotSchedule",
          metadata: { name: `s${i}`, namespace: ns },
          spec: { schedule: cron, template: { disks: { resourceGroups: [DEMO_NODE_RESOURCE_GROUP], matchTags: { benchBackup: "true" }, snapshotResourceGroup: DEMO_SNAPSHOT_RESOURCE_GROUP } } },
        });
      }
    }),
  );
  const createdMs = Date.now() - c0;
  if (Date.now() > due.getTime() - 5000) throw new Error(`creating ${N} schedules took ${createdMs} ms: too close to ${due.toISOString()}`);
  const rssBefore = rssKb(pid, "VmRSS");
  emu.control.clearRequests();
  process.stdout.write(`${N} schedules created in ${(createdMs / 1000).toFixed(1)} s, due at ${due.toISOString()}; waiting\n`);

  let allChildrenAt: number | undefined;
  const snapshotPuts = (): Array<{ time: string; path: string }> =>
    emu.control.requests({ method: "PUT", path: "/providers/Microsoft\\.Compute/snapshots/" }).filter((r) => r.status >= 200 && r.status < 300);
  let starts: number[] = [];
  for (;;) {
    if (allChildrenAt === undefined && snapshotPuts().length >= N) allChildrenAt = Date.now();
    const items = (await admin.list(SnapshotScheduleKind.resource, ns)).items;
    const runs = items.map((o) => (o.status as { lastRun?: { phase?: string; startedAt?: string; scheduledTime?: string } } | undefined)?.lastRun);
    if (runs.every((r) => r?.phase === "Succeeded")) {
      starts = runs.map((r) => Date.parse(r?.startedAt ?? "") - Date.parse(r?.scheduledTime ?? ""));
      break;
    }
    if (Date.now() > due.getTime() + 15 * 60_000) throw new Error("runs not all Succeeded within 15 min");
    await new Promise((r) => setTimeout(r, 1000));
  }
  const allSucceededMs = Date.now() - due.getTime();
  const puts = snapshotPuts();
  const putLate = puts.map((p) => Date.parse(p.time) - due.getTime());
  const armRequests = emu.control.requests().filter((r) => r.route !== "control");
  const armCalls = armRequests.length;
  const byRoute = new Map<string, number>();
  for (const r of armRequests) byRoute.set(`${r.method} ${r.route}`, (byRoute.get(`${r.method} ${r.route}`) ?? 0) + 1);
  const perRoute = [...byRoute].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / Math.max(1, puts.length)).toFixed(2)}`);
  const out = [
    `schedules: ${N} due at the same minute (operator flags ${JSON.stringify(flags)})`,
    `run start lateness (status, 1 s resolution): p50 ${pct(starts, 50)} ms, p99 ${pct(starts, 99)} ms, max ${Math.max(...starts)} ms`,
    `ARM snapshot PUT lateness: p50 ${pct(putLate, 50)} ms, p99 ${pct(putLate, 99)} ms, max ${Math.max(...putLate)} ms (${puts.length} creates)`,
    `every child existed ${allChildrenAt === undefined ? "?" : allChildrenAt - due.getTime()} ms after the scheduled time; every run Succeeded after ${allSucceededMs} ms`,
    `ARM calls from the due time to all Succeeded: ${armCalls} (${(armCalls / puts.length).toFixed(2)} per disk snapshot created)`,
    `  per disk snapshot created, by route: ${perRoute.join(", ")}`,
    `operator RSS: ${(rssBefore / 1024).toFixed(0)} MiB with ${N} schedules idle, peak ${(rssKb(pid, "VmHWM") / 1024).toFixed(0)} MiB`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
} finally {
  op?.child.kill("SIGTERM");
  await op?.exited;
  await emu.stop();
  await cp.stop();
}
