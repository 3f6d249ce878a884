// Application-consistent hooks on a real node: the operator (in-process, with the chart's RBAC and
// the opt-in hooks.enabled rules) runs SnapshotSchedule pre and post hooks through the apiserver's
// pods/exec in a pod the kubelet runs, and the restored snapshot holds what the pre hook wrote.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HookResult } from "../../src/crds/hooks.ts";
import { SnapshotScheduleKind, type SnapshotSchedule } from "../../src/crds/snapshotschedule.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { createNamespace, eventually } from "../harness/kube.ts";
import { podType, runPod, toolsPod } from "../harness/node.ts";
import { eventType, NODE_SUB, pvcType, startNodeWorld, vsType, type NodeWorld } from "../harness/node-world.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, startInProcess } from "../harness/operator.ts";

const ssch = SnapshotScheduleKind.resource;
const APP = { app: "db" };

let w: NodeWorld;
let op: InProcessOperator | undefined;
let ns = "";
let env: OperatorEnv;

beforeAll(async () => {
  const t0 = Date.now();
  w = await startNodeWorld();
  console.log(`[node-world] up in ${Date.now() - t0} ms: ${JSON.stringify(w.timings)}`);
  ({ env } = await operatorEnv(w.admin, w.kc, w.emu, NODE_SUB, { prefix: "nhooks", set: ["hooks.enabled=true"] }));
  ns = await createNamespace(w.kc, "node-hooks");
  await w.claim(ns, "data");
  await w.waitBound(ns, "data");
  // The "database": a long-running pod with the volume mounted, where the hooks run.
  const pod = toolsPod(w.node, ns, "db", { claim: "data", script: "sleep 3600" });
  pod.metadata.labels = APP;
  await w.admin.create(podType, pod);
  await eventually(async () => ((await w.admin.get(podType, ns, "db"))["status"] as { phase?: string } | undefined)?.phase === "Running" || undefined, "db pod Running", 120_000, 250);
  op = await startInProcess(env, { "watch-namespaces": ns });
}, 400_000);

afterAll(async () => {
  await op?.stop();
  await w?.stop();
}, 120_000);

type HookSpec = { name: string; command: string[]; timeoutSeconds?: number; onError?: "Continue" | "Fail"; podSelector?: object };
const hook = (h: HookSpec): object => ({ podSelector: { matchLabels: APP }, container: "main", ...h });

async function schedule(name: string, pre: HookSpec[], post: HookSpec[], runNow = true): Promise<void> {
  const obj: KubeObject = {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "SnapshotSchedule",
    metadata: { name, namespace: ns, ...(runNow ? { annotations: { "aksnap.io/run-requested-at": "go" } } : {}) },
    spec: {
      template: {
        volumes: {
          pvcSelector: { matchExpressions: [{ key: "restored", operator: "DoesNotExist" }] },
          volumeSnapshotClassName: w.vsClass,
          hooks: { pre: pre.map(hook), ...(post.length > 0 ? { post: post.map(hook) } : {}) },
        },
      },
    },
  };
  await w.admin.create(ssch, obj);
}

async function lastRunOf(name: string, what: string, pred: (o: SnapshotSchedule) => boolean, timeoutMs = 120_000): Promise<NonNullable<SnapshotSchedule["status"]>["lastRun"]> {
  const o = await eventually(async () => {
    const p = SnapshotScheduleKind.parse(await w.admin.get(ssch, ns, name));
    if (!p.ok) throw new Error(p.error);
    return pred(p.value) ? p.value : undefined;
  }, `${name}: ${what}`, timeoutMs, 250);
  return o.status?.lastRun;
}

const byName = (hs: readonly HookResult[] | undefined, n: string): HookResult[] => (hs ?? []).filter((h) => h.name === n);

async function eventsOf(name: string): Promise<{ reason: string; message: string }[]> {
  const evs = (await w.admin.list(eventType, ns)).items as (KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } })[];
  return evs.filter((e) => e.involvedObject?.name === name).map((e) => ({ reason: e.reason ?? "", message: e.message ?? "" }));
}

describe("SnapshotSchedule hooks on a real node", () => {
  it("(a) a pre hook's flushed marker is in the snapshot: restored to a new PVC, a new pod reads it back; the post hook ran once", async () => {
    const t0 = Date.now();
    await schedule(
      "flush",
      [{ name: "flush", command: ["/bin/sh", "-c", "echo flushed-by-hook > /data/marker && sync && cat /data/marker"] }],
      [{ name: "thaw", command: ["/bin/sh", "-c", "echo thawed"] }],
    );
    const run = await lastRunOf("flush", "post hook done", (o) => (o.status?.lastRun?.hooksDone?.post ?? 0) >= 1);
    const pre = byName(run?.hooks, "flush");
    expect(pre).toMatchObject([{ phase: "pre", pod: "db", container: "main", exitCode: 0, result: "Succeeded", outputTail: "flushed-by-hook" }]);
    expect(byName(run?.hooks, "thaw")).toMatchObject([{ phase: "post", pod: "db", exitCode: 0, result: "Succeeded", outputTail: "thawed" }]);
    const child = run?.results?.find((r) => r.kind === "VolumeSnapshot" && r.target === "data");
    expect(child, JSON.stringify(run)).toBeDefined();
    await eventually(async () => ((await w.admin.get(vsType, ns, child?.name ?? ""))["status"] as { readyToUse?: boolean } | undefined)?.readyToUse || undefined, "child readyToUse", 120_000, 250);
    await w.claim(ns, "restored-a", child?.name);
    // Later schedules of this namespace snapshot the original claim only.
    await w.admin.mergePatch(pvcType, ns, "restored-a", { metadata: { labels: { restored: "yes" } } });
    await w.waitBound(ns, "restored-a", 120_000);
    const read = await runPod(w.admin, w.node, ns, "reader-a", { claim: "restored-a", readOnly: true, script: "cat /data/marker > /dev/termination-log" });
    expect(read).toMatchObject({ phase: "Succeeded", exitCode: 0, message: "flushed-by-hook" });
    const evs = await eventsOf("flush");
    expect(evs.filter((e) => e.reason === "HookSucceeded").map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringContaining("pre hook flush in db: Succeeded"), expect.stringContaining("post hook thaw in db: Succeeded")]),
    );
    console.log(`[hooks] (a) flush → snapshot → restore → read: ${Date.now() - t0} ms`);
  }, 400_000);

  it("(b) a pre hook that times out with onError Fail fails the run before any snapshot, and the post hook still runs", async () => {
    const t0 = Date.now();
    await schedule(
      "timeout",
      [{ name: "slow", command: ["/bin/sh", "-c", "echo starting; sleep 60"], timeoutSeconds: 2, onError: "Fail" }],
      [{ name: "thaw", command: ["/bin/sh", "-c", "echo thawed-after-timeout"] }],
    );
    const run = await lastRunOf("timeout", "run finished", (o) => o.status?.lastRun?.completedAt !== undefined);
    expect(run?.phase).toBe("Failed");
    expect(run?.hookFailure).toContain("pre hook slow TimedOut in db");
    expect(byName(run?.hooks, "slow")).toMatchObject([{ phase: "pre", pod: "db", result: "TimedOut" }]);
    expect(byName(run?.hooks, "slow")[0]?.exitCode).toBeUndefined();
    expect(byName(run?.hooks, "thaw")).toMatchObject([{ phase: "post", pod: "db", result: "Succeeded", exitCode: 0, outputTail: "thawed-after-timeout" }]);
    // No snapshot was taken.
    expect(run?.results ?? []).toEqual([]);
    const children = (await w.admin.list(vsType, ns)).items.filter((v) => v.metadata.labels?.["aksnap.io/schedule"] === "timeout");
    expect(children).toEqual([]);
    const evs = await eventsOf("timeout");
    expect(evs.some((e) => e.reason === "HookFailed" && e.message.includes("pre hook slow in db: TimedOut"))).toBe(true);
    expect(evs.some((e) => e.reason === "RunFailed" && e.message.includes("pre hook slow TimedOut"))).toBe(true);
    console.log(`[hooks] (b) timeout → Failed → post ran: ${Date.now() - t0} ms`);
  }, 200_000);

  it("(c) a failing pre hook with onError Continue is recorded (exit code, output) and the run goes on to snapshot", async () => {
    await schedule("goes-on", [{ name: "warn", command: ["/bin/sh", "-c", "echo something odd >&2; exit 3"], onError: "Continue" }], []);
    const run = await lastRunOf("goes-on", "child made", (o) => (o.status?.lastRun?.results ?? []).length > 0);
    expect(byName(run?.hooks, "warn")).toMatchObject([{ phase: "pre", pod: "db", result: "Failed", exitCode: 3, outputTail: "something odd", message: "exit code 3" }]);
    expect(run?.hookFailure).toBeUndefined();
    expect(run?.results?.map((r) => [r.kind, r.target])).toEqual([["VolumeSnapshot", "data"]]);
    expect((await eventsOf("goes-on")).some((e) => e.reason === "HookFailed" && e.message.includes("exit 3"))).toBe(true);
  }, 200_000);

  it("(d) a selector that matches no pod is reported as NoPods and, with onError Fail, fails the run", async () => {
    await schedule("nobody", [{ name: "flush", command: ["/bin/true"], podSelector: { matchLabels: { app: "not-here" } } }], []);
    const run = await lastRunOf("nobody", "run finished", (o) => o.status?.lastRun?.completedAt !== undefined);
    expect(run?.phase).toBe("Failed");
    expect(byName(run?.hooks, "flush")).toMatchObject([{ phase: "pre", result: "NoPods" }]);
    expect(byName(run?.hooks, "flush")[0]?.pod).toBeUndefined();
    expect(run?.results ?? []).toEqual([]);
    expect((await eventsOf("nobody")).some((e) => e.reason === "HookFailed" && e.message.includes("NoPods"))).toBe(true);
  }, 200_000);

  it("(e) a restart after the pre hooks and before the post hooks runs the post hooks, and not the pre hook again", async () => {
    await op?.stop();
    op = undefined;
    // The pre hook would leave a file behind; the post hook fails if it finds it.
    await schedule(
      "restart",
      [{ name: "freeze", command: ["/bin/sh", "-c", "touch /data/pre-ran-again"] }],
      [{ name: "thaw", command: ["/bin/sh", "-c", "test ! -e /data/pre-ran-again && echo thawed-after-restart"] }],
      false,
    );
    // What an operator that stopped right after the pre hook left in status.
    const id = "202611280000";
    const at = "2026-11-28T00:00:00Z";
    await w.admin.mergePatch(
      ssch,
      ns,
      "restart",
      {
        status: {
          activeRuns: [{ id, scheduledTime: at }],
          lastRun: {
            id,
            scheduledTime: at,
            startedAt: at,
            phase: "Running",
            targets: 0,
            verified: 0,
            failed: 0,
            hooks: [{ name: "freeze", phase: "pre", pod: "db", container: "main", exitCode: 0, durationMs: 5, result: "Succeeded" }],
            hooksDone: { pre: 1, post: 0 },
          },
        },
      },
      "status",
    );
    op = await startInProcess(env, { "watch-namespaces": ns });
    const run = await lastRunOf("restart", "post hook done", (o) => (o.status?.lastRun?.hooksDone?.post ?? 0) >= 1);
    expect(byName(run?.hooks, "freeze")).toHaveLength(1);
    expect(byName(run?.hooks, "thaw")).toMatchObject([{ phase: "post", pod: "db", result: "Succeeded", exitCode: 0, outputTail: "thawed-after-restart" }]);
    expect(run?.results?.map((r) => [r.kind, r.target])).toEqual([["VolumeSnapshot", "data"]]);
  }, 200_000);
});
