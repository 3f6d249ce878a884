// Argo CD's verdict on an object: the health scripts in deploy/gitops/argocd run by gopher-lua (the
// interpreter Argo CD embeds) through hack/luahealth, built by hack/build-tools.sh like kstatus.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "./control-plane.ts";
import { repoRoot } from "./operator.ts";

export interface ArgoHealth {
  status: "Healthy" | "Progressing" | "Degraded" | "Suspended" | "Missing" | "Unknown";
  message: string;
}

export function luahealthBin(): string {
  const m = /^LUAHEALTH=(.*)$/m.exec(readFileSync(join(cacheDir(), "tools.env"), "utf8"));
  if (!m?.[1]) throw new Error("luahealth not built: run hack/build-tools.sh luahealth");
  return m[1];
}

export const healthScript = (kind: string): string => join(repoRoot, "deploy/gitops/argocd", `aksnap.io_${kind}.lua`);

/** Runs the kind's health script on the object, as Argo CD would. */
export function argoHealth(obj: { kind?: unknown }): ArgoHealth {
  const out = execFileSync(luahealthBin(), [healthScript(String(obj.kind))], { input: JSON.stringify(obj), encoding: "utf8" });
  return JSON.parse(out) as ArgoHealth;
}
