// Running one hook (src/crds/hooks.ts) in pods through the apiserver's pods/exec: shared by the
// SnapshotSchedule hooks (around a run's snapshots) and the RestoreRequest hooks (after a restore).
// Which pods, and when, is each kind's decision; here: the pod list, the exec in each pod one
// after the other (each bounded by the hook's timeout), and the outcome per pod.
import { DEFAULT_HOOK_TIMEOUT_SECONDS, type Hook, type HookResult } from "../../crds/hooks.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../kube/client.ts";
import { tail, type ExecPort } from "../../kube/exec.ts";
import { labelSelectorString } from "../../kube/selectors.ts";

export type HookPhase = HookResult["phase"];

export const podType: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };

export const failed = (r: HookResult): boolean => r.result !== "Succeeded";

/** What a hook's failure does: a message when it fails the whole (run, restore), undefined when it goes on. */
export function hookVerdict(hook: Hook, phase: HookPhase, results: readonly HookResult[]): string | undefined {
  const bad = results.filter(failed);
  if (bad.length === 0 || (hook.onError ?? "Fail") === "Continue") return undefined;
  const first = bad[0];
  const where = first?.pod ? ` in ${first.pod}` : "";
  // Bounded like the status fields that carry it (maxLength 1024): a longer one would make every status write fail.
  return `${phase} hook ${hook.name} ${first?.result ?? "Failed"}${where}${first?.message ? `: ${first.message}` : ""}`.slice(0, 1024);
}

export const isRunning = (p: KubeObject): boolean =>
  (p["status"] as { phase?: string } | undefined)?.phase === "Running" && p.metadata.deletionTimestamp === undefined;

/** The container a hook runs in: the one it names, else the pod's first. */
export const containerOf = (p: KubeObject, hook: Hook): string =>
  hook.container ?? (p["spec"] as { containers?: { name: string }[] } | undefined)?.containers?.[0]?.name ?? "";

export interface HookDeps {
  client: KubeClient;
  exec: ExecPort;
  now: () => Date;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The pods a hook's selector matches, by name; a failure (often Forbidden: hooks.enabled is off) as a hook outcome. */
export async function listHookPods(deps: Pick<HookDeps, "client">, namespace: string, hook: Hook, phase: HookPhase, signal?: AbortSignal): Promise<KubeObject[] | HookResult> {
  try {
    const list = await deps.client.list(podType, namespace, { labelSelector: labelSelectorString(hook.podSelector), ...(signal ? { signal } : {}) });
    return [...list.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  } catch (e) {
    return { name: hook.name, phase, durationMs: 0, result: "Failed", message: `listing pods: ${message(e)}`.slice(0, 1024) };
  }
}

/** Runs a hook in each of `pods`, one after the other, each bounded by the hook's timeout. */
export async function execHook(deps: HookDeps, namespace: string, hook: Hook, phase: HookPhase, pods: readonly KubeObject[], signal?: AbortSignal): Promise<HookResult[]> {
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

/** One Event line per outcome: "<prefix>post hook check in db-0: Failed (exit 1, 35 ms)". */
export function describeResult(r: HookResult, prefix = ""): string {
  const what = `${prefix}${r.phase} hook ${r.name}${r.pod ? ` in ${r.pod}` : ""}: ${r.result}`;
  const detail = r.exitCode !== undefined ? ` (exit ${r.exitCode}, ${r.durationMs} ms)` : r.message ? ` (${r.message})` : "";
  return what + detail;
}
