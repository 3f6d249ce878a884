// The verifier's reconciler: for one VolumeSnapshot, read Kubernetes from the caches, read Azure
// only when the verdict depends on it and the handle's poll is due, decide with `verify`, and record
// the verdict as annotations (one merge patch, only when something changed) with an Event per
// transition. It never waits for time to pass: a snapshot still copying is looked at again when its
// next poll is due (or its deadline, whichever is first).
import type { AllowedScopes } from "../../config.ts";
import { scopeAllowed } from "../../config.ts";
import { objectKey, type KubeClient, type KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { done, requeueAfter, retry, type ReconcileResult } from "../../runtime/result.ts";
import { annotationPatch, isTransition, recorded, type Recorded } from "./annotations.ts";
import { classView, contentView, volumeSnapshotView, type VolumeSnapshotView } from "./objects.ts";
import type { HandleReads } from "./reads.ts";
import { VerifyEventReasons, type VerificationState } from "./reasons.ts";
import { selectForVerification, type SelectionPolicy } from "./select.ts";
import { volumeSnapshotType } from "./types.ts";
import { nextPollAt } from "./poll.ts";
import { verify, type AzureObservation, type Verification } from "./verify.ts";

export interface VerifierMetrics {
  /** The current state of a VolumeSnapshot (undefined: no longer tracked). */
  state(key: string, state: VerificationState | undefined): void;
  /** Seconds from the VolumeSnapshot's creation to its verification. */
  verified(latencySeconds: number): void;
}

export const noopVerifierMetrics: VerifierMetrics = { state: () => {}, verified: () => {} };

export interface VerifierDeps {
  client: KubeClient;
  snapshots: { get(key: string): KubeObject | undefined };
  contents: { get(name: string): KubeObject | undefined };
  classes: { get(name: string): KubeObject | undefined };
  reads: HandleReads;
  events: EventRecorder;
  allowedScopes: AllowedScopes | undefined;
  policy: SelectionPolicy;
  pollIntervalMs: number;
  deadlineMs: number;
  now: () => Date;
  random: () => number;
  metrics?: VerifierMetrics;
}

export function createVerifierReconciler(deps: VerifierDeps): Reconciler {
  const metrics = deps.metrics ?? noopVerifierMetrics;
  // Which handle each key last used, so a deleted VolumeSnapshot's handle is forgotten.
  const handles = new Map<string, string>();

  function forgetKey(key: string): void {
    const h = handles.get(key);
    handles.delete(key);
    metrics.state(key, undefined);
    if (h !== undefined && ![...handles.values()].some((x) => x.toLowerCase() === h.toLowerCase())) deps.reads.forget(h);
  }

  function decide(vs: VolumeSnapshotView, azure: AzureObservation | undefined, prev: Recorded): Verification {
    const content = vs.boundContentName ? deps.contents.get(vs.boundContentName) : undefined;
    const cls = vs.className ? deps.classes.get(vs.className) : undefined;
    return verify({
      vs,
      content: content ? contentView(content) : undefined,
      cls: cls ? classView(cls) : undefined,
      azure,
      verifiedHandle: prev.verifiedHandle,
      scopeAllowed: (id) => scopeAllowed(deps.allowedScopes, vs.namespace, id),
      now: deps.now(),
      deadlineMs: deps.deadlineMs,
    });
  }

  /** The last time this handle was read, by this process or (from annotations) an earlier one. */
  function lastChecked(handle: string, prev: Recorded): Date | undefined {
    const mine = deps.reads.last(handle)?.at;
    const theirs = prev.checkedAt?.getTime();
    const t = Math.max(mine ?? -Infinity, theirs ?? -Infinity);
    return Number.isFinite(t) ? new Date(t) : undefined;
  }

  async function record(raw: KubeObject, vs: VolumeSnapshotView, prev: Recorded, v: Verification, checkedAt: Date | undefined, ctx: ReconcileContext): Promise<void> {
    const now = deps.now();
    const patch = annotationPatch(vs.annotations, v, now, checkedAt);
    if (patch !== null) {
      await deps.client.mergePatch(volumeSnapshotType, vs.namespace, vs.name, { metadata: { annotations: patch } }, undefined, "aksnap");
    }
    metrics.state(objectKey(raw), v.state);
    if (!isTransition(prev, v)) return;
    ctx.log.info({ state: v.state, reason: v.reason, completionPercent: v.completionPercent }, v.message);
    if (v.state === "Verified" && vs.createdAt) metrics.verified(Math.max(0, (now.getTime() - Date.parse(vs.createdAt)) / 1000));
    const type = v.state === "Failed" ? "Warning" : "Normal";
    await deps.events.record(raw, type, VerifyEventReasons[v.state], `${v.reason}: ${v.message}`);
  }

  /** The next ARM read of a handle: one interval after the last, or just after the copy should complete. */
  function dueAt(handle: string, last: Date | undefined): number {
    return nextPollAt({ last: last?.getTime(), intervalMs: deps.pollIntervalMs, now: deps.now().getTime(), random: deps.random, ...deps.reads.progress(handle) });
  }

  /** When to look again: the next poll for verdicts that wait on Azure, the deadline for the rest. */
  function after(vs: VolumeSnapshotView, v: Verification, last: Date | undefined): ReconcileResult {
    if (v.state !== "Waiting" && v.state !== "InstantAccess") return done();
    const now = deps.now().getTime();
    const deadline = vs.createdAt === undefined ? Infinity : Date.parse(vs.createdAt) + deps.deadlineMs + 1000;
    const poll = v.needsAzure && v.handle !== undefined ? dueAt(v.handle, last) : Infinity;
    const at = Math.min(deadline, poll);
    return Number.isFinite(at) ? requeueAfter(Math.max(0, at - now)) : done();
  }

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const raw = deps.snapshots.get(key);
    if (!raw) {
      forgetKey(key);
      return done();
    }
    const vs = volumeSnapshotView(raw);
    if (vs.deleting) {
      forgetKey(key);
      return done();
    }
    const clsRaw = vs.className ? deps.classes.get(vs.className) : undefined;
    const selected = selectForVerification(vs, clsRaw ? classView(clsRaw) : undefined, deps.policy);
    if (!selected.verify) {
      forgetKey(key);
      return done();
    }
    const prev = recorded(vs.annotations);
    let v = decide(vs, undefined, prev);
    const handle = v.handle;
    if (handle !== undefined) handles.set(key, handle);
    if (!v.needsAzure || handle === undefined) {
      await record(raw, vs, prev, v, undefined, ctx);
      if (v.state === "Verified" && handle !== undefined) deps.reads.forget(handle);
      return after(vs, v, undefined);
    }
    const last = lastChecked(handle, prev);
    const due = dueAt(handle, last);
    const r = await deps.reads.observe(handle, due, ctx.signal);
    switch (r.kind) {
      case "early":
        // A restarted process: the last read was recent; keep the recorded verdict until it is due.
        if (prev.state === undefined) await record(raw, vs, prev, v, undefined, ctx);
        return requeueAfter(Math.max(0, r.notBefore - deps.now().getTime()));
      case "error":
        ctx.log.warn({ code: r.error.code, kind: r.error.kind }, `reading ${handle}: ${r.error.message}`);
        if (prev.state === undefined) await record(raw, vs, prev, v, undefined, ctx);
        return retry(undefined, Math.max(r.error.retryAfterMs ?? 0, deps.pollIntervalMs));
      case "observed": {
        v = decide(vs, r.observation, prev);
        const checkedAt = r.fresh ? new Date(r.at) : undefined;
        await record(raw, vs, prev, v, checkedAt, ctx);
        if (v.state === "Verified") deps.reads.forget(handle);
        return after(vs, v, new Date(r.at));
      }
    }
  };
}
