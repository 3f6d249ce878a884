import { describe, expect, it } from "vitest";
import { decide, type ScheduleInput } from "../../../../src/controllers/snapshotschedule/schedule.ts";
import { afterDecision, newRuns, pollDelay, requeueDelay, scheduleReadiness } from "../../../../src/controllers/snapshotschedule/status.ts";
import type { RunStatus } from "../../../../src/crds/snapshotschedule.ts";

const at = (s: string): Date => new Date(s);
const input = (o: Partial<ScheduleInput>): ScheduleInput => ({ schedule: "0 2 * * *", timeZone: "UTC", lastScheduled: at("2026-11-27T02:00:00Z"), activeRuns: 0, now: at("2026-11-28T02:00:05Z"), ...o });

describe("newRuns: one run per minute", () => {
  it.each([
    ["a scheduled run", input({}), [], undefined, ["202611280200@2026-11-28T02:00:00Z"]],
    ["a scheduled and an on-demand run in the same minute are one run", input({ runRequestedAt: "t1" }), [], undefined, ["202611280200@2026-11-28T02:00:00Z"]],
    [
      "on demand in another minute is its own run, timed at its minute",
      input({ runRequestedAt: "t1", now: at("2026-11-28T02:01:40Z"), lastScheduled: at("2026-11-28T02:00:00Z") }),
      [],
      undefined,
      ["202611280201@2026-11-28T02:01:00Z"],
    ],
    ["a second request in the minute of the last run joins it", input({ schedule: undefined, runRequestedAt: "t2", now: at("2026-11-28T02:00:30Z") }), [], { id: "202611280200" }, []],
    ["a run already active is not started again", input({ concurrencyPolicy: "Allow" }), [{ id: "202611280200", scheduledTime: "2026-11-28T02:00:00Z" }], undefined, []],
    ["nothing due", input({ now: at("2026-11-28T01:00:00Z") }), [], undefined, []],
  ])("%s", (_n, i, active, last, want) => {
    expect(newRuns(decide(i), active, last).map((r) => `${r.id}@${r.scheduledTime}`)).toEqual(want);
  });
});

describe("afterDecision", () => {
  it("moves lastScheduleTime, sets nextScheduleTime, echoes the token, adds missed runs", () => {
    const i = input({ runRequestedAt: "tok", lastScheduled: at("2026-11-25T02:00:00Z") });
    const f = afterDecision({ missedRuns: 1, nextScheduleTime: "2026-11-26T02:00:00Z" }, decide(i), i.lastScheduled);
    expect(f).toEqual({ lastScheduleTime: "2026-11-28T02:00:00Z", nextScheduleTime: "2026-11-29T02:00:00Z", missedRuns: 3, lastHandledRunRequest: "tok" });
  });

  it("an on-demand-only schedule has no nextScheduleTime and keeps lastScheduleTime unset", () => {
    const i = input({ schedule: undefined, lastScheduled: at("2026-11-28T00:00:00Z") });
    expect(afterDecision({ nextScheduleTime: "2026-11-29T02:00:00Z" }, decide(i), i.lastScheduled)).toEqual({});
  });

  it("a suspended schedule: no next time; its passed time is skipped, not run", () => {
    const i = input({ suspend: true });
    const d = decide(i);
    expect(d.start).toEqual([]);
    expect(afterDecision({}, d, i.lastScheduled)).toEqual({ lastScheduleTime: "2026-11-28T02:00:00Z" });
  });

  it("a suspended schedule still runs on demand", () => {
    const d = decide(input({ suspend: true, runRequestedAt: "now-please" }));
    expect(newRuns(d, [], undefined).map((r) => r.id)).toEqual(["202611280200"]);
  });
});

describe("DST day in a non-UTC zone: run ids are UTC minutes of the real instants", () => {
  it("New York fall-back: 01:30 twice → two runs with different ids", () => {
    const tz = "America/New_York";
    const first = decide(input({ schedule: "30 1 * * *", timeZone: tz, lastScheduled: at("2026-11-01T05:00:00Z"), now: at("2026-11-01T05:30:10Z") }));
    const second = decide(input({ schedule: "30 1 * * *", timeZone: tz, lastScheduled: first.lastScheduled, now: at("2026-11-01T06:30:10Z") }));
    expect(newRuns(first, [], undefined).map((r) => r.id)).toEqual(["202611010530"]);
    expect(newRuns(second, [], { id: "202611010530" }).map((r) => r.id)).toEqual(["202611010630"]);
  });

  it("New York spring-forward: 02:30 does not exist → no run that day, next on 03-09", () => {
    const d = decide(input({ schedule: "30 2 * * *", timeZone: "America/New_York", lastScheduled: at("2026-03-07T07:30:00Z"), now: at("2026-03-08T12:00:00Z") }));
    expect(d.start).toEqual([]);
    expect(d.next?.toISOString()).toBe("2026-03-09T06:30:00.000Z");
  });
});

describe("readiness", () => {
  const run = (phase: RunStatus["phase"], extra: Partial<RunStatus> = {}): RunStatus => ({ id: "202611280200", scheduledTime: "2026-11-28T02:00:00Z", phase, targets: 2, verified: 2, failed: 0, ...extra });
  const next = at("2026-11-29T02:00:00Z");
  it.each([
    ["a run active", { activeRuns: [{ id: "202611280200", scheduledTime: "x" }], lastRun: run("Running", { verified: 1 }), scheduled: true, next }, "progressing", "RunInProgress"],
    ["last run succeeded, next scheduled", { activeRuns: [], lastRun: run("Succeeded"), scheduled: true, next }, "ready", "LastRunSucceeded"],
    ["on-demand only, last run succeeded", { activeRuns: [], lastRun: run("Succeeded"), scheduled: false, next: undefined }, "ready", "LastRunSucceeded"],
    ["last run failed", { activeRuns: [], lastRun: run("Failed", { failed: 1, verified: 1, results: [{ kind: "DiskSnapshot" as const, target: "d", name: "n", phase: "Failed" as const, message: "VerificationFailed: X" }] }), scheduled: true, next }, "notReady", "LastRunFailed"],
    ["nothing ran yet", { activeRuns: [], lastRun: undefined, scheduled: true, next }, "notReady", "WaitingForFirstRun"],
    ["no run in five years", { activeRuns: [], lastRun: run("Succeeded"), scheduled: true, next: undefined }, "stalled", "NoNextRun"],
  ])("%s → %s %s", (_n, i, state, reason) => {
    expect(scheduleReadiness(i)).toMatchObject({ state, reason });
  });

  it("a failed run's message names the child and its reason", () => {
    const r = scheduleReadiness({ activeRuns: [], lastRun: run("Failed", { failed: 1, results: [{ kind: "DiskSnapshot", target: "d", name: "snap-1", phase: "Failed", message: "VerificationFailed: CopySourceNotFound: gone" }] }), scheduled: false, next: undefined });
    expect(r.message).toContain("DiskSnapshot snap-1: VerificationFailed: CopySourceNotFound");
  });
});

describe("requeueDelay: never a long sleep", () => {
  const now = at("2026-11-28T02:00:00Z");
  it.each([
    ["a run active → the poll", 1, at("2027-01-01T00:00:00Z"), 5000],
    ["next run in 10 s → just after it", 0, at("2026-11-28T02:00:10Z"), 10_250],
    ["@yearly → clamped to the max", 0, at("2027-01-01T00:00:00Z"), 3_600_000],
    ["a next time already passed → at once", 0, at("2026-11-28T01:59:00Z"), 250],
    ["on demand only → none", 0, undefined, undefined],
  ])("%s", (_n, active, next, want) => {
    expect(requeueDelay(active, next, now, 5000, 3_600_000)).toBe(want);
  });
});

describe("pollDelay: a run whose creates wait on a throttle is not re-read every poll", () => {
  it.each([
    ["nothing throttled → the poll", [], false, 5000],
    ["every pending child throttled → the shortest wait", [30_000, 12_000], false, 12_000],
    ["a throttle shorter than the poll → still the poll", [800], false, 5000],
    ["another child copying → the poll (its progress is read on time)", [30_000], true, 5000],
  ])("%s", (_n, throttledForMs, otherPending, want) => {
    expect(pollDelay(5000, { throttledForMs, otherPending })).toBe(want);
  });
});
