// Differential test: our next-run times against robfig/cron v3.0.1 (Kubernetes CronJob's library),
// exactly, over named rows and a seeded random sample; and our catch-up decision against both the
// reference's own calendar and CronJob's mostRecentScheduleTime.
import { beforeAll, describe, expect, it } from "vitest";
import { mostRecentMissed, nextRun, validateSchedule } from "../../../../src/controllers/snapshotschedule/schedule.ts";
import { askReference, cronrefBinary, seeded, type MostRecentQuery, type NextQuery, type RefAnswer } from "./cronref.ts";

const N = 6;
const iso = (d: Date): string => d.toISOString().replace(".000Z", "Z");

function ours(q: NextQuery): RefAnswer {
  try {
    validateSchedule(q.spec);
  } catch (e) {
    return { error: (e as Error).message };
  }
  const next: string[] = [];
  let t = new Date(q.after);
  for (let i = 0; i < q.n; i++) {
    const n = nextRun(q.spec, q.tz, t);
    if (!n) break;
    next.push(iso(n));
    t = n;
  }
  return { next };
}

/** cronref omits an empty list. */
const norm = (a: RefAnswer): RefAnswer => (a.error === undefined ? { next: a.next ?? [] } : a);

// [row name, spec, zone, after]
const NAMED: [string, string, string, string][] = [
  ["Kolkata daily 02:00 (+05:30)", "0 2 * * *", "Asia/Kolkata", "2026-05-01T00:00:00Z"],
  ["Kolkata every 45 min", "*/45 * * * *", "Asia/Kolkata", "2026-05-01T23:10:00Z"],
  ["New York 02:30 on spring-forward day (gap)", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z"],
  ["New York 02:00 on spring-forward day (gap start)", "0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z"],
  ["New York 03:00 on spring-forward day", "0 3 * * *", "America/New_York", "2026-03-07T12:00:00Z"],
  ["New York every 15 min across the gap", "*/15 * * * *", "America/New_York", "2026-03-08T06:40:00Z"],
  ["New York hourly across the gap", "@hourly", "America/New_York", "2026-03-08T05:30:00Z"],
  ["New York 01:30 on fall-back day (overlap)", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z"],
  ["New York hourly across the overlap", "0 * * * *", "America/New_York", "2026-11-01T03:30:00Z"],
  ["New York every 20 min in hour 1 across the overlap", "*/20 1 * * *", "America/New_York", "2026-11-01T04:00:00Z"],
  ["New York 00:00 daily across fall-back", "@daily", "America/New_York", "2026-10-30T12:00:00Z"],
  ["New York 01:59 on fall-back day", "59 1 * * *", "America/New_York", "2026-11-01T05:58:30Z"],
  ["New York weekly Sunday 02:30 across spring-forward", "30 2 * * 0", "America/New_York", "2026-03-01T12:00:00Z"],
  ["London 01:30 on spring-forward day (gap)", "30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z"],
  ["London 01:30 on fall-back day (overlap)", "30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z"],
  ["London hourly across fall-back", "@hourly", "Europe/London", "2026-10-24T23:30:00Z"],
  ["London hourly across spring-forward", "@hourly", "Europe/London", "2026-03-28T23:30:00Z"],
  ["Lord Howe 02:15 on its 30-minute spring-forward (gap)", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z"],
  ["Lord Howe 01:45 on its 30-minute fall-back (overlap)", "45 1 * * *", "Australia/Lord_Howe", "2026-04-03T00:00:00Z"],
  ["Lord Howe every 10 min across fall-back", "*/10 1 * * *", "Australia/Lord_Howe", "2026-04-04T14:20:00Z"],
  ["Lord Howe every 10 min across spring-forward", "*/10 2 * * *", "Australia/Lord_Howe", "2026-10-03T15:20:00Z"],
  ["Lord Howe hourly across spring-forward", "@hourly", "Australia/Lord_Howe", "2026-10-03T13:00:00Z"],
  ["leap day from a common year", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z"],
  ["leap day in New York", "0 0 29 2 *", "America/New_York", "2027-06-01T00:00:00Z"],
  ["leap day beyond robfig's five-year horizon (2100 is not leap)", "0 0 29 2 *", "UTC", "2097-03-01T00:00:00Z"],
  ["31 February never runs", "0 0 31 2 *", "UTC", "2026-01-01T00:00:00Z"],
  ["@yearly in Kolkata", "@yearly", "Asia/Kolkata", "2026-06-01T00:00:00Z"],
  ["@annually", "@annually", "Europe/London", "2026-06-01T00:00:00Z"],
  ["@monthly in Lord Howe", "@monthly", "Australia/Lord_Howe", "2026-09-15T00:00:00Z"],
  ["@weekly in New York", "@weekly", "America/New_York", "2026-10-28T00:00:00Z"],
  ["@daily in London", "@daily", "Europe/London", "2026-03-27T00:00:00Z"],
  ["@midnight", "@midnight", "UTC", "2026-03-27T00:00:00Z"],
  ["13th or Friday (OR semantics)", "0 0 13 * 5", "UTC", "2026-01-01T00:00:00Z"],
  ["13th or Friday in New York", "0 0 13 * 5", "America/New_York", "2026-02-01T00:00:00Z"],
  ["day-of-month step with day-of-week (step drops the star)", "0 0 */2 * 5", "UTC", "2026-01-01T00:00:00Z"],
  ["day-of-month */1 with day-of-week (star kept)", "0 0 */1 * 5", "UTC", "2026-01-01T00:00:00Z"],
  ["? as day-of-month", "0 6 ? * MON", "Europe/London", "2026-01-01T00:00:00Z"],
  ["first Monday-ish: 1-7 or MON", "0 9 1-7 * MON", "UTC", "2026-01-01T00:00:00Z"],
  ["month names and weekday range", "30 4 * JAN,jul mon-fri", "Asia/Kolkata", "2026-01-01T00:00:00Z"],
  ["N/step means N-max/step", "5/20 3/7 * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["ranges with steps and lists", "0,15-45/10 8-18/2 1,15 */3 *", "Europe/London", "2026-01-01T00:00:00Z"],
  ["weekday range with step", "0 12 * * 1-5/2", "America/New_York", "2026-01-01T00:00:00Z"],
  ["empty list item is skipped", "0,,30 1 * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["after is mid-second", "* * * * *", "UTC", "2026-01-01T00:00:59.500Z"],
  ["after is exactly on a run", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z"],
  ["year wrap", "0 0 1 1 *", "Asia/Kolkata", "2026-12-31T20:00:00Z"],
  ["end-of-month days", "0 0 31 * *", "UTC", "2026-01-31T12:00:00Z"],
  ["Chatham +12:45 over its DST change", "0 3 * * *", "Pacific/Chatham", "2026-09-25T00:00:00Z"],
  ["Kathmandu +05:45", "15 0 * * *", "Asia/Kathmandu", "2026-01-01T00:00:00Z"],
  ["St Johns -03:30 spring-forward", "30 2 * * *", "America/St_Johns", "2026-03-07T00:00:00Z"],
  ["Santiago midnight DST (00:00 does not exist)", "0 0 * * *", "America/Santiago", "2026-09-04T00:00:00Z"],
  ["Santiago monthly over its midnight DST", "30 0 6 * *", "America/Santiago", "2026-08-20T00:00:00Z"],
  ["Havana midnight DST", "@daily", "America/Havana", "2026-03-06T00:00:00Z"],
  ["Beirut midnight DST", "0 0 * * *", "Asia/Beirut", "2026-03-27T00:00:00Z"],
  ["bad: 6 fields", "0 0 0 * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["bad: minute 60", "60 * * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["bad: reversed range", "0 5-2 * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["bad: zero step", "*/0 * * * *", "UTC", "2026-01-01T00:00:00Z"],
  ["bad: unknown macro", "@fortnightly", "UTC", "2026-01-01T00:00:00Z"],
  ["macro with a trailing space (robfig trims after TZ=)", "@daily ", "UTC", "2026-01-01T00:00:00Z"],
  ["macro with a leading space", " @daily", "UTC", "2026-01-01T00:00:00Z"],
  ["bad: blank", "   ", "UTC", "2026-01-01T00:00:00Z"],
  ["white space around and between fields", "  0  2\t* * *  ", "UTC", "2026-01-01T00:00:00Z"],
];

// Deliberate differences from robfig (docs/schedules.md): [row, spec, what robfig does, what we do].
const DIFFERENCES: [string, string, string, string | undefined][] = [
  ["day-of-week 7 is Sunday (admission allows 0-7, as Vixie cron)", "0 0 * * 7", "refuses", "2026-01-04T00:00:00Z"],
  ["day-of-week range ending in 7", "0 0 * * 5-7", "refuses", "2026-01-02T00:00:00Z"],
  ["@every is refused (not a calendar; admission refuses it too)", "@every 5m", "accepts", undefined],
];

const ZONES = [
  "UTC",
  "Asia/Kolkata",
  "America/New_York",
  "Europe/London",
  "Australia/Lord_Howe",
  "Europe/Amsterdam",
  "America/St_Johns",
  "Pacific/Chatham",
  "Asia/Kathmandu",
  "America/Santiago",
  "Australia/Adelaide",
  "America/Los_Angeles",
];
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
// DST instants of 2026 the random instants cluster around (half of them), so gaps and overlaps are hit.
const EDGES = ["2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z", "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", "2026-04-04T15:00:00Z", "2026-10-03T15:30:00Z"];

function randomSpecs(count: number, seed: number): NextQuery[] {
  const r = seeded(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const field = (lo: number, hi: number, names?: readonly string[], question = false): string => {
    const v = (): string => {
      const n = int(lo, hi);
      if (!names || r() >= 0.3) return String(n);
      const name = names[n - lo] as string;
      return r() < 0.5 ? name : name.toLowerCase();
    };
    const atom = (): string => {
      switch (int(0, 5)) {
        case 0:
          return "*";
        case 1:
          return v();
        case 2: {
          const a = int(lo, hi);
          const b = int(a, hi);
          return `${a}-${b}`;
        }
        case 3:
          return `*/${int(1, Math.max(2, Math.floor((hi - lo) / 2)))}`;
        case 4: {
          const a = int(lo, hi);
          return `${a}-${int(a, hi)}/${int(1, 5)}`;
        }
        default:
          return `${int(lo, hi)}/${int(1, 9)}`;
      }
    };
    if (r() < 0.35) return question && r() < 0.2 ? "?" : "*";
    return Array.from({ length: r() < 0.25 ? int(2, 3) : 1 }, atom).join(",");
  };
  const out: NextQuery[] = [];
  for (let i = 0; i < count; i++) {
    const spec =
      r() < 0.1
        ? pick(["@yearly", "@monthly", "@weekly", "@daily", "@hourly"])
        : [field(0, 59), field(0, 23), field(1, 31, undefined, true), field(1, 12, MONTHS), field(0, 6, DAYS, true)].join(" ");
    const base = r() < 0.5 ? Date.parse(pick(EDGES)) - int(0, 36) * 3_600_000 : Date.UTC(2026, 0, 1) + Math.floor(r() * 3 * 365 * 86_400_000);
    out.push({ spec, tz: pick(ZONES), after: iso(new Date(Math.floor(base / 1000) * 1000)), n: N });
  }
  return out;
}

// A deeper sweep: AKSNAP_CRONREF_SAMPLES=20000 AKSNAP_CRONREF_SEED=1 (the default keeps the unit run fast).
const RANDOM = randomSpecs(Number(process.env.AKSNAP_CRONREF_SAMPLES ?? 400), Number(process.env.AKSNAP_CRONREF_SEED ?? 20261128));

let bin = "";
let named: RefAnswer[] = [];
let random: RefAnswer[] = [];
let diffs: RefAnswer[] = [];
beforeAll(() => {
  bin = cronrefBinary();
  named = askReference(
    bin,
    NAMED.map(([, spec, tz, after]) => ({ spec, tz, after, n: N })),
  );
  random = askReference(bin, RANDOM);
  diffs = askReference(
    bin,
    DIFFERENCES.map(([, spec]) => ({ spec, tz: "UTC", after: "2026-01-01T00:00:00Z", n: 1 })),
  );
}, 600_000); // a cold machine downloads robfig/cron and builds the reference first

describe("next run times equal robfig/cron v3.0.1 (CronJob) exactly", () => {
  it.each(NAMED.map((row, i) => [row[0], i] as const))("%s", (_name, i) => {
    const [, spec, tz, after] = NAMED[i]!;
    const ref = named[i]!;
    const got = ours({ spec, tz, after, n: N });
    if (ref.error !== undefined) expect(got.error, `robfig refuses: ${ref.error}`).toBeDefined();
    else expect(got).toEqual(norm(ref));
  });

  it.each(DIFFERENCES.map((row, i) => [row[0], i] as const))("deliberate difference: %s", (_name, i) => {
    const [, spec, robfig, first] = DIFFERENCES[i]!;
    const ref = diffs[i]!;
    expect(ref.error === undefined ? "accepts" : "refuses").toBe(robfig);
    const got = ours({ spec, tz: "UTC", after: "2026-01-01T00:00:00Z", n: 1 });
    expect(got.next?.[0]).toBe(first);
  });

  it(`${RANDOM.length} seeded random (spec, zone, instant) triples, ${N} runs each`, () => {
    const mismatches = RANDOM.flatMap((q, i) => {
      const ref = random[i]!;
      const got = ours(q);
      const same = ref.error !== undefined ? got.error !== undefined : JSON.stringify(got) === JSON.stringify(norm(ref));
      return same ? [] : [{ q, ref, got }];
    });
    expect(mismatches).toEqual([]);
    // The sample must actually exercise something: most specs parse and run.
    expect(random.filter((a) => (a.next?.length ?? 0) > 0).length).toBeGreaterThan(RANDOM.length * 0.8);
  }, 120_000);
});

describe("catch-up decision against the reference", () => {
  // [name, spec, zone, lastScheduled, now, deadline?]
  const ROWS: [string, string, string, string, string, number?][] = [
    ["nothing due yet", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T01:59:00Z"],
    ["one due", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T02:00:30Z"],
    ["three days down", "0 2 * * *", "Europe/London", "2026-01-01T02:00:00Z", "2026-01-04T09:00:00Z"],
    ["deadline passed", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T02:10:00Z", 300],
    ["deadline not passed", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T02:04:00Z", 300],
    ["deadline exactly now - due (open end: not run)", "0 2 * * *", "UTC", "2026-01-01T02:00:00Z", "2026-01-02T02:05:00Z", 300],
    ["uneven intervals fool CronJob's estimate", "0 0,1 * * *", "UTC", "2026-01-01T01:00:00Z", "2026-01-04T12:00:00Z"],
    ["DST overlap fools CronJob's estimate", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-05T12:00:00Z"],
    ["over a hundred missed", "*/5 * * * *", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:02:00Z"],
    ["weekdays across a weekend", "30 6-16/4 * * 1-5", "America/New_York", "2026-01-02T21:30:00Z", "2026-01-05T12:00:00Z"],
    ["yearly, two years down", "@yearly", "Asia/Kolkata", "2025-12-31T18:30:00Z", "2028-02-01T00:00:00Z"],
  ];
  const sample = randomSpecs(150, 7).map((q, i): MostRecentQuery => {
    const span = [600_000, 7_200_000, 86_400_000 * 2, 86_400_000 * 40][i % 4]!;
    return { spec: q.spec, tz: q.tz, after: q.after, now: iso(new Date(Date.parse(q.after) + span)), ...(i % 3 === 0 ? { deadline: 900 } : {}) };
  });
  const all: MostRecentQuery[] = [
    ...ROWS.map(([, spec, tz, after, now, deadline]) => ({ spec, tz, after, now, ...(deadline === undefined ? {} : { deadline }) })),
    ...sample,
  ];

  it(`${all.length} cases: the due run equals robfig's calendar; CronJob agrees wherever its estimate finds one`, () => {
    // Truth from the reference itself: robfig's activations in (after, now], up to 500; when there are
    // more, our due run is checked to be one robfig activation whose successor is after now.
    const truth = askReference(
      bin,
      all.map((q) => ({ spec: q.spec, tz: q.tz, after: q.after, n: 500 })),
    );
    const got = all.map((q) => mostRecentMissed(q.spec, q.tz, new Date(q.after), new Date(q.now), q.deadline));
    const around = askReference(
      bin,
      all.map((q, i) => ({ spec: q.spec, tz: q.tz, after: got[i]!.due ? iso(new Date(got[i]!.due.getTime() - 1000)) : q.after, n: 2 })),
    );
    const kube = askReference(bin, all);
    const disagreeWithKube: string[] = [];
    const wrong = all.flatMap((q, i): unknown[] => {
      if (truth[i]!.error !== undefined) return [];
      const g = got[i]!;
      const gotPlain = { due: g.due ? iso(g.due) : undefined, missed: g.missed };
      const listed = truth[i]!.next ?? [];
      const complete = listed.length < 500 || listed.at(-1)! > q.now;
      const times = listed.filter((t) => t <= q.now);
      let want: { due: string | undefined; missed: number };
      if (complete) {
        const latest = times.at(-1);
        const inTime = latest !== undefined && (q.deadline === undefined || Date.parse(latest) > Date.parse(q.now) - q.deadline * 1000);
        want = { due: inTime ? latest : undefined, missed: Math.min(times.length - (inTime ? 1 : 0), 100) };
      } else {
        const [at, after] = around[i]!.next ?? [];
        const isLatest = g.due !== undefined && at === gotPlain.due && (after === undefined || after > q.now);
        const tooLate = g.due === undefined && q.deadline !== undefined;
        want = { due: isLatest ? gotPlain.due : tooLate ? undefined : "a robfig activation whose successor is after now", missed: 100 };
      }
      const k = kube[i]!;
      if (k.due !== undefined && k.due !== want.due) return [{ q, why: "CronJob found a different due run", k, want }];
      if (k.due === undefined && want.due !== undefined) disagreeWithKube.push(`${q.spec} @ ${q.tz} ${q.after}..${q.now}`);
      return JSON.stringify(gotPlain) === JSON.stringify(want) ? [] : [{ q, got: gotPlain, want }];
    });
    expect(wrong).toEqual([]);
    // Where CronJob's interval estimate overshoots it starts nothing; the named rows hold two such cases.
    expect(disagreeWithKube).toContain("0 0,1 * * * @ UTC 2026-01-01T01:00:00Z..2026-01-04T12:00:00Z");
    expect(disagreeWithKube).toContain("30 1 * * * @ America/New_York 2026-10-31T12:00:00Z..2026-11-05T12:00:00Z");
    console.log(`catch-up: ${all.length} cases, CronJob's estimate missed the due run in ${disagreeWithKube.length}:`, disagreeWithKube);
  }, 120_000);
});
