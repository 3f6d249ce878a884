// What one run of a schedule makes and how far each child got. Pure: the reconciler reads the
// children (Kubernetes objects, ARM snapshots) and passes them in; these functions build the child
// objects (deterministic names from runs.ts, labels, owner references, ARM tags) and turn what was
// read into per-child results and a run phase. No clock: `now` is passed in.
import { createHash } from "node:crypto";
import { parseAgentPoolId, type GroupResourceRef } from "../../azure/ids.ts";
import type { ComputeSnapshotSpec } from "../../azure/ports/computeSnapshots.ts";
import type { Readiness as CopyReadiness } from "../../azure/provisioning.ts";
import { LABEL_RUN, LABEL_SCHEDULE, TAG_OWNER, TAG_SCHEDULE } from "../../crds/names.ts";
import { DEFAULT_RETENTION_TAG_KEY, type DiskTemplate, type NodePoolSnapshotTemplate, type RunPhase, type TargetResult } from "../../crds/snapshotschedule.ts";
import type { KubeObject } from "../../kube/client.ts";
import { ANNOTATION_MESSAGE, ANNOTATION_REASON, ANNOTATION_STATE } from "../volumesnapshot/annotations.ts";
import { LABEL_MANAGED_BY, MANAGED_BY_AKSNAP } from "../volumesnapshot/select.ts";
import { ChildReasons } from "./reasons.ts";
import type { SnapshotRecord, SnapshotState } from "./retention.ts";
import { childName, diskSnapshotName, runTime, scheduleLabelValue } from "./runs.ts";
import { ANNOTATION_VERIFIED } from "../../crds/names.ts";

/** ARM tags on disk snapshots: the durable record retention and cleanup read back (docs/schedules.md). */
export const TAG_RUN = "aksnap.io-run";
export const TAG_SOURCE_DISK = "aksnap.io-source-disk";
export const TAG_RETENTION_DAYS = "aksnap.io-retention-days";

/** ARM's limit on a tag value. */
const TAG_VALUE_MAX = 256;

export interface ScheduleRef {
  namespace: string;
  name: string;
  uid: string;
}

/** `<namespace>/<name>` of the schedule, cut and hashed to fit an ARM tag value. */
export function scheduleTagValue(s: Pick<ScheduleRef, "namespace" | "name">): string {
  return fitTag(`${s.namespace}/${s.name}`);
}

function fitTag(v: string): string {
  if (v.length <= TAG_VALUE_MAX) return v;
  const hash = createHash("sha256").update(v).digest("hex").slice(0, 16);
  return `${v.slice(0, TAG_VALUE_MAX - hash.length - 1)}#${hash}`;
}

/** The labels every child of a run carries; the verifier always verifies VolumeSnapshots labelled so. */
export function runLabels(s: ScheduleRef, run: string): Record<string, string> {
  return { [LABEL_SCHEDULE]: scheduleLabelValue(s.name), [LABEL_RUN]: run, [LABEL_MANAGED_BY]: MANAGED_BY_AKSNAP };
}

/** The label selector for every child of the schedule (of one run, when given). */
export function childSelector(s: Pick<ScheduleRef, "name">, run?: string): string {
  const base = `${LABEL_SCHEDULE}=${scheduleLabelValue(s.name)}`;
  return run === undefined ? base : `${base},${LABEL_RUN}=${run}`;
}

/** Whether an existing object under a child's name is this schedule's child of this run (else: a name clash). */
export function isOurChild(o: KubeObject, s: ScheduleRef, run: string): boolean {
  const l = o.metadata.labels ?? {};
  return l[LABEL_SCHEDULE] === scheduleLabelValue(s.name) && l[LABEL_RUN] === run;
}

/** Owner references: only with childDeletionPolicy Delete, so Kubernetes' GC deletes the children with the schedule. */
export function ownerReferences(s: ScheduleRef, policy: "Retain" | "Delete" | undefined): Record<string, unknown>[] {
  if ((policy ?? "Retain") !== "Delete") return [];
  return [{ apiVersion: "aksnap.io/v1alpha1", kind: "SnapshotSchedule", name: s.name, uid: s.uid, controller: true, blockOwnerDeletion: false }];
}

/** A node-pool target's identity (also the readable part of its child's name): pool, cluster, group, subscription. */
export function nodePoolTarget(t: NodePoolSnapshotTemplate, defaultSubscriptionId: string | undefined): string {
  const s = t.source;
  const p = s.agentPoolId ? parseAgentPoolId(s.agentPoolId) : undefined;
  if (p) return [p.agentPoolName, p.clusterName, p.resourceGroup, p.subscriptionId].join(".").toLowerCase();
  return [s.agentPoolName ?? "", s.clusterName ?? "", s.resourceGroup ?? "", s.subscriptionId ?? defaultSubscriptionId ?? ""].join(".").toLowerCase();
}

/** The child NodePoolSnapshot of one node-pool target for one run. */
export function nodePoolChild(s: ScheduleRef, t: NodePoolSnapshotTemplate, target: string, run: string, policy: "Retain" | "Delete" | undefined): KubeObject {
  const refs = ownerReferences(s, policy);
  return {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "NodePoolSnapshot",
    metadata: { name: childName(s.name, target, run), namespace: s.namespace, labels: runLabels(s, run), ...(refs.length > 0 ? { ownerReferences: refs } : {}) },
    spec: {
      source: t.source,
      ...(t.snapshot ? { snapshot: t.snapshot } : {}),
      ...(t.tags ? { tags: t.tags } : {}),
      ...(t.deletionPolicy ? { deletionPolicy: t.deletionPolicy } : {}),
    },
  } as KubeObject;
}

/** The child VolumeSnapshot of one PVC for one run. */
export function volumeChild(s: ScheduleRef, pvc: string, className: string | undefined, run: string, policy: "Retain" | "Delete" | undefined): KubeObject {
  const refs = ownerReferences(s, policy);
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name: childName(s.name, pvc, run), namespace: s.namespace, labels: runLabels(s, run), ...(refs.length > 0 ? { ownerReferences: refs } : {}) },
    spec: { source: { persistentVolumeClaimName: pvc }, ...(className ? { volumeSnapshotClassName: className } : {}) },
  } as KubeObject;
}

// A LabelSelector as the string a LIST takes (shared with the hooks' pod selection).
export { labelSelectorString } from "../../kube/selectors.ts";

/** Whether a disk carries every one of matchTags (names case-insensitive as in ARM, values exact). */
export function matchesTags(tags: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  const lower = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(want).every(([k, v]) => lower.get(k.toLowerCase()) === v);
}

function tagValue(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  const k = Object.keys(tags).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : tags[k];
}

/** Whole days from a disk's retention tag; anything else (absent, "7d", "-1") is no override. */
export function retentionDaysOf(tags: Readonly<Record<string, string>>, key: string): number | undefined {
  const v = tagValue(tags, key)?.trim();
  if (v === undefined || !/^[0-9]{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

export interface DiskView {
  id: string;
  name: string;
  location: string;
  tags: Readonly<Record<string, string>>;
}

/** The incremental snapshot one run takes of one disk: where, and with which tags (the durable record). */
export function diskSnapshotPlan(
  s: ScheduleRef,
  tpl: DiskTemplate,
  subscriptionId: string,
  disk: DiskView,
  run: string,
): { ref: GroupResourceRef; spec: ComputeSnapshotSpec } {
  const days = retentionDaysOf(disk.tags, tpl.retentionTagKey ?? DEFAULT_RETENTION_TAG_KEY);
  const key = `${s.namespace}/${s.name}`;
  return {
    ref: { subscriptionId, resourceGroup: tpl.snapshotResourceGroup, name: diskSnapshotName(disk.name, disk.id, key, run) },
    spec: {
      location: disk.location,
      sourceResourceId: disk.id,
      incremental: true,
      tags: {
        [TAG_OWNER]: scheduleTagValue(s),
        [TAG_SCHEDULE]: scheduleTagValue(s),
        [TAG_RUN]: run,
        [TAG_SOURCE_DISK]: fitTag(disk.id),
        ...(days !== undefined ? { [TAG_RETENTION_DAYS]: String(days) } : {}),
      },
    },
  };
}

/** Whether an ARM snapshot under our deterministic name is this schedule's (else: leave it alone). */
export function isOurDiskSnapshot(tags: Readonly<Record<string, string>>, s: ScheduleRef): boolean {
  return tagValue(tags, TAG_SCHEDULE) === scheduleTagValue(s);
}

// --- per-child results ---------------------------------------------------------------------------

type Result = Pick<TargetResult, "phase" | "message" | "completionPercent">;

const pending = (reason: string, detail?: string): Result => ({ phase: "Pending", message: detail ? `${reason}: ${detail}` : reason });
const failed = (reason: string, detail: string): Result => ({ phase: "Failed", message: `${reason}: ${detail}` });

interface Cond {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

function conditionOf(o: KubeObject, type: string): Cond | undefined {
  const st = o["status"] as { conditions?: Cond[] } | undefined;
  return Array.isArray(st?.conditions) ? st.conditions.find((c) => c.type === type) : undefined;
}

/** A child NodePoolSnapshot: Verified when Ready for its generation; Failed when it Stalled (its controller gave up). */
export function nodePoolResult(o: KubeObject | undefined): Result {
  if (!o) return pending(ChildReasons.Creating);
  const st = o["status"] as { observedGeneration?: number } | undefined;
  const ready = conditionOf(o, "Ready");
  if (ready?.status === "True" && st?.observedGeneration === o.metadata.generation) return { phase: "Verified", message: String(ready.message ?? "") };
  const stalled = conditionOf(o, "Stalled");
  if (stalled?.status === "True") return failed(ChildReasons.ChildStalled, `${String(stalled.reason)}: ${String(stalled.message ?? "")}`);
  return pending(ChildReasons.WaitingForReady, ready ? `${String(ready.reason)}: ${String(ready.message ?? "")}` : undefined);
}

/**
 * A child VolumeSnapshot, read from the verifier's annotations only: Verified when
 * `aksnap.io/verified` is "true" (readyToUse alone never is), Failed when `aksnap.io/verification`
 * says Failed (the verifier's reason and message name the cause, e.g. a missing PVC).
 */
export function volumeResult(o: KubeObject | undefined): Result {
  if (!o) return pending(ChildReasons.Creating);
  const a = o.metadata.annotations ?? {};
  const state = a[ANNOTATION_STATE];
  const why = `${a[ANNOTATION_REASON] ?? "?"}: ${a[ANNOTATION_MESSAGE] ?? ""}`;
  if (a[ANNOTATION_VERIFIED] === "true" && state === "Verified") return { phase: "Verified", message: a[ANNOTATION_MESSAGE] ?? "verified" };
  if (state === "Failed") return failed(ChildReasons.VerificationFailed, why);
  if (state === "NotVerifiable") return { phase: "NotVerifiable", message: why };
  return pending(ChildReasons.WaitingForReady, state ? `${state} ${why}` : "not verified yet");
}

/** A disk snapshot, by the same Azure rules as a verified volume snapshot (snapshotReadiness). */
export function diskResult(r: CopyReadiness): Result {
  switch (r.kind) {
    case "ready":
      return { phase: "Verified", message: "Azure snapshot Succeeded, copy complete", completionPercent: 100 };
    case "failed":
      return failed(ChildReasons.VerificationFailed, `${r.code}: ${r.message}`);
    case "pending": {
      const reason = r.reason === "Copying" ? ChildReasons.CopyInProgress : r.reason === "AccessPending" ? ChildReasons.AccessPending : ChildReasons.Provisioning;
      return { ...pending(reason, r.message), ...(r.completionPercent !== undefined ? { completionPercent: r.completionPercent } : {}) };
    }
  }
}

export interface RunOutcome {
  phase: RunPhase;
  results: TargetResult[];
  targets: number;
  verified: number;
  failed: number;
}

/**
 * The run's phase from its children: Succeeded when every child is Verified (or NotVerifiable: a
 * driver aksnap cannot check), Failed when every child is done and one failed, else Running.
 * Past the deadline, children still pending are Failed. A run that found nothing to capture failed:
 * "no backup" must never read as success.
 */
export function runOutcome(results: readonly TargetResult[], startedAt: Date, now: Date, deadlineMs: number): RunOutcome {
  const late = now.getTime() - startedAt.getTime() > deadlineMs;
  const out = results.map((r): TargetResult =>
    late && r.phase === "Pending" ? { ...r, phase: "Failed", message: `${ChildReasons.DeadlineExceeded}: not verified within ${Math.round(deadlineMs / 60_000)} min (${r.message ?? ""})` } : r,
  );
  const verified = out.filter((r) => r.phase === "Verified").length;
  const failedN = out.filter((r) => r.phase === "Failed").length;
  const pendingN = out.filter((r) => r.phase === "Pending").length;
  const phase: RunPhase = out.length === 0 ? "Failed" : pendingN > 0 ? "Running" : failedN > 0 ? "Failed" : "Succeeded";
  return { phase, results: out, targets: out.length, verified, failed: failedN };
}

// --- retention inputs ----------------------------------------------------------------------------

/** A child object as a retention record: its run's time, and its state; children of active runs are Pending. */
export function childRecord(o: KubeObject, state: SnapshotState, activeRunIds: ReadonlySet<string>): SnapshotRecord {
  const run = o.metadata.labels?.[LABEL_RUN] ?? "";
  const time = runTime(run) ?? new Date(o.metadata.creationTimestamp ?? 0);
  return { id: o.metadata.name, time, state: activeRunIds.has(run) ? "Pending" : state };
}

export const stateOf = (r: Result): SnapshotState => (r.phase === "Verified" || r.phase === "NotVerifiable" ? "Verified" : r.phase === "Failed" ? "Failed" : "Pending");

/** A disk snapshot found by tag as a retention record, read from its ARM tags alone. */
export function diskRecord(
  snap: { id: string; tags: Readonly<Record<string, string>>; timeCreated?: string },
  readiness: CopyReadiness,
  activeRunIds: ReadonlySet<string>,
): SnapshotRecord & { target: string } {
  const run = tagValue(snap.tags, TAG_RUN) ?? "";
  const days = retentionDaysOf(snap.tags, TAG_RETENTION_DAYS);
  const time = runTime(run) ?? new Date(snap.timeCreated ?? 0);
  const state = activeRunIds.has(run) ? "Pending" : stateOf(diskResult(readiness));
  return { id: snap.id, time, state, target: (tagValue(snap.tags, TAG_SOURCE_DISK) ?? "").toLowerCase(), ...(days !== undefined ? { retentionDays: days } : {}) };
}
