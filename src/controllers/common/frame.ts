// The one reconcile skeleton every controller runs (DESIGN.md "Every controller has the same
// skeleton"): read from the typed cache → own-write guard → parse → deletion/finalizer → the
// kind's steps → exactly ONE status write after them, whether they returned or threw, so a thrown step still records
// observedGeneration and a reason (Flux's deferred status patch) → events on transitions → result.
// A step whose work turns out slow may show progress once before that (`progress`): watchers then
// see Reconciling while a long call is in flight, and a fast reconcile costs one status write.
// A kind supplies only what differs: how to parse, its steps, its finalizer and its status fields.
import type { Readiness } from "../../conditions/conditions.ts";
import { applyReadiness, findCondition, type Condition } from "../../conditions/conditions.ts";
import { objectKey, type CallOptions, type KubeClient, type KubeObject, type ResourceType } from "../../kube/client.ts";
import { isKubeError, KubeApiError } from "../../kube/errors.ts";
import type { EventKind, EventRecorder } from "../../kube/events.ts";
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "../../kube/finalizers.ts";
import { writeStatus } from "../../kube/status.ts";
import type { ReconcileContext, Reconciler } from "../../runtime/controller.ts";
import { conflict, done, requeueAfter, retry, terminal, type ReconcileResult } from "../../runtime/result.ts";
import { stalledVerdict } from "./arm.ts";
import { CommonReasons } from "./reasons.ts";

export interface EventNote {
  type: EventKind;
  reason: string;
  message: string;
}

/** What the kind's steps decided: the Ready summary, the queue result, and kind-specific status. */
export interface Verdict<X> {
  readiness: Readiness;
  result: ReconcileResult;
  /** Kind-specific input to its status fields (e.g. a fresh ARM read to mirror). */
  extra?: X;
  /** Recorded when the status changes or the Ready reason moves (a transition), not per retry. */
  event?: EventNote;
}

/** A step that leaves status exactly as it is (steady state: nothing to write, nothing to say). */
export interface KeepStatus {
  keep: true;
  result: ReconcileResult;
}

export type StepOutcome<X> = Verdict<X> | KeepStatus;

/**
 * Writes a progressing status now, before the step's verdict (which is still written at the end):
 * for work that is taking long, so kstatus, Flux and Argo CD see Reconciling meanwhile. A failed
 * write is not the step's failure (the final write reports); it resolves either way.
 */
export type Progress = (readiness: Readiness) => Promise<void>;

/** The end of a deletion: release the finalizer (with an event), or keep it and report why. */
export type FinalizeOutcome<X> = { release: EventNote } | { verdict: Verdict<X> };

export interface BaseStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

/** A parsed object of a kind: what the frame needs from it. */
export interface Typed<S> {
  metadata: KubeObject["metadata"];
  status?: S | undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface KindHooks<T extends Typed<S>, S extends BaseStatus, X, P = never> {
  resource: ResourceType;
  /** Unset for a kind that owns nothing outside Kubernetes (no finalizer is added; deletion needs no step). */
  finalizer?: string;
  parse(raw: KubeObject): Parsed<T>;
  /**
   * Reads the steps will need first, sent while the finalizer is being added to a new object (so
   * its first reconcile waits for one round trip there, not two in a row). READS ONLY: anything
   * that creates or changes something outside Kubernetes must wait for the finalizer, in `steps`.
   * Its result reaches `steps` (undefined when it failed or was not run: the steps read again).
   */
  prefetch?(obj: T, ctx: ReconcileContext): Promise<P | undefined>;
  /** The kind's steps for a live object whose finalizer is in place. */
  steps(obj: T, ctx: ReconcileContext, progress: Progress, prefetched?: P): Promise<StepOutcome<X>>;
  /** Deletion of an object that carries our finalizer (required with `finalizer`). */
  finalize?(obj: T, ctx: ReconcileContext): Promise<FinalizeOutcome<X>>;
  /** Status fields other than observedGeneration and conditions (the frame owns those). */
  statusFields(prev: S | undefined, extra: X | undefined): S;
  /** After the status write (or its skip): a kind's per-key bookkeeping, e.g. when to resync. */
  afterStatus?(obj: T, verdict: Verdict<X>): void;
  /** The key's object is gone (or was released): drop the kind's per-key state. */
  forget?(key: string): void;
  /** A thrown step as a verdict; default: Reconciling ReconcileError, retried with backoff. */
  fromThrown?(error: unknown): Verdict<X>;
}

export interface FrameDeps {
  client: KubeClient;
  cache: { get(key: string): KubeObject | undefined };
  events: EventRecorder;
  now: () => Date;
  /** How long the own-write guard waits for the cache to show our write before giving up. */
  ownWriteWaitMs?: number;
  /** Deadline of the final status write (default 10 s; see statusWriteCall). */
  statusWriteTimeoutMs?: number;
}

/**
 * The final status write does not take the reconcile's signal: when a reconcile timed out, that
 * signal has fired, and the write that records the timeout must still go out (Flux patches with a
 * fresh context for the same reason). Its own short deadline bounds it instead.
 */
export function statusWriteCall(timeoutMs: number): CallOptions {
  return { timeoutMs };
}

/** The status the frame writes: the kind's fields, observedGeneration and the Ready summary. */
export function composeStatus<S extends BaseStatus>(fields: S, prev: BaseStatus | undefined, generation: number, readiness: Readiness, now: Date): S {
  return { ...fields, observedGeneration: generation, conditions: applyReadiness(prev?.conditions ?? [], readiness, generation, now) };
}

/** How often an object stalled on a kind the cluster does not serve looks again (a CRD installed later). */
export const NOT_SERVED_RECHECK_MS = 5 * 60_000;

export function defaultFromThrown<X>(error: unknown): Verdict<X> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof KubeApiError && error.notServed) return stalledVerdict(CommonReasons.APINotServed, message, NOT_SERVED_RECHECK_MS);
  return { readiness: { state: "progressing", reason: CommonReasons.ReconcileError, message }, result: retry(error) };
}

/** Whether an event marks a transition: the status changed, or the Ready reason is not the one shown. */
export function isTransition(written: boolean, prev: readonly Condition[] | undefined, readiness: Readiness): boolean {
  if (written) return true;
  const ready = findCondition(prev, "Ready");
  return ready?.reason !== readiness.reason || (ready.status === "True") !== (readiness.state === "ready");
}

/** A conflict on the status write: someone (often our own earlier write) changed the object. */
export function conflictResult(): ReconcileResult {
  // A rate-limited retry, as controller-runtime does: requeueAfter would clear the per-key
  // backoff, so a lagging watch would loop at the requeue interval (issue 8 §1). No error: a lost
  // race is not a failure in the error metrics.
  return conflict();
}

export function createFrame<T extends Typed<S>, S extends BaseStatus, X, P = never>(kind: KindHooks<T, S, X, P>, deps: FrameDeps): Reconciler {
  const waitMs = deps.ownWriteWaitMs ?? 10_000;
  const statusTimeoutMs = deps.statusWriteTimeoutMs ?? 10_000;
  // Per key: the resourceVersion our last write was based on. While the cache still shows it, it
  // has not caught up with our own write, and acting on it would use stale state. Bounded in time,
  // so a cache that never catches up cannot park the key forever.
  const writtenFrom = new Map<string, { uid: string; resourceVersion: string; at: number }>();
  const noteWrite = (before: KubeObject): void => {
    const { uid, resourceVersion } = before.metadata;
    if (uid && resourceVersion) writtenFrom.set(objectKey(before), { uid, resourceVersion, at: deps.now().getTime() });
  };
  const forget = (key: string): void => {
    writtenFrom.delete(key);
    kind.forget?.(key);
  };

  function awaitingOwnWrite(key: string, raw: KubeObject): boolean {
    const pending = writtenFrom.get(key);
    const stale = pending?.uid === raw.metadata.uid && pending?.resourceVersion === raw.metadata.resourceVersion;
    if (pending && stale && deps.now().getTime() - pending.at < waitMs) return true;
    writtenFrom.delete(key);
    return false;
  }

  async function writeOnce(obj: T, raw: KubeObject, v: Verdict<X>, ctx: ReconcileContext): Promise<ReconcileResult> {
    const generation = raw.metadata.generation ?? 0;
    const status = composeStatus(kind.statusFields(obj.status, v.extra), obj.status, generation, v.readiness, deps.now());
    let written: boolean;
    try {
      written = (await writeStatus(deps.client, kind.resource, raw, status, "aksnap", statusWriteCall(statusTimeoutMs))).kind === "written";
    } catch (e) {
      if (!isKubeError(e, "conflict")) throw e;
      ctx.log.debug({}, "status write conflicted with a newer version; retrying with backoff");
      return conflictResult();
    }
    if (written) {
      noteWrite(raw);
      ctx.log.debug({ readiness: v.readiness.state, reason: v.readiness.reason }, "status written");
    }
    if (v.event && isTransition(written, obj.status?.conditions, v.readiness)) {
      await deps.events.record(raw, v.event.type, v.event.reason, v.event.message, statusWriteCall(statusTimeoutMs));
    }
    kind.afterStatus?.(obj, v);
    return v.result;
  }

  /**
   * Runs a step and writes its verdict exactly once, whether the step returned or threw: Flux's
   * deferred status patch. Every throw becomes a verdict, so the write below always runs and the
   * status says which generation was seen and why.
   */
  async function stepThenWrite(obj: T, raw: KubeObject, ctx: ReconcileContext, step: () => Promise<StepOutcome<X>>, latest?: () => Shown): Promise<ReconcileResult> {
    let outcome: StepOutcome<X>;
    try {
      outcome = await step();
    } catch (e) {
      outcome = (kind.fromThrown ?? defaultFromThrown<X>)(e);
    }
    if ("keep" in outcome) return outcome.result;
    // After a progress write, the final one is based on what that write returned.
    const now = latest?.() ?? { obj, raw };
    return writeOnce(now.obj, now.raw, outcome, ctx);
  }

  interface Shown {
    obj: T;
    raw: KubeObject;
  }

  /** The step's Progress: one interim status write; `shown` follows it so the final write builds on it. */
  function progressWriter(shown: Shown, ctx: ReconcileContext): Progress {
    return async (readiness) => {
      const { obj, raw } = shown;
      const status = composeStatus(kind.statusFields(obj.status, undefined), obj.status, raw.metadata.generation ?? 0, readiness, deps.now());
      try {
        const w = await writeStatus(deps.client, kind.resource, raw, status, "aksnap", statusWriteCall(statusTimeoutMs));
        if (w.kind !== "written") return;
        noteWrite(raw);
        const again = kind.parse(w.object);
        shown.raw = w.object;
        if (again.ok) shown.obj = again.value;
        ctx.log.debug({ reason: readiness.reason }, "progress written while the step runs");
      } catch (e) {
        ctx.log.debug({ reason: e instanceof Error ? e.message : String(e) }, "progress write failed; the final status write reports");
      }
    };
  }

  /** Removes our finalizer; the object may already be gone (a lagging cache showed it once more). */
  async function dropFinalizer(raw: KubeObject, finalizer: string, call: CallOptions): Promise<void> {
    try {
      await removeFinalizer(deps.client, kind.resource, raw, finalizer, call);
    } catch (e) {
      if (!isKubeError(e, "notFound")) throw e;
    }
    forget(objectKey(raw));
    // Until the cache shows the removal, the old copy (finalizer still on) must not be finalized again.
    noteWrite(raw);
  }

  async function release(raw: KubeObject, finalizer: string, note: EventNote, ctx: ReconcileContext): Promise<ReconcileResult> {
    const call = { signal: ctx.signal };
    await deps.events.record(raw, note.type, note.reason, note.message, call);
    await dropFinalizer(raw, finalizer, call);
    ctx.log.info({ reason: note.reason }, note.message);
    return done();
  }

  async function deleting(raw: KubeObject, parsed: Parsed<T>, ctx: ReconcileContext): Promise<ReconcileResult> {
    const finalizer = kind.finalizer;
    if (finalizer === undefined || !hasFinalizer(raw, finalizer)) {
      forget(objectKey(raw));
      return done();
    }
    // An object we cannot read cannot tell us what to delete: let it go rather than block it.
    const finalize = kind.finalize;
    if (!parsed.ok || !finalize) {
      await dropFinalizer(raw, finalizer, { signal: ctx.signal });
      return done();
    }
    const obj = parsed.value;
    return stepThenWrite(obj, raw, ctx, async () => {
      const fin = await finalize(obj, ctx);
      return "release" in fin ? { keep: true, result: await release(raw, finalizer, fin.release, ctx) } : fin.verdict;
    });
  }

  return async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    let raw = deps.cache.get(key);
    if (!raw) {
      forget(key);
      return done();
    }
    if (awaitingOwnWrite(key, raw)) return requeueAfter(50);
    const parsed = kind.parse(raw);
    if (isDeleting(raw)) return deleting(raw, parsed, ctx);
    if (!parsed.ok) {
      // Admission should make this impossible; if an old object slips through, say why and wait
      // for a new generation: a spec problem is terminal, not a success.
      const bare = { metadata: raw.metadata, status: raw.status } as unknown as T;
      const message = parsed.error;
      return stepThenWrite(bare, raw, ctx, () =>
        Promise.resolve({ readiness: { state: "stalled", reason: CommonReasons.InvalidSpec, message }, result: terminal(new Error(message)), event: { type: "Warning", reason: CommonReasons.InvalidSpec, message } }),
      );
    }
    let obj = parsed.value;
    let prefetched: P | undefined;
    if (kind.finalizer !== undefined && !hasFinalizer(raw, kind.finalizer)) {
      const before = raw;
      // A failed prefetch is only a missed shortcut: the steps read again.
      const early = kind.prefetch?.(obj, ctx).catch(() => undefined);
      raw = await addFinalizer(deps.client, kind.resource, raw, kind.finalizer, { signal: ctx.signal });
      noteWrite(before);
      const again = kind.parse(raw);
      if (again.ok) obj = again.value;
      prefetched = await early;
    }
    const shown: Shown = { obj, raw };
    const progress = progressWriter(shown, ctx);
    const current = obj;
    return stepThenWrite(current, raw, ctx, () => kind.steps(current, ctx, progress, prefetched), () => shown);
  };
}
