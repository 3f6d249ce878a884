// Verifying Ready objects with one paged LIST per resource group instead of one GET per object: a
// group of 500 Ready objects costs a few LIST pages per period instead of 500 GETs (issue 8 §5).
//
// A listing is shared by every object of its group for `maxAgeMs`; concurrent lookups wait for the
// one LIST in flight; a failed LIST answers every lookup of that group with the same error until
// its Retry-After (at least `failureHoldMs`) has passed, so a throttled group is not re-listed by
// each of its objects. A snapshot absent from a listing is not taken as missing here: the listing
// may predate it, so the caller confirms with a GET (a definitive 404) before acting.
//
// A listing is held for most of the time (every Ready object asks once per period), so it is kept
// small: keyed by snapshot name (the group is the rest of the id), and stored as frozen copies whose
// repeated strings are shared — region, source pool id, versions and VM size are the same for most
// snapshots of a group. With 10,000 snapshots: 8.3 → 4.3 MiB of heap (bench/scale.ts --heap-snapshot).
import type { CallOptions } from "../../azure/deadline.ts";
import type { ArmError } from "../../azure/errors.ts";
import type { GroupResourceRef } from "../../azure/ids.ts";
import type { NodePoolSnapshot as ArmSnapshot, NodePoolSnapshotsPort } from "../../azure/ports/nodePoolSnapshots.ts";
import { frozenCopy, StringTable } from "../../kube/informer.ts";

export type Lookup = { kind: "listed"; snapshot: ArmSnapshot } | { kind: "notListed" } | { kind: "failed"; error: ArmError };

export interface GroupListingDeps {
  port: Pick<NodePoolSnapshotsPort, "listByResourceGroup">;
  /** Monotonic milliseconds. */
  now: () => number;
  /** How old a listing may be and still answer a lookup (the staleness a verification accepts). */
  maxAgeMs: number;
  /** How long a failed LIST without Retry-After answers lookups of its group with its error. */
  failureHoldMs: number;
}

export interface GroupListing {
  lookup(ref: GroupResourceRef, call: CallOptions): Promise<Lookup>;
  /** Groups currently held (for tests and memory bounds). */
  size(): number;
}

interface Group {
  at?: number;
  /** By lower-cased snapshot name (names are case-insensitive in ARM). */
  byName?: Map<string, ArmSnapshot>;
  inflight?: Promise<void>;
  failure?: { error: ArmError; until: number };
}

const groupKey = (ref: GroupResourceRef): string => `${ref.subscriptionId}/${ref.resourceGroup}`.toLowerCase();

export function createGroupListing(deps: GroupListingDeps): GroupListing {
  const groups = new Map<string, Group>();

  function answer(g: Group, ref: GroupResourceRef): Lookup | undefined {
    const t = deps.now();
    if (g.byName && g.at !== undefined && t - g.at <= deps.maxAgeMs) {
      const s = g.byName.get(ref.name.toLowerCase());
      return s ? { kind: "listed", snapshot: s } : { kind: "notListed" };
    }
    if (g.failure && t < g.failure.until) return { kind: "failed", error: g.failure.error };
    return undefined;
  }

  async function list(g: Group, ref: GroupResourceRef, call: CallOptions): Promise<void> {
    const started = deps.now();
    const r = await deps.port.listByResourceGroup(ref.subscriptionId, ref.resourceGroup, call);
    if (r.ok) {
      const strings = new StringTable();
      g.byName = new Map(r.value.map((s) => [s.name.toLowerCase(), frozenCopy(s, strings)]));
      // Stamped with the LIST's start: a snapshot deleted while it ran may still be in it.
      g.at = started;
      delete g.failure;
    } else {
      g.failure = { error: r.error, until: deps.now() + Math.max(deps.failureHoldMs, r.error.retryAfterMs ?? 0) };
    }
  }

  /** A listing past its age answers nothing: drop it (and groups no object asks about any more). */
  function prune(): void {
    const t = deps.now();
    for (const [k, g] of groups) {
      if (g.inflight) continue;
      const stale = g.at === undefined || t - g.at > deps.maxAgeMs;
      const failed = g.failure !== undefined && t < g.failure.until;
      if (stale && !failed) groups.delete(k);
    }
  }

  async function lookup(ref: GroupResourceRef, call: CallOptions): Promise<Lookup> {
    prune();
    const key = groupKey(ref);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = {}));
    const cached = answer(g, ref);
    if (cached) return cached;
    if (!g.inflight) {
      const group = g;
      group.inflight = list(group, ref, call).finally(() => delete group.inflight);
    }
    await g.inflight;
    // A LIST that was aborted by another reconcile's signal leaves neither listing nor failure.
    return answer(g, ref) ?? { kind: "failed", error: { kind: "transient", code: "ListingUnavailable", message: `listing snapshots of resource group ${ref.resourceGroup} did not complete` } };
  }

  return { lookup, size: () => groups.size };
}
