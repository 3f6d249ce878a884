// Value shapes the API defines and the apiserver checks with regexes (kube's CEL has no cron or
// duration library): cron expressions, IANA time-zone names, retention durations, run ids.
// The operator still parses them for real (cron math, tz database); these reject typos at admission.

const names = (xs: readonly string[]) => [...xs, ...xs.map((x) => x.toLowerCase())].join("|");
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** A cron field: `*`, values, ranges, steps and lists (as robfig/cron and CronJob accept them). */
function cronField(value: string, extra?: string): string {
  const atom = `(\\*|${value}(-${value})?)(/[0-9]{1,2})?`;
  const item = extra === undefined ? atom : `(${atom}|${extra})`;
  return `${item}(,${item})*`;
}

export const CRON_MACROS = ["@hourly", "@daily", "@weekly", "@monthly", "@yearly"] as const;

/** 5-field cron (minute hour day-of-month month day-of-week) or one of CRON_MACROS. */
export const CRON_REGEX =
  "^(@(hourly|daily|weekly|monthly|yearly)|" +
  [
    cronField("[0-5]?[0-9]"),
    cronField("(2[0-3]|[01]?[0-9])"),
    cronField("(3[01]|[12][0-9]|0?[1-9])", "\\?"),
    cronField(`(1[0-2]|0?[1-9]|${names(MONTHS)})`),
    cronField(`([0-7]|${names(DAYS)})`, "\\?"),
  ].join("[ \\t]+") +
  ")$";

/**
 * IANA zone names: `UTC`, `Europe/Amsterdam`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`.
 * Windows names ("W. Europe Standard Time") do not match; `Local` is refused separately.
 */
export const TIME_ZONE_REGEX = "^[A-Za-z][A-Za-z0-9_+-]{0,31}(/[A-Za-z0-9_+-]{1,32}){0,2}$";

/** Retention ages: one or more `<n><unit>` with units m, h, d, w: `90m`, `72h`, `30d`, `1d12h`. */
export const DURATION_REGEX = "^([0-9]{1,6}[mhdw]){1,4}$";
export const ZERO_DURATION_REGEX = "^(0+[mhdw])+$";

/** A run id is the scheduled time in UTC, `YYYYMMDDHHmm`; restores also accept `latest`. */
export const RUN_ID_REGEX = "^[0-9]{12}$";
export const RUN_REF_REGEX = "^(latest|[0-9]{12})$";

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds in a retention duration (`30d`, `1d12h`); undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  if (!new RegExp(DURATION_REGEX).test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/([0-9]+)([mhdw])/g)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
}

/** The run id for a scheduled time: its UTC `YYYYMMDDHHmm`. */
export function runId(scheduledTime: Date): string {
  return scheduledTime.toISOString().slice(0, 16).replace(/[-T:]/g, "");
}
