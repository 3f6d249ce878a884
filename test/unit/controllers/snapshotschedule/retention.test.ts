import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Retention } from "../../../../src/crds/snapshotschedule.ts";
import { parseDuration } from "../../../../src/crds/shapes.ts";
import { bucketOf, BUCKETS, planRetention, type SnapshotRecord, type SnapshotState } from "../../../../src/controllers/snapshotschedule/retention.ts";

const snap = (id: string, time: string, state: SnapshotState = "Verified", retentionDays?: number): SnapshotRecord => ({
  id,
  time: new Date(time),
  state,
  ...(retentionDays === undefined ? {} : { retentionDays }),
});
const hourlyFrom = (from: string, hours: number): SnapshotRecord[] =>
  Array.from({ length: hours }, (_, i) => {
    const t = new Date(Date.parse(from) + i * 3_600_000).toISOString();
    return snap(t.slice(0, 16), t);
  });
const ids = (xs: { id: string }[]): string[] => xs.map((x) => x.id);

describe("planRetention: named cases", () => {
  it.each<[string, SnapshotRecord[], Retention | undefined, string, string, string[]]>([
    [
      "daily across New York's 25-hour fall-back day: one per local day",
      hourlyFrom("2026-10-31T04:00:00Z", 52), // Oct 31 00:00 EDT .. Nov 2 02:00 EST
      { keep: { daily: 3 } },
      "America/New_York",
      "2026-11-02T08:00:00Z",
      ["2026-11-02T07:00", "2026-11-02T04:00", "2026-11-01T03:00"], // Nov 2 02:00, Nov 1 23:00 EST, Oct 31 23:00 EDT
    ],
    [
      "hourly across the fall-back: both 01:xx hours are one wall-clock hour",
      [snap("a", "2026-11-01T04:30:00Z"), snap("b", "2026-11-01T05:30:00Z"), snap("c", "2026-11-01T06:00:00Z"), snap("d", "2026-11-01T06:30:00Z")],
      { keep: { hourly: 2 } },
      "America/New_York",
      "2026-11-01T07:00:00Z",
      ["d", "a"], // d = 01:30 EST (hour 01), a = 00:30 EDT; b and c are hour 01 too
    ],
    [
      "daily across London's 23-hour spring-forward day",
      hourlyFrom("2026-03-28T00:00:00Z", 47),
      { keep: { daily: 2 } },
      "Europe/London",
      "2026-03-30T00:00:00Z",
      ["2026-03-29T22:00", "2026-03-28T23:00"], // Mar 29 23:00 BST, Mar 28 23:00 GMT
    ],
    [
      "monthly across a month boundary in Kolkata: 19:00 UTC on 31 Jan is already February",
      [snap("feb1", "2026-01-31T19:00:00Z"), snap("jan31", "2026-01-31T18:00:00Z"), snap("jan15", "2026-01-15T00:00:00Z")],
      { keep: { monthly: 2 } },
      "Asia/Kolkata",
      "2026-02-10T00:00:00Z",
      ["feb1", "jan31"],
    ],
    [
      "the same history in UTC: both are January",
      [snap("feb1", "2026-01-31T19:00:00Z"), snap("jan31", "2026-01-31T18:00:00Z"), snap("dec", "2025-12-15T00:00:00Z")],
      { keep: { monthly: 2 } },
      "UTC",
      "2026-02-10T00:00:00Z",
      ["feb1", "dec"],
    ],
    [
      "weekly: 31 Dec 2026 (Thu) and 3 Jan 2027 (Sun) are one ISO week",
      [snap("sun", "2027-01-03T12:00:00Z"), snap("thu", "2026-12-31T12:00:00Z"), snap("prev", "2026-12-27T12:00:00Z")],
      { keep: { weekly: 2 } },
      "UTC",
      "2027-01-04T00:00:00Z",
      ["sun", "prev"],
    ],
    [
      "yearly in Lord Howe: 13:00 UTC on 31 Dec is New Year",
      [snap("y27", "2026-12-31T13:30:00Z"), snap("y26", "2026-12-31T12:00:00Z"), snap("y26b", "2026-06-01T00:00:00Z")],
      { keep: { yearly: 5 } },
      "Australia/Lord_Howe",
      "2027-01-02T00:00:00Z",
      ["y27", "y26"],
    ],
    [
      "GFS and maxCount: the newest maxCount of what GFS selects",
      hourlyFrom("2026-01-01T00:00:00Z", 24 * 10),
      { keep: { daily: 10 }, maxCount: 3 },
      "UTC",
      "2026-01-11T00:00:00Z",
      ["2026-01-10T23:00", "2026-01-09T23:00", "2026-01-08T23:00"],
    ],
    [
      "maxAge with minVerified: everything is old, the newest two survive",
      [snap("a", "2026-01-03T00:00:00Z"), snap("b", "2026-01-02T00:00:00Z"), snap("c", "2026-01-01T00:00:00Z")],
      { maxAge: "72h", minVerified: 2 },
      "UTC",
      "2026-02-01T00:00:00Z",
      ["a", "b"],
    ],
    [
      "verification failing on new runs: the last verified stays, failed bounded",
      [snap("f3", "2026-01-05T00:00:00Z", "Failed"), snap("f2", "2026-01-04T00:00:00Z", "Failed"), snap("f1", "2026-01-03T00:00:00Z", "Failed"), snap("v", "2026-01-02T00:00:00Z"), snap("v0", "2026-01-01T00:00:00Z")],
      { maxCount: 1 },
      "UTC",
      "2026-01-06T00:00:00Z",
      ["f3", "v"],
    ],
    [
      "pending is never deleted, however old",
      [snap("p", "2025-01-01T00:00:00Z", "Pending"), snap("v", "2026-01-05T00:00:00Z"), snap("old", "2025-06-01T00:00:00Z")],
      { maxAge: "30d" },
      "UTC",
      "2026-01-06T00:00:00Z",
      ["v", "p"],
    ],
    [
      "retentionDays (disk tag) overrides maxAge both ways",
      [snap("long", "2026-01-01T00:00:00Z", "Verified", 30), snap("short", "2026-01-09T00:00:00Z", "Verified", 1), snap("new", "2026-01-10T00:00:00Z")],
      { maxAge: "3d" },
      "UTC",
      "2026-01-10T12:00:00Z",
      ["new", "long"],
    ],
    [
      "no retention policy: disk snapshots still age out by their tag (seed 002), others stay",
      [snap("tagged-old", "2026-01-01T00:00:00Z", "Verified", 3), snap("untagged", "2025-01-01T00:00:00Z"), snap("tagged-new", "2026-01-09T00:00:00Z", "Verified", 3)],
      undefined,
      "UTC",
      "2026-01-10T00:00:00Z",
      ["tagged-new", "untagged"],
    ],
    [
      "failedHistoryLimit 0: every failed one goes",
      [snap("f", "2026-01-02T00:00:00Z", "Failed"), snap("v", "2026-01-01T00:00:00Z")],
      { maxCount: 5, failedHistoryLimit: 0 },
      "UTC",
      "2026-01-03T00:00:00Z",
      ["v"],
    ],
  ])("%s", (_name, history, policy, tz, now, kept) => {
    const plan = planRetention(history, policy, new Date(now), tz);
    expect(ids(plan.keep)).toEqual(kept);
    expect(new Set([...ids(plan.keep), ...ids(plan.delete)])).toEqual(new Set(ids(history)));
  });

  it("says why it deletes", () => {
    const plan = planRetention(
      [snap("new", "2026-01-10T00:00:00Z"), snap("mid", "2026-01-09T00:00:00Z"), snap("old", "2025-01-01T00:00:00Z"), snap("f1", "2026-01-08T00:00:00Z", "Failed"), snap("f0", "2026-01-07T00:00:00Z", "Failed")],
      { maxAge: "30d", maxCount: 1 },
      new Date("2026-01-10T12:00:00Z"),
      "UTC",
    );
    expect(plan.delete).toEqual([
      { id: "mid", reason: "MaxCount" },
      { id: "f0", reason: "FailedHistoryLimit" },
      { id: "old", reason: "MaxAge" },
    ]);
    expect(plan.keep).toEqual([
      { id: "new", reasons: ["WithinMaxAge", "MaxCount", "MinVerified"] },
      { id: "f1", reasons: ["FailedHistory"] },
    ]);
  });

  it("refuses a maxAge that is not a duration (admission should have)", () => {
    expect(() => planRetention([], { maxAge: "3 days" }, new Date(), "UTC")).toThrow(RangeError);
  });
});

// ---- property test ----------------------------------------------------------------------------

const ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"];
const BASE = Date.parse("2026-01-01T00:00:00Z");
const SPAN_MIN = 400 * 24 * 60;

const historyArb = fc
  .array(
    fc.record({
      minute: fc.integer({ min: 0, max: SPAN_MIN }),
      state: fc.constantFrom<SnapshotState>("Verified", "Verified", "Verified", "Pending", "Failed"),
      retentionDays: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    }),
    { maxLength: 60 },
  )
  .map((xs) =>
    xs.map((x, i): SnapshotRecord => ({
      id: `s${i}`,
      time: new Date(BASE + x.minute * 60_000),
      state: x.state,
      ...(x.retentionDays === undefined ? {} : { retentionDays: x.retentionDays }),
    })),
  );

const policyArb: fc.Arbitrary<Retention | undefined> = fc.option(
  fc
    .record(
      {
        maxCount: fc.integer({ min: 1, max: 20 }),
        maxAge: fc.constantFrom("90m", "72h", "30d", "2w", "1d12h", "400d"),
        keep: fc.record({ hourly: fc.integer({ min: 0, max: 30 }), daily: fc.integer({ min: 0, max: 14 }), weekly: fc.integer({ min: 0, max: 8 }), monthly: fc.integer({ min: 0, max: 12 }), yearly: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: [] }),
        minVerified: fc.integer({ min: 1, max: 5 }),
        failedHistoryLimit: fc.integer({ min: 0, max: 5 }),
      },
      { requiredKeys: [] },
    )
    // The CRD's rule: maxCount ≥ minVerified.
    .map((p) => (p.maxCount !== undefined && p.maxCount < (p.minVerified ?? 1) ? { ...p, maxCount: p.minVerified ?? 1 } : p)),
  { nil: undefined },
);

const newestFirst = (a: SnapshotRecord, b: SnapshotRecord): number => b.time.getTime() - a.time.getTime() || (a.id < b.id ? -1 : 1);

describe("planRetention: properties over random histories, outcomes and policies", () => {
  const args = fc.tuple(historyArb, policyArb, fc.constantFrom(...ZONES), fc.integer({ min: 0, max: SPAN_MIN + 60 * 24 * 30 }));
  const run = (h: SnapshotRecord[], p: Retention | undefined, tz: string, nowMin: number) => planRetention(h, p, new Date(BASE + nowMin * 60_000), tz);

  it("partitions the input: every snapshot is kept or deleted, never both", () => {
    fc.assert(
      fc.property(args, ([h, p, tz, now]) => {
        const plan = run(h, p, tz, now);
        const k = ids(plan.keep);
        const d = ids(plan.delete);
        expect(new Set([...k, ...d]).size).toBe(h.length);
        expect(k.length + d.length).toBe(h.length);
      }),
      { numRuns: 300 },
    );
  });

  it("the newest minVerified verified snapshots always survive", () => {
    fc.assert(
      fc.property(args, ([h, p, tz, now]) => {
        const kept = new Set(ids(run(h, p, tz, now).keep));
        const newest = h.filter((s) => s.state === "Verified").sort(newestFirst).slice(0, p?.minVerified ?? 1);
        for (const s of newest) expect(kept.has(s.id)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a snapshot still being verified is never deleted", () => {
    fc.assert(
      fc.property(args, ([h, p, tz, now]) => {
        const deleted = new Set(ids(run(h, p, tz, now).delete));
        for (const s of h) if (s.state === "Pending") expect(deleted.has(s.id)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("nothing is kept beyond what the policy asks: each kept snapshot is justified by a rule, checked independently", () => {
    fc.assert(
      fc.property(args, ([h, p, tz, nowMin]) => {
        const now = BASE + nowMin * 60_000;
        const plan = run(h, p, tz, nowMin);
        const byId = new Map(h.map((s) => [s.id, s]));
        const verified = h.filter((s) => s.state === "Verified").sort(newestFirst);
        const failed = h.filter((s) => s.state === "Failed").sort(newestFirst);
        const minVerified = new Set(verified.slice(0, p?.minVerified ?? 1).map((s) => s.id));
        const maxAge = p?.maxAge === undefined ? undefined : parseDuration(p.maxAge);
        // What keep and the age limit let stay, computed here without the planner.
        const selected = (s: SnapshotRecord): boolean => {
          const limit = s.retentionDays !== undefined ? s.retentionDays * 86_400_000 : maxAge;
          if (limit !== undefined && now - s.time.getTime() > limit) return false;
          if (!p?.keep) return true;
          return BUCKETS.some((b) => {
            const n = p.keep?.[b] ?? 0;
            const mine = bucketOf(b, s.time, tz);
            const newestInBucket = verified.find((v) => bucketOf(b, v.time, tz) === mine);
            const bucketsUpToMine = new Set(verified.filter((v) => v.time >= s.time).map((v) => bucketOf(b, v.time, tz))).size;
            return n > 0 && newestInBucket?.id === id(s) && bucketsUpToMine <= n;
          });
        };
        const id = (s: SnapshotRecord): string => s.id;
        let keptSelected = 0;
        for (const { id: kid, reasons } of plan.keep) {
          const s = byId.get(kid)!;
          expect(reasons.length).toBeGreaterThan(0);
          if (s.state === "Pending") continue;
          if (s.state === "Failed") {
            expect(failed.slice(0, p?.failedHistoryLimit ?? 1).map((f) => f.id)).toContain(kid);
            continue;
          }
          if (selected(s)) keptSelected++;
          // Not protected by minVerified: keep and the age limit must let it stay.
          else expect(minVerified.has(kid)).toBe(true);
        }
        // maxCount bounds what the rules keep (minVerified comes on top only where the rules dropped it).
        if (p?.maxCount !== undefined) expect(keptSelected).toBeLessThanOrEqual(p.maxCount);
        // And the converse: what is deleted had no rule to stay.
        for (const { id } of plan.delete) expect(minVerified.has(id)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("is deterministic: the same plan whatever the input order", () => {
    fc.assert(
      fc.property(args, fc.nat(), ([h, p, tz, now], seed) => {
        const shuffled = [...h].sort((a, b) => ((Number(a.id.slice(1)) * 2654435761 + seed) % 97) - ((Number(b.id.slice(1)) * 2654435761 + seed) % 97));
        expect(run(shuffled, p, tz, now)).toEqual(run(h, p, tz, now));
      }),
      { numRuns: 200 },
    );
  });
});
