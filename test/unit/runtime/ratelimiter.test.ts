import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { WorkQueue } from "../../../src/runtime/workqueue.ts";
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  JitteredExponentialRateLimiter,
  MaxOfRateLimiter,
  armControllerRateLimiter,
  defaultControllerRateLimiter,
  delayWithFloor,
} from "../../../src/runtime/ratelimiter.ts";

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles per failure from base and caps at max, per item", () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(1, 1000);
    expect([1, 2, 3, 4, 5].map(() => rl.when("a"))).toEqual([1, 2, 4, 8, 16]);
    expect(rl.numRequeues("a")).toBe(5);
    expect(rl.when("b")).toBe(1);
    rl.forget("a");
    expect(rl.numRequeues("a")).toBe(0);
    expect(rl.when("a")).toBe(1);
  });

  it.each([
    [0, 5],
    [10, 5120],
    [18, 1_000_000],
    [2000, 1_000_000], // 2^2000 overflows to Infinity: still the cap
  ])("5ms base, 1000s max: failure #%i waits %ims", (previousFailures, expected) => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    for (let i = 0; i < previousFailures; i++) rl.when("x");
    expect(rl.when("x")).toBe(expected);
  });

  it("rejects negative delays", () => {
    expect(() => new ItemExponentialFailureRateLimiter(-1, 10)).toThrow(RangeError);
  });
});

describe("BucketRateLimiter", () => {
  it("allows a burst, then spaces reservations at qps, and refills over time", async () => {
    const clock = new ManualClock();
    const rl = new BucketRateLimiter<string>(10, 3, clock);
    expect([rl.when("a"), rl.when("b"), rl.when("c")]).toEqual([0, 0, 0]);
    // Empty bucket: reservations stack 100ms apart at 10 qps.
    expect(rl.when("d")).toBeCloseTo(100);
    expect(rl.when("e")).toBeCloseTo(200);
    await clock.advance(200); // pays back the two reservations exactly
    expect(rl.when("f")).toBeCloseTo(100);
    await clock.advance(10_000); // refills to burst, not beyond
    expect([rl.when("g"), rl.when("h"), rl.when("i")]).toEqual([0, 0, 0]);
    expect(rl.when("j")).toBeCloseTo(100);
    expect(rl.numRequeues("a")).toBe(0);
  });

  it("validates qps and burst", () => {
    const clock = new ManualClock();
    expect(() => new BucketRateLimiter(0, 1, clock)).toThrow(RangeError);
    expect(() => new BucketRateLimiter(1, 0, clock)).toThrow(RangeError);
  });
});

describe("MaxOfRateLimiter and the controller-runtime default", () => {
  it("answers the longest delay and records the failure in every limiter", () => {
    const a = new ItemExponentialFailureRateLimiter<string>(1, 1000);
    const b = new ItemExponentialFailureRateLimiter<string>(10, 1000);
    const rl = new MaxOfRateLimiter(a, b);
    expect(rl.when("k")).toBe(10);
    expect(rl.when("k")).toBe(20);
    expect(a.numRequeues("k")).toBe(2);
    expect(rl.numRequeues("k")).toBe(2);
    rl.forget("k");
    expect(a.numRequeues("k")).toBe(0);
    expect(b.numRequeues("k")).toBe(0);
  });

  it("default: per-item 5ms doubling until the 100-burst bucket at 10 qps dominates", () => {
    const clock = new ManualClock();
    const rl = defaultControllerRateLimiter<string>(clock);
    expect(rl.when("a")).toBe(5);
    expect(rl.when("a")).toBe(10);
    // 98 distinct items use up the rest of the burst; each answers its own first backoff.
    for (let i = 0; i < 98; i++) expect(rl.when(`item-${i}`)).toBe(5);
    // The 101st reservation waits for the bucket: 100ms at 10 qps, more than the 5ms item backoff.
    expect(rl.when("fresh")).toBeCloseTo(100);
  });
});

describe("delayWithFloor (Retry-After)", () => {
  it.each([
    ["floor wins when longer", 1, 30_000, 30_000],
    ["backoff wins when longer", 12, 1_000, 5 * 2 ** 11],
    ["no floor", 1, undefined, 5],
  ])("%s", (_name, attempt, floor, expected) => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    for (let i = 1; i < attempt; i++) rl.when("k");
    expect(delayWithFloor(rl, "k", floor)).toBe(expected);
    // The failure is counted either way, so backoff keeps growing after the throttling ends.
    expect(rl.numRequeues("k")).toBe(attempt);
  });
});

describe("JitteredExponentialRateLimiter", () => {
  it.each([
    ["no jitter (random 0.5)", 0.5, [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]],
    ["lowest (random 0)", 0, [750, 1500, 3000, 6000, 12_000, 24_000, 48_000, 96_000, 192_000, 225_000, 225_000]],
  ])("1 s → 5 min per item, %s", (_name, r, expected) => {
    const rl = new JitteredExponentialRateLimiter<string>({ baseMs: 1000, maxMs: 300_000, random: () => r });
    expect(expected.map(() => rl.when("a"))).toEqual(expected);
    expect(rl.numRequeues("a")).toBe(expected.length);
    expect(rl.when("b")).toBe(expected[0]);
    rl.forget("a");
    expect(rl.when("a")).toBe(expected[0]);
  });

  it("spreads keys that fail together (jitter)", () => {
    let i = 0;
    const rl = new JitteredExponentialRateLimiter<string>({ baseMs: 1000, maxMs: 300_000, random: () => (i++ % 10) / 10 });
    const first = Array.from({ length: 10 }, (_, k) => rl.when(`k${k}`));
    expect(new Set(first).size).toBe(10);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(750);
    expect(Math.max(...first)).toBeLessThan(1250);
  });

  it("rejects a base of 0 or a max below base", () => {
    expect(() => new JitteredExponentialRateLimiter({ baseMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new JitteredExponentialRateLimiter({ baseMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});

describe("armControllerRateLimiter", () => {
  it("a key failing against ARM waits ≈ 1 s, then doubles, instead of controller-runtime's 5 ms", () => {
    const arm = armControllerRateLimiter<string>(new ManualClock(), () => 0.5);
    const dflt = defaultControllerRateLimiter<string>(new ManualClock());
    const armDelays = Array.from({ length: 8 }, () => arm.when("k"));
    const defaultDelays = Array.from({ length: 8 }, () => dflt.when("k"));
    // 8 failures: ≈ 4 min of backoff against ARM, ≈ 1.3 s with the default.
    expect(armDelays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000]);
    expect(defaultDelays.reduce((a, b) => a + b, 0)).toBe(1275);
  });

  it("a Retry-After longer than the backoff is honoured as a floor, and the failure still counts", () => {
    const arm = armControllerRateLimiter<string>(new ManualClock(), () => 0.5);
    expect(delayWithFloor(arm, "k", 30_000)).toBe(30_000);
    expect(delayWithFloor(arm, "k", 500)).toBe(2000);
    expect(arm.numRequeues("k")).toBe(2);
  });

  it("a storm of keys failing at once is still spaced by the overall bucket", () => {
    const arm = armControllerRateLimiter<string>(new ManualClock(), () => 0.5);
    const delays = Array.from({ length: 200 }, (_, i) => arm.when(`k${i}`));
    expect(delays.at(99)).toBe(1000); // within the burst of 100: the per-key 1 s wins
    expect(delays.at(199)).toBeCloseTo(10_000, 5); // 100 beyond the burst at 10 qps
  });

  it("drives a WorkQueue: addRateLimited delays by it", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue<string>({ clock, rateLimiter: armControllerRateLimiter<string>(clock, () => 0.5) });
    q.addRateLimited("k");
    await clock.advance(999);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    q.shutDown();
  });
});
