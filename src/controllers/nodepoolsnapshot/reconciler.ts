// The NodePoolSnapshot reconciler: the only orchestrator for the kind. It reads the object from
// the informer cache, decides with pure functions (desired, tags, status) and acts: ARM calls
// through the ports, one status write, events. ARM node-pool snapshots are synchronous, so no
// reconcile ever waits on a long-running operation here.
import type { ArmError } from "../../azure/errors.ts";
import { describeArmError } from "../../azure/errors.ts";
import { managedClusterId, sameResourceId, type GroupResourceRef } from "../../azure/ids.ts";
import type { AgentPoolsPort } from "../../azure/ports/agentPools.ts";
import type { ManagedClustersPort } from "../../azure/ports/managedClusters.ts";
import type { NodePoolSnapshot as ArmSnapshot, NodePoolSnapshotsPort } from "../../azure/ports/nodePoolSnapshots.ts";
import type { Readiness } from "../../conditions/conditions.ts";
import { isTrue } from "../../conditions/conditions.ts";
import { type AllowedScopes, scopeAllowed } from "../../config.ts";
import { NodePoolSnapshotKind, effectiveDeletionPolicy, type NodePoolSnapshot, type NodePoolSnapshotStatus } from "../../crds/nodepoolsnapshot.ts";
import { objectKey, type KubeClient, type KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { isKubeError } from "../../kube/errors.ts";
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "../../kube/finalizers.ts";
import { writeStatus } from "../../kube/status.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { done, requeueAfter, retry, type ReconcileResult } from "../../runtime/result.ts";
import { desiredFor, operatorTags, type Defaults, type Desired } from "./desired.ts";
import { EventReasons, Reasons } from "./reasons.ts";
import { nextStatus } from "./status.ts";
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
  /** How often a Ready object is re-read from ARM (out-of-band deletion, tag drift). */
  resyncPeriodMs: number;
  /** How often a Stalled object whose cause lies in the world (not the spec) is looked at again. */
  stalledRecheckMs: number;
  now: () => Date;
  /** [0,1) — jitter for resyncs so 100 objects do not hit ARM in the same second. */
  random: () => number;
}

type Verdict = { readiness: Readiness; result: ReconcileResult; snapshot?: ArmSnapshot; managedTagKeys?: string[]; event?: { type: "Normal" | "Warning"; reason: string; message: string } };

const rt = NodePoolSnapshotKind.resource;

export function createNodePoolSnapshotReconciler(deps: NodePoolSnapshotDeps): Reconciler {
  // Per key (the uid guards against a deleted and re-created object of the same name): what was
  // verified against ARM — generation and the operator's tags, which follow labels that do not bump
  // the generation — and when the next (jittered) resync is due.
  const verified = new Map<string, { uid: string; generation: number; tags: string; dueAt: number }>();
  const tagsKey = (o: NodePoolSnapshot): string => JSON.stringify(operatorTags(o));
  // Per key: the resourceVersion our last write was based on. While the informer cache still shows
  // it, the cache has not caught up with our own write, and acting on it would use stale state.
  // Bounded in time, so a cache that never catches up cannot park the key forever.
  const writtenFrom = new Map<string, { uid: string; resourceVersion: string; at: number }>();
  const noteWrite = (before: KubeObject): void => {
    if (before.metadata.uid && before.metadata.resourceVersion) {
      writtenFrom.set(objectKey(before), { uid: before.metadata.uid, resourceVersion: before.metadata.resourceVersion, at: deps.now().getTime() });
    }
  };
  const forget = (key: string): void => {
    verified.delete(key);
    writtenFrom.delete(key);
  };
  const jittered = (ms: number): number => Math.round(ms * (0.9 + 0.2 * deps.random()));

  const stalled = (reason: string, message: string, worldMayChange: boolean): Verdict => ({
    readiness: { state: "stalled", reason, message },
    // A spec problem waits for a spec change (a new generation enqueues us); a world problem is
    // looked at again slowly — never a hot loop.
    result: worldMayChange ? requeueAfter(jittered(deps.stalledRecheckMs)) : done(),
    event: { type: "Warning", reason, message },
  });

  const fromArmError = (e: ArmError, doing: string): Verdict => {
    const msg = `${doing}: ${describeArmError(e)}`;
    switch (e.kind) {
      case "throttled":
        return { readiness: { state: "progressing", reason: Reasons.Throttled, message: msg }, result: retry(new Error(msg), e.retryAfterMs ?? 1000) };
      case "transient":
        return { readiness: { state: "progressing", reason: Reasons.ArmUnavailable, message: msg }, result: retry(new Error(msg)) };
      case "conflict":
        return { readiness: { state: "progressing", reason: Reasons.ArmConflict, message: msg }, result: retry(new Error(msg), e.retryAfterMs) };
      case "invalid":
        return stalled(Reasons.ArmRequestRejected, msg, true);
      case "notFound":
        return e.code.toLowerCase() === "resourcegroupnotfound" ? stalled(Reasons.ResourceGroupNotFound, msg, true) : stalled(Reasons.ArmRequestRejected, msg, true);
      default: {
        const never: never = e.kind;
        throw new Error(`unhandled ARM error kind ${String(never)}`);
      }
    }
  };

  async function finish(obj: NodePoolSnapshot, raw: KubeObject, v: Verdict, ctx: ReconcileContext): Promise<ReconcileResult> {
    const status = nextStatus({
      prev: obj.status,
      generation: obj.metadata.generation ?? 0,
      readiness: v.readiness,
      now: deps.now(),
      ...(v.snapshot ? { snapshot: v.snapshot } : {}),
      ...(v.managedTagKeys ? { managedTagKeys: v.managedTagKeys } : {}),
    });
    let w;
    try {
      w = await writeStatus(deps.client, rt, raw, status);
    } catch (e) {
      // Someone (often our own earlier write) changed the object since the cache copy we read:
      // not an error. The newer version's watch event, or this short requeue, brings us back.
      if (isKubeError(e, "conflict")) {
        ctx.log.debug({}, "status write conflicted with a newer version; requeueing");
        return requeueAfter(200);
      }
      throw e;
    }
    if (w.kind === "written") {
      noteWrite(raw);
      ctx.log.debug({ readiness: v.readiness.state, reason: v.readiness.reason }, "status written");
    }
    const wasSame = isTrue(obj.status?.conditions, "Ready") === (v.readiness.state === "ready") && obj.status?.conditions?.find((c) => c.type === "Ready")?.reason === v.readiness.reason;
    // Events mark transitions, not every retry of the same condition.
    if (v.event && (w.kind === "written" || !wasSame)) await deps.events.record(raw, v.event.type, v.event.reason, v.event.message);
    if (v.readiness.state === "ready" && v.result.kind === "requeueAfter") {
      verified.set(objectKey(raw), { uid: obj.metadata.uid ?? "", generation: obj.metadata.generation ?? 0, tags: tagsKey(obj), dueAt: deps.now().getTime() + v.result.afterMs });
    }
    return v.result;
  }

  function scopeCheck(obj: NodePoolSnapshot, d: Desired): Verdict | undefined {
    const ns = obj.metadata.namespace ?? "";
    const ids = d.mode === "capture" ? [d.snapshotId, d.sourceId] : [d.snapshotId];
    const denied = ids.find((id) => !scopeAllowed(deps.allowedScopes, ns, id));
    return denied ? stalled(Reasons.ScopeNotAllowed, `namespace ${ns} may not use ${denied} (operator flag --allowed-scopes)`, false) : undefined;
  }

  async function observeExisting(obj: NodePoolSnapshot, d: Desired, existing: ArmSnapshot): Promise<Verdict> {
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
    if (plan.patch) {
      const r = await deps.arm.nodePoolSnapshots.updateTags(d.snapshot, plan.patch);
      if (!r.ok) return fromArmError(r.error, `updating tags of ${d.snapshotId}`);
      snapshot = r.value;
    }
    const tagNote = plan.patch ? " (tags updated)" : "";
    let event: Verdict["event"];
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
      readiness: { state: "ready", reason: Reasons.SnapshotReady, message: `snapshot ${snapshot.name} of ${snapshot.sourceResourceId ?? "an agent pool"} (Kubernetes ${snapshot.kubernetesVersion ?? "?"}, node image ${snapshot.nodeImageVersion ?? "?"})` },
      result: requeueAfter(jittered(deps.resyncPeriodMs)),
      snapshot,
      managedTagKeys: plan.managedKeys,
      ...(event ? { event } : {}),
    };
  }

  async function create(obj: NodePoolSnapshot, d: Extract<Desired, { mode: "capture" }>, recreating: boolean): Promise<Verdict> {
    const cluster = await deps.arm.managedClusters.get(d.source);
    if (!cluster.ok) {
      if (cluster.error.kind === "notFound") {
        return stalled(Reasons.SourceAgentPoolNotFound, `source cluster ${managedClusterId(d.source)} not found (${cluster.error.code})`, true);
      }
      return fromArmError(cluster.error, `reading source cluster ${managedClusterId(d.source)}`);
    }
    const pool = await deps.arm.agentPools.get(d.source);
    if (!pool.ok) {
      if (pool.error.kind === "notFound") return stalled(Reasons.SourceAgentPoolNotFound, `source agent pool ${d.sourceId} not found (${pool.error.code})`, true);
      return fromArmError(pool.error, `reading source agent pool ${d.sourceId}`);
    }
    const region = cluster.value.location.toLowerCase().replace(/\s/g, "");
    if (d.location && d.location.toLowerCase() !== region) {
      return stalled(
        Reasons.LocationMismatch,
        `AKS creates a node-pool snapshot only in its source pool's region: ${d.sourceId} is in ${region}, spec.snapshot.location is ${d.location}. ` +
          `Take the snapshot in ${region} (omit spec.snapshot.location); it can then be used to create pools in other regions`,
        false,
      );
    }
    const put = await deps.arm.nodePoolSnapshots.put(d.snapshot, { location: region, sourceResourceId: d.sourceId, tags: d.tags });
    if (!put.ok) {
      if (put.error.kind === "notFound" && put.error.code.toLowerCase() !== "resourcegroupnotfound") {
        return stalled(Reasons.SourceAgentPoolNotFound, `creating ${d.snapshotId}: ${describeArmError(put.error)}`, true);
      }
      return fromArmError(put.error, `creating snapshot ${d.snapshotId}`);
    }
    const s = put.value;
    return {
      readiness: { state: "ready", reason: Reasons.SnapshotReady, message: `snapshot ${s.name} of ${d.sourceId} (Kubernetes ${s.kubernetesVersion ?? "?"}, node image ${s.nodeImageVersion ?? "?"})` },
      result: requeueAfter(jittered(deps.resyncPeriodMs)),
      snapshot: s,
      managedTagKeys: Object.keys(d.tags),
      event: { type: "Normal", reason: recreating ? EventReasons.Recreated : EventReasons.Created, message: `created snapshot ${s.id} (Kubernetes ${s.kubernetesVersion ?? "?"}, node image ${s.nodeImageVersion ?? "?"})` },
    };
  }

  async function reconcileLive(obj: NodePoolSnapshot, d: Desired): Promise<Verdict> {
    const got = await deps.arm.nodePoolSnapshots.get(d.snapshot);
    if (got.ok) return observeExisting(obj, d, got.value);
    if (got.error.kind !== "notFound") return fromArmError(got.error, `reading snapshot ${d.snapshotId}`);
    if (got.error.code.toLowerCase() === "resourcegroupnotfound") {
      return stalled(Reasons.ResourceGroupNotFound, `resource group ${d.snapshot.resourceGroup} of ${d.snapshotId} not found (the operator does not create resource groups)`, true);
    }
    if (d.mode === "adopt") {
      return {
        readiness: { state: "notReady", reason: Reasons.SnapshotMissing, message: `adopted snapshot ${d.snapshotId} does not exist in ARM` },
        result: requeueAfter(jittered(deps.stalledRecheckMs)),
        event: { type: "Warning", reason: EventReasons.Missing, message: `adopted snapshot ${d.snapshotId} not found` },
      };
    }
    const hadIt = obj.status?.snapshotId !== undefined && sameResourceId(obj.status.snapshotId, d.snapshotId) && obj.status.createdAt !== undefined;
    if (hadIt && (obj.spec.missingSnapshotPolicy ?? "Report") === "Report") {
      return {
        readiness: {
          state: "notReady",
          reason: Reasons.SnapshotMissing,
          message: `snapshot ${d.snapshotId} was deleted outside the operator; not recreating it (spec.missingSnapshotPolicy is Report: a new snapshot would capture today's node image, not the one backed up)`,
        },
        result: requeueAfter(jittered(deps.stalledRecheckMs)),
        event: { type: "Warning", reason: EventReasons.Missing, message: `snapshot ${d.snapshotId} was deleted outside the operator` },
      };
    }
    return create(obj, d, hadIt);
  }

  async function finalize(obj: NodePoolSnapshot, raw: KubeObject, ctx: ReconcileContext): Promise<ReconcileResult> {
    if (!hasFinalizer(raw, FINALIZER)) return done();
    const policy = effectiveDeletionPolicy(obj.spec);
    const release = async (type: "Normal" | "Warning", reason: string, message: string): Promise<ReconcileResult> => {
      await deps.events.record(raw, type, reason, message);
      await removeFinalizer(deps.client, rt, raw, FINALIZER);
      forget(objectKey(raw));
      ctx.log.info({ reason }, message);
      return done();
    };
    const d = desiredFor(obj, deps.defaults);
    if (policy === "Retain") return release("Normal", EventReasons.Retained, `deletionPolicy Retain: ARM snapshot ${obj.status?.snapshotId ?? "(none)"} left in place`);
    if (!d.ok) return release("Normal", EventReasons.Deleted, `nothing to delete: ${d.message}`);
    if (scopeCheck(obj, d.value)) return release("Warning", Reasons.ScopeNotAllowed, `not deleting ${d.value.snapshotId}: outside the namespace's allowed scopes`);
    const target: GroupResourceRef = d.value.snapshot;
    // Delete only what is ours: a same-named snapshot of another source is someone else's data.
    const got = await deps.arm.nodePoolSnapshots.get(target);
    if (!got.ok && got.error.kind !== "notFound") return deleting(obj, raw, fromArmError(got.error, `reading ${d.value.snapshotId} before deleting it`), ctx);
    if (!got.ok) return release("Normal", EventReasons.Deleted, `snapshot ${d.value.snapshotId} is already gone`);
    if (d.value.mode === "capture" && !sameResourceId(got.value.sourceResourceId, d.value.sourceId)) {
      return release("Warning", Reasons.SnapshotNameConflict, `not deleting ${d.value.snapshotId}: it was taken from ${got.value.sourceResourceId ?? "another source"}, not ${d.value.sourceId}`);
    }
    const del = await deps.arm.nodePoolSnapshots.delete(target);
    if (!del.ok) {
      const v = fromArmError(del.error, `deleting snapshot ${d.value.snapshotId}`);
      return deleting(obj, raw, v.readiness.state === "stalled" ? { ...v, readiness: { ...v.readiness, reason: Reasons.DeleteFailed, message: `${v.readiness.message}; set spec.deletionPolicy: Retain to release the object without deleting the snapshot` } } : v, ctx);
    }
    return release("Normal", EventReasons.Deleted, `deleted snapshot ${d.value.snapshotId}`);
  }

  async function deleting(obj: NodePoolSnapshot, raw: KubeObject, v: Verdict, ctx: ReconcileContext): Promise<ReconcileResult> {
    const readiness: Readiness = v.readiness.state === "progressing" ? { ...v.readiness, reason: Reasons.Deleting } : v.readiness;
    return finish(obj, raw, { ...v, readiness }, ctx);
  }

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    let raw = deps.cache.get(key);
    if (!raw) {
      forget(key);
      return done();
    }
    const uid = raw.metadata.uid ?? "";
    const pending = writtenFrom.get(key);
    if (pending && pending.uid === uid && pending.resourceVersion === raw.metadata.resourceVersion && deps.now().getTime() - pending.at < 10_000) {
      return requeueAfter(50);
    }
    writtenFrom.delete(key);
    const parsed = NodePoolSnapshotKind.parse(raw);
    if (!parsed.ok) {
      // Admission should make this impossible; if an old object slips through, say why and wait.
      const bare = { metadata: { ...raw.metadata }, spec: {}, status: raw.status as NodePoolSnapshotStatus | undefined } as unknown as NodePoolSnapshot;
      if (isDeleting(raw) && hasFinalizer(raw, FINALIZER)) {
        await removeFinalizer(deps.client, rt, raw, FINALIZER);
        return done();
      }
      return finish(bare, raw, stalled(Reasons.InvalidSpec, parsed.error, false), ctx);
    }
    let obj = parsed.value;
    if (isDeleting(raw)) return finalize(obj, raw, ctx);
    if (!hasFinalizer(raw, FINALIZER)) {
      const before = raw;
      raw = await addFinalizer(deps.client, rt, raw, FINALIZER);
      noteWrite(before);
      const again = NodePoolSnapshotKind.parse(raw);
      if (again.ok) obj = again.value;
    }
    const d = desiredFor(obj, deps.defaults);
    if (!d.ok) return finish(obj, raw, stalled(d.reason, d.message, d.reason === Reasons.SubscriptionUnknown), ctx);
    const denied = scopeCheck(obj, d.value);
    if (denied) return finish(obj, raw, denied, ctx);

    const generation = obj.metadata.generation ?? 0;
    const seen = verified.get(key);
    const nowMs = deps.now().getTime();
    if (isTrue(obj.status?.conditions, "Ready") && obj.status?.observedGeneration === generation && seen?.uid === uid && seen.generation === generation && seen.tags === tagsKey(obj) && nowMs < seen.dueAt) {
      // Steady state costs nothing: no ARM call until the jittered resync is due.
      return requeueAfter(seen.dueAt - nowMs);
    }
    // A new generation is acknowledged before ARM is touched, so watchers (kstatus, Flux, Argo CD)
    // see Reconciling while the work is in flight rather than a stale Ready.
    if (obj.status?.observedGeneration !== generation) {
      const reason = obj.status?.snapshotId ? Reasons.UpdatingTags : Reasons.Creating;
      return finish(obj, raw, { readiness: { state: "progressing", reason, message: `reconciling generation ${generation}` }, result: requeueAfter(0) }, ctx);
    }
    const v = await reconcileLive(obj, d.value);
    return finish(obj, raw, v, ctx);
  };
}
