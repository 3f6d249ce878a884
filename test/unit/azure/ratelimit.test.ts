import { createPipelineRequest, createHttpHeaders, type PipelineResponse } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { ArmRequestError, toArmError } from "../../../src/azure/errors.ts";
import { createTokenBucket, writeRateLimitPolicy, type Sleep } from "../../../src/azure/ratelimit.ts";

/** A hand-driven clock: sleeping advances time instantly and records the wait. */
function fakeTime(start = 0) {
  let t = start;
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms, signal) => {
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    sleeps.push(ms);
    t += ms;
  };
  return { now: () => t, advance: (ms: number) => (t += ms), sleep, sleeps };
}

describe("token bucket", () => {
  it("allows a burst without waiting, then spaces writes at the refill rate", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 3, now: time.now, sleep: time.sleep });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(await bucket.acquire());
    expect(waits).toEqual([0, 0, 0, 100, 100, 100]);
    expect(time.now()).toBe(300);
  });

  it("refills over time, capped at the burst", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 5, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 5; i++) await bucket.acquire();
    expect(bucket.available()).toBeCloseTo(0);
    time.advance(250);
    expect(bucket.available()).toBeCloseTo(2.5);
    time.advance(60_000);
    expect(bucket.available()).toBe(5);
  });

  it("serves concurrent callers in arrival order with cumulative waits (reservations)", async () => {
    const time = fakeTime();
    const sleeps: number[] = [];
    // Sleep does not advance time here: all callers reserve at t=0, as in a real burst.
    const bucket = createTokenBucket({
      ratePerSecond: 2,
      burst: 1,
      now: time.now,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const waits = await Promise.all([bucket.acquire(), bucket.acquire(), bucket.acquire(), bucket.acquire()]);
    expect(waits).toEqual([0, 500, 1000, 1500]);
    expect(bucket.available()).toBeCloseTo(-3);
  });

  it("refuses a write whose wait exceeds maxWaitMs as throttled, without consuming a token", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 1, burst: 1, maxWaitMs: 1500, now: time.now, sleep: async () => {} });
    await bucket.acquire(); // t=0: takes the only token
    await bucket.acquire(); // reserves 1000 ms
    const err = await bucket.acquire().catch((e: unknown) => e); // would need 2000 ms
    expect(err).toBeInstanceOf(ArmRequestError);
    expect(toArmError(err, time.now())).toMatchObject({ kind: "throttled", code: "ClientWriteRateLimited", retryAfterMs: 2000 });
    expect(bucket.available()).toBeCloseTo(-1);
  });

  it("gives the reservation back when the wait is aborted", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 1, burst: 1, now: time.now, sleep: time.sleep });
    await bucket.acquire();
    const ac = new AbortController();
    ac.abort();
    await expect(bucket.acquire(ac.signal)).rejects.toThrow();
    expect(bucket.available()).toBeCloseTo(0);
  });

  it("tolerates a clock going backwards", async () => {
    let t = 1000;
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 2, now: () => t, sleep: async () => {} });
    await bucket.acquire();
    t = 500;
    expect(bucket.available()).toBeCloseTo(1);
  });

  it.each([
    [0, 10],
    [10, 0],
    [-1, 5],
  ])("rejects rate=%s burst=%s", (rate, burst) => {
    expect(() => createTokenBucket({ ratePerSecond: rate, burst, now: () => 0, sleep: async () => {} })).toThrow();
  });
});

describe("writeRateLimitPolicy", () => {
  const respond = async (): Promise<PipelineResponse> => ({
    status: 200,
    headers: createHttpHeaders(),
    request: createPipelineRequest({ url: "https://x" }),
  });

  it.each([
    ["GET", false],
    ["HEAD", false],
    ["PUT", true],
    ["PATCH", true],
    ["POST", true],
    ["DELETE", true],
  ] as const)("%s takes a token: %s", async (method, takes) => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 1, burst: 10, now: time.now, sleep: time.sleep });
    const policy = writeRateLimitPolicy(bucket);
    await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method }), respond);
    expect(bucket.available()).toBe(takes ? 9 : 10);
  });

  it("reports waits", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ ratePerSecond: 4, burst: 1, now: time.now, sleep: time.sleep });
    const waited: number[] = [];
    const policy = writeRateLimitPolicy(bucket, (ms) => waited.push(ms));
    for (let i = 0; i < 3; i++) {
      await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method: "PUT" }), respond);
    }
    expect(waited).toEqual([250, 250]);
  });
});

describe("slowing down on 429 (AIMD on the write rate)", () => {
  const bucketOn = (time: ReturnType<typeof fakeTime>) =>
    createTokenBucket({ ratePerSecond: 10, burst: 200, minRatePerSecond: 1, recoveryMs: 60_000, now: time.now, sleep: time.sleep });

  it("a 429 empties the bucket and halves the rate: the next write waits 1/5 s, not 0", async () => {
    const time = fakeTime();
    const bucket = bucketOn(time);
    bucket.throttled();
    expect(bucket.rate()).toBe(5);
    expect(bucket.available()).toBe(0);
    expect(await bucket.acquire()).toBe(200);
  });

  it.each([
    { name: "one episode (429s within 1 s) halves once", gaps: [0, 100, 500], rate: 5 },
    { name: "three episodes halve three times", gaps: [0, 1_000, 1_000], rate: 1.25 },
    { name: "never below the floor", gaps: [0, 1_000, 1_000, 1_000, 1_000, 1_000], rate: 1 },
  ])("$name", ({ gaps, rate }) => {
    const time = fakeTime();
    // recovery so slow it does not show within these few seconds
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 200, minRatePerSecond: 1, recoveryMs: 1e12, now: time.now, sleep: time.sleep });
    for (const g of gaps) {
      time.advance(g);
      bucket.throttled();
    }
    expect(bucket.rate()).toBeCloseTo(rate, 3);
  });

  it("recovers linearly to the configured rate once 429s stop", () => {
    const time = fakeTime();
    const bucket = bucketOn(time);
    bucket.throttled(); // 10 → 5
    time.advance(15_000); // +10/s per 60 s: +2.5
    expect(bucket.rate()).toBeCloseTo(7.5, 5);
    time.advance(60_000);
    expect(bucket.rate()).toBe(10);
  });

  it("the policy cuts the rate on a write's 429 only, not on a read's, and reports each cut", async () => {
    const time = fakeTime();
    const bucket = bucketOn(time);
    const cuts: number[] = [];
    const policy = writeRateLimitPolicy(bucket, undefined, (rate) => cuts.push(rate));
    const answer = (status: number) => async (): Promise<PipelineResponse> => ({
      status,
      headers: createHttpHeaders(),
      request: createPipelineRequest({ url: "https://x" }),
    });
    await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method: "GET" }), answer(429));
    expect(bucket.rate()).toBe(10);
    await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method: "PUT" }), answer(200));
    expect(bucket.rate()).toBe(10);
    await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method: "PUT" }), answer(429));
    expect(bucket.rate()).toBe(5);
    // A second 429 in the same episode does not cut again.
    await policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/x", method: "PUT" }), answer(429));
    expect(cuts).toEqual([5]);
  });
});
