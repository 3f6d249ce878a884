// Small helpers every SDK-backed port uses: run a call into an ArmResult, drain a pager, copy tags.

import { toArmError } from "../errors.ts";
import { parseResourceId } from "../ids.ts";
import { fail, ok, type ArmResult } from "../result.ts";

/** Runs one SDK call; any throw becomes a classified ArmError. `fn` must not return a poller. */
export async function attempt<T>(now: () => number, fn: () => Promise<T>): Promise<ArmResult<T>> {
  try {
    return ok(await fn());
  } catch (e) {
    return fail(toArmError(e, now()));
  }
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
