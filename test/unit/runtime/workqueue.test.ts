import { describe, expect, it } from "vitest";
import { ManualClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import { ItemExponentialFailureRateLimiter } from "../../../src/runtime/ratelimiter.ts";
import type { GetResult, QueueMetrics, UnfinishedWork } from "../../../src/runtime/workqueue.ts";
import { WorkQueue } from "../../../src/runtime/workqueue.ts";

function newQueue(clock = new ManualClock()): { q: WorkQueue<string>; clock: ManualClock } {
  return { q: new WorkQueue<string>({ name: "test", clock }), clock };
}

async function getItem(q: WorkQueue<string>): Promise<string> {
  const r = await q.get();
  if (r.shutdown) throw new Error("unexpected shutdown");
  return r.item;
}

/** Starts a get and reports whether it has resolved yet. */
function pendingGet(q: WorkQueue<string>): { settled: () => GetResult<string> | undefined; promise: Promise<GetResult<string>> } {
  let result: GetResult<string> | undefined;
  const promise = q.get().then((r) => (result = r));
  return { settled: () => result, promise };
}

describe("WorkQueue basics", () => {
  it("merges duplicate adds and hands items out in FIFO order", async () => {
    const { q } = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await getItem(q)).toBe("a");
    expect(await getItem(q)).toBe("b");
    expect(q.len()).toBe(0);
  });

  it("get waits for an add; waiting getters are served in order", async () => {
    const { q } = newQueue();
    const g1 = pendingGet(q);
    const g2 = pendingGet(q);
    await flushMicrotasks();
    expect(g1.settled()).toBeUndefined();
    q.add("x");
    await flushMicrotasks();
    expect(g1.settled()).toEqual({ shutdown: false, item: "x" });
    expect(g2.settled()).toBeUndefined();
    q.add("y");
    expect(await g2.promise).toEqual({ shutdown: false, item: "y" });
  });

  it("never hands an item being processed to a second worker; re-queues it at done if it got dirty", async () => {
    const { q } = newQueue();
    q.add("a");
    expect(await getItem(q)).toBe("a");
    q.add("a"); // changed while worker 1 processes it
    expect(q.len()).toBe(0);
    const worker2 = pendingGet(q);
    await flushMicrotasks();
    expect(worker2.settled()).toBeUndefined();
    q.done("a");
    expect(await worker2.promise).toEqual({ shutdown: false, item: "a" });
    q.done("a");
    expect(q.len()).toBe(0);
  });

  it("done without a new add does not re-queue; a later add queues again", async () => {
    const { q } = newQueue();
    q.add("a");
    await getItem(q);
    q.done("a");
    expect(q.len()).toBe(0);
    expect(q.processingLen()).toBe(0);
    q.add("a");
    expect(q.len()).toBe(1);
  });

  it("merges many adds while processing into one re-queue", async () => {
    const { q } = newQueue();
    q.add("a");
    await getItem(q);
    for (let i = 0; i < 5; i++) q.add("a");
    q.done("a");
    expect(q.len()).toBe(1);
    await getItem(q);
    q.done("a");
    expect(q.len()).toBe(0);
  });
});

describe("WorkQueue delays", () => {
  it("addAfter makes the item available only once its time has come", async () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    expect(q.len()).toBe(0);
    expect(q.delayedLen()).toBe(1);
    await clock.advance(99);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedLen()).toBe(0);
  });

  it("for a waiting item the earliest time wins", async () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 200);
    expect(q.delayedLen()).toBe(1);
    await clock.advance(50);
    expect(q.len()).toBe(1);
    await getItem(q);
    q.done("a");
    await clock.advance(500);
    expect(q.len()).toBe(0); // the later requests were merged into the first
  });

  it("orders several delayed items by ready time and uses a single timer", async () => {
    const { q, clock } = newQueue();
    q.addAfter("c", 30);
    q.addAfter("a", 10);
    q.addAfter("b", 20);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(30);
    expect([await getItem(q), await getItem(q), await getItem(q)]).toEqual(["a", "b", "c"]);
  });

  it("a wall-clock step does not move delayed items: delays run on the monotonic clock", async () => {
    const { q, clock } = newQueue(new ManualClock(1_000_000));
    q.addAfter("a", 1_000);
    clock.stepWall(-3_600_000); // NTP steps an hour back
    await clock.advance(1_000);
    expect(q.len()).toBe(1);
    q.addAfter("b", 1_000);
    clock.stepWall(+3_600_000); // and forward again: b must not become due early
    await clock.advance(999);
    expect(q.len()).toBe(1);
    await clock.advance(1);
    expect(q.len()).toBe(2);
  });

  it("addAfter with a non-positive delay adds immediately", () => {
    const { q } = newQueue();
    q.addAfter("a", 0);
    q.addAfter("b", -5);
    expect(q.len()).toBe(2);
  });

  it("a delayed add of a queued item merges with it", async () => {
    const { q, clock } = newQueue();
    q.add("a");
    q.addAfter("a", 10);
    await clock.advance(10);
    expect(q.len()).toBe(1);
  });

  it("addRateLimited backs off exponentially per item until forget", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000) });
    q.addRateLimited("a"); // 5ms
    await clock.advance(4);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await getItem(q);
    q.done("a");
    q.addRateLimited("a"); // 10ms
    await clock.advance(9);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues("a")).toBe(2);
    q.forget("a");
    expect(q.numRequeues("a")).toBe(0);
  });

  it("addRateLimited honours a notBefore floor (Retry-After) and still counts the failure", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000) });
    q.addRateLimited("a", { notBeforeMs: 30_000 });
    await clock.advance(29_999);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues("a")).toBe(1);
  });
});

describe("WorkQueue shutdown", () => {
  it("releases blocked getters, ignores new adds and stops handing out queued items", async () => {
    const { q, clock } = newQueue();
    const blocked = pendingGet(q);
    await flushMicrotasks();
    q.shutDown();
    expect(await blocked.promise).toEqual({ shutdown: true });
    q.add("late");
    q.addAfter("later", 10);
    expect(q.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(await q.get()).toEqual({ shutdown: true });
    expect(q.isShuttingDown()).toBe(true);
  });

  it("does not hand out items still queued at shutdown (they are relisted on the next start)", async () => {
    const { q } = newQueue();
    q.add("a");
    q.shutDown();
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("cancels pending delayed adds", async () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(200);
    expect(q.len()).toBe(0);
  });

  it("shutDownWithDrain resolves once in-flight items are done", async () => {
    const { q } = newQueue();
    q.add("a");
    q.add("b");
    await getItem(q);
    await getItem(q);
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.done("a");
    await flushMicrotasks();
    expect(drained).toBe(false);
    q.done("b");
    await drain;
    expect(drained).toBe(true);
  });

  it("shutDownWithDrain resolves at once when idle, and a plain shutDown releases a drain waiter", async () => {
    const { q } = newQueue();
    await q.shutDownWithDrain();
    const { q: q2 } = newQueue();
    q2.add("a");
    await getItem(q2);
    const drain = q2.shutDownWithDrain();
    q2.shutDown();
    await drain;
  });
});

describe("WorkQueue metrics", () => {
  it("reports depth, adds, queue and work durations, retries and unfinished work", async () => {
    const clock = new ManualClock();
    const seen = { depth: [] as number[], adds: 0, queue: [] as number[], work: [] as number[], retries: 0 };
    let unfinished: UnfinishedWork | undefined;
    let name: string | undefined;
    const q = new WorkQueue<string>({
      name: "things",
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000),
      metrics: {
        forQueue: (n, u): QueueMetrics => {
          name = n;
          unfinished = u;
          return {
            depth: (d) => seen.depth.push(d),
            add: () => seen.adds++,
            queueDuration: (s) => seen.queue.push(s),
            workDuration: (s) => seen.work.push(s),
            retry: () => seen.retries++,
          };
        },
      },
    });
    expect(name).toBe("things");
    q.add("a");
    q.add("a"); // merged: not an add
    q.add("b");
    await clock.advance(2000);
    expect(await getItem(q)).toBe("a");
    await clock.advance(500);
    expect(unfinished?.unfinishedWorkSeconds()).toBe(0.5);
    expect(await getItem(q)).toBe("b");
    await clock.advance(1000);
    expect(unfinished?.unfinishedWorkSeconds()).toBe(2.5);
    expect(unfinished?.longestRunningProcessorSeconds()).toBe(1.5);
    q.done("a");
    q.done("b");
    q.addRateLimited("a");
    q.addAfter("b", 0);
    expect(seen.adds).toBe(3);
    expect(seen.depth).toEqual([1, 2, 1, 0, 1]);
    expect(seen.queue).toEqual([2, 2.5]);
    expect(seen.work).toEqual([1.5, 1]);
    expect(seen.retries).toBe(2);
    expect(unfinished?.longestRunningProcessorSeconds()).toBe(0);
  });
});

describe("WorkQueue under concurrent workers", () => {
  it("never processes a key twice at once and processes every key after its last add", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue<string>({ clock });
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = ["k0", "k1", "k2", "k3", "k4"];
    const active = new Set<string>();
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let tick = 0;
    let overlap = false;
    let processed = 0;
    const workers = Array.from({ length: 4 }, async () => {
      for (;;) {
        const r = await q.get();
        if (r.shutdown) return;
        if (active.has(r.item)) overlap = true;
        active.add(r.item);
        lastStart.set(r.item, ++tick);
        processed++;
        await clock.sleep(1 + rand(5));
        active.delete(r.item);
        q.done(r.item);
      }
    });
    for (let step = 0; step < 300; step++) {
      const key = keys[rand(keys.length)] as string;
      lastAdd.set(key, ++tick);
      q.add(key);
      await clock.advance(rand(3));
    }
    await clock.advance(100);
    expect(overlap).toBe(false);
    // Adds merged while keys waited or were in flight, yet every key got a final pass.
    expect(processed).toBeGreaterThan(20);
    expect(processed).toBeLessThan(300);
    for (const [key, added] of lastAdd) expect(lastStart.get(key) ?? 0).toBeGreaterThan(added);
    q.shutDown();
    await Promise.all(workers);
  });
});
