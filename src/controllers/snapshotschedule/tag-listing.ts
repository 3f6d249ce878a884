// Retention and cleanup find a schedule's disk snapshots by listing its snapshot resource group and
// keeping those tagged with the schedule (ARM has no tag filter on that list). With 1,000 schedules
// sharing one resource group of 1,000 snapshots, each schedule's retention read all 1,000 (ten LIST
// pages): 10,000 reads for one night's runs, and ARM's read budget is ≈ 12,000 per hour. Here one
// listing of a group (all snapshots carrying the tag name) answers every schedule for `maxAgeMs`,
// and concurrent askers share the LIST in flight.
//
// A listing up to `maxAgeMs` old is safe for retention: the snapshots a run made were created long
// before it completed, so they are in it; a copy that completed since looks unverified, which only
// keeps more; a snapshot deleted since is deleted again (404) or shows as deleting.
import type { CallOptions } from "../../azure/deadline.ts";
import { hasTag, type ListByTagQuery } from "../../azure/ports/common.ts";
import type { ComputeSnapshot, ComputeSnapshotsPort } from "../../azure/ports/computeSnapshots.ts";
import { ok, type ArmResult } from "../../azure/result.ts";

interface Listing {
  at: number;
  items?: readonly ComputeSnapshot[];
  inflight?: Promise<ArmResult<readonly ComputeSnapshot[]>>;
}

export interface SharedTagListingOptions {
  /** Monotonic milliseconds. */
  now: () => number;
  maxAgeMs: number;
}

/** The port with `listByTag` answered from shared per-group listings; every other method as is. */
export function sharedTagListing(port: ComputeSnapshotsPort, opts: SharedTagListingOptions): ComputeSnapshotsPort {
  const listings = new Map<string, Listing>();

  const prune = (t: number): void => {
    for (const [k, l] of listings) if (!l.inflight && t - l.at > opts.maxAgeMs) listings.delete(k);
  };

  async function group(subscriptionId: string, resourceGroup: string, tagName: string, call?: CallOptions): Promise<ArmResult<readonly ComputeSnapshot[]>> {
    const t = opts.now();
    prune(t);
    const key = `${subscriptionId}/${resourceGroup}/${tagName}`.toLowerCase();
    const l = listings.get(key);
    if (l?.items && t - l.at <= opts.maxAgeMs) return ok(l.items);
    if (l?.inflight) return l.inflight;
    // Stamped with the LIST's start: what changed while it ran may be missing from it.
    const entry: Listing = { at: t };
    entry.inflight = port.listByTag({ subscriptionId, resourceGroups: [resourceGroup], tag: { name: tagName } }, call).then((r) => {
      delete entry.inflight;
      if (r.ok) entry.items = r.value;
      else listings.delete(key); // a failure is not shared: the next asker lists again
      return r;
    });
    listings.set(key, entry);
    return entry.inflight;
  }

  async function listByTag(query: ListByTagQuery, call?: CallOptions): Promise<ArmResult<ComputeSnapshot[]>> {
    const out: ComputeSnapshot[] = [];
    for (const rg of query.resourceGroups) {
      const r = await group(query.subscriptionId, rg, query.tag.name, call);
      if (!r.ok) return r;
      out.push(...r.value.filter((s) => hasTag(s.tags, query.tag)));
    }
    return ok(out);
  }

  // Every other method is the port's own, bound to it (a port may be a class instance).
  return new Proxy(port, {
    get(target, prop) {
      if (prop === "listByTag") return listByTag;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
