// Restore hooks on a real node: a pod writes data and its checksum, aksnap verifies a VolumeSnapshot of
// it, and RestoreRequests restore it with spec.hooks.post, run by the operator (the chart's RBAC plus
// hooks.enabled) through pods/exec in pods the kubelet runs, which mount the restored PVCs. The
// workload pods are created together with the requests (as GitOps would apply them) and are Pending
// until their PVC exists: the hooks wait for them. The three requests of (a) run side by side.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HookResult } from "../../src/crds/hooks.ts";
import { RestoreRequestKind, type RestoreRequest } from "../../src/crds/restorerequest.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { createNamespace, eventually } from "../harness/kube.ts";
import { podType, toolsPod } from "../harness/node.ts";
import { eventType, NODE_SUB, pvcType, startNodeWorld, vsType, type NodeWorld } from "../harness/node-world.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, type OperatorProcess, spawnOperator, startInProcess } from "../harness/operator.ts";

const rreq = RestoreRequestKind.resource;
const OPT_IN = { "aksnap.io/verify": "true" };
// busybox sha256sum -c wants "<sum>  <file>"; the writer recorded the bare sum in blob.sha256.
const CHECK = 'cd /data && printf "%s  blob\\n" "$(cat blob.sha256)" > /tmp/sums && sha256sum -c /tmp/sums';
const WRONG = `cd /data && echo "${"0".repeat(64)}  blob" > /tmp/bad && sha256sum -c /tmp/bad`;

let w: NodeWorld;
let env: OperatorEnv;
let op: InProcessOperator | undefined;
let proc: OperatorProcess | undefined;
let ns = "";
let dir = "";

beforeAll(async () => {
  const t0 = Date.now();
  w = await startNodeWorld();
  console.log(`[node-world] up in ${Date.now() - t0} ms: ${JSON.stringify(w.timings)}`);
  ({ env, dir } = await operatorEnv(w.admin, w.kc, w.emu, NODE_SUB, { prefix: "nrhooks", set: ["hooks.enabled=true"] }));
  ns = await createNamespace(w.kc, "node-rhooks");
  await w.claim(ns, "data");
  await w.waitBound(ns, "data");
  await w.writeData(ns, "writer", "data", 1);
  await w.volumeSnapshot(ns, "snap", "data", OPT_IN);
  op = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": "2s" });
  await eventually(
    async () => ((await w.admin.get(vsType, ns, "snap")).metadata.annotations?.["aksnap.io/verified"] === "true" ? true : undefined),
    "snapshot verified",
    120_000,
    250,
  );
}, 400_000);

afterAll(async () => {
  if (proc && proc.child.exitCode === null) proc.child.kill("SIGKILL");
  await op?.stop();
  await w?.stop();
}, 120_000);

type HookSpec = { name: string; command: string[]; onError?: "Continue" | "Fail"; app?: string; timeoutSeconds?: number };

/** A RestoreRequest of the verified snapshot; the new PVC is data-restored[-N] (Rename: data exists). */
async function restore(name: string, hooks: HookSpec[], waitForPodSeconds = 300): Promise<void> {
  await w.admin.create(rreq, {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "RestoreRequest",
    metadata: { name, namespace: ns },
    spec: {
      volumes: { from: { volumeSnapshotName: "snap" }, conflictPolicy: "Rename" },
      hooks: {
        waitForPodSeconds,
        post: hooks.map((h) => ({
          name: h.name,
          podSelector: { matchLabels: { app: h.app ?? name } },
          container: "main",
          command: h.command,
          ...(h.onError ? { onError: h.onError } : {}),
          ...(h.timeoutSeconds ? { timeoutSeconds: h.timeoutSeconds } : {}),
        })),
      },
    },
  });
}

/** The workload: a long-running pod labelled app=<app> that mounts `claim` (Pending until it exists). */
async function workload(name: string, app: string, claim: string, hostDir?: string): Promise<void> {
  const pod = toolsPod(w.node, ns, name, { claim, script: "sleep 3600" });
  pod.metadata.labels = { app };
  if (hostDir) {
    const spec = pod["spec"] as { volumes: object[]; containers: { volumeMounts: object[] }[] };
    spec.volumes.push({ name: "mark", hostPath: { path: hostDir, type: "Directory" } });
    spec.containers[0]?.volumeMounts.push({ name: "mark", mountPath: "/mark" });
  }
  await w.admin.create(podType, pod);
}

/** The PVC a request creates, once it has created it (its name is final then). */
async function newPvc(name: string): Promise<string> {
  return eventually(async () => {
    const p = RestoreRequestKind.parse(await w.admin.get(rreq, ns, name));
    const v = p.ok ? p.value.status?.volumes?.[0] : undefined;
    return v && v.phase !== "Pending" ? v.pvc : undefined;
  }, `restore ${name} created its PVC`, 120_000, 100);
}

async function ended(name: string, timeoutMs = 240_000): Promise<RestoreRequest> {
  return eventually(async () => {
    const p = RestoreRequestKind.parse(await w.admin.get(rreq, ns, name));
    if (!p.ok) throw new Error(p.error);
    return p.value.status?.completedAt !== undefined ? p.value : undefined;
  }, `restore ${name} ended`, timeoutMs, 250);
}

async function eventsOf(name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const evs = (await w.admin.list(eventType, ns)).items as (KubeObject & { type?: string; reason?: string; message?: string; involvedObject?: { name?: string } })[];
  return evs.filter((e) => e.involvedObject?.name === name).map((e) => ({ type: e.type ?? "", reason: e.reason ?? "", message: e.message ?? "" }));
}

const byName = (hs: readonly HookResult[] | undefined, n: string): HookResult[] => (hs ?? []).filter((h) => h.name === n);
const reason = (rr: RestoreRequest, type: string): string | undefined => rr.status?.conditions?.find((c) => c.type === type && c.status === "True")?.reason;

describe("RestoreRequest hooks on a real node", () => {
  it("(a) sha256sum -c in the workload's pod → Succeeded with exit 0; a wrong checksum with Fail → Failed, PVC kept; Continue → recorded; no pod → NoPods", async () => {
    const t0 = Date.now();
    // Each request with its workload pod, created as soon as the request has named its new PVC (Rename
    // picks data-restored, -2, …), before that PVC exists: the pod is Pending until it is bound.
    await restore("checked", [
      { name: "lenient", command: ["/bin/sh", "-c", WRONG], onError: "Continue" },
      { name: "verify", command: ["/bin/sh", "-c", CHECK] },
    ]);
    await workload("app-checked", "checked", await newPvc("checked"));
    // A pod that matches the selector but mounts the original PVC: never the one a restore hook runs in.
    await workload("decoy", "checked", "data");
    await restore("failing", [
      { name: "verify", command: ["/bin/sh", "-c", WRONG] },
      { name: "never", command: ["/bin/sh", "-c", "echo should-not-run"] },
    ]);
    await workload("app-failing", "failing", await newPvc("failing"));
    await restore("nobody", [{ name: "verify", command: ["/bin/true"], app: "not-here", onError: "Continue" }], 5);

    const [checked, failing, nobody] = await Promise.all([ended("checked"), ended("failing"), ended("nobody")]);
    console.log(`[restore-hooks] (a) three restores with hooks, side by side: ${Date.now() - t0} ms`);

    // checked: the integrity check passed in the pod that mounts the restored PVC; the lenient failure is recorded.
    expect(checked.status?.phase, JSON.stringify(checked.status)).toBe("Succeeded");
    expect(checked.status?.volumes).toEqual([expect.objectContaining({ sourcePvc: "data", phase: "Succeeded" })]);
    expect(byName(checked.status?.hooks, "verify")).toMatchObject([{ phase: "post", pod: "app-checked", container: "main", exitCode: 0, result: "Succeeded", outputTail: "blob: OK" }]);
    expect(byName(checked.status?.hooks, "lenient")).toMatchObject([{ pod: "app-checked", exitCode: 1, result: "Failed", message: "exit code 1" }]);
    expect(byName(checked.status?.hooks, "lenient")[0]?.outputTail).toContain("FAILED");
    expect(checked.status?.hooks?.some((h) => h.pod === "decoy")).toBe(false);
    expect(checked.status?.hookProgress).toEqual({ done: 2 });
    expect(reason(checked, "Ready")).toBe("RestoreSucceeded");
    expect(checked.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain("lenient failed (onError Continue");
    // The last Event is recorded just after the status write that ended the request: wait for it.
    const ce = await eventually(async () => {
      const evs = await eventsOf("checked");
      return evs.some((e) => e.reason === "RestoreSucceeded") ? evs : undefined;
    }, "checked: RestoreSucceeded event", 30_000, 250);
    expect(ce).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "Warning", reason: "HookFailed", message: expect.stringContaining("post hook lenient in app-checked: Failed (exit 1") }),
        expect.objectContaining({ type: "Normal", reason: "HookSucceeded", message: expect.stringContaining("post hook verify in app-checked: Succeeded (exit 0") }),
      ]),
    );

    // failing: onError Fail (the default) → Failed with the hook named; the PVC stays; the next hook never ran.
    expect(failing.status?.phase).toBe("Failed");
    expect(reason(failing, "Stalled")).toBe("HookFailed");
    expect(failing.status?.conditions?.find((c) => c.type === "Stalled")?.message).toBe(
      `post hook verify Failed in app-failing: exit code 1; the restored PVC(s) ${failing.status?.volumes?.[0]?.pvc ?? "?"} are kept`,
    );
    expect(byName(failing.status?.hooks, "verify")).toMatchObject([{ pod: "app-failing", exitCode: 1, result: "Failed" }]);
    expect(byName(failing.status?.hooks, "never")).toEqual([]);
    const kept = (await w.admin.get(pvcType, ns, failing.status?.volumes?.[0]?.pvc ?? "")) as KubeObject & { status?: { phase?: string } };
    expect(kept.metadata.deletionTimestamp).toBeUndefined();
    expect(kept.status?.phase).toBe("Bound");
    const fe = await eventually(async () => {
      const evs = await eventsOf("failing");
      return evs.some((e) => e.type === "Warning" && e.reason === "RestoreFailed" && e.message.includes("post hook verify Failed")) ? evs : undefined;
    }, "failing: RestoreFailed event", 30_000, 250);
    expect(fe.some((e) => e.type === "Warning" && e.reason === "HookFailed" && e.message.includes("exit 1"))).toBe(true);

    // nobody: no pod matched within waitForPodSeconds → NoPods, reported (Event), recorded (Continue).
    expect(nobody.status?.phase).toBe("Succeeded");
    expect(byName(nobody.status?.hooks, "verify")).toMatchObject([{ result: "NoPods" }]);
    expect(byName(nobody.status?.hooks, "verify")[0]?.message).toContain("within waitForPodSeconds (5s); no pod matches the podSelector");
    expect((await eventsOf("nobody")).some((e) => e.type === "Warning" && e.reason === "HookFailed" && e.message.includes("NoPods"))).toBe(true);
  }, 400_000);

  it("(b) SIGKILL of the operator during a hook's exec: the next operator runs the hook once more and records it", async () => {
    await op?.stop();
    op = undefined;
    // The hook marks each run in a host directory the test reads, then takes its time.
    const marks = join(dir, "marks");
    mkdirSync(marks);
    const runs = (): number => readFileSync(join(marks, "runs"), "utf8").split("\n").filter((l) => l !== "").length;
    const countRuns = (): number => {
      try {
        return runs();
      } catch {
        return 0;
      }
    };
    await restore("killed", [{ name: "slow", command: ["/bin/sh", "-c", 'echo run >> /mark/runs; sleep 8; echo "runs: $(grep -c . /mark/runs)"'] }]);
    proc = spawnOperator(env, { "watch-namespaces": ns, "verification-poll-interval": "2s" }, dir);
    await workload("app-killed", "killed", await newPvc("killed"), marks);
    // The exec is under way: the armed token is in status and the command has started in the pod.
    await eventually(async () => (countRuns() >= 1 ? true : undefined), "the first exec started", 240_000, 100);
    const armed = RestoreRequestKind.parse(await w.admin.get(rreq, ns, "killed"));
    expect(armed.ok && armed.value.status?.hookProgress?.current).toMatchObject({ name: "slow", attempt: 1 });
    proc.child.kill("SIGKILL");
    await proc.exited;
    op = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": "2s" });
    const rr = await ended("killed", 120_000);
    expect(rr.status?.phase, JSON.stringify(rr.status)).toBe("Succeeded");
    // One outcome, from the second run (the first one's exec stream died with its process).
    expect(byName(rr.status?.hooks, "slow")).toMatchObject([{ pod: "app-killed", exitCode: 0, result: "Succeeded", outputTail: "runs: 2" }]);
    expect(countRuns()).toBe(2);
    const ke = await eventsOf("killed");
    expect(ke.some((e) => e.type === "Warning" && e.reason === "HookRerun" && e.message.includes("attempt 1 may have been running"))).toBe(true);
  }, 400_000);
});
