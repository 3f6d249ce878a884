// RestoreRequest hooks (spec.hooks.post): once every restored PVC is bound and hydrated, each hook
// waits (up to waitForPodSeconds) for a pod that its selector matches, that mounts a restored PVC
// and whose container runs — the workload, typically applied by GitOps with the request — and runs
// its command there through pods/exec (the runner is shared with schedules: ../hooks/run.ts).
//
// Restarts: the exec is armed in status (hookProgress.current.execToken) by one reconcile and run by
// the next, in the process that armed it (it holds the token in memory). A process that finds a
// token it does not hold knows an exec may have been cut off by a restart: it runs the hook once
// more (attempt 2) and, cut off again, records it as Failed. Outcomes are written before the next
// hook starts, so none is lost and none runs twice unless an exec was interrupted.
import { randomUUID } from "node:crypto";
import type { Hook, HookResult } from "../../crds/hooks.ts";
import { MAX_HOOK_RESULTS } from "../../crds/hooks.ts";
import {
  DEFAULT_WAIT_FOR_POD_SECONDS,
  MAX_HOOK_ATTEMPTS,
  type HookProgress,
  type RestoreRequest,
  type RestoreRequestStatus,
} from "../../crds/restorerequest.ts";
import { rfc3339 } from "../../conditions/conditions.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { ExecPort } from "../../kube/exec.ts";
import type { EventNote } from "../common/frame.ts";
import { containerOf, describeResult, execHook, failed, hookVerdict, isRunning, listHookPods } from "../hooks/run.ts";
import { EventReasons } from "./reasons.ts";

type VolumeStatus = NonNullable<RestoreRequestStatus["volumes"]>[number];
type Current = NonNullable<HookProgress["current"]>;

/** The PVCs this request created and restored (Skipped ones are someone else's and not restored). */
export function restoredPvcs(volumes: readonly VolumeStatus[] | undefined): string[] {
  return (volumes ?? []).filter((v) => v.phase === "Succeeded").map((v) => v.pvc);
}

export type PodFit = { readonly fits: true; readonly pod: KubeObject } | { readonly fits: false; readonly pod: string; readonly why: string };

interface PodShape {
  spec?: { volumes?: { persistentVolumeClaim?: { claimName?: string } }[]; containers?: { name: string }[] };
  status?: { phase?: string; containerStatuses?: { name: string; state?: { running?: object; waiting?: { reason?: string } } }[] };
}

/** Whether a hook may run in `pod`: it mounts a restored PVC, is Running (not terminating), and the hook's container runs. */
export function podFit(pod: KubeObject, hook: Hook, restored: ReadonlySet<string>): PodFit {
  const p = pod as KubeObject & PodShape;
  const name = pod.metadata.name;
  const claims = (p.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((c): c is string => c !== undefined);
  if (!claims.some((c) => restored.has(c))) return { fits: false, pod: name, why: "mounts none of the restored PVCs" };
  if (pod.metadata.deletionTimestamp !== undefined) return { fits: false, pod: name, why: "is terminating" };
  if (!isRunning(pod)) return { fits: false, pod: name, why: `is ${p.status?.phase ?? "Pending"}` };
  const container = containerOf(pod, hook);
  if (!(p.spec?.containers ?? []).some((c) => c.name === container)) return { fits: false, pod: name, why: `has no container ${container}` };
  const st = p.status?.containerStatuses?.find((c) => c.name === container);
  if (!st?.state?.running) return { fits: false, pod: name, why: `container ${container} is not running${st?.state?.waiting?.reason ? ` (${st.state.waiting.reason})` : ""}` };
  return { fits: true, pod };
}

export type PodDecision =
  | { readonly kind: "run"; readonly pods: readonly KubeObject[] }
  | { readonly kind: "wait"; readonly message: string; readonly leftMs: number }
  | { readonly kind: "noPods"; readonly message: string };

/** Run in the pods that fit; none: wait until waitForPodSeconds after the hook's turn came, then NoPods. */
export function decidePods(fits: readonly PodFit[], restored: readonly string[], waitingSince: string, now: Date, waitSeconds: number): PodDecision {
  const ok = fits.flatMap((f) => (f.fits ? [f.pod] : []));
  if (ok.length > 0) return { kind: "run", pods: ok };
  if (restored.length === 0) return { kind: "noPods", message: "no PVC was restored (every volume was Skipped), so no pod mounts one" };
  const others = fits.flatMap((f) => (f.fits ? [] : [`${f.pod} ${f.why}`]));
  const seen = others.length > 0 ? `; matching: ${others.slice(0, 3).join(", ")}${others.length > 3 ? `, and ${others.length - 3} more` : ""}` : "; no pod matches the podSelector";
  const want = `a running pod that matches the podSelector and mounts a restored PVC (${restored.join(", ")})`;
  const since = Date.parse(waitingSince);
  const leftMs = (Number.isFinite(since) ? since : now.getTime()) + waitSeconds * 1000 - now.getTime();
  // The deadline, not a countdown: the message (and so status) changes only when the pods do.
  const until = rfc3339(new Date(now.getTime() + leftMs));
  if (leftMs > 0) return { kind: "wait", leftMs, message: `waiting until ${until} for ${want}${seen}` };
  return { kind: "noPods", message: `no ${want} within waitForPodSeconds (${waitSeconds}s)${seen}`.slice(0, 1024) };
}

/** The hooks' verdict so far: Failed at the first hook with onError Fail that failed; Succeeded when all have run. */
export function hooksVerdict(hooks: readonly Hook[], results: readonly HookResult[], done: number): { phase: "Succeeded" | "Failed"; message: string } | undefined {
  for (const h of hooks.slice(0, done)) {
    const v = hookVerdict(h, "post", results.filter((r) => r.name === h.name));
    if (v !== undefined) return { phase: "Failed", message: v };
  }
  if (done < hooks.length) return undefined;
  const bad = hooks.filter((h) => results.some((r) => r.name === h.name && failed(r)));
  if (bad.length === 0) return { phase: "Succeeded", message: `post hook(s) ${hooks.map((h) => h.name).join(", ")} succeeded` };
  const ok = hooks.length - bad.length;
  return { phase: "Succeeded", message: `${ok}/${hooks.length} post hook(s) succeeded; ${bad.map((h) => h.name).join(", ")} failed (onError Continue; see status.hooks)` };
}

export interface HookFacts {
  hooks: readonly Hook[];
  progress: HookProgress;
  results: readonly HookResult[];
  now: Date;
  /** The exec token this process armed for the request and has not used yet. */
  held: string | undefined;
  /** This process's last exec for the request, by token: its outcome survives a lost status write. */
  ran: { token: string; results: HookResult[] } | undefined;
}

export type HookPlan =
  | { readonly kind: "finished"; readonly phase: "Succeeded" | "Failed"; readonly message: string }
  | { readonly kind: "find"; readonly hook: Hook; readonly waitingSince: string }
  | { readonly kind: "exec"; readonly hook: Hook; readonly current: Current }
  | { readonly kind: "record"; readonly hook: Hook; readonly results: HookResult[] }
  | { readonly kind: "rerun"; readonly hook: Hook; readonly current: Current; readonly attempt: number }
  | { readonly kind: "giveUp"; readonly hook: Hook; readonly attempts: number };

/** What the hooks need next, from status and this process's memory. Pure. */
export function planHooks(f: HookFacts): HookPlan {
  const verdict = hooksVerdict(f.hooks, f.results, f.progress.done);
  if (verdict) return { kind: "finished", ...verdict };
  const hook = f.hooks[f.progress.done];
  if (!hook) return { kind: "finished", phase: "Succeeded", message: "no hooks left" };
  const cur = f.progress.current;
  if (!cur || cur.name !== hook.name) return { kind: "find", hook, waitingSince: rfc3339(f.now) };
  if (cur.execToken === undefined) return { kind: "find", hook, waitingSince: cur.waitingSince };
  if (f.ran?.token === cur.execToken) return { kind: "record", hook, results: f.ran.results };
  if (f.held === cur.execToken) return { kind: "exec", hook, current: cur };
  // Armed by another process (or by this one before a lost exec): it may have run, partly or fully.
  const attempt = cur.attempt ?? 1;
  if (attempt < MAX_HOOK_ATTEMPTS) return { kind: "rerun", hook, current: cur, attempt: attempt + 1 };
  return { kind: "giveUp", hook, attempts: attempt };
}

/** Per reconciler: the exec tokens this process armed, and its last outcomes (see planHooks). */
export class HookMemory {
  readonly held = new Map<string, string>();
  readonly ran = new Map<string, { token: string; results: HookResult[] }>();
  forget(key: string): void {
    this.held.delete(key);
    this.ran.delete(key);
  }
}

export interface RestoreHookDeps {
  client: KubeClient;
  exec: ExecPort | undefined;
  now: () => Date;
  memory: HookMemory;
  /** How often a hook waiting for its pod looks again. */
  pollMs: number;
}

export type HookStep =
  | { readonly kind: "progress"; readonly message: string; readonly hooks?: HookResult[]; readonly hookProgress: HookProgress; readonly requeueMs: number; readonly event?: EventNote }
  | { readonly kind: "finished"; readonly phase: "Succeeded" | "Failed"; readonly message: string; readonly hookProgress: HookProgress };

/** One step of the hooks: at most one pod list and one hook's execs per reconcile. */
export async function stepHooks(rr: RestoreRequest, deps: RestoreHookDeps, signal: AbortSignal): Promise<HookStep> {
  const key = `${rr.metadata.namespace ?? ""}/${rr.metadata.name}`;
  const ns = rr.metadata.namespace ?? "";
  const hooks = rr.spec.hooks?.post ?? [];
  const waitSeconds = rr.spec.hooks?.waitForPodSeconds ?? DEFAULT_WAIT_FOR_POD_SECONDS;
  const progress: HookProgress = rr.status?.hookProgress ?? { done: 0 };
  const results = rr.status?.hooks ?? [];
  const restored = restoredPvcs(rr.status?.volumes);
  const restoredSet = new Set(restored);
  const now = deps.now();
  const mem = deps.memory;
  const plan = planHooks({ hooks, progress, results, now, held: mem.held.get(key), ran: mem.ran.get(key) });

  const record = (hook: Hook, rs: HookResult[]): HookStep => {
    const next = hooks[progress.done + 1];
    const bad = rs.some(failed);
    return {
      kind: "progress",
      message: `post hook ${hook.name}: ${rs.map((r) => `${r.result}${r.pod ? ` in ${r.pod}` : ""}`).join(", ")}`,
      hooks: [...results, ...rs].slice(-MAX_HOOK_RESULTS),
      hookProgress: { done: progress.done + 1, ...(next ? { current: { name: next.name, waitingSince: rfc3339(now) } } : {}) },
      requeueMs: 0,
      event: { type: bad ? "Warning" : "Normal", reason: bad ? EventReasons.HookFailed : EventReasons.HookSucceeded, message: rs.map((r) => describeResult(r)).join("; ").slice(0, 1024) },
    };
  };
  const fits = async (hook: Hook): Promise<PodFit[] | HookResult> => {
    const listed = await listHookPods(deps, ns, hook, "post", signal);
    return Array.isArray(listed) ? listed.map((p) => podFit(p, hook, restoredSet)) : listed;
  };
  const arm = (hook: Hook, waitingSince: string, attempt: number, what: string, event?: EventNote): HookStep => {
    const token = randomUUID();
    mem.held.set(key, token);
    return {
      kind: "progress",
      message: `post hook ${hook.name}: ${what}`,
      hookProgress: { done: progress.done, current: { name: hook.name, waitingSince, attempt, execToken: token, startedAt: rfc3339(now) } },
      requeueMs: 0,
      ...(event ? { event } : {}),
    };
  };

  switch (plan.kind) {
    case "finished":
      mem.forget(key);
      return { kind: "finished", phase: plan.phase, message: plan.message, hookProgress: { done: progress.done } };
    case "record":
      mem.ran.delete(key);
      return record(plan.hook, plan.results);
    case "giveUp":
      return record(plan.hook, [
        {
          name: plan.hook.name,
          phase: "post",
          durationMs: 0,
          result: "Failed",
          message:
            `interrupted ${plan.attempts} times: the operator stopped (or --reconcile-timeout ended the reconcile) while the hook may have been running; ` +
            "not run again",
        },
      ]);
    case "rerun":
      return arm(plan.hook, plan.current.waitingSince, plan.attempt, `running it again (attempt ${plan.attempt}) after a restart`, {
        type: "Warning",
        reason: EventReasons.HookRerun,
        message: `post hook ${plan.hook.name}: the operator restarted while attempt ${plan.attempt - 1} may have been running; running it once more`,
      });
    case "find": {
      if (!deps.exec) return record(plan.hook, [{ name: plan.hook.name, phase: "post", durationMs: 0, result: "Failed", message: "the operator has no pods/exec port" }]);
      const f = await fits(plan.hook);
      if (!Array.isArray(f)) return record(plan.hook, [f]);
      const d = decidePods(f, restored, plan.waitingSince, now, waitSeconds);
      switch (d.kind) {
        case "run":
          return arm(plan.hook, plan.waitingSince, 1, `starting in ${d.pods.map((p) => p.metadata.name).join(", ")}`);
        case "noPods":
          return record(plan.hook, [{ name: plan.hook.name, phase: "post", durationMs: 0, result: "NoPods", message: d.message }]);
      }
      return {
        kind: "progress",
        message: `post hook ${plan.hook.name}: ${d.message}`,
        hookProgress: { done: progress.done, current: { name: plan.hook.name, waitingSince: plan.waitingSince } },
        requeueMs: Math.min(deps.pollMs, d.leftMs),
      };
    }
    case "exec": {
      mem.held.delete(key);
      const token = plan.current.execToken ?? "";
      const f = await fits(plan.hook);
      if (!Array.isArray(f)) return record(plan.hook, [f]);
      const pods = f.flatMap((x) => (x.fits ? [x.pod] : []));
      if (pods.length === 0 || !deps.exec) {
        // The pod went away between arming and now: nothing ran; wait again (the same deadline).
        return {
          kind: "progress",
          message: `post hook ${plan.hook.name}: its pod went away before the exec; waiting again`,
          hookProgress: { done: progress.done, current: { name: plan.hook.name, waitingSince: plan.current.waitingSince } },
          requeueMs: 0,
        };
      }
      const rs = await execHook({ client: deps.client, exec: deps.exec, now: deps.now }, ns, plan.hook, "post", pods, signal);
      // Cut off by shutdown or the reconcile timeout: not an outcome. The token stays in status, so
      // the next reconcile (this process or another) reruns the hook, or gives up after the second.
      if (signal.aborted) throw new Error(`post hook ${plan.hook.name}: the exec was cut off (the operator is stopping, or --reconcile-timeout was reached)`);
      mem.ran.set(key, { token, results: rs });
      return record(plan.hook, rs);
    }
  }
}
