import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
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
