import { describe, expect, it } from "vitest";
import type { Clock } from "../../../src/runtime/clock.ts";
import { ManualClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import type { RenewOutcome } from "../../../src/runtime/leaderelection.ts";
import { LeaderElector } from "../../../src/runtime/leaderelection.ts";
import { MemoryLease } from "./support/memory-lease-store.ts";
import { recordingLogger } from "./support/recording-logger.ts";

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

function candidate(identity: string, lease: MemoryLease, clock: Clock, extra: { random?: () => number; onNewLeader?: (id: string) => void } = {}) {
  const elector = new LeaderElector({
    store: lease.view(),
    identity,
    clock,
    logger: recordingLogger(),
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    random: extra.random ?? (() => 0),
    ...(extra.onNewLeader === undefined ? {} : { onNewLeader: extra.onNewLeader }),
  });
  const stop = new AbortController();
  let acquiredAt: number | undefined;
  let outcome: RenewOutcome | undefined;
  let lostAt: number | undefined;
  /** acquire, then renew until lost or stopped (what the manager does). */
  const running = (async () => {
    if (!(await elector.acquire(stop.signal))) return;
    acquiredAt = clock.now();
    outcome = await elector.renew(stop.signal);
    lostAt = clock.now();
  })();
  return {
    elector,
    stop,
    running,
    acquiredAt: () => acquiredAt,
    outcome: () => outcome,
    lostAt: () => lostAt,
  };
}

/** A clock whose wall time is off by skewMs but whose timers run on the shared test clock. */
function skewed(base: ManualClock, skewMs: number): Clock {
  return { now: () => base.now() + skewMs, monotonicMs: () => base.monotonicMs(), setTimer: (ms, fn) => base.setTimer(ms, fn), sleep: (ms, s) => base.sleep(ms, s) };
}

describe("LeaderElector", () => {
  it("the first candidate creates the lease; a second stands by while the leader renews", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    expect(a.acquiredAt()).toBe(0);
    expect(lease.stored?.record).toEqual({ holderIdentity: "a", leaseDurationSeconds: 15, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 0 });
    const b = candidate("b", lease, clock);
    await clock.advance(60_000);
    expect(b.acquiredAt()).toBeUndefined();
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe("a");
    expect(a.elector.isLeader()).toBe(true);
    // Renewals move renewTime but keep acquireTime and the transition count.
    expect(lease.stored?.record).toMatchObject({ holderIdentity: "a", acquireTimeMs: 0, leaseTransitions: 0 });
    expect(lease.stored?.record.renewTimeMs).toBeGreaterThanOrEqual(58_000);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.running, b.running]);
  });

  it("takes over a lease whose holder stopped renewing, counted from its own observation", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    const b = candidate("b", lease, clock);
    await clock.advance(10_000);
    a.stop.abort(); // crash: no release
    await a.running;
    const lastRenew = lease.stored?.record.renewTimeMs ?? NaN;
    expect(lastRenew).toBe(10_000);
    await clock.advance(14_000);
    expect(b.acquiredAt()).toBeUndefined(); // never before leaseDuration since the last change
    await clock.advance(10_000);
    const at = b.acquiredAt() ?? NaN;
    expect(at).toBeGreaterThan(lastRenew + LEASE);
    expect(at).toBeLessThanOrEqual(lastRenew + LEASE + 2 * RETRY);
    expect(lease.stored?.record).toMatchObject({ holderIdentity: "b", acquireTimeMs: at, leaseTransitions: 1 });
    b.stop.abort();
    await b.running;
  });

  it("is safe against clock skew: expiry uses local observation time, not the remote renewTime", async () => {
    const clock = new ManualClock(1_000_000_000);
    const lease = new MemoryLease();
    // The leader's wall clock is an hour behind: its renewTime always looks an hour stale to b.
    const a = candidate("a", lease, skewed(clock, -3_600_000), {});
    await flushMicrotasks();
    const b = candidate("b", lease, clock);
    await clock.advance(120_000);
    expect(b.acquiredAt()).toBeUndefined();
    expect(lease.holder()).toBe("a");
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.running, b.running]);

    // And a holder whose clock runs an hour ahead cannot keep a dead lease alive.
    const clock2 = new ManualClock(1_000_000_000);
    const lease2 = new MemoryLease();
    const c = candidate("c", lease2, skewed(clock2, 3_600_000));
    await flushMicrotasks();
    const d = candidate("d", lease2, clock2);
    await clock2.advance(4_000);
    c.stop.abort();
    await c.running;
    await clock2.advance(LEASE + 2 * RETRY + 1);
    expect(d.acquiredAt()).toBeDefined();
    d.stop.abort();
    await d.running;
  });

  it("a failing renewal keeps retrying, and gives up leadership after renewDeadline (before others may take over)", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    await clock.advance(4_000); // renewed at 2s and 4s
    const lastRenew = lease.stored?.record.renewTimeMs ?? NaN;
    for (let i = 0; i < 50; i++) lease.faults.push({ kind: "error", error: new Error("apiserver unavailable") });
    await clock.advance(20_000);
    expect(a.outcome()).toEqual({ kind: "lost", reason: "failed to renew lease within 10000ms" });
    expect(a.elector.isLeader()).toBe(false);
    const lostAt = a.lostAt() ?? NaN;
    expect(lostAt).toBe(lastRenew + RETRY + RENEW);
    expect(lostAt).toBeLessThan(lastRenew + LEASE); // the margin that keeps two leaders apart
  });

  it.each(["hang", "stuck"] as const)("a renewal request that never answers (%s) is cut at the deadline", async (kind) => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    lease.faults.push({ kind });
    await clock.advance(RETRY + RENEW);
    expect(a.outcome()?.kind).toBe("lost");
    expect(a.lostAt()).toBe(RETRY + RENEW);
  });

  it("a transient renewal failure is retried within the deadline and leadership is kept", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    lease.faults.push({ kind: "error", error: new Error("blip") }, { kind: "error", error: new Error("blip") });
    await clock.advance(30_000);
    expect(a.outcome()).toBeUndefined();
    expect(a.elector.isLeader()).toBe(true);
    expect(lease.stored?.record.renewTimeMs).toBeGreaterThanOrEqual(28_000);
    a.stop.abort();
    await a.running;
    expect(a.outcome()).toEqual({ kind: "stopped" });
  });

  it("release on shutdown lets the standby take over on its next retry, not after expiry", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    const b = candidate("b", lease, clock);
    await clock.advance(7_000);
    a.stop.abort();
    await a.running;
    expect(await a.elector.release()).toBe(true);
    const releasedAt = clock.now();
    expect(lease.stored?.record).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 });
    await clock.advance(RETRY);
    expect(b.acquiredAt()).toBeDefined();
    expect((b.acquiredAt() ?? NaN) - releasedAt).toBeLessThanOrEqual(RETRY);
    expect(lease.stored?.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    b.stop.abort();
    await b.running;
  });

  it("release does nothing when the lease belongs to someone else", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    const b = new LeaderElector({ store: lease.view(), identity: "b", clock, logger: recordingLogger() });
    const writes = lease.writes.length;
    expect(await b.release()).toBe(true);
    expect(lease.writes.length).toBe(writes);
    expect(lease.holder()).toBe("a");
    a.stop.abort();
    await a.running;
  });

  it("candidates racing for a missing lease: exactly one wins the create", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const cs = ["a", "b", "c"].map((id) => candidate(id, lease, clock));
    await clock.advance(10_000);
    const leaders = cs.filter((c) => c.elector.isLeader());
    expect(leaders).toHaveLength(1);
    expect(lease.holder()).toBe(leaders[0]?.elector.identity);
    for (const c of cs) c.stop.abort();
    await Promise.all(cs.map((c) => c.running));
  });

  it("an acquire attempt that never answers is abandoned and retried", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    lease.faults.push({ kind: "stuck" });
    const a = candidate("a", lease, clock);
    await clock.advance(RENEW + RETRY);
    expect(a.acquiredAt()).toBe(RENEW + RETRY);
    a.stop.abort();
    await a.running;
  });

  it("acquire retries are jittered by up to 1.2 × retryPeriod", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    const attempts: number[] = [];
    const view = lease.view();
    const b = new LeaderElector({
      store: { ...view, get: (s) => (attempts.push(clock.now()), view.get(s)) },
      identity: "b",
      clock,
      logger: recordingLogger(),
      random: () => 0.5,
    });
    const stop = new AbortController();
    const acquiring = b.acquire(stop.signal);
    await clock.advance(10_000);
    expect(attempts).toEqual([0, 3_200, 6_400, 9_600]); // 2000 × (1 + 1.2 × 0.5)
    stop.abort();
    expect(await acquiring).toBe(false);
    a.stop.abort();
    await a.running;
  });

  it("reports leader changes", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const seen: string[] = [];
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    const b = candidate("b", lease, clock, { onNewLeader: (id) => seen.push(id) });
    await clock.advance(2_000);
    a.stop.abort();
    await a.running;
    await a.elector.release();
    await clock.advance(4_000);
    expect(seen).toEqual(["a", "", "b"]);
    b.stop.abort();
    await b.running;
  });

  it("run(): onStartedLeading gets a signal that aborts when leadership is lost", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const elector = new LeaderElector({ store: lease.view(), identity: "a", clock, logger: recordingLogger(), random: () => 0 });
    let leading: AbortSignal | undefined;
    let stopped: RenewOutcome | undefined;
    const run = elector.run(new AbortController().signal, {
      onStartedLeading: (s) => (leading = s),
      onStoppedLeading: (o) => (stopped = o),
    });
    await flushMicrotasks();
    expect(leading?.aborted).toBe(false);
    for (let i = 0; i < 50; i++) lease.faults.push({ kind: "error", error: new Error("down") });
    await clock.advance(30_000);
    expect(await run).toMatchObject({ kind: "lost" });
    expect(leading?.aborted).toBe(true);
    expect(stopped?.kind).toBe("lost");
  });

  it("run(): stopping releases the lease by default", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const elector = new LeaderElector({ store: lease.view(), identity: "a", clock, logger: recordingLogger() });
    const stop = new AbortController();
    const run = elector.run(stop.signal, { onStartedLeading: () => {}, onStoppedLeading: () => {} });
    await clock.advance(5_000);
    stop.abort();
    expect(await run).toEqual({ kind: "stopped" });
    expect(lease.holder()).toBe("");
  });

  it("health check fails when we think we lead but have not renewed for leaseDuration + tolerance", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const elector = new LeaderElector({ store: lease.view(), identity: "a", clock, logger: recordingLogger() });
    expect(await elector.acquire(new AbortController().signal)).toBe(true);
    expect(elector.check(20_000)).toBeUndefined();
    await clock.advance(LEASE + 20_000); // nobody is renewing
    expect(elector.check(20_000)).toBeUndefined();
    await clock.advance(1);
    expect(elector.check(20_000)).toMatch(/not renewed/);
  });

  it("a stop that races an in-flight acquire releases the lease once the abandoned write lands", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The read answers at once; the create is on the wire when the stop comes and lands later.
    lease.faults.push({ kind: "late", gate: Promise.resolve() }, { kind: "late", gate });
    const elector = new LeaderElector({ store: lease.view(), identity: "a", clock, logger: recordingLogger() });
    const stop = new AbortController();
    const acquiring = elector.acquire(stop.signal);
    await flushMicrotasks();
    stop.abort();
    expect(await acquiring).toBe(false);
    const releasing = elector.release(AbortSignal.timeout(5_000));
    await flushMicrotasks();
    open(); // the abandoned create lands: holder "a"
    expect(await releasing).toBe(true);
    await flushMicrotasks();
    expect(lease.writes.map((w) => w.holderIdentity)).toEqual(["a", ""]);
    expect(lease.holder()).toBe("");
  });

  it("a wall-clock step neither fails liveness nor ends leadership: intervals run on the monotonic clock", async () => {
    const clock = new ManualClock(0);
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await flushMicrotasks();
    lease.faults.push({ kind: "error", error: new Error("apiserver blip") });
    await clock.advance(RETRY + 1); // the renewal round starts and its first attempt fails
    clock.stepWall(3_600_000); // NTP steps the wall clock an hour ahead mid-round
    expect(a.elector.check(20_000)).toBeUndefined();
    await clock.advance(3 * RETRY);
    expect(a.outcome()).toBeUndefined();
    expect(a.elector.isLeader()).toBe(true);
    a.stop.abort();
    await a.running;
  });

  it.each([
    [{ identity: "" }, /identity/],
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, /leaseDuration/],
    [{ renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, /renewDeadline/],
    [{ retryPeriodMs: 0 }, /retryPeriod/],
  ])("rejects bad timing %o", (bad, message) => {
    const base = { store: new MemoryLease().view(), identity: "a", clock: new ManualClock(), logger: recordingLogger() };
    expect(() => new LeaderElector({ ...base, ...bad })).toThrow(message);
  });
});
