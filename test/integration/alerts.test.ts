// The chart's PrometheusRule, as `helm template` renders it, checked and unit-tested by the real
// promtool (`promtool check rules`, `promtool test rules` on test/promtool/alerts.test.yaml): every
// alert fires, does not fire, and honours its `for` window. The ServiceMonitor scrapes the Service
// the chart creates, and the dashboard ConfigMap carries the dashboard JSON.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { resourcePath, type ResourceType } from "../../src/kube/client.ts";
import { cacheDir } from "../harness/control-plane.ts";
import { installCrds } from "../harness/crds.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";
import { chartKinds, renderChart, repoRoot } from "../harness/operator.ts";
import { prometheusOperatorCrdFiles, promtoolBin, renderedRuleGroups } from "../harness/promtool.ts";

const testsFile = join(repoRoot, "test/promtool/alerts.test.yaml");

interface PromtoolTests {
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

function promtool(args: string[], cwd: string): { code: number | null; out: string } {
  const r = spawnSync(promtoolBin(), args, { cwd, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The rendered rules and the promtool tests side by side in a fresh directory, as promtool wants them. */
function workdir(set: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "aksnap-promtool-"));
  writeFileSync(join(dir, "rules.yaml"), stringify({ groups: renderedRuleGroups(set) }));
  copyFileSync(testsFile, join(dir, "alerts.test.yaml"));
  return dir;
}

describe("alerts (promtool)", () => {
  it("the rendered rules pass promtool check rules", () => {
    const r = promtool(["check", "rules", "rules.yaml"], workdir());
    expect(r.out).toContain("SUCCESS: 7 rules found");
    expect(r.code).toBe(0);
  });

  it("every alert has severity, summary, description and a runbook link into docs/alerts.md", () => {
    const docs = readFileSync(join(repoRoot, "docs/alerts.md"), "utf8");
    for (const rule of renderedRuleGroups().flatMap((g) => g.rules)) {
      expect(rule.for, rule.alert).toMatch(/^\d+[mh]$/);
      expect(["warning", "critical"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      expect(rule.annotations?.runbook_url).toBe(`https://github.com/aksnap/aksnap/blob/main/docs/alerts.md#${String(rule.alert).toLowerCase()}`);
      expect(docs).toContain(`\n## ${rule.alert}\n`);
    }
  });

  it("every alert is tested both firing and not firing", () => {
    const tests = (parse(readFileSync(testsFile, "utf8")) as PromtoolTests).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of renderedRuleGroups().flatMap((g) => g.rules)) {
      const mine = tests.filter((t) => t.alertname === rule.alert);
      expect(mine.some((t) => t.exp_alerts.length > 0), `${rule.alert} fires somewhere`).toBe(true);
      expect(mine.some((t) => t.exp_alerts.length === 0), `${rule.alert} stays quiet somewhere`).toBe(true);
    }
  });

  it("promtool test rules passes on the rendered rules", () => {
    const r = promtool(["test", "rules", "alerts.test.yaml"], workdir());
    expect(r.out).toContain("SUCCESS");
    expect(r.code, r.out).toBe(0);
  });

  it("the tests can fail: a rule with a shorter `for` breaks them", () => {
    // Proves the `for` windows are asserted, not just the conditions.
    const r = promtool(["test", "rules", "alerts.test.yaml"], workdir(["monitoring.prometheusRule.verificationWaitingFor=5h"]));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("AksnapVolumeSnapshotVerificationSlow");
  });

  it("another release selects its own job", () => {
    const exprs = renderChart("ops", ["templates/prometheusrule.yaml"], ["monitoring.prometheusRule.enabled=true"], "backup")
      .flatMap((o) => (o.spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.expr)));
    expect(exprs.length).toBe(7);
    for (const e of exprs) expect(e).toContain('job="backup-aksnap-metrics"');
  });
});

describe("ServiceMonitor and dashboard", () => {
  it("are off by default", () => {
    const kinds = renderChart("aksnap-system").map((o) => o.kind);
    expect(kinds).not.toContain("ServiceMonitor");
    expect(kinds).not.toContain("PrometheusRule");
    expect(kinds.filter((k) => k === "ConfigMap")).toEqual([]);
  });

  it("the ServiceMonitor selects the metrics Service and its port, keeping the schedules' namespace label", () => {
    const objs = renderChart("aksnap-system", [], ["monitoring.serviceMonitor.enabled=true", "monitoring.serviceMonitor.labels.release=kps"]);
    const sm = objs.find((o) => o.kind === "ServiceMonitor") as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; honorLabels: boolean }> } };
    const services = objs.filter((o) => o.kind === "Service") as unknown as Array<{ metadata: { name: string; labels: Record<string, string> }; spec: { ports: Array<{ name: string }> } }>;
    const selected = services.filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v));
    expect(selected.map((s) => s.metadata.name)).toEqual(["aksnap-metrics"]);
    expect(selected[0]?.spec.ports.map((p) => p.name)).toContain(sm.spec.endpoints[0]?.port);
    expect(sm.spec.endpoints[0]?.honorLabels).toBe(true);
    expect(sm.metadata.labels.release).toBe("kps");
  });

  it("the dashboard is well formed: unique panel ids, every query on the chosen data source and job", () => {
    const dash = JSON.parse(readFileSync(join(repoRoot, "deploy/helm/aksnap/dashboards/aksnap.json"), "utf8")) as {
      uid: string;
      panels: Array<{ id: number; type: string; datasource?: { uid: string }; targets?: Array<{ refId: string; expr: string; datasource: { uid: string } }> }>;
    };
    expect(dash.uid).toBe("aksnap-overview");
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const targets = dash.panels.flatMap((p) => p.targets ?? []);
    expect(targets.length).toBeGreaterThanOrEqual(15);
    for (const t of targets) {
      expect(t.datasource.uid).toBe("${datasource}");
      expect(t.expr).toContain('job=~"$job"');
    }
  });

  it("the dashboard ConfigMap carries dashboards/aksnap.json with the sidecar's label", () => {
    const cm = renderChart("aksnap-system", ["templates/grafana-dashboard.yaml"], ["monitoring.grafanaDashboard.enabled=true"])[0] as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(cm.metadata.labels.grafana_dashboard).toBe("1");
    expect(JSON.parse(cm.data["aksnap.json"] ?? "")).toEqual(JSON.parse(readFileSync(join(repoRoot, "deploy/helm/aksnap/dashboards/aksnap.json"), "utf8")));
  });
});

const monitoringKinds: Record<string, ResourceType> = {
  ...chartKinds,
  ConfigMap: { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true },
  ServiceMonitor: { group: "monitoring.coreos.com", version: "v1", plural: "servicemonitors", kind: "ServiceMonitor", namespaced: true },
  PrometheusRule: { group: "monitoring.coreos.com", version: "v1", plural: "prometheusrules", kind: "PrometheusRule", namespaced: true },
};

describe("monitoring objects on the real apiserver", () => {
  it("the ServiceMonitor, PrometheusRule and dashboard ConfigMap pass the Prometheus Operator CRDs' schemas (server-side dry run)", async () => {
    const client = kubeClient();
    await installCrds(client, prometheusOperatorCrdFiles());
    const ns = await createNamespace(kubeConfig(), "monitoring-chart");
    const set = ["monitoring.serviceMonitor.enabled=true", "monitoring.prometheusRule.enabled=true", "monitoring.grafanaDashboard.enabled=true"];
    const objs = renderChart(ns, ["templates/servicemonitor.yaml", "templates/prometheusrule.yaml", "templates/grafana-dashboard.yaml"], set, ns);
    expect(objs.map((o) => o.kind).sort()).toEqual(["ConfigMap", "PrometheusRule", "ServiceMonitor"]);
    for (const o of objs) {
      const t = monitoringKinds[o.kind];
      if (!t) throw new Error(`no type for ${o.kind}`);
      // Strict: a misspelt field (e.g. honorlabels) is an error, not silently pruned.
      await client.request("POST", resourcePath(t, ns), { body: o, query: { dryRun: "All", fieldValidation: "Strict" } });
    }
  });

  it.each([
    ["an interval without unit", "monitoring.serviceMonitor.interval=30", "at '/monitoring/serviceMonitor/interval'"],
    ["a throttle ratio above 1", "monitoring.prometheusRule.armThrottledRatio=2", "at '/monitoring/prometheusRule/armThrottledRatio'"],
    ["a typo in a monitoring key", "monitoring.serviceMonitor.enable=true", "additional properties 'enable' not allowed"],
    ["a runbook base that is not a URL", "monitoring.prometheusRule.runbookBaseUrl=docs/alerts.md", "at '/monitoring/prometheusRule/runbookBaseUrl'"],
  ])("values.schema.json rejects %s", (_name, set, message) => {
    const r = spawnSync(helmBinary(), ["lint", "--strict", join(repoRoot, "deploy/helm/aksnap"), "--set", set], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(message);
  });
});

function helmBinary(): string {
  const m = /^HELM=(.*)$/m.exec(readFileSync(join(cacheDir(), "tools.env"), "utf8"));
  if (!m?.[1]) throw new Error("helm not built: run hack/build-tools.sh helm");
  return m[1];
}
