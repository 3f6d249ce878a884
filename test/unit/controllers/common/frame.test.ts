// Decision table for the shared reconcile frame (src/controllers/common/frame.ts), driven by a
// minimal kind whose steps and finalizer the test scripts. The NodePoolSnapshot tables exercise
// the same frame through a real kind.
import { describe, expect, it } from "vitest";
import type { Condition } from "../../../../src/conditions/conditions.ts";
import { createFrame, type FinalizeOutcome, type KindHooks, type Progress, type StepOutcome } from "../../../../src/controllers/common/frame.ts";
import { NodePoolSnapshotKind } from "../../../../src/crds/nodepoolsnapshot.ts";
import type { KubeObject } from "../../../../src/kube/client.ts";
import { classifyStatus } from "../../../../src/kube/errors.ts";
import { ManualClock } from "../../../../src/runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../../../src/runtime/controller.ts";
import { createNoopLogger } from "../../../../src/runtime/logger.ts";
import { defaultControllerRateLimiter } from "../../../../src/runtime/ratelimiter.ts";
import { requeueAfter, retry, type ReconcileResult } from "../../../../src/runtime/result.ts";
import { FakeKube, RecordingEvents } from "../nodepoolsnapshot/support/fakes.ts";

const KEY = "ns/w";
const FIN = "test.aksnap.io/f";
const NOW = new Date("2025-06-01T12:00:00Z");

interface WidgetStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  note?: string;
}
interface Widget {
  metadata: KubeObject["metadata"];
  spec: { ok: boolean };
  status?: WidgetStatus;
}

interface Script {
  step?: (progress: Progress) => Promise<StepOutcome<string>>;
  finalize?: () => Promise<FinalizeOutcome<string>>;
}

function object(o: { finalizer?: boolean; deleting?: boolean; spec?: unknown; status?: WidgetStatus } = {}): KubeObject {
  return {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "NodePoolSnapshot",
    metadata: {
      name: "w",
      namespace: "ns",
      uid: "u1",
      resourceVersion: "5",
      generation: 3,
      ...(o.finalizer === false ? {} : { finalizers: [FIN] }),
      ...(o.deleting ? { deletionTimestamp: "2025-06-01T11:00:00Z" } : {}),
    },
    spec: o.spec ?? { ok: true },
    ...(o.status ? { status: o.status } : {}),
  };
}

function frame(obj: KubeObject, script: Script, opts: { lagging?: boolean; noFinalizer?: boolean } = {}) {
  const kube = new FakeKube(obj);
  const events = new RecordingEvents();
  const forgotten: string[] = [];
  const stepsRun: string[] = [];
  // A lagging cache keeps handing out the object as first read (a watch that has not caught up).
  const first = structuredClone(kube.object);
  const cache = opts.lagging ? { get: (k: string) => (k === KEY ? structuredClone(first) : undefined) } : kube.cache;
  const hooks: KindHooks<Widget, WidgetStatus, string> = {
    resource: NodePoolSnapshotKind.resource,
    ...(opts.noFinalizer ? {} : { finalizer: FIN }),
    parse: (raw) => ((raw.spec as { ok?: unknown }).ok === true ? { ok: true, value: raw as unknown as Widget } : { ok: false, error: "spec.ok must be true" }),
    steps: async (w, _ctx, progress) => {
      stepsRun.push(w.metadata.finalizers?.join(",") ?? "");
      return (script.step ?? (() => Promise.resolve({ readiness: { state: "ready", reason: "Fine", message: "fine" }, result: requeueAfter(1000) })))(progress);
    },
    finalize: () => (script.finalize ?? (() => Promise.resolve({ release: { type: "Normal", reason: "Gone", message: "gone" } })))(),
    statusFields: (prev, extra) => ({ ...(prev ?? {}), ...(extra ? { note: extra } : {}) }),
    forget: (k) => forgotten.push(k),
  };
  const reconcile = createFrame(hooks, { client: kube, cache, events, now: () => NOW });
  const ctx: ReconcileContext = { signal: new AbortController().signal, log: createNoopLogger(), reconcileId: "r" };
  return { kube, events, forgotten, stepsRun, run: () => reconcile(KEY, ctx), reconcile };
}

const conds = (kube: FakeKube): string =>
  ((kube.status?.conditions ?? []) as Array<{ type: string; status: string; reason: string }>).map((c) => `${c.type}=${c.status}/${c.reason}`).join(" ");
const statusWrites = (kube: FakeKube): number => kube.writes.filter((w) => w.method === "PUT").length;

describe("reconcile frame: decisions", () => {
  // [name, object, script, result, conditions after, status writes, finalizers after, events]
  it.each<[string, KubeObject, Script, ReconcileResult, string, number, string[] | undefined, string[]]>([
    ["ready verdict: one status write, result passed through", object(), {}, requeueAfter(1000), "Ready=True/Fine", 1, [FIN], []],
    ["a spec the parser rejects: Stalled InvalidSpec, terminal (not success)", object({ spec: { ok: false } }), {}, { kind: "terminal", error: expect.any(Error) }, "Ready=False/InvalidSpec Stalled=True/InvalidSpec", 1, [FIN], ["InvalidSpec"]],
    [
      "a step that throws: status still records the generation and a reason; retried with the error",
      object(),
      { step: () => Promise.reject(new Error("boom")) },
      { kind: "retry", error: expect.objectContaining({ message: "boom" }) },
      "Ready=False/ReconcileError Reconciling=True/ReconcileError",
      1,
      [FIN],
      [],
    ],
    ["keep status: no write at all", object({ status: { observedGeneration: 3 } }), { step: () => Promise.resolve({ keep: true, result: requeueAfter(7) }) }, requeueAfter(7), "", 0, [FIN], []],
    ["deleting without our finalizer: nothing to do", object({ deleting: true, finalizer: false }), {}, { kind: "done" }, "", 0, undefined, []],
    ["deleting, finalize releases: event, finalizer removed, no status write", object({ deleting: true }), {}, { kind: "done" }, "", 0, [], ["Gone"]],
    [
      "deleting, finalize keeps: the verdict is written, finalizer kept",
      object({ deleting: true }),
      { finalize: () => Promise.resolve({ verdict: { readiness: { state: "progressing", reason: "Deleting", message: "busy" }, result: retry(new Error("x")) } }) },
      { kind: "retry", error: expect.any(Error) },
      "Ready=False/Deleting Reconciling=True/Deleting",
      1,
      [FIN],
      [],
    ],
    ["deleting an object that does not parse: released", object({ deleting: true, spec: { ok: false } }), {}, { kind: "done" }, "", 0, [], []],
  ])("%s", async (_n, obj, script, result, want, writes, finalizers, events) => {
    const f = frame(obj, script);
    expect(await f.run()).toEqual(result);
    expect(conds(f.kube)).toBe(want);
    expect(statusWrites(f.kube)).toBe(writes);
    expect(f.kube.object.metadata.finalizers).toEqual(finalizers);
    expect(f.events.events.map((e) => e.reason)).toEqual(events);
    if (writes > 0) expect(f.kube.status?.observedGeneration).toBe(3);
  });

  it("adds the finalizer before the kind's steps run", async () => {
    const f = frame(object({ finalizer: false }), {});
    await f.run();
    expect(f.stepsRun).toEqual([FIN]);
    expect(f.kube.writes.map((w) => w.method)).toEqual(["PATCH", "PUT"]);
  });

  it.each<[string, boolean, boolean, Array<string | undefined>]>([
    ["a new object: the prefetch runs beside the finalizer patch and its result reaches the steps", false, false, ["read-1"]],
    ["a prefetch that fails: the steps run without it", false, true, [undefined]],
    ["the finalizer already there: no prefetch", true, false, [undefined]],
  ])("prefetch: %s", async (_n, hasFinalizer, failing, got) => {
    const kube = new FakeKube(object({ finalizer: hasFinalizer }));
    const seen: Array<string | undefined> = [];
    let reads = 0;
    let patchesWhenRead = -1;
    const hooks: KindHooks<Widget, WidgetStatus, string, string> = {
      resource: NodePoolSnapshotKind.resource,
      finalizer: FIN,
      parse: (raw) => ({ ok: true, value: raw as unknown as Widget }),
      prefetch: () => {
        reads += 1;
        patchesWhenRead = kube.writes.length; // started before the finalizer patch went out
        return failing ? Promise.reject(new Error("ARM down")) : Promise.resolve(`read-${reads}`);
      },
      steps: (_w, _ctx, _p, prefetched) => {
        seen.push(prefetched);
        return Promise.resolve({ readiness: { state: "ready", reason: "Fine", message: "fine" }, result: requeueAfter(1000) });
      },
      statusFields: (prev) => ({ ...(prev ?? {}) }),
    };
    const reconcile = createFrame(hooks, { client: kube, cache: kube.cache, events: new RecordingEvents(), now: () => NOW });
    expect(await reconcile(KEY, { signal: new AbortController().signal, log: createNoopLogger(), reconcileId: "r" })).toEqual(requeueAfter(1000));
    expect(seen).toEqual(got);
    expect(reads).toBe(hasFinalizer ? 0 : 1);
    if (!hasFinalizer) expect(patchesWhenRead).toBe(0);
  });

  it("releasing an object that is already gone (a lagging cache showed it once more): done, not an error; the stale copy is not finalized again", async () => {
    const f = frame(object({ deleting: true }), {}, { lagging: true });
    expect(await f.run()).toEqual({ kind: "done" });
    f.kube.request = () => Promise.reject(classifyStatus(404, { kind: "Status", reason: "NotFound", message: "gone" }));
    expect(await f.run()).toEqual(requeueAfter(50));
  });

  it("a finalizer removal answered 404: done, not an error", async () => {
    const f = frame(object({ deleting: true }), {});
    f.kube.request = () => Promise.reject(classifyStatus(404, { kind: "Status", reason: "NotFound", message: "gone" }));
    expect(await f.run()).toEqual({ kind: "done" });
  });

  it("a kind without a finalizer: none is added, and deletion needs no step", async () => {
    const f = frame(object({ finalizer: false }), {}, { noFinalizer: true });
    await f.run();
    expect(f.kube.writes.map((w) => w.method)).toEqual(["PUT"]);
    const g = frame(object({ finalizer: false, deleting: true }), {}, { noFinalizer: true });
    expect(await g.run()).toEqual({ kind: "done" });
    expect(g.kube.writes).toEqual([]);
    expect(g.forgotten).toEqual([KEY]);
  });

  it("the reconcile's signal bounds the finalizer writes; the final status write has its own deadline, so a timed-out reconcile still records why", async () => {
    const f = frame(object({ finalizer: false }), { step: () => Promise.reject(new Error("reconcile timed out after 60000ms")) });
    const ac = new AbortController();
    ac.abort();
    await f.reconcile(KEY, { signal: ac.signal, log: createNoopLogger(), reconcileId: "r" });
    const [patch, put] = f.kube.writes;
    expect(patch).toMatchObject({ method: "PATCH", signal: ac.signal });
    expect(put).toMatchObject({ method: "PUT", signal: undefined, timeoutMs: 10_000 });
    expect(conds(f.kube)).toBe("Ready=False/ReconcileError Reconciling=True/ReconcileError");
    const g = frame(object({ deleting: true }), {});
    await g.reconcile(KEY, { signal: ac.signal, log: createNoopLogger(), reconcileId: "r" });
    expect(g.kube.writes.map((w) => [w.method, w.signal])).toEqual([["PATCH", ac.signal]]);
  });

  it("a vanished object: done, and the kind forgets the key", async () => {
    const f = frame(object(), {});
    f.kube.object = { ...f.kube.object, metadata: { ...f.kube.object.metadata, name: "other" } };
    expect(await f.run()).toEqual({ kind: "done" });
    expect(f.forgotten).toEqual([KEY]);
  });

  it("own-write guard: while the cache still shows the version we wrote from, wait (no step, no write)", async () => {
    const f = frame(object(), {}, { lagging: true });
    await f.run();
    expect(await f.run()).toEqual(requeueAfter(50));
    expect(f.stepsRun.length).toBe(1);
    expect(statusWrites(f.kube)).toBe(1);
  });

  it("events mark transitions: the same warning verdict twice records one event", async () => {
    const warn: Script = { step: () => Promise.resolve({ readiness: { state: "stalled", reason: "Bad", message: "bad" }, result: requeueAfter(10), event: { type: "Warning", reason: "Bad", message: "bad" } }) };
    const f = frame(object(), warn);
    await f.run();
    await f.run();
    expect(f.events.events.map((e) => e.reason)).toEqual(["Bad"]);
  });

  it("a status write conflict: a rate-limited retry without an error (never requeueAfter, which resets backoff), no event", async () => {
    const f = frame(object(), { step: () => Promise.resolve({ readiness: { state: "stalled", reason: "Bad", message: "bad" }, result: requeueAfter(10), event: { type: "Warning", reason: "Bad", message: "bad" } }) });
    f.kube.statusConflicts = 1;
    expect(await f.run()).toEqual({ kind: "retry", error: undefined });
    expect(f.events.events).toEqual([]);
  });
});

describe("reconcile frame: a status conflict storm is bounded by the workqueue's backoff", () => {
  it("a status write that always conflicts: at most a handful of writes in 10 s (a fixed 200 ms requeue made 50)", async () => {
    const clock = new ManualClock(0);
    const f = frame(object(), {});
    f.kube.statusConflicts = Number.POSITIVE_INFINITY;
    const controller = new Controller({ name: "storm", reconcile: f.reconcile, logger: createNoopLogger(), clock, rateLimiter: defaultControllerRateLimiter<string>(clock) });
    const stop = new AbortController();
    const running = controller.run({ stop: stop.signal });
    controller.enqueue(KEY);
    for (let t = 0; t < 10_000; t += 50) await clock.advance(50);
    const writes = statusWrites(f.kube);
    stop.abort();
    await clock.advance(0);
    await running;
    // Per-key exponential backoff from 5 ms: 5·(2^n − 1) ms ≤ 10 s → n ≤ 11 attempts.
    expect(writes).toBeGreaterThanOrEqual(5);
    expect(writes).toBeLessThanOrEqual(12);
  });
});

describe("frame: progress shown while a slow step runs", () => {
  const statusPuts = (kube: FakeKube): string[] =>
    kube.writes
      .filter((w) => w.method === "PUT" && w.path.endsWith("/status"))
      .map((w) => ((w.body as { status?: { conditions?: Condition[] } }).status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).join(" "));

  it("a step that shows progress: two status writes, the final one based on the first's resourceVersion (no conflict)", async () => {
    const f = frame(object(), {
      step: async (progress) => {
        await progress({ state: "progressing", reason: "Working", message: "slow call" });
        return { readiness: { state: "ready", reason: "Fine", message: "fine" }, result: requeueAfter(1000) };
      },
    });
    expect(await f.run()).toEqual(requeueAfter(1000));
    expect(statusPuts(f.kube)).toEqual(["Ready=False/Working Reconciling=True/Working", "Ready=True/Fine"]);
    const bases = f.kube.writes.filter((w) => w.path.endsWith("/status")).map((w) => (w.body as KubeObject).metadata.resourceVersion);
    expect(bases).toEqual(["5", "6"]);
  });

  it("a progress write that conflicts is not the step's failure: the step's verdict is still written", async () => {
    const f = frame(object(), {
      step: async (progress) => {
        await progress({ state: "progressing", reason: "Working", message: "slow call" });
        return { readiness: { state: "ready", reason: "Fine", message: "fine" }, result: requeueAfter(1000) };
      },
    });
    f.kube.statusConflicts = 1;
    expect(await f.run()).toEqual(requeueAfter(1000));
    expect(conds(f.kube)).toContain("Ready=True");
  });
});
