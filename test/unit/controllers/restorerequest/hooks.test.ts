// The pure decisions of RestoreRequest hooks: which pod a hook may run in, when to wait and when it
// is NoPods, what the outcomes make of the request, and what a process does with an armed exec it
// did or did not arm (restart safety).
import { describe, expect, it } from "vitest";
import type { Hook, HookResult } from "../../../../src/crds/hooks.ts";
import type { HookProgress } from "../../../../src/crds/restorerequest.ts";
import type { KubeObject } from "../../../../src/kube/client.ts";
import { decidePods, hooksVerdict, planHooks, podFit, restoredPvcs, type HookFacts } from "../../../../src/controllers/restorerequest/hooks.ts";

const hook = (name: string, extra: Partial<Hook> = {}): Hook => ({ name, podSelector: { matchLabels: { app: "db" } }, command: ["true"], ...extra });

interface PodIn {
  name?: string;
  claims?: string[];
  phase?: string;
  deleting?: boolean;
  containers?: string[];
  running?: string[];
  waiting?: Record<string, string>;
}
function pod(p: PodIn = {}): KubeObject {
  const containers = p.containers ?? ["main"];
  const running = p.running ?? containers;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name ?? "db-0", namespace: "ns", ...(p.deleting ? { deletionTimestamp: "2026-11-28T00:00:00Z" } : {}) },
    spec: { containers: containers.map((name) => ({ name })), volumes: (p.claims ?? ["data"]).map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
    status: {
      phase: p.phase ?? "Running",
      containerStatuses: containers.map((name) => ({
        name,
        state: running.includes(name) ? { running: { startedAt: "2026-11-28T00:00:00Z" } } : { waiting: { reason: p.waiting?.[name] ?? "ContainerCreating" } },
      })),
    },
  } as KubeObject;
}

const restored = new Set(["data"]);

describe("restoredPvcs", () => {
  it("only the PVCs this request created and restored: Skipped ones are someone else's", () => {
    expect(
      restoredPvcs([
        { pvc: "data", phase: "Succeeded" },
        { pvc: "logs", phase: "Skipped" },
      ]),
    ).toEqual(["data"]);
  });
});

describe("podFit", () => {
  it.each([
    { name: "running pod mounting a restored PVC", p: {}, h: hook("c"), want: "fits" },
    { name: "mounts only another PVC (the original, a Skipped one)", p: { claims: ["data-original"] }, h: hook("c"), want: "mounts none of the restored PVCs" },
    { name: "mounts no PVC at all", p: { claims: [] }, h: hook("c"), want: "mounts none of the restored PVCs" },
    { name: "mounts a restored PVC among others", p: { claims: ["scratch", "data"] }, h: hook("c"), want: "fits" },
    { name: "Pending (waiting for the PVC to bind)", p: { phase: "Pending" }, h: hook("c"), want: "is Pending" },
    { name: "terminating", p: { deleting: true }, h: hook("c"), want: "is terminating" },
    { name: "Succeeded (a finished job)", p: { phase: "Succeeded" }, h: hook("c"), want: "is Succeeded" },
    { name: "named container absent", p: {}, h: hook("c", { container: "postgres" }), want: "has no container postgres" },
    {
      name: "named container not running yet",
      p: { containers: ["postgres", "sidecar"], running: ["sidecar"], waiting: { postgres: "CrashLoopBackOff" } },
      h: hook("c", { container: "postgres" }),
      want: "container postgres is not running (CrashLoopBackOff)",
    },
    { name: "default container is the first: running", p: { containers: ["main", "sidecar"], running: ["main"] }, h: hook("c"), want: "fits" },
    { name: "default container is the first: not running", p: { containers: ["main", "sidecar"], running: ["sidecar"] }, h: hook("c"), want: "container main is not running (ContainerCreating)" },
  ])("$name", ({ p, h, want }) => {
    const f = podFit(pod(p), h, restored);
    expect(f.fits ? "fits" : f.why).toBe(want);
  });
});

describe("decidePods", () => {
  const since = "2026-11-28T10:00:00Z";
  const at = (s: number): Date => new Date(Date.parse(since) + s * 1000);
  it.each([
    { name: "a pod fits: run at once", fits: [podFit(pod(), hook("c"), restored)], now: at(0), want: "run" },
    { name: "nothing yet, within the wait: wait", fits: [podFit(pod({ phase: "Pending" }), hook("c"), restored)], now: at(30), want: "wait" },
    { name: "nothing matched at all, within the wait: wait", fits: [], now: at(599), want: "wait" },
    { name: "the wait is over: NoPods", fits: [podFit(pod({ phase: "Pending" }), hook("c"), restored)], now: at(600), want: "noPods" },
    { name: "the wait is over, nothing matched: NoPods", fits: [], now: at(601), want: "noPods" },
  ])("$name", ({ fits, now, want }) => {
    expect(decidePods(fits, ["data"], since, now, 600).kind).toBe(want);
  });
  it("waitForPodSeconds 0: NoPods at once", () => {
    expect(decidePods([], ["data"], since, at(0), 0).kind).toBe("noPods");
  });
  it("every volume Skipped: NoPods at once, saying why", () => {
    const d = decidePods([], [], since, at(0), 600);
    expect(d).toEqual({ kind: "noPods", message: "no PVC was restored (every volume was Skipped), so no pod mounts one" });
  });
  it("says which pods matched and why they do not qualify, and until when it waits (no countdown: status changes only with the pods)", () => {
    const d = decidePods([podFit(pod({ phase: "Pending" }), hook("c"), restored), podFit(pod({ name: "old", claims: ["x"] }), hook("c"), restored)], ["data"], since, at(10), 600);
    expect(d).toMatchObject({ kind: "wait", leftMs: 590_000 });
    expect(d.kind === "wait" ? d.message : "").toBe(
      "waiting until 2026-11-28T10:10:00Z for a running pod that matches the podSelector and mounts a restored PVC (data); matching: db-0 is Pending, old mounts none of the restored PVCs",
    );
  });
  it("a NoPods message fits status (1024 characters) with many pods", () => {
    const many = Array.from({ length: 50 }, (_, i) => podFit(pod({ name: `p-${"x".repeat(200)}-${i}`, phase: "Pending" }), hook("c"), restored));
    const d = decidePods(many, ["data"], since, at(700), 600);
    expect(d.kind).toBe("noPods");
    expect(d.kind === "noPods" ? d.message.length : 0).toBeLessThanOrEqual(1024);
  });
});

const ok = (name: string, pod = "db-0"): HookResult => ({ name, phase: "post", pod, durationMs: 5, exitCode: 0, result: "Succeeded" });
const bad = (name: string, result: HookResult["result"] = "Failed", pod?: string): HookResult => ({
  name,
  phase: "post",
  durationMs: 5,
  result,
  ...(pod ? { pod } : {}),
  ...(result === "Failed" ? { exitCode: 1, message: "exit code 1" } : {}),
});

describe("hooksVerdict (outcomes → phase)", () => {
  const check = hook("check");
  const lenient = hook("lenient", { onError: "Continue" });
  it.each([
    { name: "all succeeded", hooks: [check], rs: [ok("check")], done: 1, want: { phase: "Succeeded", message: "post hook(s) check succeeded" } },
    { name: "not all ran yet", hooks: [check, lenient], rs: [ok("check")], done: 1, want: undefined },
    {
      name: "Fail (the default) fails the request at once; later hooks do not run",
      hooks: [check, lenient],
      rs: [bad("check", "Failed", "db-0")],
      done: 1,
      want: { phase: "Failed", message: "post hook check Failed in db-0: exit code 1" },
    },
    { name: "NoPods is a failure too", hooks: [check], rs: [bad("check", "NoPods")], done: 1, want: { phase: "Failed", message: "post hook check NoPods" } },
    {
      name: "one pod of two failed: Fail",
      hooks: [check],
      rs: [ok("check", "db-0"), bad("check", "TimedOut", "db-1")],
      done: 1,
      want: { phase: "Failed", message: "post hook check TimedOut in db-1" },
    },
    {
      name: "Continue: recorded, the request succeeds and says so",
      hooks: [lenient, check],
      rs: [bad("lenient", "Failed", "db-0"), ok("check")],
      done: 2,
      want: { phase: "Succeeded", message: "1/2 post hook(s) succeeded; lenient failed (onError Continue; see status.hooks)" },
    },
  ])("$name", ({ hooks, rs, done, want }) => {
    expect(hooksVerdict(hooks, rs, done)).toEqual(want);
  });
});

describe("planHooks (restart safety)", () => {
  const now = new Date("2026-11-28T10:05:00Z");
  const h1 = hook("first");
  const h2 = hook("second");
  const facts = (progress: HookProgress, extra: Partial<HookFacts> = {}): HookFacts => ({ hooks: [h1, h2], progress, results: [], now, held: undefined, ran: undefined, ...extra });
  const cur = (extra: Partial<NonNullable<HookProgress["current"]>> = {}) => ({ name: "first", waitingSince: "2026-11-28T10:00:00Z", ...extra });
  it.each([
    { name: "waiting for a pod: look for one, the wait counted from its turn", f: facts({ done: 0, current: cur() }), want: { kind: "find", waitingSince: "2026-11-28T10:00:00Z" } },
    { name: "no current recorded: its turn starts now", f: facts({ done: 0 }), want: { kind: "find", waitingSince: "2026-11-28T10:05:00Z" } },
    { name: "armed by this process: exec", f: facts({ done: 0, current: cur({ attempt: 1, execToken: "t1" }) }, { held: "t1" }), want: { kind: "exec" } },
    {
      name: "armed by another process (restart): run once more",
      f: facts({ done: 0, current: cur({ attempt: 1, execToken: "t1" }) }),
      want: { kind: "rerun", attempt: 2 },
    },
    {
      name: "this process holds another token (an older arm whose write was lost): run once more",
      f: facts({ done: 0, current: cur({ attempt: 1, execToken: "t1" }) }, { held: "t0" }),
      want: { kind: "rerun", attempt: 2 },
    },
    { name: "interrupted on the second attempt: give up (Failed)", f: facts({ done: 0, current: cur({ attempt: 2, execToken: "t2" }) }), want: { kind: "giveUp", attempts: 2 } },
    {
      name: "this process ran it but the outcome's write was lost: record that outcome, no second exec",
      f: facts({ done: 0, current: cur({ attempt: 1, execToken: "t1" }) }, { ran: { token: "t1", results: [ok("first")] } }),
      want: { kind: "record", results: [ok("first")] },
    },
    { name: "all done: finished", f: facts({ done: 2 }, { results: [ok("first"), ok("second")] }), want: { kind: "finished", phase: "Succeeded" } },
    { name: "a Fail hook failed: finished Failed, the second never runs", f: facts({ done: 1, current: cur({ name: "second" }) }, { results: [bad("first")] }), want: { kind: "finished", phase: "Failed" } },
  ])("$name", ({ f, want }) => {
    expect(planHooks(f)).toMatchObject(want);
  });
});
