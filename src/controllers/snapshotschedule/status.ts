// Pure status decisions of the SnapshotSchedule reconciler: which runs start now (one id per
// minute: a scheduled and an on-demand run in the same minute are one run), the bookkeeping fields
// after a schedule decision, the Ready summary and the requeue delay. No I/O, no clock.
import type { Readiness } from "../../conditions/conditions.ts";
import { rfc3339 } from "../../conditions/conditions.ts";
import type { RunStatus, SnapshotScheduleStatus } from "../../crds/snapshotschedule.ts";
import { Reasons } from "./reasons.ts";
import { runId, runTime } from "./runs.ts";
import type { ScheduleDecision } from "./schedule.ts";

export interface ActiveRun {
  id: string;
  scheduledTime: string;
}

/** Status without the frame's fields (observedGeneration, conditions). */
export type Fields = Omit<SnapshotScheduleStatus, "observedGeneration" | "conditions">;

/** The kind-specific fields of a status as it is. */
export function fieldsOf(st: SnapshotScheduleStatus | undefined): Fields {
  const { observedGeneration: _g, conditions: _c, ...rest } = st ?? {};
  return rest;
}

/**
 * The runs a decision starts, deduplicated by run id against each other, the active runs and the
 * last run: ids are minutes, so an on-demand request in the minute of a scheduled run (or of
 * another request) joins that run instead of making a second set of children.
 */
export function newRuns(d: ScheduleDecision, active: readonly ActiveRun[], lastRun: Pick<RunStatus, "id"> | undefined): ActiveRun[] {
  const seen = new Set<string>([...active.map((r) => r.id), ...(lastRun ? [lastRun.id] : [])]);
  const out: ActiveRun[] = [];
  for (const t of d.start) {
    const id = runId(t.scheduledTime);
    if (seen.has(id)) continue;
    seen.add(id);
    // An on-demand run's time is its minute, so the id and the time say the same thing.
    out.push({ id, scheduledTime: rfc3339(t.kind === "OnDemand" ? (runTime(id) ?? t.scheduledTime) : t.scheduledTime) });
  }
  return out;
}

/** The bookkeeping fields after a decision: lastScheduleTime, nextScheduleTime, missedRuns, lastHandledRunRequest. */
export function afterDecision(prev: Fields, d: ScheduleDecision, lastScheduledBefore: Date): Fields {
  const moved = d.lastScheduled.getTime() !== lastScheduledBefore.getTime();
  const { nextScheduleTime: _n, ...rest } = prev;
  const missed = (prev.missedRuns ?? 0) + d.missed;
  return {
    ...rest,
    ...(moved ? { lastScheduleTime: rfc3339(d.lastScheduled) } : {}),
    ...(d.next ? { nextScheduleTime: rfc3339(d.next) } : {}),
    ...(missed > 0 ? { missedRuns: missed } : {}),
    ...(d.handledRunRequest !== undefined ? { lastHandledRunRequest: d.handledRunRequest } : {}),
  };
}

export interface ReadinessInput {
  activeRuns: readonly ActiveRun[];
  lastRun: RunStatus | undefined;
  /** The schedule has a cron expression and is not suspended. */
  scheduled: boolean;
  next: Date | undefined;
}

/** Ready when the last run succeeded and the next is scheduled (or the schedule runs on demand only). */
export function scheduleReadiness(i: ReadinessInput): Readiness {
  const last = i.lastRun;
  if (i.activeRuns.length > 0) {
    const ids = i.activeRuns.map((r) => r.id).join(", ");
    const progress = last && i.activeRuns.some((r) => r.id === last.id) ? ` (run ${last.id}: ${last.verified}/${last.targets} verified)` : "";
    return { state: "progressing", reason: Reasons.RunInProgress, message: `run ${ids} in progress${progress}` };
  }
  if (i.scheduled && !i.next) return { state: "stalled", reason: Reasons.NoNextRun, message: "spec.schedule has no run in the next five years" };
  const next = i.next ? `next run at ${rfc3339(i.next)}` : i.scheduled ? "" : "runs on demand only";
  if (!last) return { state: "notReady", reason: Reasons.WaitingForFirstRun, message: `no run yet; ${next}` };
  if (last.phase === "Succeeded") {
    return { state: "ready", reason: Reasons.LastRunSucceeded, message: `run ${last.id} succeeded (${last.verified}/${last.targets} verified); ${next}` };
  }
  const firstFailed = last.results?.find((r) => r.phase === "Failed");
  const why = firstFailed ? `: ${firstFailed.kind} ${firstFailed.name || firstFailed.target}: ${firstFailed.message ?? ""}` : "";
  return { state: "notReady", reason: Reasons.LastRunFailed, message: `run ${last.id} failed (${last.failed}/${last.targets} failed${why}); ${next}` };
}

/**
 * How long until the next look: the poll interval while a run is active; else until just after the
 * next scheduled time, never longer than `maxMs` (the timer is recomputed, never one long sleep —
 * a monthly or yearly schedule is further away than a timer can hold); undefined for nothing to wait for.
 */
/** What a reconcile learned about how soon its active runs need looking at again. */
export interface Pace {
  /** Pending disk children whose read or create was throttled: the wait ARM or our write budget asked for. */
  throttledForMs: number[];
  /** Some pending child needs the normal poll (copying, provisioning, a Kubernetes child). */
  otherPending: boolean;
}

/**
 * The poll interval for active runs: the normal one, unless every pending child waits on a throttle;
 * then no sooner than the shortest of those waits. (Polling a run whose creates wait 80 s for the
 * write budget every 5 s re-read the disks and snapshots each time: 16 ARM calls per snapshot.)
 */
export function pollDelay(pollMs: number, pace: Pace): number {
  if (pace.otherPending || pace.throttledForMs.length === 0) return pollMs;
  return Math.max(pollMs, Math.min(...pace.throttledForMs));
}

export function requeueDelay(active: number, next: Date | undefined, now: Date, pollMs: number, maxMs: number): number | undefined {
  if (active > 0) return pollMs;
  if (!next) return undefined;
  // A few hundred ms past the time, so the wake-up finds it due rather than a hair early.
  return Math.min(maxMs, Math.max(0, next.getTime() - now.getTime()) + 250);
}
