// Application-consistent hooks: commands run in the schedule's pods before a run's snapshots
// (flush, freeze) and after them (thaw), through the apiserver's pods/exec. The order and pairing
// are decided here; the reconciler runs one hook per reconcile and records its outcome in
// status.lastRun (hooks[], hooksDone), so a restarted operator resumes after the hooks that ran.
// The exec itself is shared with RestoreRequest hooks (../hooks/run.ts).
import type { Hook, HookResult } from "../../crds/hooks.ts";
import type { SnapshotScheduleSpec } from "../../crds/snapshotschedule.ts";
import { execHook, isRunning, listHookPods, type HookDeps, type HookPhase } from "../hooks/run.ts";

export { failed, hookVerdict, type HookPhase } from "../hooks/run.ts";
export { MAX_HOOK_RESULTS } from "../../crds/hooks.ts";

/**
 * The hooks of a run, in the order they run: schedule-wide pre hooks wrap the volume ones, so the
 * volume post hooks run before the schedule-wide ones (freeze outer → inner, thaw inner → outer).
 */
export function hooksOf(spec: SnapshotScheduleSpec): { pre: Hook[]; post: Hook[] } {
  const v = spec.template.volumes?.hooks;
  const s = spec.hooks;
  return { pre: [...(s?.pre ?? []), ...(v?.pre ?? [])], post: [...(v?.post ?? []), ...(s?.post ?? [])] };
}

/** Runs one hook in every running pod its selector matches, one pod after the other (bounded by its timeout each). */
export async function runHook(deps: HookDeps, namespace: string, hook: Hook, phase: HookPhase, signal?: AbortSignal): Promise<HookResult[]> {
  const t0 = deps.now().getTime();
  const listed = await listHookPods(deps, namespace, hook, phase, signal);
  if (!Array.isArray(listed)) return [{ ...listed, durationMs: Math.max(0, deps.now().getTime() - t0) }];
  const pods = listed.filter(isRunning);
  if (pods.length === 0) {
    return [{ name: hook.name, phase, durationMs: Math.max(0, deps.now().getTime() - t0), result: "NoPods", message: `no running pod in ${namespace} matches the podSelector` }];
  }
  return execHook(deps, namespace, hook, phase, pods, signal);
}
