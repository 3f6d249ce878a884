// Run ids and the names of a run's children. Names are a pure function of (schedule, target, run),
// so every replica, restart or retried reconcile computes the same name and Get-then-Create never
// makes a second child. Readable when they fit; cut with a hash of the full input when they do not.
import { createHash } from "node:crypto";
import { runId } from "../../crds/shapes.ts";

export { runId };

const RUN_ID = /^([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})$/;

/** The scheduled time (UTC) a run id stands for; undefined for anything else. */
export function runTime(id: string): Date | undefined {
  const m = RUN_ID.exec(id);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi));
  return runId(t) === id ? t : undefined; // refuses 202602301200 and friends
}

const hash8 = (...parts: string[]): string => createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 8);

/** DNS-1123 label: ≤ 63, [a-z0-9-], alphanumeric at both ends. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function dnsPart(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The child object name for one target of one run: `<schedule>-<target>-<hash>-<runId>`, a DNS-1123
 * label (≤ 63, so it is also a valid label value). The readable part is rewritten to fit (case,
 * dots, underscores) and cut when long; the hash of the exact (schedule, target) pair is always
 * there, because readable parts alone clash ("a-b" + "c" and "a" + "b-c" read the same).
 */
export function childName(schedule: string, target: string, run: string): string {
  const readable = `${dnsPart(schedule)}-${dnsPart(target)}`.replace(/^-+|-+$/g, "");
  const room = 63 - run.length - 1 - 8 - 1;
  const head = readable.slice(0, room).replace(/-+$/, "");
  return `${head === "" ? "x" : head}-${hash8(schedule, target)}-${run}`;
}

/** A label value (≤ 63, alphanumeric ends, [-_.a-zA-Z0-9]) naming the schedule; hashed when too long. */
export function scheduleLabelValue(schedule: string): string {
  if (schedule.length <= 63) return schedule; // object names are already valid label values up to 63
  return `${schedule.slice(0, 63 - 9).replace(/[-_.]+$/, "")}-${hash8(schedule)}`;
}

/** Microsoft.Compute/snapshots names: 1–80 of [a-zA-Z0-9_.-], alphanumeric start, alphanumeric or `_` end. */
export const COMPUTE_SNAPSHOT_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?$/;

/**
 * The ARM snapshot name for a disk target, named from disk and time as seed 002 does
 * (`<disk>-<runId>`), plus a hash of the disk's full id and the schedule's `namespace/name`: the
 * same disk name in two resource groups, or one disk in two schedules, lands in one
 * snapshotResourceGroup without a clash, and a retried run finds its own snapshot by name.
 */
export function diskSnapshotName(diskName: string, diskId: string, scheduleKey: string, run: string): string {
  const tail = `-${run}-${hash8(diskId.toLowerCase(), scheduleKey)}`;
  const head = diskName
    .replace(/[^a-zA-Z0-9_.-]+/g, "-")
    .slice(0, 80 - tail.length)
    .replace(/^[^a-zA-Z0-9]+/, "")
    .replace(/[-.]+$/, "");
  return `${head === "" ? "disk" : head}${tail}`;
}
