import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { ManualClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import type { Reconciler } from "../../../src/runtime/controller.ts";
import { Controller } from "../../../src/runtime/controller.ts";
import { LeaderElectionLostError, LeaderElector } from "../../../src/runtime/leaderelection.ts";
import type { ManagerOptions } from "../../../src/runtime/manager.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, Manager } from "../../../src/runtime/manager.ts";
import type { ReconcileResult } from "../../../src/runtime/result.ts";
import { done } from "../../../src/runtime/result.ts";
import { shutdownSignal } from "../../../src/runtime/signals.ts";
import { MemoryLease } from "./support/memory-lease-store.ts";
import { recordingLogger } from "./support/recording-logger.ts";
import { TestSource } from "./support/test-source.ts";

async function probe(m: Manager, path: string): Promise<{ status: number; body: string }> {
  const a = m.healthAddress();
  if (a === undefined) throw new Error("no health server");
  const res = await fetch(`http://127.0.0.1:${a.port}${path}`);
  return { status: res.status, body: await res.text() };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits (real time) until cond holds, flushing promise continuations; for real I/O like http listen. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Replica {
  manager: Manager;
  source: TestSource;
  controller: Controller;
  reconciled: string[];
  stop: AbortController;
  started: Promise<void>;
  lost: LeaderElectionLostError[];
}

function replica(
  identity: string,
  clock: ManualClock,
  lease: MemoryLease | undefined,
  reconcile?: Reconciler,
  extra: Partial<ManagerOptions> = {},
): Replica {
  const logger = recordingLogger();
  const reconciled: string[] = [];
  const lost: LeaderElectionLostError[] = [];
  const source = new TestSource(`widgets-${identity}`);
  const controller = new Controller({
    name: "widgets",
    logger,
    clock,
    reconcile:
      reconcile ??
      (async (key) => {
        reconciled.push(key);
        return done();
      }),
  });
  const manager = new Manager({
    logger,
    clock,
    healthAddress: { host: "127.0.0.1", port: 0 },
    onLeaderElectionLost: (e) => lost.push(e),
    ...(lease === undefined
      ? {}
      : { leaderElector: new LeaderElector({ store: lease.view(), identity, clock, logger, random: () => 0 }) }),
    ...extra,
  });
  manager.addSource(source);
  manager.addController(controller);
  const stop = new AbortController();
  const started = manager.start(stop.signal);
  // Tests assert on rejections after advancing the clock; mark them handled meanwhile.
  started.catch(() => {});
  return { manager, source, controller, reconciled, stop, started, lost };
}

describe("Manager without leader election", () => {
  it("starts the health server, waits for sources to sync, then starts workers", async () => {
    const clock = new ManualClock(0);
    const r = replica("solo", clock, undefined);
    await until(() => r.manager.healthAddress() !== undefined, "health server");
    expect(r.source.started).toBe(true);
    expect((await probe(r.manager, "/healthz")).status).toBe(200);
    const notReady = await probe(r.manager, "/readyz");
    expect(notReady.status).toBe(500);
    expect(notReady.body).toContain("[-]sources-synced failed: not synced: widgets-solo");
    r.controller.enqueue("ns/a");
    await flushMicrotasks();
    expect(r.reconciled).toEqual([]); // no workers before sync
    r.source.markSynced();
    await r.manager.elected();
    await flushMicrotasks();
    expect(r.reconciled).toEqual(["ns/a"]);
    expect(r.manager.phase()).toBe("running");
    expect(await probe(r.manager, "/readyz")).toEqual({ status: 200, body: "ok\n" });
    const verbose = await probe(r.manager, "/readyz?verbose");
    expect(verbose.body).toContain("[+]sources-synced ok");
    expect(verbose.body).toContain("readyz check passed");
    expect((await probe(r.manager, "/nope")).status).toBe(404);
    r.stop.abort();
    await r.started;
    expect(r.source.stoppedBySignal).toBe(true);
    expect(r.manager.phase()).toBe("stopped");
    expect(r.manager.healthAddress()).toBeUndefined();
  });

  it("custom health and readiness checks are served", async () => {
    const clock = new ManualClock(0);
    const r = replica("solo", clock, undefined);
    let informerHealthy = true;
    r.manager.addHealthzCheck("informers", () => (informerHealthy ? undefined : "watch stalled"));
    r.manager.addReadyzCheck("arm", async () => undefined);
    r.source.markSynced();
    await r.manager.elected();
    await until(() => r.manager.healthAddress() !== undefined, "health server");
    expect((await probe(r.manager, "/readyz?verbose")).body).toContain("[+]arm ok");
    informerHealthy = false;
    const h = await probe(r.manager, "/livez");
    expect(h.status).toBe(500);
    expect(h.body).toContain("[-]informers failed: watch stalled");
    r.stop.abort();
    await r.started;
  });

  it("fails to start when sources do not sync in time", async () => {
    const clock = new ManualClock(0);
    const r = replica("solo", clock, undefined, undefined, { cacheSyncTimeoutMs: 1_000 });
    await until(() => r.source.started, "source start");
    await clock.advance(1_000);
    await expect(r.started).rejects.toThrow(/timed out after 1000ms waiting for sources to sync: widgets-solo/);
  });

  it("a source that fails to start stops the manager with its error", async () => {
    const clock = new ManualClock(0);
    const manager = new Manager({ logger: recordingLogger(), clock });
    manager.addSource(new TestSource("bad", { failStart: new Error("no RBAC to list widgets") }));
    await expect(manager.start(new AbortController().signal)).rejects.toThrow("no RBAC to list widgets");
  });

  it("a failing runnable stops the manager and the other runnables; adding after start is refused", async () => {
    const clock = new ManualClock(0);
    const m = new Manager({ logger: recordingLogger(), clock });
    const crash = deferred<void>();
    let otherStopped = false;
    m.addRunnable({
      name: "scheduler",
      needLeaderElection: false,
      start: async () => {
        await crash.promise;
        throw new Error("scheduler crashed");
      },
    });
    m.addRunnable({
      name: "other",
      start: (signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => ((otherStopped = true), resolve()))),
    });
    const running = m.start(new AbortController().signal);
    running.catch(() => {});
    await m.elected();
    expect(() => m.addRunnable({ name: "late", start: async () => {} })).toThrow(/before start/);
    crash.resolve();
    await expect(running).rejects.toThrow("scheduler crashed");
    expect(otherStopped).toBe(true);
  });

  it("readiness fails while a source has not heard from the apiserver for longer than the limit", async () => {
    const clock = new ManualClock(0);
    const r = replica("solo", clock, undefined, undefined, { sourceSilenceLimitMs: 60_000 });
    r.source.heardAt = 0;
    r.source.markSynced();
    await r.manager.elected();
    await until(() => r.manager.healthAddress() !== undefined, "health server");
    await clock.advance(60_000);
    expect((await probe(r.manager, "/readyz")).status).toBe(200);
    await clock.advance(1);
    const silent = await probe(r.manager, "/readyz");
    expect(silent.status).toBe(500);
    expect(silent.body).toContain("[-]sources-heard failed: not heard from the apiserver within 60s: widgets-solo (60s)");
    expect((await probe(r.manager, "/healthz")).status).toBe(200); // not a reason to restart
    r.source.heardAt = clock.monotonicMs(); // a bookmark arrives
    expect((await probe(r.manager, "/readyz")).status).toBe(200);
    r.stop.abort();
    await r.started;
  });

  it("the whole shutdown fits its budget (default 25 s, below the pod's 30 s grace period) even when nothing cooperates", async () => {
    const clock = new ManualClock(0);
    // A reconcile that ignores its abort, and a source that never reports stopped.
    const r = replica("solo", clock, undefined, () => new Promise<ReconcileResult>(() => {}));
    r.source.neverStops = true;
    r.source.markSynced();
    await r.manager.elected();
    r.controller.enqueue("ns/stuck");
    await flushMicrotasks();
    let stoppedAt: number | undefined;
    void r.started.then(() => (stoppedAt = clock.now()));
    r.stop.abort();
    await clock.advance(60_000);
    expect(stoppedAt).toBeDefined();
    expect(stoppedAt).toBeLessThanOrEqual(DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBeLessThan(30_000);
  });

  it("graceful shutdown waits for an in-flight reconcile that finishes in time, without aborting it", async () => {
    const clock = new ManualClock(0);
    let signal: AbortSignal | undefined;
    const r = replica("solo", clock, undefined, async (_key, ctx) => {
      signal = ctx.signal;
      await clock.sleep(3_000);
      return done();
    });
    r.source.markSynced();
    await r.manager.elected();
    r.controller.enqueue("ns/a");
    await flushMicrotasks();
    let stoppedAt: number | undefined;
    void r.started.then(() => (stoppedAt = clock.now()));
    r.stop.abort();
    await clock.advance(5_000);
    expect(stoppedAt).toBe(3_000);
    expect(signal?.aborted).toBe(false);
  });

  it("graceful shutdown: stops taking keys, waits for the in-flight reconcile, aborts it at the deadline", async () => {
    const clock = new ManualClock(0);
    const signals: AbortSignal[] = [];
    const r = replica("solo", clock, undefined, (_key, ctx) => {
      signals.push(ctx.signal);
      return new Promise<ReconcileResult>((resolve) => ctx.signal.addEventListener("abort", () => resolve(done())));
    }, { gracefulShutdownTimeoutMs: 10_000 });
    r.source.markSynced();
    await r.manager.elected();
    r.controller.enqueue("ns/slow");
    r.controller.enqueue("ns/queued");
    await flushMicrotasks();
    r.stop.abort();
    await flushMicrotasks();
    expect(r.manager.phase()).toBe("stopping");
    expect((await probe(r.manager, "/readyz")).status).toBe(500);
    await clock.advance(9_999);
    expect(signals[0]?.aborted).toBe(false);
    await clock.advance(1);
    expect(signals[0]?.aborted).toBe(true);
    await r.started;
    expect(signals).toHaveLength(1); // the queued key was not started after stop
  });
});

describe("Manager with leader election", () => {
  it("only the leader reconciles; both are ready; a clean stop hands over at once", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = replica("a", clock, lease);
    a.source.markSynced();
    await a.manager.elected();
    const b = replica("b", clock, lease);
    b.source.markSynced();
    await until(() => b.manager.phase() === "standby", "b standby");
    await until(() => b.manager.healthAddress() !== undefined, "b health");

    for (const r of [a, b]) r.controller.enqueue("ns/w1"); // both informers see the same event
    await clock.advance(10_000);
    expect(a.reconciled).toEqual(["ns/w1"]);
    expect(b.reconciled).toEqual([]);
    expect(a.manager.isLeader()).toBe(true);
    expect(b.manager.isLeader()).toBe(false);
    expect((await probe(b.manager, "/readyz")).status).toBe(200); // standby is ready
    expect((await probe(b.manager, "/readyz?verbose")).body).toContain("[+]leader-election (standby) ok");
    expect((await probe(a.manager, "/healthz?verbose")).body).toContain("[+]leader-election ok");

    a.stop.abort();
    await a.started;
    expect(lease.holder()).toBe(""); // released
    const releasedAt = clock.now();
    await clock.advance(2_000);
    await b.manager.elected();
    expect(clock.now() - releasedAt).toBeLessThanOrEqual(2_000);
    await flushMicrotasks();
    expect(b.reconciled).toEqual(["ns/w1"]); // the key queued while standing by
    expect(lease.holder()).toBe("b");
    b.stop.abort();
    await b.started;
  });

  it("a stop that races an in-flight lease acquire does not leave the lease held", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The read answers; the creating write is on the wire when SIGTERM arrives and lands afterwards.
    lease.faults.push({ kind: "late", gate: Promise.resolve() }, { kind: "late", gate });
    const a = replica("a", clock, lease);
    a.source.markSynced();
    await until(() => a.manager.phase() === "standby", "a acquiring");
    a.stop.abort();
    await flushMicrotasks();
    open();
    await a.started;
    await flushMicrotasks(); // let an abandoned write land, fixed or not
    expect(lease.writes.map((w) => w.holderIdentity)).toEqual(["a", ""]);
    expect(lease.holder()).toBe("");
  });

  it("stopping while standing by leaves the lease alone", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = replica("a", clock, lease);
    a.source.markSynced();
    await a.manager.elected();
    const b = replica("b", clock, lease);
    b.source.markSynced();
    await until(() => b.manager.phase() === "standby", "b standby");
    b.stop.abort();
    await b.started;
    expect(lease.holder()).toBe("a");
    a.stop.abort();
    await a.started;
  });

  it("losing the lease aborts in-flight reconciles, calls the lost action and rejects start()", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    let inFlight: AbortSignal | undefined;
    const a = replica("a", clock, lease, (_key, ctx) => {
      inFlight = ctx.signal;
      return new Promise<ReconcileResult>((resolve) => ctx.signal.addEventListener("abort", () => resolve(done())));
    });
    a.source.markSynced();
    await a.manager.elected();
    a.controller.enqueue("ns/w1");
    await flushMicrotasks();
    for (let i = 0; i < 100; i++) lease.faults.push({ kind: "error", error: new Error("apiserver down") });
    await clock.advance(12_000); // retryPeriod + renewDeadline
    expect(a.lost).toHaveLength(1);
    expect(inFlight?.aborted).toBe(true);
    expect(inFlight?.reason).toBeInstanceOf(LeaderElectionLostError);
    await expect(a.started).rejects.toBeInstanceOf(LeaderElectionLostError);
  });

  it("does not release the lease while a reconcile ignores its abort (lets it expire instead)", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const never = new Promise<ReconcileResult>(() => {});
    const a = replica("a", clock, lease, () => never, { gracefulShutdownTimeoutMs: 1_000, abortGraceMs: 1_000 });
    a.source.markSynced();
    await a.manager.elected();
    a.controller.enqueue("ns/stuck");
    await flushMicrotasks();
    a.stop.abort();
    await clock.advance(2_000);
    await a.started;
    expect(lease.holder()).toBe("a");
  });
});

describe("shutdownSignal", () => {
  it("aborts on the first SIGTERM/SIGINT and calls the hard exit on the second", () => {
    const source = new EventEmitter();
    const second: string[] = [];
    const s = shutdownSignal({ source, onSecondSignal: (name) => second.push(name) });
    expect(s.signal.aborted).toBe(false);
    source.emit("SIGTERM");
    expect(s.signal.aborted).toBe(true);
    expect(second).toEqual([]);
    source.emit("SIGINT");
    expect(second).toEqual(["SIGINT"]);
    s.dispose();
    expect(source.listenerCount("SIGTERM")).toBe(0);
  });
});
