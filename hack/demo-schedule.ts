// The demo's schedule part: the on-demand SnapshotSchedule sample (config/samples/
// snapshotschedule-on-demand.yaml) captures both node pools, the labelled PVC and the tagged demo
// disks in one run. The run's children are shown until every one is verified: node-pool snapshots
// Ready, the VolumeSnapshot verified by aksnap (not just readyToUse), disk snapshots fully copied.
import { join } from "node:path";
import { kstatusOf, type Condition } from "../src/conditions/conditions.ts";
import { SnapshotScheduleKind, type TargetResult } from "../src/crds/snapshotschedule.ts";
import type { KubeClient } from "../src/kube/client.ts";
import { readYamlObjects } from "../test/harness/crds.ts";
import { repoRoot } from "../test/harness/operator.ts";

export const DEMO_SCHEDULE = "pre-upgrade";
export const SCHEDULE_HEAD = ["SCHEDULE", "RUN", "PHASE", "VERIFIED", "KSTATUS", "CHILDREN"];

interface RunView {
  id?: string;
  phase?: string;
  targets?: number;
  verified?: number;
  results?: TargetResult[];
}

/** Applies the on-demand schedule sample (it carries a run request). */
export async function applyScheduleSample(admin: KubeClient): Promise<void> {
  for (const o of readYamlObjects(join(repoRoot, "config/samples/snapshotschedule-on-demand.yaml"))) await admin.apply(SnapshotScheduleKind.resource, o, "kubectl");
}

function child(r: TargetResult): string {
  const what = r.kind === "NodePoolSnapshot" ? "pool" : r.kind === "VolumeSnapshot" ? "pvc" : "disk";
  const target = r.target.split("/").pop() ?? r.target;
  const pct = r.phase === "Pending" && r.completionPercent !== undefined ? ` ${r.completionPercent}%` : "";
  return `${what} ${target} ${r.phase}${pct}`;
}

export async function scheduleRows(admin: KubeClient, ns: string): Promise<{ rows: string[][]; done: boolean }> {
  const o = await admin.tryGet(SnapshotScheduleKind.resource, ns, DEMO_SCHEDULE);
  if (!o) return { rows: [], done: false };
  const st = (o.status ?? {}) as { lastRun?: RunView; conditions?: Condition[]; observedGeneration?: number };
  const run = st.lastRun ?? {};
  const ks = kstatusOf(o.metadata.generation ?? 0, st.observedGeneration, st.conditions);
  const results = run.results ?? [];
  const rows = [[DEMO_SCHEDULE, run.id ?? "-", run.phase ?? "-", `${run.verified ?? 0}/${run.targets ?? 0}`, ks, results.length === 0 ? "" : child(results[0] as TargetResult)]];
  for (const r of results.slice(1)) rows.push(["", "", "", "", "", child(r)]);
  return { rows, done: run.phase === "Succeeded" || run.phase === "Failed" };
}
