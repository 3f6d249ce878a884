// The real kstatus library (sigs.k8s.io/cli-utils, what Flux and Argo CD use), built from Go
// modules by hack/build-tools.sh, run on an object's JSON.
import { execFileSync } from "node:child_process";
import { inject } from "vitest";

export interface KStatusResult {
  status: "InProgress" | "Failed" | "Current" | "Terminating" | "NotFound" | "Unknown";
  message: string;
}

export function kstatus(obj: unknown): KStatusResult {
  const out = execFileSync(inject("kstatusBin"), { input: JSON.stringify(obj), encoding: "utf8" });
  return JSON.parse(out) as KStatusResult;
}
