// The RestoreRequest reconciler: the kind's steps on the shared frame (../common/frame.ts). A
// RestoreRequest runs once: preflight (reads only, recorded in status) → phase Running → the ARM
// write started as a long-running operation whose resume token is kept in status → later
// reconciles check it (never await it) → Succeeded or Failed, terminal. A restart resumes the
// recorded operation, or, when the token was never recorded, finds the write's effect on the target
// and waits for it instead of writing again.
import type { CallOptions } from "../../azure/deadline.ts";
import { describeArmError, type ArmError } from "../../azure/errors.ts";
import { parseNodePoolSnapshotId } from "../../azure/ids.ts";
import type { AgentPool } from "../../azure/ports/agentPools.ts";
import type { ManagedCluster } from "../../azure/ports/managedClusters.ts";
import type { LroCheck, LroStart } from "../../azure/result.ts";
import { rfc3339 } from "../../conditions/conditions.ts";
import type { AllowedScopes } from "../../config.ts";
import {
  RestoreRequestKind,
  type NodePoolRestore,
  type PreflightCheck,
  type RestoreRequest,
  type RestoreRequestStatus,
  type VolumeRestore,
  type VolumeRestoreStatus,
} from "../../crds/restorerequest.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { ExecPort } from "../../kube/exec.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { done, requeueAfter, retry, terminal } from "../../runtime/result.ts";
import { armOutcome } from "../common/arm.ts";
import { createFrame, type StepOutcome, type Verdict } from "../common/frame.ts";
import { gatherFacts, ReadFailed, resolveTarget, type RestoreArm, type Target } from "./facts.ts";
import { HookMemory, restoredPvcs, stepHooks } from "./hooks.ts";
import { runPreflight, type PreflightVerdict } from "./preflight.ts";
import { EventReasons, Reasons } from "./reasons.ts";
import { isTerminal, statusFields, type StatusExtra } from "./status.ts";
import { stepVolumes, volumePreflight, type VolumeDeps } from "./volumes.ts";
import { newClusterSpec, newPoolSpec, observeTarget, type ObservedTarget, type SnapshotRef } from "./target.ts";

/** How often a running ARM operation is checked (one GET of the operation, one of the target). */
export const OPERATION_POLL_MS = 3_000;
/** How soon a busy target (someone else's operation) or a snapshot still being made is looked at again. */
export const BUSY_RECHECK_MS = 30_000;
/** How often a hook waiting for its pod (the workload starting on the restored PVC) looks again. */
export const HOOK_POD_POLL_MS = 2_000;

export interface RestoreRequestDeps {
  client: KubeClient;
  cache: { get(key: string): KubeObject | undefined };
  arm: RestoreArm;
  events: EventRecorder;
  now: () => Date;
  defaultSubscriptionId: string | undefined;
  allowedScopes: AllowedScopes | undefined;
  allowedRegions: readonly string[] | undefined;
  /** How long a request may stay Running before it fails with DeadlineExceeded. */
  restoreDeadlineMs: number;
  /** How long a NodePoolSnapshot named by snapshotRef may take to appear and become Ready. */
  snapshotWaitMs: number;
  stalledRecheckMs: number;
  operationPollMs?: number;
  busyRecheckMs?: number;
  /** pods/exec for spec.hooks; absent, every hook fails "no pods/exec port" (reported, never skipped). */
  exec?: ExecPort;
  /** How often a hook waiting for its pod lists the pods again. */
  hookPollMs?: number;
}

type V = Verdict<StatusExtra>;
type NodePoolStatus = NonNullable<RestoreRequestStatus["nodePool"]>;

function fromPool(p: AgentPool): ObservedTarget {
  return {
    id: p.id,
    provisioningState: p.provisioningState,
    ...(p.rawProvisioningState ? { rawProvisioningState: p.rawProvisioningState } : {}),
    ...(p.tags ? { tags: p.tags } : {}),
    ...(p.creationSourceResourceId ? { creationSourceResourceId: p.creationSourceResourceId } : {}),
    ...(p.orchestratorVersion ? { kubernetesVersion: p.orchestratorVersion } : {}),
    ...(p.nodeImageVersion ? { nodeImageVersion: p.nodeImageVersion } : {}),
    ...(p.provisioningError ? { provisioningError: p.provisioningError } : {}),
  };
}

function fromCluster(c: ManagedCluster): ObservedTarget {
  const system = c.agentPoolProfiles.find((p) => p.mode === "System");
  return {
    id: c.id,
    provisioningState: c.provisioningState,
    ...(c.rawProvisioningState ? { rawProvisioningState: c.rawProvisioningState } : {}),
    tags: c.tags,
    ...(system?.creationSourceResourceId ? { creationSourceResourceId: system.creationSourceResourceId } : {}),
    ...(c.kubernetesVersion ? { kubernetesVersion: c.kubernetesVersion } : {}),
    ...(system?.nodeImageVersion ? { nodeImageVersion: system.nodeImageVersion } : {}),
    ...(c.provisioningError ? { provisioningError: c.provisioningError } : {}),
  };
}

/** The progress fields status mirrors from a fresh read of the target. */
function progressOf(t: ObservedTarget, pool?: AgentPool): Partial<NodePoolStatus> {
  return {
    provisioningState: t.rawProvisioningState ?? t.provisioningState,
    ...((pool?.currentOrchestratorVersion ?? t.kubernetesVersion) ? { kubernetesVersion: pool?.currentOrchestratorVersion ?? t.kubernetesVersion ?? "" } : {}),
    ...(t.nodeImageVersion ? { nodeImageVersion: t.nodeImageVersion } : {}),
  };
}

export function createRestoreRequestReconciler(deps: RestoreRequestDeps): Reconciler {
  const pollMs = deps.operationPollMs ?? OPERATION_POLL_MS;
  const busyMs = deps.busyRecheckMs ?? BUSY_RECHECK_MS;
  const policy = { recheckMs: () => deps.stalledRecheckMs };
  const now = (): string => rfc3339(deps.now());
  const ownerOf = (rr: RestoreRequest): string => `${rr.metadata.namespace ?? ""}/${rr.metadata.name}`;
  const snapshotWaitExpired = (rr: RestoreRequest): boolean => {
    const created = Date.parse(rr.metadata.creationTimestamp ?? "");
    return Number.isFinite(created) && deps.now().getTime() - created > deps.snapshotWaitMs;
  };

  /** Phase Failed, Stalled with the reason: terminal, a RestoreRequest never tries again. */
  const fail = (reason: string, message: string, extra: StatusExtra = {}): V => ({
    readiness: { state: "stalled", reason, message },
    result: terminal(new Error(`${reason}: ${message}`)),
    extra: { ...extra, phase: "Failed", completedAt: now() },
    event: { type: "Warning", reason: extra.preflight && !extra.nodePool ? EventReasons.PreflightFailed : EventReasons.Failed, message },
  });
  const progressing = (reason: string, message: string, extra: StatusExtra, result: V["result"], event?: V["event"]): V => ({
    readiness: { state: "progressing", reason, message },
    result,
    extra,
    ...(event ? { event } : {}),
  });
  const gatherDeps = { client: deps.client, arm: deps.arm, allowedScopes: deps.allowedScopes, allowedRegions: deps.allowedRegions, snapshotWaitExpired };
  const volumeDeps: VolumeDeps = { client: deps.client, disks: deps.arm.disks, allowedScopes: deps.allowedScopes, snapshotWaitExpired };
  /** An ARM error that is not a verdict on the restore (throttled, outage): retried, phase unchanged. */
  const armRetry = (e: ArmError, doing: string): V => armOutcome<StatusExtra>(e, doing, policy);
  const hookMemory = new HookMemory();
  const hookDeps = { client: deps.client, exec: deps.exec, now: deps.now, memory: hookMemory, pollMs: deps.hookPollMs ?? HOOK_POD_POLL_MS };

  // --- preflight: reads only ---

  /** Node-pool and volume preflights (reads only), recorded together; the first failure decides. */
  async function preflight(rr: RestoreRequest, np: NodePoolRestore | undefined, target: Target | undefined, call: CallOptions): Promise<V> {
    const checks: PreflightCheck[] = [];
    const verdicts: PreflightVerdict[] = [];
    let snapshotId: string | undefined;
    if (np && target) {
      let facts;
      try {
        facts = await gatherFacts(rr, np, target, gatherDeps, call);
      } catch (e) {
        if (e instanceof ReadFailed) return { ...armRetry(e.error, e.doing), extra: { phase: "Pending" } };
        throw e;
      }
      const r = runPreflight(facts);
      checks.push(...r.checks);
      verdicts.push(r.verdict);
      snapshotId = facts.snapshot?.state === "ready" ? facts.snapshot.snapshot.id : undefined;
    }
    let plan: VolumeRestoreStatus[] | undefined;
    if (rr.spec.volumes) {
      const r = await volumePreflight(rr, rr.spec.volumes, volumeDeps, call);
      checks.push(...r.checks);
      verdicts.push(r.verdict);
      plan = r.plan;
    }
    const failed = verdicts.find((v) => v.kind === "failed");
    if (failed) return fail(failed.reason, failed.message, { preflight: checks });
    const pending = verdicts.find((v) => v.kind === "pending");
    if (pending) return progressing(pending.reason, pending.message, { phase: "Pending", preflight: checks }, requeueAfter(busyMs));
    const id = target ? (target.poolId ?? target.clusterId) : undefined;
    const what = [np && id ? `${np.mode} of ${id}` : undefined, plan ? `${plan.filter((v) => v.phase === "Pending").length} PVC(s)` : undefined].filter(Boolean).join(" and ");
    const message = `preflight passed (${checks.map((c) => c.name).join(", ")}); starting ${what}`;
    return progressing(
      Reasons.Starting,
      message,
      {
        phase: "Running",
        startedAt: now(),
        preflight: checks,
        ...(id ? { nodePool: { id, ...(snapshotId ? { snapshotId } : {}) } } : {}),
        ...(plan ? { volumes: plan } : {}),
      },
      requeueAfter(0),
      { type: "Normal", reason: EventReasons.PreflightPassed, message },
    );
  }

  // --- running: one ARM write, then checks ---

  async function readTarget(np: NodePoolRestore, target: Target, call: CallOptions): Promise<{ t: ObservedTarget | undefined; pool?: AgentPool } | ArmError> {
    if (np.mode === "CreateCluster") {
      const c = await deps.arm.managedClusters.get(target.cluster, call);
      if (c.ok) return { t: fromCluster(c.value) };
      return c.error.kind === "notFound" ? { t: undefined } : c.error;
    }
    if (!target.pool) return { t: undefined };
    const p = await deps.arm.agentPools.get(target.pool, call);
    if (p.ok) return { t: fromPool(p.value), pool: p.value };
    return p.error.kind === "notFound" ? { t: undefined } : p.error;
  }

  async function start(rr: RestoreRequest, np: NodePoolRestore, target: Target, snap: SnapshotRef & { location: string }, call: CallOptions): Promise<LroStart<unknown>> {
    const owner = ownerOf(rr);
    switch (np.mode) {
      case "CreateNodePool":
        if (!target.pool) throw new Error("CreateNodePool without a target pool");
        // If-None-Match: * — even a lost status write cannot make a second create overwrite the first.
        return deps.arm.agentPools.beginCreateOrUpdate(target.pool, newPoolSpec(np, snap.id, owner), { ifNoneMatch: "*" }, call);
      case "UpgradeNodePool":
        if (!target.pool) throw new Error("UpgradeNodePool without a target pool");
        return deps.arm.agentPools.beginUpgradeFromSnapshot(target.pool, { id: snap.id, kubernetesVersion: snap.kubernetesVersion ?? "" }, call);
      case "UpgradeNodeImage":
        if (!target.pool) throw new Error("UpgradeNodeImage without a target pool");
        return deps.arm.agentPools.beginUpgradeNodeImage(target.pool, snap.id, call);
      case "CreateCluster":
        return deps.arm.managedClusters.beginCreate(target.cluster, newClusterSpec(np, snap, owner), { ifNoneMatch: "*" }, call);
    }
  }

  async function check(np: NodePoolRestore, token: string, call: CallOptions): Promise<LroCheck<unknown>> {
    return np.mode === "CreateCluster" ? deps.arm.managedClusters.checkOperation(token, call) : deps.arm.agentPools.checkOperation(token, call);
  }

  async function run(rr: RestoreRequest, np: NodePoolRestore, target: Target, call: CallOptions): Promise<V> {
    const rec: NodePoolStatus = rr.status?.nodePool ?? {};
    const id = target.poolId ?? target.clusterId;
    const snapRef = rec.snapshotId ? parseNodePoolSnapshotId(rec.snapshotId) : undefined;
    if (!snapRef) return fail(Reasons.SnapshotNotReady, "status.nodePool.snapshotId is missing or malformed; the restore cannot continue safely");
    const got = await deps.arm.nodePoolSnapshots.get(snapRef, call);
    if (!got.ok) {
      if (got.error.kind === "notFound") return fail(Reasons.SnapshotNotReady, `snapshot ${rec.snapshotId ?? ""} was deleted after the preflight`, { nodePool: { ...rec } });
      return armRetry(got.error, `reading snapshot ${rec.snapshotId ?? ""}`);
    }
    const s = got.value;
    const snap = {
      id: s.id,
      location: s.location,
      ...(s.kubernetesVersion ? { kubernetesVersion: s.kubernetesVersion } : {}),
      ...(s.nodeImageVersion ? { nodeImageVersion: s.nodeImageVersion } : {}),
    };

    // A recorded operation: check it once. Its end is confirmed by reading the target below.
    let ended: LroCheck<unknown> | undefined;
    if (rec.operation) {
      const c = await check(np, rec.operation.resumeToken, call);
      if (c.kind === "unknown") return armRetry(c.error, `checking the ${np.mode} operation on ${id}`);
      if (c.kind === "inProgress") {
        const read = await readTarget(np, target, call);
        const progress = "kind" in read || !read.t ? {} : progressOf(read.t, read.pool);
        const nodePool: NodePoolStatus = { ...rec, ...progress, operation: { ...rec.operation, resumeToken: c.resumeToken } };
        return progressing(Reasons.OperationInProgress, `${np.mode} of ${id} in progress (${nodePool.provisioningState ?? "accepted"})`, { nodePool }, requeueAfter(pollMs));
      }
      ended = c;
    }

    const read = await readTarget(np, target, call);
    if ("kind" in read) return armRetry(read, `reading ${id}`);
    const { operation: _op, ...settled } = rec;
    const withProgress = (extra?: Partial<NodePoolStatus>): NodePoolStatus => ({ ...settled, ...(read.t ? progressOf(read.t, read.pool) : {}), ...(extra ?? {}) });
    const o = observeTarget(np.mode, snap, ownerOf(rr), read.t, id);
    switch (o.kind) {
      case "done": {
        const np2 = withProgress({ completedAt: now() });
        const message = `${np.mode} of ${id} from snapshot ${snap.id} succeeded (Kubernetes ${np2.kubernetesVersion ?? "?"}, node image ${np2.nodeImageVersion ?? "?"})`;
        return {
          readiness: { state: "ready", reason: Reasons.RestoreSucceeded, message },
          result: done(),
          extra: { phase: "Succeeded", completedAt: now(), nodePool: np2 },
          event: { type: "Normal", reason: EventReasons.Succeeded, message },
        };
      }
      case "failed": {
        const message = `${np.mode} of ${id} failed: ${o.code}: ${o.message}`;
        return fail(Reasons.OperationFailed, message, { nodePool: withProgress({ error: { code: o.code, message: o.message } }) });
      }
      case "refused":
        return fail(o.reason, o.message, { nodePool: withProgress() });
      case "running":
        return progressing(
          Reasons.OperationInProgress,
          `${o.message}; its resume token was not recorded, so the target is read until it settles`,
          { nodePool: withProgress() },
          requeueAfter(pollMs),
          { type: "Normal", reason: EventReasons.OperationResumed, message: `found the restore's operation on ${id} already running; waiting for it instead of starting another` },
        );
      case "busy":
        return progressing(Reasons.TargetBusy, o.message, { nodePool: withProgress() }, retry(undefined, busyMs), {
          type: "Normal",
          reason: EventReasons.TargetBusy,
          message: o.message,
        });
      case "start":
        break;
    }
    if (ended) {
      // The operation we started ended, yet the target shows nothing of it: never write a second time.
      const cause = ended.kind === "failed" ? describeArmError(ended.error) : "it reported success";
      const code = ended.kind === "failed" ? ended.error.code : "EffectMissing";
      return fail(Reasons.OperationFailed, `${np.mode} of ${id} ended (${cause}) but ${id} does not show it`, { nodePool: withProgress({ error: { code, message: cause } }) });
    }
    const started = await start(rr, np, target, snap, call);
    switch (started.kind) {
      case "submitted": {
        const message = `started ${np.mode} of ${id} from snapshot ${snap.id}`;
        const nodePool = withProgress({ operation: { resumeToken: started.resumeToken, startedAt: now() } });
        return progressing(Reasons.OperationInProgress, message, { nodePool }, requeueAfter(pollMs), { type: "Normal", reason: EventReasons.OperationStarted, message });
      }
      case "succeeded":
        // ARM finished at once; the next reconcile reads the target and reports it.
        return progressing(Reasons.OperationInProgress, `${np.mode} of ${id} finished synchronously`, { nodePool: withProgress() }, requeueAfter(0));
      case "failed": {
        const e = started.error;
        if (e.kind === "conflict") {
          // 409 OperationNotAllowed (busy) or 412 (changed between read and write): wait, look again.
          const message = `${id} refused the write for now (${describeArmError(e)}); waiting`;
          return progressing(Reasons.TargetBusy, message, { nodePool: withProgress() }, retry(undefined, Math.max(busyMs, e.retryAfterMs ?? 0)), {
            type: "Normal",
            reason: EventReasons.TargetBusy,
            message,
          });
        }
        if (e.kind === "throttled") return armRetry(e, `starting ${np.mode} of ${id}`);
        if (e.kind === "transient") {
          // No answer (timeout, reset, 5xx): ARM may still carry the write out. Look again no sooner
          // than a busy recheck, so the re-read before any second write can see it.
          const v = armRetry(e, `starting ${np.mode} of ${id}`);
          return { ...v, result: retry(new Error(describeArmError(e)), Math.max(busyMs, e.retryAfterMs ?? 0)) };
        }
        const nodePool = withProgress({ error: { code: e.code, message: e.message } });
        return fail(Reasons.OperationFailed, `ARM refused ${np.mode} of ${id}: ${describeArmError(e)}`, { nodePool });
      }
    }
  }

  async function volumesStep(rr: RestoreRequest, vol: VolumeRestore, call: CallOptions): Promise<V> {
    const r = await stepVolumes(rr, vol, volumeDeps, call);
    const before = new Map((rr.status?.volumes ?? []).map((v) => [v.pvc, v.phase]));
    const changed = r.volumes.filter((v) => before.get(v.pvc) !== v.phase).map((v) => `${v.pvc}: ${v.phase}`);
    const event = changed.length > 0 ? { type: "Normal" as const, reason: EventReasons.VolumeProgress, message: changed.join(", ") } : undefined;
    switch (r.kind) {
      case "progress":
        return progressing(Reasons.RestoringVolumes, r.message, { volumes: r.volumes }, requeueAfter(pollMs), event);
      case "failed":
        return fail(r.reason, r.message, { volumes: r.volumes });
      case "done": {
        const message = [rr.status?.nodePool?.completedAt ? `node pool ${rr.status.nodePool.id ?? ""} restored` : undefined, r.message].filter(Boolean).join("; ");
        const first = rr.spec.hooks?.post[0];
        if (first) {
          // The data is there (bound and hydrated): the hooks come next, the request is not Succeeded yet.
          const hookProgress = { done: 0, current: { name: first.name, waitingSince: now() } };
          return progressing(Reasons.RunningHooks, `${message}; running post hooks next`, { volumes: r.volumes, hookProgress }, requeueAfter(0), event);
        }
        return {
          readiness: { state: "ready", reason: Reasons.RestoreSucceeded, message },
          result: done(),
          extra: { phase: "Succeeded", completedAt: now(), volumes: r.volumes },
          event: { type: "Normal", reason: EventReasons.Succeeded, message },
        };
      }
    }
  }

  async function hooksStep(rr: RestoreRequest, ctx: ReconcileContext): Promise<V> {
    const h = await stepHooks(rr, hookDeps, ctx.signal);
    if (h.kind === "progress") {
      const extra: StatusExtra = { hookProgress: h.hookProgress, ...(h.hooks ? { hooks: h.hooks } : {}) };
      return progressing(Reasons.RunningHooks, h.message, extra, requeueAfter(h.requeueMs), h.event);
    }
    const pvcs = restoredPvcs(rr.status?.volumes);
    const restored = `restored PVC(s) ${pvcs.join(", ") || "none"}`;
    if (h.phase === "Failed") return fail(Reasons.HookFailed, `${h.message}; the ${restored} are kept`, { hookProgress: h.hookProgress });
    const message = `${restored}; ${h.message}`;
    return {
      readiness: { state: "ready", reason: Reasons.RestoreSucceeded, message },
      result: done(),
      extra: { phase: "Succeeded", completedAt: now(), hookProgress: h.hookProgress },
      event: { type: "Normal", reason: EventReasons.Succeeded, message },
    };
  }

  async function steps(rr: RestoreRequest, ctx: ReconcileContext): Promise<StepOutcome<StatusExtra>> {
    // A RestoreRequest runs once: a terminal phase is never revisited (no ARM call, no write).
    if (isTerminal(rr.status?.phase)) {
      hookMemory.forget(`${rr.metadata.namespace ?? ""}/${rr.metadata.name}`);
      return { keep: true, result: done() };
    }
    const call: CallOptions = { signal: ctx.signal };
    const np = rr.spec.nodePool;
    const vol = rr.spec.volumes;
    const target = np ? resolveTarget(np, deps.defaultSubscriptionId) : undefined;
    if (np && !target) return fail(Reasons.SubscriptionUnknown, "spec.nodePool.target.subscriptionId is not set and the operator has no --default-subscription-id");
    if (rr.status?.phase !== "Running") return preflight(rr, np, target, call);
    const started = Date.parse(rr.status.startedAt ?? "");
    if (Number.isFinite(started) && deps.now().getTime() - started > deps.restoreDeadlineMs) {
      // Stop watching, undo nothing: an AKS operation still running may yet finish in Azure.
      const hookAt = rr.status.hookProgress?.current?.name;
      const what = rr.status.nodePool?.operation
        ? `the ARM operation on ${rr.status.nodePool.id ?? "the target"} is still running`
        : hookAt
          ? `post hook ${hookAt} has not finished (the restored PVCs are kept)`
          : "the restore is still in progress";
      const { operation: _op, ...nodePool } = rr.status.nodePool ?? {};
      return fail(Reasons.DeadlineExceeded, `${what} after --restore-deadline (${Math.round(deps.restoreDeadlineMs / 1000)} s); nothing is undone: look at the target in Azure`, {
        ...(rr.status.nodePool ? { nodePool } : {}),
      });
    }
    if (np && target && !rr.status.nodePool?.completedAt) {
      const v = await run(rr, np, target, call);
      if (v.readiness.state !== "ready" || !vol) return v;
      // The node pool is done; the volumes come next (the request is not Succeeded yet).
      const nodePool = v.extra?.nodePool;
      return progressing(Reasons.RestoringVolumes, `${v.readiness.message}; restoring volumes next`, nodePool ? { nodePool } : {}, requeueAfter(0), v.event);
    }
    if (vol && rr.spec.hooks && rr.status.hookProgress) return hooksStep(rr, ctx);
    if (vol) return volumesStep(rr, vol, call);
    return fail(Reasons.InvalidSpec, "a RestoreRequest needs nodePool, volumes, or both");
  }

  return createFrame<RestoreRequest, RestoreRequestStatus, StatusExtra>(
    {
      resource: RestoreRequestKind.resource,
      parse: (raw) => RestoreRequestKind.parse(raw),
      steps,
      statusFields,
      forget: (key) => hookMemory.forget(key),
    },
    { client: deps.client, cache: deps.cache, events: deps.events, now: deps.now },
  );
}
