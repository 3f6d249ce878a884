// The SnapshotSchedule reconciler: the kind's steps on the shared frame (../common/frame.ts).
// Each reconcile decides with pure functions (schedule.ts, status.ts, children.ts, retention.ts)
// and acts: a new run is first recorded in status (so a restart resumes the same run id), then its
// children are made Get-then-Create under deterministic names and observed until every one is
// verified or failed; then retention. Disk snapshot creates are submitted, never awaited: the
// deterministic ARM name is the resume point, and the ARM tags are the durable record.
import type { CallOptions } from "../../azure/deadline.ts";
import { describeArmError, type ArmError } from "../../azure/errors.ts";
import { computeSnapshotId, parseComputeSnapshotId, type GroupResourceRef } from "../../azure/ids.ts";
import type { ComputeSnapshotSpec, ComputeSnapshotsPort } from "../../azure/ports/computeSnapshots.ts";
import type { DisksPort } from "../../azure/ports/disks.ts";
import { snapshotReadiness } from "../../azure/provisioning.ts";
import { rfc3339 } from "../../conditions/conditions.ts";
import { type AllowedScopes, scopeAllowed } from "../../config.ts";
import { ANNOTATION_RUN_REQUESTED_AT, TAG_SCHEDULE } from "../../crds/names.ts";
import { NodePoolSnapshotKind } from "../../crds/nodepoolsnapshot.ts";
import {
  SnapshotScheduleKind,
  type RunStatus,
  type SnapshotSchedule,
  type SnapshotScheduleStatus,
  type TargetResult,
} from "../../crds/snapshotschedule.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../kube/client.ts";
import { isKubeError } from "../../kube/errors.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { ExecPort } from "../../kube/exec.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { done, requeueAfter } from "../../runtime/result.ts";
import { isResourceGroupNotFound, stalledVerdict } from "../common/arm.ts";
import { createFrame, type EventNote, type FinalizeOutcome, type StepOutcome, type Verdict } from "../common/frame.ts";
import { volumeSnapshotType } from "../volumesnapshot/types.ts";
import {
  childRecord,
  childSelector,
  diskRecord,
  diskResult,
  diskSnapshotPlan,
  isOurChild,
  isOurDiskSnapshot,
  labelSelectorString,
  matchesTags,
  nodePoolChild,
  nodePoolResult,
  nodePoolTarget,
  runOutcome,
  scheduleTagValue,
  stateOf,
  volumeChild,
  volumeResult,
  type ScheduleRef,
} from "./children.ts";
import { describeResult } from "../hooks/run.ts";
import { failed as hookFailed, hooksOf, hookVerdict, MAX_HOOK_RESULTS, runHook } from "./hooks.ts";
import { ChildReasons, EventReasons, Reasons } from "./reasons.ts";
import { planRetention, type SnapshotRecord } from "./retention.ts";
import { runId, runTime } from "./runs.ts";
import { CronSyntaxError, decide, nextRun, validateSchedule } from "./schedule.ts";
import { afterDecision, fieldsOf, newRuns, pollDelay, requeueDelay, scheduleReadiness, type ActiveRun, type Fields, type Pace } from "./status.ts";
import { isKnownZone } from "./zone.ts";

export const FINALIZER = "aksnap.io/schedule-protection";
/** How often an active run's children are looked at (besides the child informer's wake-ups). */
export const ACTIVE_POLL_MS = 5_000;
/** The longest timer: a far-away next run is recomputed at least this often. */
export const MAX_REQUEUE_MS = 3_600_000;
/** A run whose children are not all verified by then fails (children still pending → DeadlineExceeded). */
export const RUN_DEADLINE_MS = 6 * 3_600_000;

export const pvcType: ResourceType = { group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true };

export interface ScheduleArm {
  computeSnapshots: ComputeSnapshotsPort;
  disks: DisksPort;
}

/** Where the reconciler reports what Prometheus shows (metrics.ts). */
export interface ScheduleMetrics {
  observe(key: string, status: Fields): void;
  runCompleted(key: string, phase: "Succeeded" | "Failed"): void;
  forget(key: string): void;
}

export interface SnapshotScheduleDeps {
  client: KubeClient;
  cache: { get(key: string): KubeObject | undefined };
  /** The NodePoolSnapshot informer cache (children are read here; created when absent). */
  nodePoolCache: { get(key: string): KubeObject | undefined };
  arm: ScheduleArm;
  events: EventRecorder;
  now: () => Date;
  defaultSubscriptionId: string | undefined;
  allowedScopes: AllowedScopes | undefined;
  activePollMs?: number;
  maxRequeueMs?: number;
  runDeadlineMs?: number;
  metrics?: ScheduleMetrics;
  /** pods/exec for hooks; absent, a schedule with hooks fails its runs' hooks (reported, never skipped). */
  exec?: ExecPort;
  log?: { warn(obj: object, msg: string): void };
}

interface Extra {
  status: Fields;
  notes: EventNote[];
  completed: ("Succeeded" | "Failed")[];
}

type V = Verdict<Extra>;
type Ensured = { ok: true; obj: KubeObject } | { ok: false; failed: string };

const npsType = NodePoolSnapshotKind.resource;

export function createSnapshotScheduleReconciler(deps: SnapshotScheduleDeps): Reconciler {
  const pollMs = deps.activePollMs ?? ACTIVE_POLL_MS;
  const maxMs = deps.maxRequeueMs ?? MAX_REQUEUE_MS;
  const deadlineMs = deps.runDeadlineMs ?? RUN_DEADLINE_MS;
  const stalled = (reason: string, message: string): V => stalledVerdict(reason, message, undefined);

  const refOf = (o: SnapshotSchedule): ScheduleRef => ({ namespace: o.metadata.namespace ?? "", name: o.metadata.name, uid: o.metadata.uid ?? "" });

  /** Get-then-Create: the child under its deterministic name, made when absent; a foreign object there is a clash. */
  async function ensureChild(rt: ResourceType, child: KubeObject, s: ScheduleRef, run: string, call: CallOptions): Promise<Ensured> {
    const ns = child.metadata.namespace;
    const name = child.metadata.name;
    const clash: Ensured = { ok: false, failed: `${ChildReasons.CreateFailed}: ${rt.kind} ${ns}/${name} exists and is not this schedule's child of run ${run}` };
    const existing = await deps.client.tryGet(rt, ns, name, call);
    if (existing) return isOurChild(existing, s, run) ? { ok: true, obj: existing } : clash;
    try {
      return { ok: true, obj: await deps.client.create(rt, child, call) };
    } catch (e) {
      if (isKubeError(e, "alreadyExists")) {
        // Another replica, or our own create before a restart: ours if it says so.
        const again = await deps.client.tryGet(rt, ns, name, call);
        return again && isOurChild(again, s, run) ? { ok: true, obj: again } : clash;
      }
      if (isKubeError(e, "invalid") || isKubeError(e, "forbidden")) return { ok: false, failed: `${ChildReasons.CreateFailed}: ${e instanceof Error ? e.message : String(e)}` };
      throw e;
    }
  }

  const terminal = (r: TargetResult): boolean => r.phase !== "Pending";
  /** A disk child that can be polled by name: done, its create in flight, or seen in ARM (copying, provisioning). */
  const resumable = (r: TargetResult): boolean =>
    terminal(r) || r.operation !== undefined || [ChildReasons.CopyInProgress, ChildReasons.Provisioning, ChildReasons.AccessPending].some((x) => (r.message ?? "").startsWith(`${x}:`));

  async function observeRun(obj: SnapshotSchedule, run: ActiveRun, prev: readonly TargetResult[], pace: Pace, call: CallOptions): Promise<TargetResult[]> {
    const s = refOf(obj);
    const tpl = obj.spec.template;
    const policy = obj.spec.childDeletionPolicy;
    const before = new Map(prev.map((r) => [`${r.kind}|${r.name}`, r]));
    const out: TargetResult[] = [];

    for (const t of tpl.nodePools ?? []) {
      const child = nodePoolChild(s, t, nodePoolTarget(t, deps.defaultSubscriptionId), run.id, policy);
      const name = child.metadata.name;
      const target = t.source.agentPoolId ?? `${t.source.resourceGroup ?? ""}/${t.source.clusterName ?? ""}/${t.source.agentPoolName ?? ""}`;
      const old = before.get(`NodePoolSnapshot|${name}`);
      if (old && terminal(old)) {
        out.push(old);
        continue;
      }
      const cached = deps.nodePoolCache.get(`${s.namespace}/${name}`);
      const o: Ensured = cached && isOurChild(cached, s, run.id) ? { ok: true, obj: cached } : await ensureChild(npsType, child, s, run.id, call);
      out.push({ kind: "NodePoolSnapshot", target, name, ...(o.ok ? nodePoolResult(o.obj) : { phase: "Failed", message: o.failed }) });
    }

    if (tpl.volumes) {
      const pvcs = await deps.client.list(pvcType, s.namespace, { labelSelector: labelSelectorString(tpl.volumes.pvcSelector), ...call });
      const seen = new Set<string>();
      for (const pvc of [...pvcs.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
        const child = volumeChild(s, pvc.metadata.name, tpl.volumes.volumeSnapshotClassName, run.id, policy);
        const name = child.metadata.name;
        seen.add(name);
        const old = before.get(`VolumeSnapshot|${name}`);
        if (old && terminal(old)) {
          out.push(old);
          continue;
        }
        const o = await ensureChild(volumeSnapshotType, child, s, run.id, call);
        out.push({ kind: "VolumeSnapshot", target: pvc.metadata.name, name, ...(o.ok ? volumeResult(o.obj) : { phase: "Failed", message: o.failed }) });
      }
      // Children of this run whose PVC no longer matches (or was deleted) still belong to the run.
      const made = await deps.client.list(volumeSnapshotType, s.namespace, { labelSelector: childSelector(s, run.id), ...call });
      for (const o of made.items) {
        if (seen.has(o.metadata.name)) continue;
        const spec = o["spec"] as { source?: { persistentVolumeClaimName?: string } } | undefined;
        out.push({ kind: "VolumeSnapshot", target: spec?.source?.persistentVolumeClaimName ?? "", name: o.metadata.name, ...volumeResult(o) });
      }
    }

    // Children that Kubernetes objects stand for are polled at the normal pace.
    if (out.some((r) => !terminal(r))) pace.otherPending = true;
    if (tpl.disks) out.push(...(await observeDisks(obj, run, before, pace, call)));
    return out;
  }

  async function observeDisks(obj: SnapshotSchedule, run: ActiveRun, before: ReadonlyMap<string, TargetResult>, pace: Pace, call: CallOptions): Promise<TargetResult[]> {
    const tpl = obj.spec.template.disks;
    if (!tpl) return [];
    const s = refOf(obj);
    const sub = tpl.subscriptionId ?? deps.defaultSubscriptionId ?? "";
    const [first] = Object.entries(tpl.matchTags);
    const out: TargetResult[] = [];
    // Once every disk child of the run exists (or its create is in flight), poll those alone: the
    // disk listing is needed to find targets and to create, not to watch a copy finish.
    const known = [...before.values()].filter((r) => r.kind === "DiskSnapshot");
    const refs = known.map((r) => parseComputeSnapshotId(r.name));
    if (known.length > 0 && refs.every((r) => r !== undefined) && known.every(resumable)) {
      for (const [i, r] of known.entries()) {
        const ref = refs[i];
        if (terminal(r) || !ref) out.push(r);
        else out.push({ kind: r.kind, target: r.target, name: r.name, ...paced(pace, await observeDiskSnapshot(s, ref, undefined, r.name, r.operation, call)) });
      }
      return out;
    }
    const listed = await deps.arm.disks.listByTag({ subscriptionId: sub, resourceGroups: tpl.resourceGroups, tag: { name: first?.[0] ?? "", value: first?.[1] ?? "" } }, call);
    if (!listed.ok) {
      const e = listed.error;
      const gaveUp = e.kind === "invalid" || e.kind === "notFound";
      const message = `${gaveUp ? ChildReasons.CreateFailed : ChildReasons.Creating}: listing disks in ${tpl.resourceGroups.join(", ")}: ${describeArmError(e)}`;
      return [{ kind: "DiskSnapshot", target: tpl.resourceGroups.join(","), name: "", phase: gaveUp ? "Failed" : "Pending", message }];
    }
    const disks = listed.value.filter((d) => matchesTags(d.tags, tpl.matchTags)).sort((a, b) => a.id.localeCompare(b.id));
    for (const disk of disks) {
      const plan = diskSnapshotPlan(s, tpl, sub, disk, run.id);
      const id = computeSnapshotId(plan.ref);
      const old = before.get(`DiskSnapshot|${id}`);
      if (old && terminal(old)) {
        out.push(old);
        continue;
      }
      const base = { kind: "DiskSnapshot" as const, target: disk.id, name: id };
      out.push({ ...base, ...paced(pace, await observeDiskSnapshot(s, plan.ref, plan.spec, id, old?.operation, call)) });
    }
    return out;
  }

  /** A disk child's state, and how long ARM (or our write budget) asked us to wait when throttled. */
  type DiskOutcome = Pick<TargetResult, "phase" | "message" | "completionPercent" | "operation"> & { throttledForMs?: number };

  /** Notes the outcome's pace and returns what goes into status. */
  const paced = (pace: Pace, o: DiskOutcome): Omit<DiskOutcome, "throttledForMs"> => {
    const { throttledForMs, ...rest } = o;
    if (rest.phase === "Pending") {
      if (throttledForMs !== undefined) pace.throttledForMs.push(throttledForMs);
      else pace.otherPending = true;
    }
    return rest;
  };
  const throttledFor = (e: ArmError): { throttledForMs?: number } => (e.kind === "throttled" && e.retryAfterMs !== undefined ? { throttledForMs: e.retryAfterMs } : {});

  /**
   * One disk snapshot of a run: poll the create we submitted (its resume token is in the last
   * status, so a failure reports ARM's code), else read the snapshot under its deterministic name
   * (the resume point when the token was lost with a crash), else submit the create.
   */
  async function observeDiskSnapshot(
    s: ScheduleRef,
    ref: GroupResourceRef,
    create: ComputeSnapshotSpec | undefined,
    id: string,
    token: string | undefined,
    call: CallOptions,
  ): Promise<DiskOutcome> {
    const giveUp = (e: ArmError): boolean => e.kind === "invalid" || e.kind === "notFound";
    if (token !== undefined) {
      const op = await deps.arm.computeSnapshots.checkOperation(token, call);
      switch (op.kind) {
        case "inProgress":
          return { phase: "Pending", message: `${ChildReasons.Provisioning}: creating ${id}`, operation: op.resumeToken };
        case "unknown":
          return { phase: "Pending", message: `${ChildReasons.Provisioning}: ${describeArmError(op.error)}`, operation: token };
        case "failed":
          return { phase: "Failed", message: `${ChildReasons.CreateFailed}: ${describeArmError(op.error)}` };
        case "succeeded":
          break; // the create is done; the copy may not be: read readiness below
      }
    }
    const got = await deps.arm.computeSnapshots.readiness(ref, call);
    if (got.ok) {
      if (!isOurDiskSnapshot(got.value.snapshot.tags, s)) {
        return { phase: "Failed", message: `${ChildReasons.CreateFailed}: ${id} exists and is not this schedule's (tag ${TAG_SCHEDULE})` };
      }
      return diskResult(got.value.readiness);
    }
    if (got.error.kind !== "notFound" || isResourceGroupNotFound(got.error)) {
      const gaveUp = giveUp(got.error);
      return {
        phase: gaveUp ? "Failed" : "Pending",
        message: `${gaveUp ? ChildReasons.CreateFailed : ChildReasons.Provisioning}: ${describeArmError(got.error)}`,
        ...throttledFor(got.error),
      };
    }
    // Absent and known only by name (gone out of band): the next poll lists the disks and creates it.
    if (!create) return { phase: "Pending", message: `${ChildReasons.Creating}: ${id} not found; making it again` };
    // Absent: submit the create and look again on the next poll (never await the operation).
    const started = await deps.arm.computeSnapshots.beginCreate(ref, create, call);
    switch (started.kind) {
      case "failed": {
        const gaveUp = giveUp(started.error);
        return {
          phase: gaveUp ? "Failed" : "Pending",
          message: `${gaveUp ? ChildReasons.CreateFailed : ChildReasons.Creating}: ${describeArmError(started.error)}`,
          ...throttledFor(started.error),
        };
      }
      case "submitted":
        return { phase: "Pending", message: `${ChildReasons.Creating}: incremental snapshot of ${create.sourceResourceId} submitted`, operation: started.resumeToken };
      case "succeeded":
        return diskResult(snapshotReadiness(started.value));
    }
  }

  // --- retention ---

  interface Counts {
    total: number;
    verified: number;
    failed: number;
  }

  async function applyRetention(obj: SnapshotSchedule, raw: KubeObject, active: ReadonlySet<string>, call: CallOptions): Promise<Counts> {
    const s = refOf(obj);
    const tpl = obj.spec.template;
    const tz = obj.spec.timeZone ?? "UTC";
    const now = deps.now();
    const counts: Counts = { total: 0, verified: 0, failed: 0 };
    const groups = new Map<string, { records: SnapshotRecord[]; remove: (id: string) => Promise<void>; kind: string }>();
    const add = (target: string, kind: string, r: SnapshotRecord, remove: (id: string) => Promise<void>): void => {
      const g = groups.get(`${kind}|${target}`) ?? { records: [], remove, kind };
      g.records.push(r);
      groups.set(`${kind}|${target}`, g);
    };
    const deleteChild = (rt: ResourceType) => async (name: string): Promise<void> => {
      try {
        await deps.client.delete(rt, s.namespace, name, call);
      } catch (e) {
        if (!isKubeError(e, "notFound")) throw e;
      }
    };

    // Objects already being deleted (a child NodePoolSnapshot's finalizer deleting its ARM snapshot,
    // a disk snapshot's DELETE in flight) were dealt with by an earlier retention pass.
    const live = (o: KubeObject): boolean => o.metadata.deletionTimestamp === undefined;
    const nps = await deps.client.list(npsType, s.namespace, { labelSelector: childSelector(s), ...call });
    for (const o of nps.items.filter(live)) {
      const spec = o["spec"] as { source?: { agentPoolId?: string; subscriptionId?: string; resourceGroup?: string; clusterName?: string; agentPoolName?: string } };
      const target = nodePoolTarget({ source: spec.source ?? {} }, deps.defaultSubscriptionId);
      add(target, "NodePoolSnapshot", childRecord(o, stateOf(nodePoolResult(o)), active), deleteChild(npsType));
    }
    if (tpl.volumes) {
      const vs = await deps.client.list(volumeSnapshotType, s.namespace, { labelSelector: childSelector(s), ...call });
      for (const o of vs.items.filter(live)) {
        const spec = o["spec"] as { source?: { persistentVolumeClaimName?: string } } | undefined;
        add(spec?.source?.persistentVolumeClaimName ?? "", "VolumeSnapshot", childRecord(o, stateOf(volumeResult(o)), active), deleteChild(volumeSnapshotType));
      }
    }
    if (tpl.disks) {
      // From ARM tags alone: this finds what an earlier schedule of the same namespace/name made,
      // even after every Kubernetes object (and the operator's state) is gone.
      const sub = tpl.disks.subscriptionId ?? deps.defaultSubscriptionId ?? "";
      const listed = await deps.arm.computeSnapshots.listByTag(
        { subscriptionId: sub, resourceGroups: [tpl.disks.snapshotResourceGroup], tag: { name: TAG_SCHEDULE, value: scheduleTagValue(s) } },
        call,
      );
      if (!listed.ok) throw new Error(`listing disk snapshots for retention: ${describeArmError(listed.error)}`);
      for (const snap of listed.value.filter((x) => x.provisioningState !== "deleting")) {
        const rec = diskRecord(snap, snapshotReadiness(snap), active);
        add(rec.target, "DiskSnapshot", rec, async (id) => {
          const ref = parseComputeSnapshotId(id);
          if (!ref) return;
          // Submitted, not awaited: the snapshot is gone from the next listing once ARM finishes.
          const del = await deps.arm.computeSnapshots.beginDelete(ref, call);
          if (del.kind === "failed") throw new Error(`deleting ${id}: ${describeArmError(del.error)}`);
        });
      }
    }

    for (const g of groups.values()) {
      const plan = planRetention(g.records, obj.spec.retention, now, tz);
      const byId = new Map(g.records.map((r) => [r.id, r]));
      for (const k of plan.keep) {
        counts.total++;
        const st = byId.get(k.id)?.state;
        if (st === "Verified") counts.verified++;
        else if (st === "Failed") counts.failed++;
      }
      for (const d of plan.delete) {
        await g.remove(d.id);
        await deps.events.record(raw, "Normal", EventReasons.DeletedByRetention, `${g.kind} ${d.id} deleted by retention (${d.reason})`);
      }
    }
    return counts;
  }

  // --- the kind's steps ---

  async function steps(obj: SnapshotSchedule, ctx: ReconcileContext): Promise<StepOutcome<Extra>> {
    const spec = obj.spec;
    const ns = obj.metadata.namespace ?? "";
    const tz = spec.timeZone ?? "UTC";
    if (!isKnownZone(tz)) return stalled(Reasons.UnknownTimeZone, `spec.timeZone "${tz}" is not in the operator's tz database`);
    if (spec.schedule !== undefined) {
      try {
        validateSchedule(spec.schedule);
      } catch (e) {
        if (!(e instanceof CronSyntaxError)) throw e;
        return stalled(Reasons.InvalidSchedule, `spec.schedule "${spec.schedule}": ${e.message}`);
      }
    }
    const disks = spec.template.disks;
    if (disks) {
      const sub = disks.subscriptionId ?? deps.defaultSubscriptionId;
      if (!sub) return stalled(Reasons.SubscriptionUnknown, "spec.template.disks.subscriptionId is not set and the operator has no default subscription (--default-subscription-id)");
      const denied = [...disks.resourceGroups, disks.snapshotResourceGroup]
        .map((rg) => `/subscriptions/${sub}/resourceGroups/${rg}`)
        .find((id) => !scopeAllowed(deps.allowedScopes, ns, id));
      if (denied) return stalled(Reasons.ScopeNotAllowed, `namespace ${ns} may not use ${denied} (operator flag --allowed-scopes)`);
    }

    const now = deps.now();
    const st = obj.status;
    const prev = fieldsOf(st);
    const lastScheduledBefore = st?.lastScheduleTime ? new Date(st.lastScheduleTime) : new Date(obj.metadata.creationTimestamp ?? now.toISOString());
    const active: ActiveRun[] = st?.activeRuns ?? [];
    const d = decide({
      ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
      timeZone: tz,
      ...(spec.suspend !== undefined ? { suspend: spec.suspend } : {}),
      ...(spec.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: spec.startingDeadlineSeconds } : {}),
      ...(spec.concurrencyPolicy !== undefined ? { concurrencyPolicy: spec.concurrencyPolicy } : {}),
      lastScheduled: lastScheduledBefore,
      activeRuns: active.length,
      ...(obj.metadata.annotations?.[ANNOTATION_RUN_REQUESTED_AT] !== undefined ? { runRequestedAt: obj.metadata.annotations[ANNOTATION_RUN_REQUESTED_AT] } : {}),
      ...(st?.lastHandledRunRequest !== undefined ? { lastHandledRunRequest: st.lastHandledRunRequest } : {}),
      now,
    });
    const fields = afterDecision(prev, d, lastScheduledBefore);
    const notes: EventNote[] = [];
    if (d.skipped === "ConcurrencyForbid") notes.push({ type: "Warning", reason: EventReasons.RunSkipped, message: `scheduled run skipped: concurrencyPolicy Forbid and run ${active.map((r) => r.id).join(", ")} is active` });
    if (d.skipped === "MissedStartingDeadline") notes.push({ type: "Warning", reason: EventReasons.RunSkipped, message: `scheduled run at ${rfc3339(d.lastScheduled)} not started: past startingDeadlineSeconds` });
    if (d.tooManyMissed) notes.push({ type: "Warning", reason: EventReasons.RunSkipped, message: "more than 100 scheduled runs were missed; one catch-up run at most" });
    const scheduled = spec.schedule !== undefined && spec.suspend !== true;

    const fresh = newRuns(d, active, st?.lastRun);
    if (fresh.length > 0) {
      // Recorded before any child exists: a restart resumes this run id instead of starting another.
      const newest = fresh[fresh.length - 1] as ActiveRun;
      const lastRun: RunStatus = { id: newest.id, scheduledTime: newest.scheduledTime, startedAt: rfc3339(now), phase: "Pending", targets: 0, verified: 0, failed: 0 };
      const activeRuns = [...active, ...fresh];
      for (const r of fresh) {
        const onDemand = d.start.find((t) => t.kind === "OnDemand" && runId(t.scheduledTime) === r.id);
        const how = onDemand?.kind === "OnDemand" ? ` (on demand: ${onDemand.token})` : " (scheduled)";
        notes.push({ type: "Normal", reason: EventReasons.RunStarted, message: `run ${r.id} started${how}` });
      }
      return {
        readiness: scheduleReadiness({ activeRuns, lastRun, scheduled, next: d.next }),
        result: requeueAfter(0),
        extra: { status: { ...fields, activeRuns, lastRun }, notes, completed: [] },
      };
    }

    const call: CallOptions = { signal: ctx.signal };
    let lastRun = st?.lastRun;
    let lastSuccessfulTime = fields.lastSuccessfulTime;
    const still: ActiveRun[] = [];
    const completed: ("Succeeded" | "Failed")[] = [];
    const pace: Pace = { throttledForMs: [], otherPending: false };
    const hooks = hooksOf(spec);
    // One hook per reconcile, its outcome written to status before the next: a restart neither
    // runs a pre hook twice nor forgets the post hooks of pre hooks that ran.
    let hookPending = false;
    const runOneHook = async (run: RunStatus, phase: "pre" | "post"): Promise<RunStatus> => {
      const done = run.hooksDone ?? { pre: 0, post: 0 };
      const hook = hooks[phase][done[phase]];
      if (!hook) return run;
      const rs = deps.exec
        ? await runHook({ client: deps.client, exec: deps.exec, now: deps.now }, ns, hook, phase, ctx.signal)
        : [{ name: hook.name, phase, durationMs: 0, result: "Failed" as const, message: "the operator has no pods/exec port" }];
      for (const r of rs) {
        notes.push({ type: hookFailed(r) ? "Warning" : "Normal", reason: hookFailed(r) ? EventReasons.HookFailed : EventReasons.HookSucceeded, message: describeResult(r, `run ${run.id}: `) });
      }
      const failure = run.hookFailure ?? hookVerdict(hook, phase, rs);
      hookPending = true;
      return {
        ...run,
        phase: "Running",
        hooks: [...(run.hooks ?? []), ...rs].slice(-MAX_HOOK_RESULTS),
        hooksDone: { ...done, [phase]: done[phase] + 1 },
        ...(failure ? { hookFailure: failure } : {}),
      };
    };
    for (const run of active) {
      const isLast = lastRun?.id === run.id;
      // Hooks belong to the run status records (the last one); older concurrent runs had theirs.
      if (isLast && lastRun && (lastRun.hooksDone?.pre ?? 0) < hooks.pre.length && lastRun.hookFailure === undefined) {
        lastRun = await runOneHook(lastRun, "pre");
        still.push(run);
        continue;
      }
      // A failed pre hook (onError Fail): no snapshot is taken, the post hooks still run.
      const skip = isLast && lastRun?.hookFailure !== undefined && (lastRun.results ?? []).length === 0;
      const results = skip ? [] : await observeRun(obj, run, isLast ? (lastRun?.results ?? []) : [], pace, call);
      if (isLast && lastRun && (lastRun.hooksDone?.post ?? 0) < hooks.post.length) {
        // The children exist now (or could not be made): thaw without waiting for verification.
        lastRun = await runOneHook({ ...lastRun, results }, "post");
        still.push(run);
        continue;
      }
      const startedAt = isLast && lastRun?.startedAt ? new Date(lastRun.startedAt) : (runTime(run.id) ?? now);
      const outcome = runOutcome(results, startedAt, now, deadlineMs);
      const hookFailure = isLast ? lastRun?.hookFailure : undefined;
      const o = hookFailure && outcome.phase !== "Failed" ? { ...outcome, phase: "Failed" as const } : outcome;
      const finished = o.phase === "Succeeded" || o.phase === "Failed";
      if (isLast && lastRun) {
        lastRun = {
          ...lastRun,
          phase: o.phase,
          targets: o.targets,
          verified: o.verified,
          failed: o.failed,
          results: o.results,
          ...(finished ? { completedAt: rfc3339(now) } : {}),
        };
      }
      if (!finished) {
        still.push(run);
        continue;
      }
      completed.push(o.phase as "Succeeded" | "Failed");
      if (o.phase === "Succeeded") {
        lastSuccessfulTime = rfc3339(now);
        notes.push({ type: "Normal", reason: EventReasons.RunSucceeded, message: `run ${run.id} succeeded: ${o.verified}/${o.targets} children verified` });
      } else {
        if (hookFailure) notes.push({ type: "Warning", reason: EventReasons.RunFailed, message: `run ${run.id} failed: ${hookFailure}` });
        const failedOnes = o.results.filter((r) => r.phase === "Failed");
        const list = failedOnes
          .slice(0, 3)
          .map((r) => `${r.kind} ${r.name || r.target}: ${r.message ?? ""}`)
          .join("; ");
        if (!hookFailure || o.failed > 0) {
          notes.push({ type: "Warning", reason: EventReasons.RunFailed, message: `run ${run.id} failed: ${o.failed}/${o.targets} children failed${list ? ` (${list})` : ""}` });
        }
      }
    }

    let counts = fields.counts;
    if (completed.length > 0) {
      try {
        counts = await applyRetention(obj, deps.cache.get(`${ns}/${obj.metadata.name}`) ?? (obj as unknown as KubeObject), new Set(still.map((r) => r.id)), call);
      } catch (e) {
        // Retention runs again after the next run; the run's result stands.
        notes.push({ type: "Warning", reason: EventReasons.RetentionFailed, message: e instanceof Error ? e.message : String(e) });
      }
    }

    const { activeRuns: _a, lastRun: _l, counts: _c, lastSuccessfulTime: _s, ...rest } = fields;
    const status: Fields = {
      ...rest,
      ...(still.length > 0 ? { activeRuns: still } : {}),
      ...(lastRun ? { lastRun } : {}),
      ...(counts ? { counts } : {}),
      ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}),
    };
    // A suspended schedule still wakes at its times, so each passes as skipped: resumed, it waits
    // for the next time instead of catching up the one that passed while it was suspended.
    const wake = d.next ?? (spec.schedule !== undefined && spec.suspend === true ? nextRun(spec.schedule, tz, now) : undefined);
    const delay = hookPending ? 0 : requeueDelay(still.length, wake, now, pollDelay(pollMs, pace), maxMs);
    return {
      readiness: scheduleReadiness({ activeRuns: still, lastRun, scheduled, next: d.next }),
      result: delay === undefined ? done() : requeueAfter(delay),
      extra: { status, notes, completed },
    };
  }

  // --- deletion ---

  async function finalize(obj: SnapshotSchedule, ctx: ReconcileContext): Promise<FinalizeOutcome<Extra>> {
    const s = refOf(obj);
    if ((obj.spec.childDeletionPolicy ?? "Retain") === "Retain") {
      return { release: { type: "Normal", reason: EventReasons.ChildrenRetained, message: "childDeletionPolicy Retain: children and their snapshots are kept" } };
    }
    const call: CallOptions = { signal: ctx.signal };
    const kinds: ResourceType[] = [npsType, ...(obj.spec.template.volumes ? [volumeSnapshotType] : [])];
    let left = 0;
    for (const rt of kinds) {
      const items = (await deps.client.list(rt, s.namespace, { labelSelector: childSelector(s), ...call })).items;
      for (const o of items) {
        if (o.metadata.deletionTimestamp) continue;
        try {
          await deps.client.delete(rt, s.namespace, o.metadata.name, { propagationPolicy: "Background", ...call });
        } catch (e) {
          if (!isKubeError(e, "notFound")) throw e;
        }
      }
    }
    const disks = obj.spec.template.disks;
    if (disks) {
      const sub = disks.subscriptionId ?? deps.defaultSubscriptionId ?? "";
      const listed = await deps.arm.computeSnapshots.listByTag(
        { subscriptionId: sub, resourceGroups: [disks.snapshotResourceGroup], tag: { name: TAG_SCHEDULE, value: scheduleTagValue(s) } },
        call,
      );
      if (!listed.ok) throw new Error(`listing disk snapshots to delete: ${describeArmError(listed.error)}`);
      for (const snap of listed.value) {
        left++;
        const ref = parseComputeSnapshotId(snap.id);
        if (ref && snap.provisioningState !== "deleting") {
          const del = await deps.arm.computeSnapshots.beginDelete(ref, call);
          if (del.kind === "failed") throw new Error(`deleting ${snap.id}: ${describeArmError(del.error)}`);
          if (del.kind === "succeeded") left--;
        }
      }
    }
    if (left > 0) {
      return {
        verdict: {
          readiness: { state: "progressing", reason: Reasons.Deleting, message: `childDeletionPolicy Delete: waiting for ${left} disk snapshot(s) to be deleted` },
          result: requeueAfter(pollMs),
          extra: { status: fieldsOf(obj.status), notes: [], completed: [] },
        },
      };
    }
    return { release: { type: "Normal", reason: EventReasons.ChildrenDeleted, message: "childDeletionPolicy Delete: children and disk snapshots deleted" } };
  }

  return createFrame<SnapshotSchedule, SnapshotScheduleStatus, Extra>(
    {
      resource: SnapshotScheduleKind.resource,
      finalizer: FINALIZER,
      parse: (raw) => SnapshotScheduleKind.parse(raw),
      steps,
      finalize,
      statusFields: (prev, extra) => (extra ? extra.status : fieldsOf(prev)),
      afterStatus: (obj, v) => {
        const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
        if (v.extra) deps.metrics?.observe(key, v.extra.status);
        for (const p of v.extra?.completed ?? []) deps.metrics?.runCompleted(key, p);
        for (const n of v.extra?.notes ?? []) {
          const raw = deps.cache.get(key);
          if (raw) void deps.events.record(raw, n.type, n.reason, n.message).catch((e: unknown) => deps.log?.warn({ err: String(e) }, "could not record event"));
        }
      },
      forget: (key) => deps.metrics?.forget(key),
    },
    { client: deps.client, cache: deps.cache, events: deps.events, now: deps.now },
  );
}
