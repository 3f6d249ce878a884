// Application-consistent hooks: commands run in the schedule's pods before a run's snapshots
// (flush, freeze) and after them (thaw), through the apiserver's pods/exec. The order and pairing
// are decided here; the reconciler runs one hook per reconcile and records its outcome in
// status.lastRun (hooks[], hooksDone), so a restarted operator resumes after the hooks that ran.
import type { Hook, HookResult, SnapshotScheduleSpec } from "../../crds/snapshotschedule.ts";
import { DEFAULT_HOOK_TIMEOUT_SECONDS } from "../../crds/snapshotschedule.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../kube/client.ts";
import { tail, type ExecPort } from "../../kube/exec.ts";
import { labelSelectorString } from "./children.ts";

export type HookPhase = "pre" | "post";

export const podType: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };

/** The status keeps this many hook outcomes per run (the newest). */
export const MAX_HOOK_RESULTS = 256;

/**
 * The hooks of a run, in the order they run: schedule-wide pre hooks wrap the volume ones, so the
 * volume post hooks run before the schedule-wide ones (freeze outer → inner, thaw inner → outer).
 */
export function hooksOf(spec: SnapshotScheduleSpec): { pre: Hook[]; post: Hook[] } {
  const v = spec.template.volumes?.hooks;
  const s = spec.hooks;
  return { pre: [...(s?.pre ?? []), ...(v?.pre ?? [])], post: [...(v?.post ?? []), ...(s?.post ?? [])] };
}

export const failed = (r: HookResult): boolean => r.result !== "Succeeded";

/** What a hook's failure does to the run: a message when the run fails, undefined when it goes on. */
export function hookVerdict(hook: Hook, phase: HookPhase, results: readonly HookResult[]): string | undefined {
  const bad = results.filter(failed);
  if (bad.length === 0 || (hook.onError ?? "Fail") === "Continue") return undefined;
  const first = bad[0];
  const where = first?.pod ? ` in ${first.pod}` : "";
  // Bounded like status.lastRun.hookFailure (maxLength 1024): a longer one would make every status write fail.
  return `${phase} hook ${hook.name} ${first?.result ?? "Failed"}${where}${first?.message ? `: ${first.message}` : ""}`.slice(0, 1024);
}

const isRunning = (p: KubeObject): boolean => (p["status"] as { phase?: string } | undefined)?.phase === "Running" && p.metadata.deletionTimestamp === undefined;

const containerOf = (p: KubeObject, hook: Hook): string =>
  hook.container ?? (p["spec"] as { containers?: { name: string }[] } | undefined)?.containers?.[0]?.name ?? "";

export interface HookDeps {
  client: KubeClient;
  exec: ExecPort;
  now: () => Date;
}

/** Runs one hook in every running pod its selector matches, one pod after the other (bounded by its timeout each). */
export async function runHook(deps: HookDeps, namespace: string, hook: Hook, phase: HookPhase, signal?: AbortSignal): Promise<HookResult[]> {
  const t0 = deps.now().getTime();
  const ms = (): number => Math.max(0, deps.now().getTime() - t0);
  let pods: KubeObject[];
  try {
    const list = await deps.client.list(podType, namespace, { labelSelector: labelSelectorString(hook.podSelector), ...(signal ? { signal } : {}) });
    pods = list.items.filter(isRunning).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  } catch (e) {
    // Forbidden here usually means the chart value hooks.enabled is off (no pods list/exec rights).
    return [{ name: hook.name, phase, durationMs: ms(), result: "Failed", message: `listing pods: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1024) }];
  }
  if (pods.length === 0) {
    return [{ name: hook.name, phase, durationMs: ms(), result: "NoPods", message: `no running pod in ${namespace} matches the podSelector` }];
  }
  const timeoutMs = (hook.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS) * 1000;
  const out: HookResult[] = [];
  for (const p of pods) {
    const container = containerOf(p, hook);
    const start = deps.now().getTime();
    const r = await deps.exec.exec({ namespace, pod: p.metadata.name, container, command: hook.command, timeoutMs, ...(signal ? { signal } : {}) });
    const base = { name: hook.name, phase, pod: p.metadata.name, container, durationMs: Math.max(0, deps.now().getTime() - start), outputTail: tail(r.output) };
    if (r.kind === "exited") {
      out.push({ ...base, exitCode: r.exitCode, result: r.exitCode === 0 ? "Succeeded" : "Failed", ...(r.exitCode === 0 ? {} : { message: `exit code ${r.exitCode}` }) });
    } else if (r.kind === "timedOut") {
      out.push({ ...base, result: "TimedOut", message: `no exit within ${timeoutMs / 1000}s; the exec was abandoned` });
    } else {
      out.push({ ...base, result: "Failed", message: r.message.slice(0, 1024) });
    }
  }
  return out;
}
