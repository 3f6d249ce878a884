// Wall-clock arithmetic in an IANA time zone, with Go's time package semantics (what robfig/cron and
// so Kubernetes CronJob run on). The zone rules come from the platform's tz database (Intl/ICU).

export interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when the platform knows the zone (the CRD's regex only checks the shape of the name). */
export function isKnownZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall clock in tz at instant ms, read from Intl (slow: a few µs). */
function intlWallAt(ms: number, tz: string): Wall {
  const w: Wall = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type === "weekday") w.weekday = WEEKDAYS[p.value] ?? 0;
    else if (p.type === "year" || p.type === "month" || p.type === "day" || p.type === "hour" || p.type === "minute" || p.type === "second") {
      w[p.type] = Number(p.value);
    }
  }
  return w;
}

const wallAsUtc = (w: Pick<Wall, "year" | "month" | "day" | "hour" | "minute" | "second">): number =>
  Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

const intlOffsetAt = (s: number, tz: string): number => wallAsUtc(intlWallAt(s, tz)) - s;

// Offsets per (zone, UTC hour): when the offset is the same at both ends of the hour there is no
// transition inside it (tzdb has no two transitions within an hour that cancel out), so every
// instant of that hour has it. Cron walks step by minutes and hours over the same few hours for
// every schedule in a zone; this turns most Intl calls into arithmetic. Bounded.
const BLOCK = 3_600_000;
const MAX_CACHED = 100_000;
const offsetCache = new Map<string, number | null>();

/** UTC offset (ms) of tz at instant ms. */
export function offsetAt(ms: number, tz: string): number {
  const s = Math.floor(ms / 1000) * 1000;
  const block = Math.floor(s / BLOCK);
  const key = `${tz}|${block}`;
  let o = offsetCache.get(key);
  if (o === undefined) {
    const a = intlOffsetAt(block * BLOCK, tz);
    o = a === intlOffsetAt(block * BLOCK + BLOCK - 1000, tz) ? a : null;
    if (offsetCache.size >= MAX_CACHED) offsetCache.clear();
    offsetCache.set(key, o);
  }
  return o ?? intlOffsetAt(s, tz);
}

/** The wall clock in tz at instant ms (whole seconds). */
export function wallAt(ms: number, tz: string): Wall {
  const s = Math.floor(ms / 1000) * 1000;
  const d = new Date(s + offsetAt(s, tz));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/**
 * Go's time.Date(y, mo, d, h, mi, s, 0, loc): out-of-range fields normalise (month 13, day 32), and a
 * wall time in a DST gap or overlap resolves exactly as Go resolves it (look up the offset at the
 * wall time read as UTC; if that offset does not hold at the result, use the offset that does).
 * So a gap time moves by the DST shift and an overlap picks one of the two instants — robfig's
 * DST behaviour follows from this, and we must reproduce it bit for bit.
 */
export function goDate(year: number, month: number, day: number, hour: number, minute: number, second: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const off1 = offsetAt(wall, tz);
  if (off1 === 0) return wall;
  const utc = wall - off1;
  const off2 = offsetAt(utc, tz);
  return off2 === off1 ? utc : wall - off2;
}
