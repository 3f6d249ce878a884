// When a SnapshotSchedule runs: next times, missed runs and the catch-up run, concurrency, on-demand
// requests and suspend. Pure: the caller passes `now` and turns the returned Dates into timers
// (clamped to what setTimeout can hold; a yearly schedule is further away than 2^31 ms).
import { nextAfter, parseCron, type CronSpec } from "./cron.ts";

export { CronSyntaxError } from "./cron.ts";

const parsed = new Map<string, CronSpec>();

function specOf(schedule: string): CronSpec {
  let s = parsed.get(schedule);
  if (!s) {
    s = parseCron(schedule);
    if (parsed.size > 1000) parsed.clear(); // bounded: schedules come from user objects
    parsed.set(schedule, s);
  }
  return s;
}

/** Throws CronSyntaxError with robfig's message when the schedule does not parse. */
export function validateSchedule(schedule: string): void {
  specOf(schedule);
}

/** The first run strictly after `after`; undefined when none within five years (robfig's limit). */
export function nextRun(schedule: string, tz: string, after: Date): Date | undefined {
  const t = nextAfter(specOf(schedule), tz, after.getTime());
  return t === undefined ? undefined : new Date(t);
}

/** Runs in (from, to], at most `limit` of them; `truncated` when more exist. */
export function runsBetween(schedule: string, tz: string, from: Date, to: Date, limit: number): { runs: Date[]; truncated: boolean } {
  const runs: Date[] = [];
  for (let t = nextRun(schedule, tz, from); t && t <= to; t = nextRun(schedule, tz, t)) {
    if (runs.length === limit) return { runs, truncated: true };
    runs.push(t);
  }
  return { runs, truncated: false };
}

/** Like CronJob: beyond this many missed times we stop counting and say so. */
export const MAX_COUNTED_MISSES = 100;

export interface MissedRuns {
  /** The one catch-up run to start now: the most recent scheduled time ≤ now, if still within the deadline. */
  due?: Date;
  /** Scheduled times in (lastScheduled, now] that will never run (the due one excluded). */
  missed: number;
  /** More than MAX_COUNTED_MISSES were missed; `missed` is then that lower bound. */
  tooMany: boolean;
}

/** The latest run ≤ now that is after `floor`, found by widening a window backwards from now. */
function latestAtOrBefore(schedule: string, tz: string, floor: Date, now: Date): Date | undefined {
  // Most reconciles find nothing due; one step answers that without widening a window.
  const first = nextRun(schedule, tz, floor);
  if (!first || first > now) return undefined;
  let span = 60_000;
  for (;;) {
    const from = new Date(Math.max(floor.getTime(), now.getTime() - span));
    let latest: Date | undefined;
    for (let t = nextRun(schedule, tz, from); t && t <= now; t = nextRun(schedule, tz, t)) latest = t;
    if (latest || from.getTime() === floor.getTime()) return latest;
    span *= 4;
  }
}

/**
 * CronJob's getMostRecentScheduleTime, exact: one catch-up run (the most recent scheduled time ≤ now)
 * and a count of the rest. `lastScheduled` is status.lastScheduleTime, or the creation time for a
 * schedule that never ran. A due time older than startingDeadlineSeconds is not run but counted.
 * CronJob estimates both from the first interval and can miss the due run when intervals are uneven
 * (see docs/schedules.md); this walks the calendar instead.
 */
export function mostRecentMissed(schedule: string, tz: string, lastScheduled: Date, now: Date, startingDeadlineSeconds?: number): MissedRuns {
  const latest = latestAtOrBefore(schedule, tz, lastScheduled, now);
  if (!latest) return { missed: 0, tooMany: false };
  // CronJob never starts a run at or before now - deadline (its window is open at that end).
  const inTime = startingDeadlineSeconds === undefined || latest.getTime() > now.getTime() - startingDeadlineSeconds * 1000;
  const { runs, truncated } = runsBetween(schedule, tz, lastScheduled, now, MAX_COUNTED_MISSES + 1);
  const tooMany = truncated || runs.length > MAX_COUNTED_MISSES;
  const counted = tooMany ? MAX_COUNTED_MISSES : runs.length - (inTime ? 1 : 0);
  return { ...(inTime ? { due: latest } : {}), missed: counted, tooMany };
}

export type ConcurrencyPolicy = "Forbid" | "Allow";

/** Forbid: a new run waits out the active one (the scheduled time counts as missed). Allow: start. */
export function mayStart(policy: ConcurrencyPolicy | undefined, activeRuns: number): boolean {
  return (policy ?? "Forbid") === "Allow" || activeRuns === 0;
}

/** The on-demand token to act on: the annotation's value when set and not yet echoed in status. */
export function pendingRunRequest(annotation: string | undefined, lastHandled: string | undefined): string | undefined {
  const token = annotation?.trim();
  return token && token !== lastHandled ? token : undefined;
}

export interface ScheduleInput {
  schedule?: string;
  timeZone?: string;
  suspend?: boolean;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: ConcurrencyPolicy;
  /** status.lastScheduleTime, else metadata.creationTimestamp. */
  lastScheduled: Date;
  activeRuns: number;
  runRequestedAt?: string;
  lastHandledRunRequest?: string;
  now: Date;
}

export type RunTrigger = { kind: "Scheduled"; scheduledTime: Date } | { kind: "OnDemand"; scheduledTime: Date; token: string };

export interface ScheduleDecision {
  /** Runs to start now (at most one scheduled and one on-demand; the caller dedupes by run id). */
  start: RunTrigger[];
  /** Add to status.missedRuns. */
  missed: number;
  tooManyMissed: boolean;
  /** status.lastScheduleTime after this decision (moves past every handled or missed time). */
  lastScheduled: Date;
  /** The token to write to status.lastHandledRunRequest, when one was handled now. */
  handledRunRequest?: string;
  /** When to look again for the next scheduled run; undefined for on-demand-only or suspended schedules. */
  next?: Date;
  /** Why a due scheduled run was not started. */
  skipped?: "Suspended" | "ConcurrencyForbid" | "MissedStartingDeadline";
}

/**
 * One decision per reconcile. Suspended schedules and schedules without `schedule` run only on
 * demand. Deliberate differences from CronJob (docs/schedules.md): a suspended schedule's passed
 * times are skipped, not caught up on resume; Forbid skips a due run (counted as missed) instead of
 * starting it late when the active run ends. An on-demand request is not held back by Forbid: a
 * person asked for it.
 */
export function decide(input: ScheduleInput): ScheduleDecision {
  const tz = input.timeZone ?? "UTC";
  const start: RunTrigger[] = [];
  const token = pendingRunRequest(input.runRequestedAt, input.lastHandledRunRequest);
  if (token) start.push({ kind: "OnDemand", scheduledTime: input.now, token });
  const base = { start, missed: 0, tooManyMissed: false, lastScheduled: input.lastScheduled, ...(token ? { handledRunRequest: token } : {}) };
  if (input.schedule === undefined) return base;
  if (input.suspend) {
    const due = latestAtOrBefore(input.schedule, tz, input.lastScheduled, input.now);
    return { ...base, ...(due ? { lastScheduled: due, skipped: "Suspended" as const } : {}) };
  }
  const m = mostRecentMissed(input.schedule, tz, input.lastScheduled, input.now, input.startingDeadlineSeconds);
  const next = nextRun(input.schedule, tz, input.now);
  const latest = m.due ?? latestAtOrBefore(input.schedule, tz, input.lastScheduled, input.now);
  const out: ScheduleDecision = {
    ...base,
    missed: m.missed,
    tooManyMissed: m.tooMany,
    lastScheduled: latest ?? input.lastScheduled,
    ...(next ? { next } : {}),
  };
  if (latest && !m.due) return { ...out, skipped: "MissedStartingDeadline" };
  if (!m.due) return out;
  if (!mayStart(input.concurrencyPolicy, input.activeRuns)) return { ...out, missed: out.missed + 1, skipped: "ConcurrencyForbid" };
  start.unshift({ kind: "Scheduled", scheduledTime: m.due });
  return out;
}
