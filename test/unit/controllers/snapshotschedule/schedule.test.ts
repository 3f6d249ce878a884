import { describe, expect, it } from "vitest";
import {
  CronSyntaxError,
  decide,
  mayStart,
  mostRecentMissed,
  nextRun,
  pendingRunRequest,
  runsBetween,
  validateSchedule,
  type ScheduleDecision,
  type ScheduleInput,
} from "../../../../src/controllers/snapshotschedule/schedule.ts";
import { isKnownZone, wallAt } from "../../../../src/controllers/snapshotschedule/zone.ts";

const at = (s: string): Date => new Date(s);
const base: ScheduleInput = {
  schedule: "0 2 * * *",
  timeZone: "UTC",
  lastScheduled: at("2026-01-01T02:00:00Z"),
  activeRuns: 0,
  now: at("2026-01-02T02:00:20Z"),
};

/** The decision with Dates as ISO strings, for readable table rows. */
function plain(d: ScheduleDecision): Record<string, unknown> {
  return {
    start: d.start.map((s) => `${s.kind}@${s.scheduledTime.toISOString()}${s.kind === "OnDemand" ? `#${s.token}` : ""}`),
    missed: d.missed,
    lastScheduled: d.lastScheduled.toISOString(),
    next: d.next?.toISOString(),
    skipped: d.skipped,
    handled: d.handledRunRequest,
  };
}

describe("decide", () => {
  it.each<[string, Partial<ScheduleInput>, Record<string, unknown>]>([
    [
      "due now: start it, next is tomorrow",
      {},
      { start: ["Scheduled@2026-01-02T02:00:00.000Z"], missed: 0, lastScheduled: "2026-01-02T02:00:00.000Z", next: "2026-01-03T02:00:00.000Z" },
    ],
    [
      "nothing due: only the next time",
      { now: at("2026-01-02T01:00:00Z") },
      { start: [], missed: 0, lastScheduled: "2026-01-01T02:00:00.000Z", next: "2026-01-02T02:00:00.000Z" },
    ],
    [
      "down three days: one catch-up run, two missed",
      { now: at("2026-01-04T09:00:00Z") },
      { start: ["Scheduled@2026-01-04T02:00:00.000Z"], missed: 2, lastScheduled: "2026-01-04T02:00:00.000Z", next: "2026-01-05T02:00:00.000Z" },
    ],
    [
      "startingDeadlineSeconds passed: not started, counted as missed",
      { now: at("2026-01-02T02:10:00Z"), startingDeadlineSeconds: 300 },
      { start: [], missed: 1, lastScheduled: "2026-01-02T02:00:00.000Z", next: "2026-01-03T02:00:00.000Z", skipped: "MissedStartingDeadline" },
    ],
    [
      "Forbid with a run active: skipped and missed",
      { activeRuns: 1 },
      { start: [], missed: 1, lastScheduled: "2026-01-02T02:00:00.000Z", next: "2026-01-03T02:00:00.000Z", skipped: "ConcurrencyForbid" },
    ],
    [
      "Allow with a run active: started",
      { activeRuns: 1, concurrencyPolicy: "Allow" },
      { start: ["Scheduled@2026-01-02T02:00:00.000Z"], missed: 0, lastScheduled: "2026-01-02T02:00:00.000Z", next: "2026-01-03T02:00:00.000Z" },
    ],
    [
      "suspended: passed times are skipped, not caught up on resume; no next",
      { suspend: true, now: at("2026-01-04T09:00:00Z") },
      { start: [], missed: 0, lastScheduled: "2026-01-04T02:00:00.000Z", skipped: "Suspended" },
    ],
    [
      "suspended still runs on demand",
      { suspend: true, runRequestedAt: "req-1", now: at("2026-01-02T01:00:00Z") },
      { start: ["OnDemand@2026-01-02T01:00:00.000Z#req-1"], missed: 0, lastScheduled: "2026-01-01T02:00:00.000Z", handled: "req-1" },
    ],
    [
      "no schedule: on demand only",
      { schedule: undefined, runRequestedAt: "2026-01-02T10:00:00Z" },
      { start: ["OnDemand@2026-01-02T02:00:20.000Z#2026-01-02T10:00:00Z"], missed: 0, lastScheduled: "2026-01-01T02:00:00.000Z", handled: "2026-01-02T10:00:00Z" },
    ],
    ["no schedule, request already handled: nothing", { schedule: undefined, runRequestedAt: "a", lastHandledRunRequest: "a" }, { start: [], missed: 0, lastScheduled: "2026-01-01T02:00:00.000Z" }],
    [
      "on demand and scheduled together: both (the caller merges equal run ids)",
      { runRequestedAt: "b", lastHandledRunRequest: "a" },
      {
        start: ["Scheduled@2026-01-02T02:00:00.000Z", "OnDemand@2026-01-02T02:00:20.000Z#b"],
        missed: 0,
        lastScheduled: "2026-01-02T02:00:00.000Z",
        next: "2026-01-03T02:00:00.000Z",
        handled: "b",
      },
    ],
    [
      "on demand is not held back by Forbid",
      { schedule: undefined, runRequestedAt: "b", activeRuns: 1 },
      { start: ["OnDemand@2026-01-02T02:00:20.000Z#b"], missed: 0, lastScheduled: "2026-01-01T02:00:00.000Z", handled: "b" },
    ],
    [
      "time zone: 02:00 in Kolkata is 20:30 UTC the day before",
      { timeZone: "Asia/Kolkata", lastScheduled: at("2026-01-01T20:30:00Z"), now: at("2026-01-02T20:30:05Z") },
      { start: ["Scheduled@2026-01-02T20:30:00.000Z"], missed: 0, lastScheduled: "2026-01-02T20:30:00.000Z", next: "2026-01-03T20:30:00.000Z" },
    ],
    [
      "yearly: the next time is a Date beyond what one timer can hold (the caller clamps)",
      { schedule: "@yearly", lastScheduled: at("2026-01-01T00:00:00Z"), now: at("2026-01-01T00:00:01Z") },
      { start: [], missed: 0, lastScheduled: "2026-01-01T00:00:00.000Z", next: "2027-01-01T00:00:00.000Z" },
    ],
  ])("%s", (_name, over, want) => {
    expect(plain(decide({ ...base, ...over }))).toEqual({ next: undefined, skipped: undefined, handled: undefined, ...want });
  });

  it("too many missed: counting stops at 100 and says so", () => {
    const d = decide({ ...base, schedule: "* * * * *", now: at("2026-01-03T00:00:00Z") });
    expect([d.missed, d.tooManyMissed, d.start[0]?.scheduledTime.toISOString()]).toEqual([100, true, "2026-01-03T00:00:00.000Z"]);
  });
});

describe("mostRecentMissed", () => {
  it.each<[string, string, string, string, string, number | undefined, string | undefined, number]>([
    ["DST overlap in New York: both 01:30s are runs; the later is due", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T06:45:00Z", undefined, "2026-11-01T06:30:00.000Z", 1],
    ["DST gap in New York: 02:30 does not happen that day", "30 2 * * *", "America/New_York", "2026-03-07T07:30:00Z", "2026-03-08T12:00:00Z", undefined, undefined, 0],
    ["leap day four years later", "0 0 29 2 *", "UTC", "2024-02-29T00:00:00Z", "2028-03-01T00:00:00Z", undefined, "2028-02-29T00:00:00.000Z", 0],
    ["deadline boundary is open: due == now - deadline is too late", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T02:05:00Z", 300, undefined, 1],
  ])("%s", (_name, spec, tz, last, now, deadline, due, missed) => {
    const m = mostRecentMissed(spec, tz, at(last), at(now), deadline);
    expect([m.due?.toISOString(), m.missed]).toEqual([due, missed]);
  });
});

describe("small decisions", () => {
  it.each([
    ["Forbid, idle", "Forbid", 0, true],
    ["Forbid, busy", "Forbid", 1, false],
    ["default is Forbid", undefined, 1, false],
    ["Allow, busy", "Allow", 3, true],
  ] as const)("mayStart: %s", (_name, policy, active, want) => {
    expect(mayStart(policy, active)).toBe(want);
  });

  it.each([
    ["no annotation", undefined, undefined, undefined],
    ["new token", "t1", undefined, "t1"],
    ["already handled", "t1", "t1", undefined],
    ["changed token", "t2", "t1", "t2"],
    ["blank token is no request", "  ", undefined, undefined],
    ["surrounding space ignored", " t1 ", "t1", undefined],
  ])("pendingRunRequest: %s", (_name, annotation, handled, want) => {
    expect(pendingRunRequest(annotation, handled)).toBe(want);
  });

  it("runsBetween is bounded and says when it cut", () => {
    const r = runsBetween("*/10 * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 4);
    expect([r.runs.map((d) => d.toISOString().slice(11, 16)), r.truncated]).toEqual([["00:10", "00:20", "00:30", "00:40"], true]);
    const all = runsBetween("*/10 * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 10);
    expect([all.runs.length, all.truncated]).toEqual([6, false]);
  });

  it("a schedule that never fires has no next run", () => {
    expect(nextRun("0 0 30 2 *", "UTC", at("2026-01-01T00:00:00Z"))).toBeUndefined();
  });

  it.each(["", "0 0 * *", "61 * * * *", "@every 1h", "TZ=UTC 0 0 * * *"])("validateSchedule refuses %j with robfig's reason", (spec) => {
    expect(() => validateSchedule(spec)).toThrow(CronSyntaxError);
  });
});

describe("time zones", () => {
  it.each([
    ["UTC", true],
    ["Europe/Amsterdam", true],
    ["America/Argentina/Buenos_Aires", true],
    ["Etc/GMT+5", true],
    ["Mars/Olympus_Mons", false],
    ["W. Europe Standard Time", false],
  ])("isKnownZone(%j) is %s (the CRD regex checks only the shape)", (tz, known) => {
    expect(isKnownZone(tz)).toBe(known);
  });
});

describe("wallAt (cached per zone and hour) equals Intl minute by minute across DST changes", () => {
  it.each([
    ["America/New_York", "2026-03-08T05:00:00Z"],
    ["America/New_York", "2026-11-01T04:00:00Z"],
    ["Australia/Lord_Howe", "2026-04-04T13:00:00Z"],
    ["Australia/Lord_Howe", "2026-10-03T14:00:00Z"],
    ["Asia/Kathmandu", "2026-06-01T00:00:00Z"],
    ["America/Santiago", "2026-09-06T02:00:00Z"],
  ])("%s from %s, 6 hours", (tz, from) => {
    const intl = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hourCycle: "h23", dateStyle: "short", timeStyle: "medium" });
    const pad = (n: number): string => String(n).padStart(2, "0");
    for (let t = Date.parse(from); t < Date.parse(from) + 6 * 3_600_000; t += 60_000) {
      const w = wallAt(t, tz);
      expect(`${pad(w.day)}/${pad(w.month)}/${w.year}, ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`).toBe(intl.format(new Date(t)));
    }
  });
});
