// A 5-field cron expression with the semantics of github.com/robfig/cron/v3 v3.0.1, the library
// Kubernetes CronJob uses (ParseStandard + SpecSchedule.Next). Ported rather than taken from an npm
// cron library because both candidates measured (cron-parser 5.10, croner 11) differ from robfig in
// DST: they shift a run that falls in a spring-forward gap instead of skipping it, and run once in a
// fall-back overlap where robfig runs twice. The differential test (test/unit/controllers/
// snapshotschedule/schedule.reference.test.ts) holds this port to the real robfig binary.
import { goDate, wallAt, type Wall } from "./zone.ts";

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAY_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: MONTH_NAMES };
// robfig stops at 6; we also take 7 as Sunday (our admission regex allows it, as Vixie cron does).
// Deliberate difference, documented in docs/schedules.md.
const DOW: Bounds = { min: 0, max: 7, names: DAY_NAMES };

/** One field: the allowed values, and robfig's "star bit" (field was `*` or `?` without a step > 1). */
export interface Field {
  values: ReadonlySet<number>;
  star: boolean;
}

export interface CronSpec {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

export class CronSyntaxError extends Error {}

function parseIntOrName(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  // Go's strconv.Atoi: optional sign, decimal digits.
  if (!/^[+-]?[0-9]+$/.test(s)) throw new CronSyntaxError(`failed to parse int from ${s}`);
  const n = Number(s);
  if (n < 0) throw new CronSyntaxError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function parseRange(expr: string, b: Bounds, into: Set<number>): boolean {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const low = lowAndHigh[0] ?? "";
  let start: number;
  let end: number;
  let star = false;
  if (low === "*" || low === "?") {
    [start, end, star] = [b.min, b.max === 7 ? 6 : b.max, true];
  } else {
    start = parseIntOrName(low, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] ?? "", b);
    else throw new CronSyntaxError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseIntOrName(rangeAndStep[1] ?? "", { min: 0, max: 0 });
    // robfig: "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = b.max === 7 ? 6 : b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronSyntaxError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronSyntaxError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronSyntaxError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronSyntaxError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronSyntaxError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.add(b.max === 7 && v === 7 ? 0 : v);
  return star;
}

function parseField(field: string, b: Bounds): Field {
  const values = new Set<number>();
  let star = false;
  // Go's strings.FieldsFunc: empty list items are skipped, as robfig does.
  for (const part of field.split(",").filter((p) => p !== "")) star = parseRange(part, b, values) || star;
  return { values, star };
}

const every = (b: Bounds): Field => parseField("*", b);
const only = (v: number): Field => ({ values: new Set([v]), star: false });

const MACROS: Record<string, () => CronSpec> = {
  "@yearly": () => ({ minute: only(0), hour: only(0), dom: only(1), month: only(1), dow: every(DOW) }),
  "@annually": () => MACROS["@yearly"]!(),
  "@monthly": () => ({ minute: only(0), hour: only(0), dom: only(1), month: every(MONTHS), dow: every(DOW) }),
  "@weekly": () => ({ minute: only(0), hour: only(0), dom: every(DOM), month: every(MONTHS), dow: only(0) }),
  "@daily": () => ({ minute: only(0), hour: only(0), dom: every(DOM), month: every(MONTHS), dow: every(DOW) }),
  "@midnight": () => MACROS["@daily"]!(),
  "@hourly": () => ({ minute: only(0), hour: every(HOURS), dom: every(DOM), month: every(MONTHS), dow: every(DOW) }),
};

/** robfig's ParseStandard for the forms our API admits (no seconds field, no TZ= prefix, no @every). */
export function parseCron(spec: string): CronSpec {
  // CronJob hands robfig "TZ=<zone> <schedule>", and robfig trims what follows the zone.
  const s = spec.trim();
  if (s === "") throw new CronSyntaxError("empty spec string");
  if (s.startsWith("@")) {
    const m = MACROS[s];
    if (!m) throw new CronSyntaxError(`unrecognized descriptor: ${s}`);
    return m();
  }
  const f = s.split(/\s+/);
  if (f.length !== 5) throw new CronSyntaxError(`expected exactly 5 fields, found ${f.length}: ${s}`);
  const [minute, hour, dom, month, dow] = f as [string, string, string, string, string];
  return { minute: parseField(minute, MINUTES), hour: parseField(hour, HOURS), dom: parseField(dom, DOM), month: parseField(month, MONTHS), dow: parseField(dow, DOW) };
}

// robfig: when either day field is unrestricted both must match; when both are restricted, either
// may (Vixie cron's OR: "0 0 13 * 5" runs on every 13th and every Friday).
function dayMatches(s: CronSpec, w: Wall): boolean {
  const domMatch = s.dom.values.has(w.day);
  const dowMatch = s.dow.values.has(w.weekday);
  return s.dom.star || s.dow.star ? domMatch && dowMatch : domMatch || dowMatch;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The first activation strictly after `after`, or undefined when there is none within five years
 * (robfig's limit; e.g. "0 0 30 2 *"). A line-by-line port of SpecSchedule.Next (seconds field = 0):
 * each step is either a wall-clock reset through Go's time.Date or an absolute Add, and that mix is
 * what makes robfig skip gap times and repeat overlap hours.
 */
export function nextAfter(s: CronSpec, tz: string, after: number): number | undefined {
  // The upcoming whole second.
  let t = Math.floor(after / SECOND) * SECOND + SECOND;
  let added = false;
  const yearLimit = wallAt(t, tz).year + 5;
  const addDate = (ms: number, months: number, days: number): number => {
    const w = wallAt(ms, tz);
    return goDate(w.year, w.month + months, w.day + days, w.hour, w.minute, w.second, tz);
  };

  wrap: for (;;) {
    let w = wallAt(t, tz);
    if (w.year > yearLimit) return undefined;

    while (!s.month.values.has(w.month)) {
      if (!added) {
        added = true;
        t = goDate(w.year, w.month, 1, 0, 0, 0, tz);
      }
      t = addDate(t, 1, 0);
      w = wallAt(t, tz);
      if (w.month === 1) continue wrap;
    }

    while (!dayMatches(s, w)) {
      if (!added) {
        added = true;
        t = goDate(w.year, w.month, w.day, 0, 0, 0, tz);
      }
      t = addDate(t, 0, 1);
      w = wallAt(t, tz);
      // robfig: midnight may not exist (DST at 00:00); pull the hour back to 0 or on to the next day.
      if (w.hour !== 0) {
        t += w.hour > 12 ? (24 - w.hour) * HOUR : -w.hour * HOUR;
        w = wallAt(t, tz);
      }
      if (w.day === 1) continue wrap;
    }

    while (!s.hour.values.has(w.hour)) {
      if (!added) {
        added = true;
        t = goDate(w.year, w.month, w.day, w.hour, 0, 0, tz);
      }
      t += HOUR;
      w = wallAt(t, tz);
      if (w.hour === 0) continue wrap;
    }

    while (!s.minute.values.has(w.minute)) {
      if (!added) {
        added = true;
        t = Math.floor(t / MINUTE) * MINUTE;
      }
      t += MINUTE;
      w = wallAt(t, tz);
      if (w.minute === 0) continue wrap;
    }

    // robfig steps a second at a time to the next whole minute (zone offsets are whole minutes,
    // so the wall second is the UTC second); one jump is the same walk.
    if (w.second !== 0) {
      added = true;
      t = Math.floor(t / MINUTE) * MINUTE + MINUTE;
      continue wrap;
    }
    return t;
  }
}
