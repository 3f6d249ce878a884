// Small helpers every SDK-backed port uses: run a call into an ArmResult, drain a pager, copy tags,
// the header fields of a tracked resource, listing by tag, and the begin/check plumbing of LROs.

import type { ArmClients, SubscriptionClients } from "../clients.ts";
import { bounded, type CallOptions } from "../deadline.ts";
import { toArmError } from "../errors.ts";
import { parseResourceId, type GroupResourceRef } from "../ids.ts";
import { checkLro, decodeResumeToken, startLro, type LroAction, type LroContext, type LroTarget, type ResumeToken, type SdkPoller } from "../lro.ts";
import { fail, ok, type ArmResult, type LroCheck, type LroStart } from "../result.ts";

/** How long one call may take, and the caller's signal: `bounded` combines them. */
export interface CallLimit {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

export function limitOf(clients: Pick<ArmClients, "timeoutMs">, opts: CallOptions | undefined): CallLimit {
  return { timeoutMs: clients.timeoutMs, signal: opts?.signal };
}

/**
 * Runs one SDK call, bounded by `limit` (the SDK gets the combined signal); any throw becomes a
 * classified ArmError. `fn` must not return a poller.
 */
export async function attempt<T>(now: () => number, limit: CallLimit, fn: (signal: AbortSignal) => Promise<T>): Promise<ArmResult<T>> {
  return bounded(
    limit.timeoutMs,
    limit.signal,
    async (signal) => {
      try {
        return ok(await fn(signal));
      } catch (e) {
        return fail<T>(toArmError(e, now()));
      }
    },
    (error) => fail<T>(error),
  );
}

export async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

export function tagsOf(tags: Record<string, string> | undefined): Record<string, string> {
  return { ...(tags ?? {}) };
}

export function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const t = d instanceof Date ? d.getTime() : Date.parse(d);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Subscription and resource group from a returned id, falling back to what we asked for. */
export function scopeOf(id: string | undefined, fallback: { subscriptionId: string; resourceGroup: string }): {
  subscriptionId: string;
  resourceGroup: string;
} {
  const p = id === undefined ? undefined : parseResourceId(id);
  return {
    subscriptionId: p?.subscriptionId ?? fallback.subscriptionId,
    resourceGroup: p?.resourceGroup ?? fallback.resourceGroup,
  };
}

/** Spread helper: `{...opt("k", v)}` adds the key only when v is defined (no `k: undefined`). */
export function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Tag selector used by listByTag: name compared case-insensitively (as ARM does), value exactly. */
export interface TagSelector {
  readonly name: string;
  /** Omitted: any value. */
  readonly value?: string;
}

export function hasTag(tags: Record<string, string> | undefined, sel: TagSelector): boolean {
  if (tags === undefined) return false;
  const wanted = sel.name.toLowerCase();
  for (const [k, v] of Object.entries(tags)) {
    if (k.toLowerCase() === wanted && (sel.value === undefined || v === sel.value)) return true;
  }
  return false;
}

export interface ListByTagQuery {
  readonly subscriptionId: string;
  readonly resourceGroups: readonly string[];
  readonly tag: TagSelector;
}

/**
 * The resources in each of the query's resource groups that carry the tag, filtered client-side
 * (ARM has no tag filter on these lists); the first group that cannot be listed fails the call.
 */
export async function listTagged<S extends { tags?: Record<string, string> }, T>(
  now: () => number,
  limit: CallLimit,
  query: ListByTagQuery,
  listByResourceGroup: (resourceGroup: string, signal: AbortSignal) => AsyncIterable<S>,
  to: (s: S, asked: { subscriptionId: string; resourceGroup: string }) => T,
): Promise<ArmResult<T[]>> {
  const out: T[] = [];
  for (const resourceGroup of query.resourceGroups) {
    const page = await attempt(now, limit, (signal) => collect(listByResourceGroup(resourceGroup, signal)));
    if (!page.ok) return page;
    for (const s of page.value) {
      if (hasTag(s.tags, query.tag)) out.push(to(s, { subscriptionId: query.subscriptionId, resourceGroup }));
    }
  }
  return ok(out);
}

/** The fields every tracked resource directly under a resource group has in our domain types. */
export interface TrackedResource {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tags: Record<string, string>;
}

/**
 * Those fields from an SDK resource: scope from its id, falling back to what we asked for; the id
 * built from scope and name when ARM sent none.
 */
export function trackedResource(
  r: { id?: string; name?: string; location: string; tags?: Record<string, string> },
  asked: { subscriptionId: string; resourceGroup: string; name?: string },
  idOf: (ref: GroupResourceRef) => string,
): TrackedResource {
  const scope = scopeOf(r.id, asked);
  const name = r.name ?? asked.name ?? "";
  return {
    id: r.id ?? idOf({ ...scope, name }),
    name,
    ...scope,
    location: r.location,
    tags: tagsOf(r.tags),
  };
}

// --- long-running operations (see ../lro.ts), the same for every port that has them ---

/** What a port tells the LRO plumbing about its resource. */
export interface LroResource<Ref> {
  /** The resume token's target: a token of another target is refused by `resume`. */
  readonly target: LroTarget;
  /** For the refusal: `… given to the ${port} port`. */
  readonly port: string;
  readonly idOf: (ref: Ref) => string;
  readonly parseId: (id: string) => Ref | undefined;
  /** AKS: a failed operation's cause is the resource's status.provisioningError (re-GET). */
  readonly provisioningError?: (
    c: SubscriptionClients,
    ref: Ref,
    signal: AbortSignal,
  ) => Promise<{ code?: string; message?: string } | undefined>;
}

/** A decoded resume token of the port's own target, with the resource and clients it names. */
export interface ResumedLro<Ref> {
  readonly token: ResumeToken;
  readonly ref: Ref;
  readonly clients: SubscriptionClients;
}

export interface PortLro<Ref, R> {
  /**
   * Sends the operation's initial request with the clients of `ref`'s subscription, bounded by the
   * port's deadline and `opts.signal`; `begin` must pass `signal` to the SDK as its abortSignal.
   */
  start<T>(
    ref: Ref,
    action: LroAction,
    map: (r: R | undefined) => T,
    begin: (c: SubscriptionClients, signal: AbortSignal) => SdkPoller<R>,
    opts?: CallOptions,
  ): Promise<LroStart<T>>;
  /** Throws on a token this port did not make (a programmer error, not an ARM failure). */
  resume(resumeToken: string): ResumedLro<Ref>;
  /** Polls the resumed operation once, bounded like `start`; `restore` rebuilds its SDK poller. */
  check<T>(
    op: ResumedLro<Ref>,
    map: (r: R | undefined) => T,
    restore: (c: SubscriptionClients, sdkState: string, signal: AbortSignal) => SdkPoller<R>,
    opts?: CallOptions,
  ): Promise<LroCheck<T>>;
}

export function portLro<Ref extends { readonly subscriptionId: string }, R>(clients: ArmClients, now: () => number, res: LroResource<Ref>): PortLro<Ref, R> {
  const ctx = <T>(c: SubscriptionClients, ref: Ref, action: LroAction, map: (r: R | undefined) => T, signal: AbortSignal): LroContext<R, T> => {
    const pe = res.provisioningError;
    return {
      target: res.target,
      action,
      clients: c,
      resourceId: res.idOf(ref),
      now,
      map,
      signal,
      ...(pe === undefined ? {} : { provisioningError: () => pe(c, ref, signal) }),
    };
  };
  return {
    start: (ref, action, map, begin, opts) => {
      const c = clients.forSubscription(ref.subscriptionId);
      return bounded(
        clients.timeoutMs,
        opts?.signal,
        (signal) => startLro(ctx(c, ref, action, map, signal), () => begin(c, signal)),
        (error) => ({ kind: "failed", error }),
      );
    },
    resume: (resumeToken) => {
      const token = decodeResumeToken(resumeToken);
      const ref = res.parseId(token.resourceId);
      if (token.target !== res.target || ref === undefined) {
        throw new Error(`resume token for ${token.target} ${token.resourceId} given to the ${res.port} port`);
      }
      return { token, ref, clients: clients.forSubscription(token.subscriptionId) };
    },
    // A check cut short says nothing about the operation: keep the token (unknown), retry later.
    check: (op, map, restore, opts) =>
      bounded(
        clients.timeoutMs,
        opts?.signal,
        (signal) => checkLro(ctx(op.clients, op.ref, op.token.action, map, signal), (s) => restore(op.clients, s, signal), op.token),
        (error) => ({ kind: "unknown", error }),
      ),
  };
}

/** LRO result → domain value: the resource ARM returned, or undefined when it returned no body. */
export function bodyOf<S, A, D>(to: (s: S, asked: A) => D, asked: A): (r: S | void | undefined) => D | undefined {
  return (r) => (r === undefined || r === null ? undefined : to(r, asked));
}

/** LRO result → domain value, for operations whose result we do not read (deletes, node-image upgrades). */
export const nothing = (): undefined => undefined;

/** A PUT that ARM finished synchronously must carry the resource; `what` names it in the error otherwise. */
export function withBody<T>(started: LroStart<T | undefined>, what: string): LroStart<T> {
  if (started.kind !== "succeeded") return started;
  if (started.value === undefined) {
    return { kind: "failed", error: { kind: "transient", code: "EmptyResponse", message: `ARM returned no ${what} body` } };
  }
  return { kind: "succeeded", value: started.value };
}

/** A DELETE of something already gone (404) is what a delete wants: success. */
export function goneIsDeleted(started: LroStart<undefined>): LroStart<undefined> {
  return started.kind === "failed" && started.error.kind === "notFound" ? { kind: "succeeded", value: undefined } : started;
}
