// Three-way tag merge, like `kubectl apply`: the operator sets the tags it wants, removes the ones
// it set before but no longer wants, and leaves everyone else's alone (Azure Policy commonly adds
// tags; fighting it would be a PATCH loop). Keys compare case-insensitively, as in ARM.

export interface TagPlan {
  /** The full tag set to PATCH, or undefined when the actual tags already satisfy the desire. */
  patch: Record<string, string> | undefined;
  /** Keys the operator manages after this plan (to remember in status). */
  managedKeys: string[];
}

export function planTags(actual: Record<string, string>, desired: Record<string, string>, previouslyManaged: readonly string[]): TagPlan {
  const lower = (k: string): string => k.toLowerCase();
  const desiredKeys = new Set(Object.keys(desired).map(lower));
  const drop = new Set(previouslyManaged.map(lower).filter((k) => !desiredKeys.has(k)));
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(actual)) {
    if (drop.has(lower(k)) || desiredKeys.has(lower(k))) continue;
    next[k] = v;
  }
  Object.assign(next, desired);
  const same =
    Object.keys(next).length === Object.keys(actual).length &&
    Object.entries(next).every(([k, v]) => Object.entries(actual).some(([ak, av]) => lower(ak) === lower(k) && av === v));
  return { patch: same ? undefined : next, managedKeys: Object.keys(desired) };
}
