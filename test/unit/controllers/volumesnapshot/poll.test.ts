import { describe, expect, it } from "vitest";
import { nextPollAt, predictCompletion } from "../../../../src/controllers/volumesnapshot/poll.ts";

const T = 1_000_000;

describe("predictCompletion", () => {
  it.each([
    { name: "20 → 40 % in 10 s: 100 % 30 s later", prev: { percent: 20, at: T }, cur: { percent: 40, at: T + 10_000 }, want: T + 40_000 },
    { name: "not advancing", prev: { percent: 40, at: T }, cur: { percent: 40, at: T + 10_000 }, want: undefined },
    { name: "one read only", prev: undefined, cur: { percent: 40, at: T }, want: undefined },
    { name: "already complete", prev: { percent: 90, at: T }, cur: { percent: 100, at: T + 1000 }, want: undefined },
    { name: "reads out of order", prev: { percent: 40, at: T + 5000 }, cur: { percent: 60, at: T }, want: undefined },
  ])("$name", ({ prev, cur, want }) => {
    expect(predictCompletion(prev, cur)).toBe(want);
  });
});

describe("nextPollAt", () => {
  const base = { intervalMs: 15_000, random: () => 0 };
  it.each([
    { name: "never read: now", o: { last: undefined, now: T }, want: T },
    { name: "no prediction: one interval after the last read", o: { last: T, now: T + 1000 }, want: T + 15_000 },
    { name: "no prediction, most jitter: +10 %", o: { last: T, now: T + 1000, random: () => 0.999_999 }, want: T + 16_500 },
    {
      name: "completion predicted 20 s after the last read: just after it (1 % = 500 ms)",
      o: { last: T, now: T + 1000, prev: { percent: 40, at: T - 10_000 }, cur: { percent: 60, at: T } },
      want: T + 20_000 + 500,
    },
    {
      name: "completion predicted sooner than an interval: still one interval (the ARM budget)",
      o: { last: T, now: T + 1000, prev: { percent: 10, at: T - 10_000 }, cur: { percent: 90, at: T } },
      want: T + 15_000,
    },
    {
      name: "completion predicted far away: two intervals at most",
      o: { last: T, now: T + 1000, prev: { percent: 10, at: T - 60_000 }, cur: { percent: 11, at: T } },
      want: T + 30_000,
    },
    { name: "overdue: now", o: { last: T - 60_000, now: T }, want: T },
  ])("$name", ({ o, want }) => {
    expect(Math.round(nextPollAt({ ...base, ...o }))).toBe(want);
  });

  it("never sooner than one interval after the last read, whatever the jitter or prediction", () => {
    for (const r of [0, 0.5, 0.99]) {
      for (const cur of [{ percent: 99, at: T }, { percent: 50, at: T }]) {
        expect(nextPollAt({ last: T, intervalMs: 15_000, now: T, random: () => r, prev: { percent: 1, at: T - 1000 }, cur }) - T).toBeGreaterThanOrEqual(15_000);
      }
    }
  });
});
