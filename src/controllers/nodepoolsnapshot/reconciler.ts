// The NodePoolSnapshot reconciler: the kind's steps on the shared frame (../common/frame.ts). It
// decides with pure functions (desired, tags, status) and acts through the ARM ports; the frame
// reads the cache, guards our own writes, handles the finalizer and writes status once. ARM
// node-pool snapshots are synchronous, so no reconcile ever waits on a long-running operation here.
import type { CallOptions } from "../../azure/deadline.ts";
import type { ArmError } from "../../azure/errors.ts";
import { describeArmError } from "../../azure/errors.ts";
import { nodePoolSnapshotId, parseNodePoolSnapshotId, sameResourceId, type GroupResourceRef } from "../../azure/ids.ts";
import type { AgentPoolsPort } from "../../azure/ports/agentPools.ts";
import type { ManagedClustersPort } from "../../azure/ports/managedClusters.ts";
import type { NodePoolSnapshot as ArmSnapshot, NodePoolSnapshotsPort } from "../../azure/ports/nodePoolSnapshots.ts";
import type { ArmResult } from "../../azure/result.ts";
import { isTrue } from "../../conditions/conditions.ts";
import { type AllowedScopes, scopeAllowed } from "../../config.ts";
import { NodePoolSnapshotKind, effectiveDeletionPolicy, isAdopted, type NodePoolSnapshot, type NodePoolSnapshotStatus } from "../../crds/nodepoolsnapshot.ts";
import { objectKey, type KubeClient, type KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { requeueAfter, retry, TransientError, type ReconcileResult } from "../../runtime/result.ts";
import { armOutcome, isResourceGroupNotFound, stalledVerdict } from "../common/arm.ts";
import { createFrame, type FinalizeOutcome, type Progress, type StepOutcome, type Verdict } from "../common/frame.ts";
import { desiredFor, isOurs, operatorTags, ownerOf, type Defaults, type Desired } from "./desired.ts";
import { EventReasons, Reasons } from "./reasons.ts";
import { statusFields, type StatusExtra } from "./status.ts";
import { createGroupListing } from "./listing.ts";
import { createSourceGate, SOURCE_BUSY_RECHECK_MS, SOURCE_STATE_TTL_MS } from "./source.ts";
import { planTags } from "./tags.ts";

export const FINALIZER = "aksnap.io/snapshot-protection";

export interface NodePoolSnapshotArm {
  nodePoolSnapshots: NodePoolSnapshotsPort;
  agentPools: AgentPoolsPort;
  managedClusters: ManagedClustersPort;
}

export interface NodePoolSnapshotDeps {
  client: KubeClient;
  /** The informer cache: the reconciler reads, never lists. */
  cache: { get(key: string): KubeObject | undefined };
  arm: NodePoolSnapshotArm;
  events: EventRecorder;
  defaults: Defaults;
  allowedScopes: AllowedScopes | undefined;
  /**
   * The longest an out-of-band deletion or tag drift of a Ready object goes unseen. Each Ready
   * object is verified every 65–75 % of it (jittered) against a LIST of its resource group at most
   * a quarter of it old (one LIST per group serves every object of the group), so the sum stays
   * within one period. After a start, each Ready object's first check falls at a random point in
   * the first 75 % of it: a restart does not read every object at once.
   */
  resyncPeriodMs: number;
  /** How often a Stalled object whose cause lies in the world (not the spec) is looked at again. */
  stalledRecheckMs: number;
  now: () => Date;
  /** [0,1) — jitter for resyncs so 100 objects do not hit ARM in the same second. */
  random: () => number;
  /** How soon a busy source pool (upgrading, scaling, ...) is looked at again; grows with per-key backoff. */
  sourceBusyRecheckMs?: number;
  /**
   * How long a source pool seen ready (cluster running, nothing in progress) is trusted without a
   * re-read: a batch of snapshots of one pool reads the cluster and the pool once, not per object.
   * A PUT refused with 409 (the pool became busy meanwhile) drops the entry at once.
   */
  sourceStateTtlMs?: number;
  /**
   * A new generation's ARM work that has not finished after this long is shown as Reconciling
   * (one interim status write) while it continues; faster work writes its verdict only. Default
   * ACKNOWLEDGE_AFTER_MS.
   */
  acknowledgeAfterMs?: number;
  /** Resolves after ms (or when the signal aborts); injectable for tests. Default: a timer. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Default for NodePoolSnapshotDeps.acknowledgeAfterMs. */
export const ACKNOWLEDGE_AFTER_MS = 1_000;

/** Why acknowledgedIfSlow's timer is cancelled (any value will do; one object, made once). */
const WORK_FINISHED = Object.freeze({ reason: "work finished" });

function timerDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

export { SOURCE_BUSY_RECHECK_MS, SOURCE_STATE_TTL_MS } from "./source.ts";

/** Verification cadence of a Ready object as fractions of the resync period (see resyncPeriodMs). */
export const RESYNC_MIN_FRACTION = 0.65;
export const RESYNC_JITTER_FRACTION = 0.1;
export const LISTING_MAX_AGE_FRACTION = 0.25;
/** A failed group LIST without Retry-After answers its group's lookups with its error this long. */
export const LISTING_FAILURE_HOLD_MS = 1_000;

/** A transient ARM answer (429, 5xx, timeout, 409 busy): says nothing about the snapshot. */
function isTransientArm(e: ArmError): boolean {
  return e.kind === "throttled" || e.kind === "transient" || e.kind === "conflict";
}

type V = Verdict<StatusExtra>;
type Keep = { keep: true; result: ReconcileResult };
/** A GET of the snapshot made by the frame's prefetch, and which snapshot it was for. */
interface Early {
  snapshotId: string;
  got: ArmResult<ArmSnapshot>;
}

export function createNodePoolSnapshotReconciler(deps: NodePoolSnapshotDeps): Reconciler {
  // Per key (the uid guards against a deleted and re-created object of the same name): what was
  // verified against ARM — generation and the operator's tags, which follow labels that do not bump
  // the generation — and when the next (jittered) resync is due.
  const verified = new Map<string, { uid: string; generation: number; tags: string; dueAt: number }>();
  const tagsKey = (o: NodePoolSnapshot): string => JSON.stringify(operatorTags(o));
  const jittered = (ms: number): number => Math.round(ms * (0.9 + 0.2 * deps.random()));
  /** The next verification of a Ready object: 65–75 % of the period (+ a listing ≤ 25 % old = one period). */
  const resyncAfter = (): number => Math.round(deps.resyncPeriodMs * (RESYNC_MIN_FRACTION + RESYNC_JITTER_FRACTION * deps.random()));
  const listing = createGroupListing({
    port: deps.arm.nodePoolSnapshots,
    now: () => deps.now().getTime(),
    maxAgeMs: Math.round(deps.resyncPeriodMs * LISTING_MAX_AGE_FRACTION),
    failureHoldMs: LISTING_FAILURE_HOLD_MS,
  });
  const policy = { recheckMs: () => jittered(deps.stalledRecheckMs) };
  const fromArmError = (e: ArmError, doing: string): V => armOutcome(e, doing, policy);
  /** A spec problem waits for a new generation (terminal); a world problem is rechecked slowly. */
  const stalled = (reason: string, message: string, worldMayChange: boolean): V => stalledVerdict(reason, message, worldMayChange ? policy.recheckMs() : undefined);
  const source = createSourceGate({
    arm: deps.arm,
    now: () => deps.now().getTime(),
    busyRecheckMs: deps.sourceBusyRecheckMs ?? SOURCE_BUSY_RECHECK_MS,
    stateTtlMs: deps.sourceStateTtlMs ?? SOURCE_STATE_TTL_MS,
    stalled,
    fromArmError,
  });

  function scopeCheck(obj: NodePoolSnapshot, d: Desired): V | undefined {
    const ns = obj.metadata.namespace ?? "";
    const ids = d.mode === "capture" ? [d.snapshotId, d.sourceId] : [d.snapshotId];
    const denied = ids.find((id) => !scopeAllowed(deps.allowedScopes, ns, id));
    return denied ? stalled(Reasons.ScopeNotAllowed, `namespace ${ns} may not use ${denied} (operator flag --allowed-scopes)`, false) : undefined;
  }

  const ready = (s: ArmSnapshot, sourceId: string | undefined): V["readiness"] => ({
    state: "ready",
    reason: Reasons.SnapshotReady,
    message: `snapshot ${s.name} of ${sourceId ?? s.sourceResourceId ?? "an agent pool"} (Kubernetes ${s.kubernetesVersion ?? "?"}, node image ${s.nodeImageVersion ?? "?"})`,
  });

  /** `listed`: `existing` came from a group listing (up to a quarter period old), not a GET. */
  async function observeExisting(
    obj: NodePoolSnapshot,
    d: Desired,
    existing: ArmSnapshot,
    call: CallOptions,
    onArmError: (e: ArmError, doing: string) => V | Keep = fromArmError,
    listed = false,
  ): Promise<V | Keep> {
    if (d.mode === "capture" && !isOurs(obj, existing)) {
      // Neither our owner tag nor the snapshot our status recorded: someone else's (a golden
      // snapshot of the same pool, another namespace's object). Nothing is written to it.
      const owner = ownerOf(existing.tags);
      return stalled(
        Reasons.SnapshotNameConflict,
        `ARM snapshot ${d.snapshotId} already exists and is not this object's (${owner === undefined ? "no aksnap.io-owner tag" : `aksnap.io-owner is ${owner}`}); ` +
          `it is left untouched: choose another spec.snapshot.name`,
        true,
      );
    }
    if (d.mode === "capture" && !sameResourceId(existing.sourceResourceId, d.sourceId)) {
      return stalled(
        Reasons.SnapshotNameConflict,
        `ARM snapshot ${d.snapshotId} already exists and was taken from ${existing.sourceResourceId ?? "an unknown source"}, not ${d.sourceId}; choose another spec.snapshot.name`,
        true,
      );
    }
    if (d.mode === "capture" && d.location && d.location.toLowerCase() !== existing.location.toLowerCase().replace(/\s/g, "")) {
      return stalled(Reasons.LocationMismatch, `ARM snapshot ${d.snapshotId} exists in ${existing.location}, but spec.snapshot.location is ${d.location}`, false);
    }
    // Adopted snapshots are someone else's: add the user's tags, never the owner tag.
    const wanted = d.mode === "adopt" ? (obj.spec.tags ?? {}) : d.tags;
    const plan = planTags(existing.tags, wanted, obj.status?.managedTagKeys ?? []);
    let snapshot = existing;
    if (plan.patch && listed) {
      // The PATCH replaces every tag: compute it from a fresh read, not a listing that may miss a
      // tag someone (Azure Policy) added since.
      const got = await deps.arm.nodePoolSnapshots.get(d.snapshot, call);
      if (!got.ok) return got.error.kind === "notFound" ? absent(obj, d, got.error, call) : onArmError(got.error, `reading snapshot ${d.snapshotId}`);
      return observeExisting(obj, d, got.value, call, onArmError);
    }
    if (plan.patch) {
      const r = await deps.arm.nodePoolSnapshots.updateTags(d.snapshot, plan.patch, call);
      if (!r.ok) return onArmError(r.error, `updating tags of ${d.snapshotId}`);
      snapshot = r.value;
    }
    const tagNote = plan.patch ? " (tags updated)" : "";
    let event: V["event"];
    if (!obj.status?.snapshotId) {
      event =
        d.mode === "adopt"
          ? { type: "Normal", reason: EventReasons.Adopted, message: `mirroring existing snapshot ${snapshot.id}${tagNote}` }
          : // Found before we recorded it: a previous process created it and stopped before its status write.
            { type: "Normal", reason: EventReasons.Found, message: `snapshot ${snapshot.id} already exists for this source; using it${tagNote}` };
    } else if (plan.patch) {
      event = { type: "Normal", reason: EventReasons.TagsUpdated, message: `tags of ${d.snapshotId} updated` };
    }
    return {
      readiness: ready(snapshot, undefined),
      result: requeueAfter(resyncAfter()),
      extra: { snapshot, managedTagKeys: plan.managedKeys },
      ...(event ? { event } : {}),
    };
  }

  async function create(d: Extract<Desired, { mode: "capture" }>, recreating: boolean, call: CallOptions): Promise<V> {
    const gate = await source.ready(d, call);
    if ("readiness" in gate) return gate;
    const region = gate.region;
    if (d.location && d.location.toLowerCase() !== region) {
      return stalled(
        Reasons.LocationMismatch,
        `AKS creates a node-pool snapshot only in its source pool's region: ${d.sourceId} is in ${region}, spec.snapshot.location is ${d.location}. ` +
          `Take the snapshot in ${region} (omit spec.snapshot.location); it can then be used to create pools in other regions`,
        false,
      );
    }
    const put = await deps.arm.nodePoolSnapshots.put(d.snapshot, { location: region, sourceResourceId: d.sourceId, tags: d.tags }, call);
    if (!put.ok) {
      if (put.error.kind === "notFound" && !isResourceGroupNotFound(put.error)) {
        return stalled(Reasons.SourceAgentPoolNotFound, `creating ${d.snapshotId}: ${describeArmError(put.error)}`, true);
      }
      if (put.error.kind === "conflict") {
        // 409 OperationNotAllowed: the pool or cluster became busy (or stopped) since we looked.
        source.forget(d);
        return source.busy(`creating ${d.snapshotId}: ${describeArmError(put.error)}; waiting for the source to be ready`, put.error.retryAfterMs);
      }
      return fromArmError(put.error, `creating snapshot ${d.snapshotId}`);
    }
    const s = put.value;
    return {
      readiness: ready(s, d.sourceId),
      result: requeueAfter(resyncAfter()),
      extra: { snapshot: s, managedTagKeys: Object.keys(d.tags) },
      event: { type: "Normal", reason: recreating ? EventReasons.Recreated : EventReasons.Created, message: `created snapshot ${s.id} (Kubernetes ${s.kubernetesVersion ?? "?"}, node image ${s.nodeImageVersion ?? "?"})` },
    };
  }

  /** `early`: the GET of d.snapshot, when the frame's prefetch already made it. */
  async function reconcileLive(obj: NodePoolSnapshot, d: Desired, call: CallOptions, early?: Early): Promise<V | Keep> {
    const got = early?.snapshotId === d.snapshotId ? early.got : await deps.arm.nodePoolSnapshots.get(d.snapshot, call);
    if (got.ok) return observeExisting(obj, d, got.value, call);
    if (got.error.kind !== "notFound") return fromArmError(got.error, `reading snapshot ${d.snapshotId}`);
    return absent(obj, d, got.error, call);
  }

  /**
   * Last known good: a Ready object whose verification got no answer about the snapshot (429, 5xx,
   * timeout, 409) stays Ready — status untouched, no event — and is retried with backoff, never
   * sooner than Retry-After. Only a definitive answer (404, not ours) changes Ready: GitOps tools
   * must not see healthy objects regress because ARM was busy (e.g. every restart under throttling).
   */
  function holdReady(e: ArmError, doing: string): V | Keep {
    if (!isTransientArm(e)) return fromArmError(e, doing);
    const notBefore = e.retryAfterMs ?? (e.kind === "throttled" ? 1000 : undefined);
    return { keep: true, result: retry(new TransientError(`${doing}: ${describeArmError(e)} (Ready kept: last known good)`), notBefore) };
  }

  /** A Ready object's periodic check: its group's listing, a GET only when the listing lacks it. */
  async function verifyEstablished(obj: NodePoolSnapshot, d: Desired, call: CallOptions): Promise<V | Keep> {
    const found = await listing.lookup(d.snapshot, call);
    if (found.kind === "failed") return holdReady(found.error, `listing snapshots of resource group ${d.snapshot.resourceGroup}`);
    if (found.kind === "listed") return observeExisting(obj, d, found.snapshot, call, holdReady, true);
    // Not in the listing: it may predate the snapshot, so only a GET's 404 says it is gone.
    const got = await deps.arm.nodePoolSnapshots.get(d.snapshot, call);
    if (got.ok) return observeExisting(obj, d, got.value, call, holdReady);
    if (got.error.kind !== "notFound") return holdReady(got.error, `reading snapshot ${d.snapshotId}`);
    return absent(obj, d, got.error, call);
  }

  async function absent(obj: NodePoolSnapshot, d: Desired, error: ArmError, call: CallOptions): Promise<V> {
    if (isResourceGroupNotFound(error)) {
      return stalled(Reasons.ResourceGroupNotFound, `resource group ${d.snapshot.resourceGroup} of ${d.snapshotId} not found (the operator does not create resource groups)`, true);
    }
    if (d.mode === "adopt") {
      return stalled(Reasons.SnapshotMissing, `adopted snapshot ${d.snapshotId} does not exist in ARM; it is never created`, true);
    }
    // Recorded in status = this object had it. createdAt is not part of the test: ARM may omit
    // systemData, and Report must never turn into a recreate because of that.
    const hadIt = obj.status?.snapshotId !== undefined && sameResourceId(obj.status.snapshotId, d.snapshotId);
    if (hadIt && (obj.spec.missingSnapshotPolicy ?? "Report") === "Report") {
      // Stalled (kstatus Failed): GitOps tools must see it; a person decides (see docs/api.md).
      return stalled(
        Reasons.SnapshotMissing,
        `snapshot ${d.snapshotId} was deleted outside the operator; not recreating it (spec.missingSnapshotPolicy is Report: a new snapshot would capture today's node image, not the one backed up)`,
        true,
      );
    }
    return create(d, hadIt, call);
  }

  // --- the kind's steps (a live object with our finalizer) ---

  /** Ready for this generation with a snapshot recorded: what a periodic check verifies. */
  function isEstablished(obj: NodePoolSnapshot): boolean {
    return isTrue(obj.status?.conditions, "Ready") && obj.status?.observedGeneration === (obj.metadata.generation ?? 0) && obj.status?.snapshotId !== undefined;
  }

  /**
   * Steady state costs nothing: no ARM call, no write, until the jittered resync is due. A Ready
   * object first seen by this process (a start, a failover) is not read at once: its first check
   * falls at a random point in the first 75 % of the period, so a restart with thousands of Ready
   * objects does not read ARM for all of them in the same minute. Unless its operator tags changed
   * meanwhile (a label edit does not bump the generation): then the drift is repaired now.
   */
  function steadyState(obj: NodePoolSnapshot, d: Desired): ReconcileResult | undefined {
    if (!isEstablished(obj)) return undefined;
    const key = objectKey(obj);
    const generation = obj.metadata.generation ?? 0;
    const nowMs = deps.now().getTime();
    let seen = verified.get(key);
    if (seen?.uid !== obj.metadata.uid && tagKeysRecorded(obj, d)) {
      seen = { uid: obj.metadata.uid ?? "", generation, tags: tagsKey(obj), dueAt: nowMs + Math.floor(deps.random() * deps.resyncPeriodMs * (RESYNC_MIN_FRACTION + RESYNC_JITTER_FRACTION)) };
      verified.set(key, seen);
    }
    const fresh = seen?.uid === obj.metadata.uid && seen?.generation === generation && seen.tags === tagsKey(obj) && nowMs < seen.dueAt;
    return fresh && seen ? requeueAfter(seen.dueAt - nowMs) : undefined;
  }

  /** Whether status records exactly the tag keys the object asks for now (values are checked by ARM reads). */
  function tagKeysRecorded(obj: NodePoolSnapshot, d: Desired): boolean {
    const want = Object.keys(d.mode === "adopt" ? (obj.spec.tags ?? {}) : d.tags).sort();
    const have = [...(obj.status?.managedTagKeys ?? [])].sort();
    return want.length === have.length && want.every((k, i) => k === have[i]);
  }

  /**
   * Runs the work; if it is still running after acknowledgeAfterMs, shows `readiness` meanwhile
   * (kstatus, Flux and Argo CD see Reconciling during a slow PUT, not a stale Ready). A fast
   * create thus costs one status write instead of two, and one reconcile instead of two.
   */
  async function acknowledgedIfSlow<R>(work: Promise<R>, progress: Progress, readiness: V["readiness"]): Promise<R> {
    const finished = new AbortController();
    const slow = (deps.delay ?? timerDelay)(deps.acknowledgeAfterMs ?? ACKNOWLEDGE_AFTER_MS, finished.signal).then(() => !finished.signal.aborted);
    const fast = work.then(
      () => false,
      () => false,
    );
    if (await Promise.race([fast, slow])) await progress(readiness);
    // With a reason: abort() without one builds a DOMException (and its stack) on every create.
    finished.abort(WORK_FINISHED);
    return work;
  }

  /**
   * The frame's prefetch for an object it is adding the finalizer to (a new one): the GET of its
   * snapshot, a read only, sent alongside the finalizer patch. The PUT that creates the snapshot
   * still waits for the finalizer (in steps), so no snapshot can exist that a deletion would orphan.
   */
  async function prefetch(obj: NodePoolSnapshot, ctx: ReconcileContext): Promise<Early | undefined> {
    const d = desiredFor(obj, deps.defaults);
    if (!d.ok || scopeCheck(obj, d.value) || isEstablished(obj)) return undefined;
    return { snapshotId: d.value.snapshotId, got: await deps.arm.nodePoolSnapshots.get(d.value.snapshot, { signal: ctx.signal }) };
  }

  async function steps(obj: NodePoolSnapshot, ctx: ReconcileContext, progress: Progress, early?: Early): Promise<StepOutcome<StatusExtra>> {
    const d = desiredFor(obj, deps.defaults);
    if (!d.ok) return stalled(d.reason, d.message, d.reason === Reasons.SubscriptionUnknown);
    const denied = scopeCheck(obj, d.value);
    if (denied) return denied;
    const steady = steadyState(obj, d.value);
    if (steady) return { keep: true, result: steady };
    // Every ARM call carries the reconcile's signal: a reconcile timeout or a shutdown ends it.
    const call = { signal: ctx.signal };
    // A new generation: watchers (kstatus, Flux, Argo CD) must not see a stale Ready while slow
    // work is in flight, so it is acknowledged as Reconciling if the work takes longer than ≈ 1 s.
    const generation = obj.metadata.generation ?? 0;
    if (obj.status?.observedGeneration !== generation) {
      const reason = obj.status?.snapshotId ? Reasons.UpdatingTags : Reasons.Creating;
      return acknowledgedIfSlow(reconcileLive(obj, d.value, call, early), progress, { state: "progressing", reason, message: `reconciling generation ${generation}` });
    }
    return isEstablished(obj) ? verifyEstablished(obj, d.value, call) : reconcileLive(obj, d.value, call);
  }

  // --- deletion ---

  const release = (type: "Normal" | "Warning", reason: string, message: string): FinalizeOutcome<StatusExtra> => ({ release: { type, reason, message } });
  const keep = (v: V): FinalizeOutcome<StatusExtra> => ({
    verdict: v.readiness.state === "progressing" ? { ...v, readiness: { ...v.readiness, reason: Reasons.Deleting } } : v,
  });

  async function finalize(obj: NodePoolSnapshot, ctx: ReconcileContext): Promise<FinalizeOutcome<StatusExtra>> {
    const call: CallOptions = { signal: ctx.signal };
    if (effectiveDeletionPolicy(obj.spec) === "Retain") return release("Normal", EventReasons.Retained, `deletionPolicy Retain: ARM snapshot ${obj.status?.snapshotId ?? "(none)"} left in place`);
    // The id our status recorded, not one recomputed from today's flags: a changed
    // --default-subscription-id must not orphan the snapshot (or point at another one).
    const recorded = obj.status?.snapshotId ? parseNodePoolSnapshotId(obj.status.snapshotId) : undefined;
    const d = desiredFor(obj, deps.defaults);
    const target: GroupResourceRef | undefined = recorded ?? (d.ok ? d.value.snapshot : undefined);
    if (!target) return release("Normal", EventReasons.Deleted, `nothing to delete: ${d.ok ? "no snapshot recorded" : d.message}`);
    const targetId = nodePoolSnapshotId(target);
    const ns = obj.metadata.namespace ?? "";
    if (!scopeAllowed(deps.allowedScopes, ns, targetId)) return release("Warning", Reasons.ScopeNotAllowed, `not deleting ${targetId}: outside the namespace's allowed scopes`);
    const got = await deps.arm.nodePoolSnapshots.get(target, call);
    if (!got.ok && got.error.kind !== "notFound") return keep(fromArmError(got.error, `reading ${targetId} before deleting it`));
    if (!got.ok) return release("Normal", EventReasons.Deleted, `snapshot ${targetId} is already gone`);
    // Delete only what is ours. An adopted snapshot with deletionPolicy Delete was handed to us by the spec.
    if (!isAdopted(obj.spec) && !isOurs(obj, got.value)) {
      const owner = ownerOf(got.value.tags);
      return release("Warning", Reasons.SnapshotNameConflict, `not deleting ${targetId}: it is not this object's (${owner === undefined ? "no aksnap.io-owner tag" : `aksnap.io-owner is ${owner}`})`);
    }
    const del = await deps.arm.nodePoolSnapshots.delete(target, call);
    if (!del.ok) {
      const v = fromArmError(del.error, `deleting snapshot ${targetId}`);
      if (v.readiness.state !== "stalled") return keep(v);
      const message = `${v.readiness.message}; set spec.deletionPolicy: Retain to release the object without deleting the snapshot`;
      return keep({ ...v, readiness: { ...v.readiness, reason: Reasons.DeleteFailed, message }, event: { type: "Warning", reason: Reasons.DeleteFailed, message } });
    }
    return release("Normal", EventReasons.Deleted, `deleted snapshot ${targetId}`);
  }

  return createFrame<NodePoolSnapshot, NodePoolSnapshotStatus, StatusExtra, Early>(
    {
      resource: NodePoolSnapshotKind.resource,
      finalizer: FINALIZER,
      parse: (raw) => NodePoolSnapshotKind.parse(raw),
      prefetch,
      steps,
      finalize,
      statusFields,
      afterStatus: (obj, v) => {
        if (v.readiness.state !== "ready" || v.result.kind !== "requeueAfter") return;
        const dueAt = deps.now().getTime() + v.result.afterMs;
        verified.set(objectKey(obj), { uid: obj.metadata.uid ?? "", generation: obj.metadata.generation ?? 0, tags: tagsKey(obj), dueAt });
      },
      forget: (key) => verified.delete(key),
    },
    { client: deps.client, cache: deps.cache, events: deps.events, now: deps.now },
  );
}
