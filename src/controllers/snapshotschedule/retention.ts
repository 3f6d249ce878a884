// What to keep of one target's snapshots. Pure: the caller lists a target's snapshots (children or
// ARM snapshots found by tag), passes `now` and the schedule's zone, and deletes what comes back in
// `delete`. Only verified snapshots count toward keeping; the newest `minVerified` verified ones
// survive whatever else says; snapshots still being verified are never touched.
import { parseDuration } from "../../crds/shapes.ts";
import type { Retention } from "../../crds/snapshotschedule.ts";
import { wallAt } from "./zone.ts";

export type SnapshotState = "Verified" | "Pending" | "Failed";

export interface SnapshotRecord {
  id: string;
  /** The run's scheduled time (or the snapshot's creation time when that is all ARM has). */
  time: Date;
  state: SnapshotState;
  /** Per-snapshot age limit in days (the disk's retention tag); overrides maxAge for this one. */
  retentionDays?: number;
}

export const BUCKETS = ["hourly", "daily", "weekly", "monthly", "yearly"] as const;
export type Bucket = (typeof BUCKETS)[number];

export type KeepReason =
  | "MinVerified"
  | "Pending"
  | "FailedHistory"
  | Bucket
  | "WithinMaxAge"
  | "WithinRetentionDays"
  | "MaxCount"
  /** No rule limits it: no keep, no maxCount, no age limit (retention omitted, no disk tag). */
  | "Unlimited";
export type DeleteReason = "NotInKeep" | "MaxAge" | "RetentionDays" | "MaxCount" | "FailedHistoryLimit";

export interface RetentionPlan {
  keep: { id: string; reasons: KeepReason[] }[];
  delete: { id: string; reason: DeleteReason }[];
}

const DAY = 86_400_000;

/** The calendar bucket of an instant in tz (wall clock, so both 01:30s of a fall-back night share an hour). */
export function bucketOf(kind: Bucket, t: Date, tz: string): string {
  const w = wallAt(Math.floor(t.getTime() / 1000) * 1000, tz);
  const pad = (n: number): string => String(n).padStart(2, "0");
  switch (kind) {
    case "hourly":
      return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}`;
    case "daily":
      return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
    case "weekly": {
      // ISO 8601 week (Monday first; the week belongs to the year of its Thursday), as restic's %G-%V.
      const date = Date.UTC(w.year, w.month - 1, w.day);
      const thursday = new Date(date + (3 - ((w.weekday + 6) % 7)) * DAY);
      const week = 1 + Math.floor((thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / (7 * DAY));
      return `${thursday.getUTCFullYear()}-W${pad(week)}`;
    }
    case "monthly":
      return `${w.year}-${pad(w.month)}`;
    case "yearly":
      return String(w.year);
  }
}

const newestFirst = (a: SnapshotRecord, b: SnapshotRecord): number => b.time.getTime() - a.time.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The plan, in this order of rules:
 * 1. Pending: kept. Failed: the newest `failedHistoryLimit` (default 1) kept, the rest deleted.
 * 2. Verified, newest first: `keep` (when set) selects the newest snapshot of each of the last N
 *    hours/days/ISO weeks/months/years that have one (restic's and borg's GFS), in `tz`; without
 *    `keep` every verified snapshot is selected. Then the age limit drops selected ones older than
 *    their `retentionDays` or else `maxAge`, and `maxCount` keeps only the newest N still selected.
 * 3. Whatever the rules say, the newest `minVerified` (default 1) verified snapshots are kept.
 */
export function planRetention(snapshots: readonly SnapshotRecord[], policy: Retention | undefined, now: Date, tz: string): RetentionPlan {
  return plan(snapshots, policy ?? {}, now, tz);
}

function plan(snapshots: readonly SnapshotRecord[], policy: Partial<Retention>, now: Date, tz: string): RetentionPlan {
  const maxAgeMs = policy.maxAge === undefined ? undefined : parseDuration(policy.maxAge);
  if (policy.maxAge !== undefined && maxAgeMs === undefined) throw new RangeError(`retention.maxAge "${policy.maxAge}" is not a duration`);
  const minVerified = policy.minVerified ?? 1;
  const failedLimit = policy.failedHistoryLimit ?? 1;
  const sorted = [...snapshots].sort(newestFirst);
  const keep = new Map<string, KeepReason[]>();
  const del: RetentionPlan["delete"] = [];
  const keepFor = (id: string, r: KeepReason): void => {
    const rs = keep.get(id) ?? [];
    if (!rs.includes(r)) rs.push(r);
    keep.set(id, rs);
  };

  let failedKept = 0;
  for (const s of sorted) {
    if (s.state === "Pending") keepFor(s.id, "Pending");
    else if (s.state === "Failed") {
      if (failedKept < failedLimit) {
        failedKept++;
        keepFor(s.id, "FailedHistory");
      } else del.push({ id: s.id, reason: "FailedHistoryLimit" });
    }
  }

  const verified = sorted.filter((s) => s.state === "Verified");
  const selected = new Map<string, KeepReason[]>();
  const dropped = new Map<string, DeleteReason>();
  if (policy.keep) {
    const last = new Map<Bucket, string>();
    const left = new Map<Bucket, number>(BUCKETS.map((b) => [b, policy.keep?.[b] ?? 0]));
    for (const s of verified) {
      for (const b of BUCKETS) {
        const n = left.get(b) ?? 0;
        if (n === 0) continue;
        const key = bucketOf(b, s.time, tz);
        if (last.get(b) === key) continue;
        last.set(b, key);
        left.set(b, n - 1);
        selected.set(s.id, [...(selected.get(s.id) ?? []), b]);
      }
      if (!selected.has(s.id)) dropped.set(s.id, "NotInKeep");
    }
  } else {
    for (const s of verified) selected.set(s.id, []);
  }
  for (const s of verified) {
    const reasons = selected.get(s.id);
    if (!reasons) continue;
    const limit = s.retentionDays !== undefined ? s.retentionDays * DAY : maxAgeMs;
    if (limit === undefined) continue;
    if (now.getTime() - s.time.getTime() > limit) {
      selected.delete(s.id);
      dropped.set(s.id, s.retentionDays !== undefined ? "RetentionDays" : "MaxAge");
    } else reasons.push(s.retentionDays !== undefined ? "WithinRetentionDays" : "WithinMaxAge");
  }
  let counted = 0;
  for (const s of verified) {
    const reasons = selected.get(s.id);
    if (!reasons) continue;
    if (policy.maxCount !== undefined && counted >= policy.maxCount) {
      dropped.set(s.id, "MaxCount");
      continue;
    }
    counted++;
    if (policy.maxCount !== undefined) reasons.push("MaxCount");
    for (const r of reasons.length > 0 ? reasons : (["Unlimited"] as const)) keepFor(s.id, r);
  }
  verified.slice(0, minVerified).forEach((s) => keepFor(s.id, "MinVerified"));
  for (const s of verified) {
    const reason = dropped.get(s.id);
    if (!keep.has(s.id) && reason) del.push({ id: s.id, reason });
  }

  const order = new Map(sorted.map((s, i) => [s.id, i]));
  const byAge = <T extends { id: string }>(xs: T[]): T[] => xs.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  return { keep: byAge([...keep].map(([id, reasons]) => ({ id, reasons }))), delete: byAge(del) };
}
