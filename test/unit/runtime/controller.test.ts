import { describe, expect, it } from "vitest";
import { ManualClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import type { ControllerMetrics, ReconcileContext, Reconciler } from "../../../src/runtime/controller.ts";
import { Controller } from "../../../src/runtime/controller.ts";
import { ItemExponentialFailureRateLimiter } from "../../../src/runtime/ratelimiter.ts";
import type { ReconcileResult } from "../../../src/runtime/result.ts";
import { done, requeueAfter, retry, terminal, TransientError } from "../../../src/runtime/result.ts";
import { recordingLogger } from "./support/recording-logger.ts";

interface Call {
  key: string;
  at: number;
  ctx: ReconcileContext;
}

function recordingMetrics(): ControllerMetrics & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    reconcileTotal: (c, r) => events.push(`total ${c} ${r}`),
    reconcileError: (c) => events.push(`error ${c}`),
    terminalReconcileError: (c) => events.push(`terminal ${c}`),
    reconcileTime: (c, s) => events.push(`time ${c} ${s}`),
    activeWorkers: (c, n) => events.push(`active ${c} ${n}`),
    controllerStarted: (c, n) => events.push(`max ${c} ${n}`),
  };
}

function setup(reconcile: Reconciler, opts: { workers?: number; timeoutMs?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const logger = recordingLogger();
  const metrics = recordingMetrics();
  let ids = 0;
  const controller = new Controller({
    name: "widgets",
    reconcile,
    logger,
    clock,
    metrics,
    maxConcurrentReconciles: opts.workers ?? 1,
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000),
    newReconcileId: () => `r${++ids}`,
    ...(opts.timeoutMs === undefined ? {} : { reconcileTimeoutMs: opts.timeoutMs }),
  });
  const stop = new AbortController();
  const abort = new AbortController();
  const running = controller.run({ stop: stop.signal, abortInFlight: abort.signal });
  return { clock, logger, metrics, controller, stop, abort, running };
}

/** A reconcile the test finishes by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("Controller", () => {
  it("reconciles an enqueued key with a per-reconcile logger and id, and forgets it on done", async () => {
    const calls: Call[] = [];
    const t = setup(async (key, ctx) => {
      calls.push({ key, at: t.clock.now(), ctx });
      ctx.log.info("working");
      return done();
    });
    t.controller.enqueue("ns/a");
    await t.clock.advance(0);
    expect(calls.map((c) => c.key)).toEqual(["ns/a"]);
    expect(calls[0]?.ctx.reconcileId).toBe("r1");
    expect(calls[0]?.ctx.signal.aborted).toBe(false);
    expect(t.logger.entries.find((e) => e.msg === "working")?.fields).toMatchObject({ controller: "widgets", key: "ns/a", reconcileId: "r1" });
    expect(t.metrics.events).toContain("total widgets success");
    expect(t.controller.queue.numRequeues("ns/a")).toBe(0);
    t.stop.abort();
    await t.running;
  });

  it("turns a thrown error into a retry with per-key exponential backoff", async () => {
    const times: number[] = [];
    const t = setup(async () => {
      times.push(t.clock.now());
      if (times.length < 4) throw new Error("transient");
      return done();
    });
    const start = t.clock.now();
    t.controller.enqueue("ns/a");
    await t.clock.advance(100);
    expect(times.map((x) => x - start)).toEqual([0, 5, 15, 35]); // waits of 5, 10, 20 ms
    expect(t.metrics.events.filter((e) => e === "total widgets error")).toHaveLength(3);
    expect(t.metrics.events.filter((e) => e === "error widgets")).toHaveLength(3);
    const errLog = t.logger.entries.find((e) => e.msg === "Reconciler error");
    expect(errLog?.level).toBe("error");
    expect((errLog?.fields["err"] as Error).message).toBe("transient");
    expect(t.controller.queue.numRequeues("ns/a")).toBe(0); // forgotten after success
    t.stop.abort();
    await t.running;
  });

  it("logs transient retries (429, 5xx) at warn without a stack, once per episode per controller", async () => {
    let calls = 0;
    const t = setup(async () => {
      calls += 1;
      return retry(new TransientError("ARM said 429"), 1000);
    });
    for (const k of ["ns/a", "ns/b", "ns/c"]) t.controller.enqueue(k);
    await t.clock.advance(10_000); // three keys, each retried every ≈ 1 s: one episode
    expect(calls).toBeGreaterThan(10);
    const warns = t.logger.entries.filter((e) => e.level === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0]?.fields["err"]).toBeUndefined(); // no Error object: pino would print its stack
    expect(warns[0]?.fields["reason"]).toBe("ARM said 429");
    expect(t.logger.entries.filter((e) => e.level === "error")).toHaveLength(0);
    expect(t.metrics.events.filter((e) => e === "error widgets").length).toBe(calls); // still counted as errors
    t.stop.abort();
    await t.running;
  });

  it("a new transient episode after a quiet minute warns again with the previous episode's count", async () => {
    let fail = true;
    const t = setup(async () => (fail ? retry(new TransientError("503")) : done()));
    t.controller.enqueue("ns/a");
    await t.clock.advance(2_000);
    fail = false;
    await t.clock.advance(2_000);
    const before = t.logger.entries.filter((e) => e.level === "warn").length;
    fail = true;
    await t.clock.advance(61_000);
    t.controller.enqueue("ns/a");
    await t.clock.advance(100);
    const warns = t.logger.entries.filter((e) => e.level === "warn");
    expect(before).toBe(1);
    expect(warns).toHaveLength(2);
    expect(warns[1]?.fields["retriesInPreviousEpisode"]).toBeGreaterThan(1);
    t.stop.abort();
    await t.running;
  });

  it("requeueAfter re-reconciles after the delay without backoff", async () => {
    const times: number[] = [];
    const t = setup(async () => {
      times.push(t.clock.now());
      return times.length < 3 ? requeueAfter(60_000) : done();
    });
    const start = t.clock.now();
    t.controller.enqueue("ns/a");
    await t.clock.advance(200_000);
    expect(times.map((x) => x - start)).toEqual([0, 60_000, 120_000]);
    expect(t.metrics.events.filter((e) => e === "total widgets requeue_after")).toHaveLength(2);
    t.stop.abort();
    await t.running;
  });

  it("retry with notBeforeMs waits at least that long (ARM Retry-After)", async () => {
    const times: number[] = [];
    const t = setup(async () => {
      times.push(t.clock.now());
      return times.length === 1 ? retry(new Error("429 throttled"), 20_000) : done();
    });
    const start = t.clock.now();
    t.controller.enqueue("ns/a");
    await t.clock.advance(30_000);
    expect(times.map((x) => x - start)).toEqual([0, 20_000]);
    t.stop.abort();
    await t.running;
  });

  it("terminal results are logged, counted and not requeued", async () => {
    let calls = 0;
    const t = setup(async () => {
      calls++;
      return terminal(new Error("spec invalid"));
    });
    t.controller.enqueue("ns/a");
    await t.clock.advance(10_000);
    expect(calls).toBe(1);
    expect(t.metrics.events).toEqual(expect.arrayContaining(["total widgets error", "error widgets", "terminal widgets"]));
    // An expected, user-caused state: info with the reason, no error object (pino would print its stack).
    const stalled = t.logger.entries.filter((e) => e.msg.includes("terminal"));
    expect(stalled.map((e) => [e.level, e.fields["reason"], e.fields["err"]])).toEqual([["info", "spec invalid", undefined]]);
    expect(t.logger.entries.filter((e) => e.level === "error")).toEqual([]);
    expect(t.controller.queue.delayedLen()).toBe(0);
    t.stop.abort();
    await t.running;
  });

  it("runs different keys in parallel up to maxConcurrentReconciles but never one key twice at once", async () => {
    const running = new Map<string, number>();
    const pending: Array<{ key: string; finish: (r: ReconcileResult) => void }> = [];
    let maxParallel = 0;
    let sameKeyOverlap = false;
    const t = setup(
      async (key) => {
        if (running.has(key)) sameKeyOverlap = true;
        running.set(key, 1);
        maxParallel = Math.max(maxParallel, running.size);
        const d = deferred<ReconcileResult>();
        pending.push({ key, finish: d.resolve });
        const r = await d.promise;
        running.delete(key);
        return r;
      },
      { workers: 2 },
    );
    t.controller.enqueue("a");
    t.controller.enqueue("b");
    t.controller.enqueue("c");
    await flushMicrotasks();
    expect(pending.map((p) => p.key)).toEqual(["a", "b"]);
    expect(t.controller.inFlight().sort()).toEqual(["a", "b"]);
    expect(t.metrics.events).toContain("active widgets 2");
    t.controller.enqueue("a"); // changed while in flight: must wait for the running pass
    pending.shift()?.finish(done()); // a finishes → worker takes c (queued before a's re-add)
    await flushMicrotasks();
    expect(pending.map((p) => p.key)).toEqual(["b", "c"]);
    pending.shift()?.finish(done()); // b finishes → worker takes a again
    await flushMicrotasks();
    expect(pending.map((p) => p.key)).toEqual(["c", "a"]);
    for (const p of pending.splice(0)) p.finish(done());
    await flushMicrotasks();
    expect(maxParallel).toBe(2);
    expect(sameKeyOverlap).toBe(false);
    t.stop.abort();
    await t.running;
  });

  it("on stop: takes no new keys, lets the in-flight reconcile finish, then resolves", async () => {
    const started: string[] = [];
    const d = deferred<ReconcileResult>();
    const t = setup(async (key) => {
      started.push(key);
      return d.promise;
    });
    t.controller.enqueue("a");
    t.controller.enqueue("b");
    await flushMicrotasks();
    let finished = false;
    void t.running.then(() => (finished = true));
    t.stop.abort();
    await flushMicrotasks();
    expect(finished).toBe(false);
    d.resolve(done());
    await t.running;
    expect(started).toEqual(["a"]);
  });

  it("abortInFlight aborts the signal of running reconciles", async () => {
    let seen: AbortSignal | undefined;
    const t = setup(
      (_key, ctx) =>
        new Promise<ReconcileResult>((resolve) => {
          seen = ctx.signal;
          ctx.signal.addEventListener("abort", () => resolve(retry(ctx.signal.reason)));
        }),
    );
    t.controller.enqueue("a");
    await flushMicrotasks();
    t.stop.abort();
    t.abort.abort(new Error("drain deadline"));
    await t.running;
    expect(seen?.aborted).toBe(true);
  });

  it("reconcileTimeoutMs aborts a reconcile that runs too long", async () => {
    let reason: unknown;
    const t = setup(
      (_key, ctx) =>
        new Promise<ReconcileResult>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            reason = ctx.signal.reason;
            resolve(done());
          });
        }),
      { timeoutMs: 1000 },
    );
    t.controller.enqueue("a");
    await t.clock.advance(999);
    expect(reason).toBeUndefined();
    await t.clock.advance(1);
    expect(String(reason)).toContain("timed out after 1000ms");
    t.stop.abort();
    await t.running;
  });

  it("records reconcile time and worker metrics", async () => {
    const t = setup(async () => {
      await t.clock.sleep(250);
      return done();
    });
    t.controller.enqueue("a");
    await t.clock.advance(250);
    expect(t.metrics.events).toEqual(["max widgets 1", "active widgets 0", "active widgets 1", "active widgets 0", "time widgets 0.25", "total widgets success"]);
    t.stop.abort();
    await t.running;
  });

  it("refuses to run twice and validates options", async () => {
    const t = setup(async () => done());
    await expect(t.controller.run({ stop: new AbortController().signal })).rejects.toThrow(/already started/);
    t.stop.abort();
    await t.running;
    expect(() => new Controller({ name: "x", reconcile: async () => done(), logger: recordingLogger(), maxConcurrentReconciles: 0 })).toThrow(RangeError);
  });
});

describe("Controller standing by (workers not started)", () => {
  /** Weeks of churn seen by a standby: objects created and deleted; the handlers enqueue each. */
  function churn(c: Controller, n: number): void {
    for (let i = 0; i < n; i++) {
      c.enqueue(`ns/tmp-${i}`); // add
      c.enqueue(`ns/tmp-${i}`); // delete: the key stays queued unless the queue is bounded
    }
  }

  it("with initialKeys the standby queue stays empty, and the start enqueues exactly the cache's keys", async () => {
    const cache = new Set(["ns/a", "ns/b"]);
    const reconciled: string[] = [];
    const controller = new Controller({
      name: "widgets",
      logger: recordingLogger(),
      clock: new ManualClock(0),
      reconcile: async (key) => {
        reconciled.push(key);
        return done();
      },
      initialKeys: () => cache,
    });
    churn(controller, 10_000);
    controller.enqueueAfter("ns/later", 1_000);
    expect(controller.queue.len() + controller.queue.delayedLen()).toBe(0);
    const stop = new AbortController();
    const running = controller.run({ stop: stop.signal });
    await flushMicrotasks();
    expect(reconciled.sort()).toEqual(["ns/a", "ns/b"]);
    controller.enqueue("ns/c"); // once running, events are queued as usual
    await flushMicrotasks();
    expect(reconciled).toContain("ns/c");
    stop.abort();
    await running;
  });

  it("without initialKeys keys queue up while standing by (deduplicated) — the case initialKeys bounds", () => {
    const controller = new Controller({ name: "widgets", logger: recordingLogger(), clock: new ManualClock(0), reconcile: async () => done() });
    churn(controller, 1_000);
    expect(controller.queue.len()).toBe(1_000);
  });
});
