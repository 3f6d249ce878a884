// promtool (built by hack/build-tools.sh promtool from github.com/prometheus/prometheus) and the
// chart's PrometheusRule as `helm template` renders it, for the alert tests.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "./control-plane.ts";
import { crdFilesIn } from "./crds.ts";
import { renderChart, repoRoot } from "./operator.ts";

function readTool(key: string): string | undefined {
  const m = new RegExp(`^${key}=(.*)$`, "m").exec(readFileSync(join(cacheDir(), "tools.env"), "utf8"));
  return m?.[1] && existsSync(m[1]) ? m[1] : undefined;
}

/**
 * A path from tools.env that `build-tools.sh promtool` provides. Checkouts share the cache and an
 * older build-tools.sh rewrites tools.env without these keys, so a miss runs the target once
 * (under a second when promtool is already built).
 */
function promtoolTarget(key: string): string {
  const first = readTool(key);
  if (first) return first;
  execFileSync("bash", [join(repoRoot, "hack/build-tools.sh"), "promtool"], { stdio: ["ignore", "inherit", "inherit"] });
  const again = readTool(key);
  if (!again) throw new Error(`${key} missing: run bash hack/build-tools.sh promtool`);
  return again;
}

export const promtoolBin = (): string => promtoolTarget("PROMTOOL");
/** The Prometheus Operator's ServiceMonitor and PrometheusRule CRD files. */
export const prometheusOperatorCrdFiles = (): string[] => crdFilesIn(promtoolTarget("PROMETHEUS_OPERATOR_CRDS"));

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

/** The rule groups of the chart's PrometheusRule (release "aksnap"), with extra --set values. */
export function renderedRuleGroups(set: string[] = []): RuleGroup[] {
  const objs = renderChart("aksnap-system", ["templates/prometheusrule.yaml"], ["monitoring.prometheusRule.enabled=true", ...set]);
  const rule = objs.find((o) => o.kind === "PrometheusRule") as { spec?: { groups?: RuleGroup[] } } | undefined;
  if (!rule?.spec?.groups) throw new Error("the chart rendered no PrometheusRule");
  return rule.spec.groups;
}
