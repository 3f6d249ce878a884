import { describe, expect, it } from "vitest";
import type { Clock } from "../../../src/runtime/clock.ts";
import { MAX_TIMER_DELAY_MS, ManualClock, SystemClock, longTimer } from "../../../src/runtime/clock.ts";
import { WorkQueue } from "../../../src/runtime/workqueue.ts";

describe("ManualClock", () => {
  it("fires due timers in due-time order, then creation order, with now() at each due time", async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(31, () => fired.push("late"));
    await clock.advance(30);
    expect(fired).toEqual(["a@1010", "b@1010", "c@1030"]);
    expect(clock.now()).toBe(1030);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextDue()).toBe(1031);
  });

  it("fires timers created while advancing when they fall inside the window", async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimer(5, () => {
      fired.push(clock.now());
      clock.setTimer(5, () => fired.push(clock.now()));
    });
    await clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it("does not fire cancelled timers", async () => {
    const clock = new ManualClock();
    let fired = false;
    clock.setTimer(1, () => (fired = true)).cancel();
    await clock.advance(5);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("lets async loops progress: sleep → continuation → next sleep", async () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const ac = new AbortController();
    const loop = (async () => {
      while (!ac.signal.aborted) {
        await clock.sleep(100, ac.signal);
        if (!ac.signal.aborted) ticks.push(clock.now());
      }
    })();
    await clock.advance(350);
    expect(ticks).toEqual([100, 200, 300]);
    ac.abort();
    await loop;
    expect(clock.pendingTimers()).toBe(0);
  });

  it("sleep resolves immediately on an already aborted signal and early on abort", async () => {
    const clock = new ManualClock();
    await clock.sleep(1000, AbortSignal.abort());
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort();
    await p;
    expect(clock.now()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("advanceTo moves to an absolute time and never backwards", async () => {
    const clock = new ManualClock(100);
    await clock.advanceTo(50);
    expect(clock.now()).toBe(100);
    await clock.advanceTo(250);
    expect(clock.now()).toBe(250);
  });
});

describe("SystemClock", () => {
  it("tracks wall time and sleeps for real", async () => {
    const clock = new SystemClock();
    const start = clock.now();
    expect(Math.abs(start - Date.now())).toBeLessThan(50);
    await clock.sleep(20);
    expect(clock.now() - start).toBeGreaterThanOrEqual(15);
  });

  it("cancelled timers do not fire", async () => {
    const clock = new SystemClock();
    let fired = false;
    clock.setTimer(5, () => (fired = true)).cancel();
    await clock.sleep(20);
    expect(fired).toBe(false);
  });
});

describe("timers beyond setTimeout's 2^31-1 ms", () => {
  const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

  it("SystemClock.setTimer of 30 days does not fire early (Node fires longer delays after 1 ms)", async () => {
    const clock = new SystemClock();
    let fired = 0;
    const timer = clock.setTimer(THIRTY_DAYS, () => fired++);
    await new Promise((r) => setTimeout(r, 100));
    timer.cancel();
    expect(fired).toBe(0);
  });

  it("longTimer re-arms in steps of at most 2^31-1 ms until the monotonic deadline", async () => {
    let mono = 0;
    let fired = 0;
    // The monotonic clock says the first step is still short of the deadline: it must re-arm, not fire.
    const timer = longTimer(THIRTY_DAYS, () => fired++, () => mono);
    mono = THIRTY_DAYS - 1;
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(0);
    timer.cancel();
    const short = longTimer(5, () => fired++, () => mono);
    mono += 5;
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(1);
    short.cancel();
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
  });

  it("WorkQueue.addAfter(key, 30 days) on the system clock causes no wake-ups", async () => {
    const system = new SystemClock();
    let wakeUps = 0;
    const counting: Clock = {
      now: () => system.now(),
      monotonicMs: () => system.monotonicMs(),
      sleep: (ms, signal) => system.sleep(ms, signal),
      setTimer: (ms, fn) =>
        system.setTimer(ms, () => {
          wakeUps++;
          fn();
        }),
    };
    const q = new WorkQueue<string>({ clock: counting });
    q.addAfter("monthly", THIRTY_DAYS);
    await new Promise((r) => setTimeout(r, 200));
    expect(wakeUps).toBe(0);
    expect(q.delayedLen()).toBe(1);
    expect(q.len()).toBe(0);
    q.shutDown();
  });
});

describe("ManualClock wall steps", () => {
  it("stepWall moves now() but not monotonic time or timers", async () => {
    const clock = new ManualClock(1000);
    let fired = false;
    clock.setTimer(100, () => (fired = true));
    clock.stepWall(-60_000);
    expect(clock.now()).toBe(-59_000);
    expect(clock.monotonicMs()).toBe(1000);
    await clock.advance(100);
    expect(fired).toBe(true);
  });
});
