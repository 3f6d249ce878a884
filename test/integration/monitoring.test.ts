// Every metric the chart's alerts and the Grafana dashboard query is exported by the running
// operator: the operator started in-process with the chart's RBAC against the ARM emulator, a
// NodePoolSnapshot and a schedule run created so the ARM, reconcile and schedule series exist, and
// /metrics scraped over HTTP.
// Metric names are parsed out of the PromQL as rendered (rules) and as shipped (dashboard).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import { SnapshotScheduleKind } from "../../src/crds/snapshotschedule.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { freePort } from "../harness/control-plane.ts";
import { createNamespace, eventually, kubeClient, kubeConfig } from "../harness/kube.ts";
import { type InProcessOperator, operatorEnv, repoRoot, startInProcess } from "../harness/operator.ts";
import { renderedRuleGroups } from "../harness/promtool.ts";

// PromQL words that are not metric names.
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "and", "or", "unless", "bool", "time", "vector"]);

/**
 * Metric names in a PromQL expression. Every selector in our rules and dashboard is written
 * `name{...}`; anything else that looks like a bare name fails, so nothing escapes the check.
 */
function metricNames(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = [...noStrings.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1] as string);
  const rest = noStrings
    .replace(/[a-zA-Z_:][a-zA-Z0-9_:]*\s*\{[^}]*\}/g, " ") // selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\$\w+/g, " ") // Grafana variables
    .replace(/[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, "("); // function calls
  const bare = [...rest.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)].map((m) => m[0]).filter((w) => !KEYWORDS.has(w) && !/^\d/.test(w) && !/^(e|inf|nan)$/i.test(w));
  if (bare.length > 0) throw new Error(`bare names ${bare.join(", ")} in ${expr}: write selectors as name{...}`);
  return names;
}

interface Dashboard {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ query?: string | { query: string } }> };
}

function queried(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  const add = (expr: string, from: string): void => {
    for (const n of metricNames(expr)) where.set(n, [...(where.get(n) ?? []), from]);
  };
  for (const r of renderedRuleGroups().flatMap((g) => g.rules)) add(r.expr, `alert ${r.alert}`);
  const dash = JSON.parse(readFileSync(join(repoRoot, "deploy/helm/aksnap/dashboards/aksnap.json"), "utf8")) as Dashboard;
  for (const p of dash.panels) for (const t of p.targets ?? []) add(t.expr, `panel "${p.title}"`);
  for (const v of dash.templating.list) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    const m = q ? /^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(q) : null;
    if (m?.[1]) where.set(m[1], [...(where.get(m[1]) ?? []), "dashboard variable"]);
  }
  return where;
}

let emu: RunningEmulator;
let op: InProcessOperator;
let port: number;
let ns: string;

beforeAll(async () => {
  emu = await startEmulator({ world: "demo" });
  const kc = kubeConfig();
  const admin = kubeClient(kc);
  const { env } = await operatorEnv(admin, kc, emu, DEMO_SUBSCRIPTION_ID, { prefix: "mon" });
  ns = await createNamespace(kc, "monitoring");
  port = await freePort();
  op = await startInProcess(env, { "watch-namespaces": ns, "metrics-bind-address": `127.0.0.1:${port}` });
  const agentPoolId = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
  await admin.create(NodePoolSnapshotKind.resource, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: "m", namespace: ns }, spec: { source: { agentPoolId } } });
  // ARM calls made and a reconcile finished: the labelled ARM and reconcile series exist.
  await eventually(async () => ((await op.metric("aksnap_arm_requests_total")) > 0 ? true : undefined), "an ARM request", 60_000);
  await eventually(async () => ((await op.metric("controller_runtime_reconcile_total", { controller: "nodepoolsnapshot" })) > 0 ? true : undefined), "a reconcile", 60_000);
  // A schedule with one successful on-demand run: the schedule series (last success, next run,
  // runs by phase, snapshots kept) exist.
  const source = { resourceGroup: DEMO_RESOURCE_GROUP, clusterName: DEMO_CLUSTER, agentPoolName: "userpool" };
  await admin.create(SnapshotScheduleKind.resource, {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "SnapshotSchedule",
    metadata: { name: "nightly", namespace: ns, annotations: { "aksnap.io/run-requested-at": "monitoring-test" } },
    spec: { schedule: "0 2 * * *", template: { nodePools: [{ source }] }, retention: { maxCount: 3 } },
  });
  await eventually(async () => {
    const st = (await admin.get(SnapshotScheduleKind.resource, ns, "nightly")).status as { lastRun?: { phase: string } } | undefined;
    return st?.lastRun?.phase === "Succeeded" ? true : undefined;
  }, "the schedule's run to succeed", 90_000);
  // The run is counted after its status write and that write's Event: a status seen is not yet a count.
  await eventually(async () => ((await op.metric("aksnap_schedule_runs_total", { phase: "Succeeded" })) > 0 ? true : undefined), "the run counted", 30_000);
});

afterAll(async () => {
  await op?.stop();
  await emu?.stop();
});

async function scrapedNames(): Promise<Set<string>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const names = (await res.text())
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0] ?? "");
  return new Set(names);
}

describe("metrics the alerts and the dashboard query", () => {
  it("parses names out of PromQL and refuses bare names", () => {
    expect(metricNames('sum by (le) (rate(a_bucket{job=~"$job"}[$__rate_interval])) / time() - max(b{x="y{"}) or vector(0)')).toEqual(["a_bucket", "b"]);
    expect(() => metricNames("sum(rate(up[5m]))")).toThrow("bare names up");
  });

  it("every one is exported by the running operator", async () => {
    const exported = await scrapedNames();
    const want = queried();
    expect(want.size).toBeGreaterThan(10);
    const missing = [...want].filter(([n]) => !exported.has(n)).map(([n, from]) => `${n} (${from.join(", ")})`);
    expect(missing).toEqual([]);
    for (const n of ["aksnap_leader", "aksnap_schedule_last_success_timestamp_seconds", "aksnap_volumesnapshots", "aksnap_arm_requests_total"]) expect(want.has(n), n).toBe(true);
  });

  it("runs are counted per schedule, so AksnapScheduleRunFailed names it", async () => {
    expect(await op.metric("aksnap_schedule_runs_total", { namespace: ns, name: "nightly", phase: "Succeeded" })).toBe(1);
  });

  it("aksnap_leader is 1 on the running operator without leader election", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect((await res.text()).split("\n")).toContain("aksnap_leader 1");
  });
});
