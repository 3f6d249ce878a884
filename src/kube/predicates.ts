// Event filters (controller-runtime's predicates). An update that changed only status — most often
// the controller's own status write — must not re-enqueue the key: that would bypass the per-key
// backoff and Retry-After of a failing reconcile and turn every write into another reconcile.
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "./client.ts";

export interface ChangeFilter {
  /**
   * The controller's own finalizer: an update that only ADDED it (the controller's own write, in
   * the reconcile that then went on to do the work) is not a change. Re-enqueueing on it would
   * reconcile again at once — past that reconcile's Retry-After or backoff. Its removal still counts.
   */
  ownFinalizer?: string;
}

/** True when something a reconciler acts on changed: spec (generation), deletion, labels, annotations or finalizers. */
export function changedBeyondStatus(oldObj: KubeObject, newObj: KubeObject, filter: ChangeFilter = {}): boolean {
  const a = oldObj.metadata;
  const b = newObj.metadata;
  const own = filter.ownFinalizer;
  const before = a.finalizers ?? [];
  const after = b.finalizers ?? [];
  const onlyOwnAdded = own !== undefined && !before.includes(own) && after.includes(own) && isDeepStrictEqual(before, after.filter((f) => f !== own));
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.labels ?? {}, b.labels ?? {}) ||
    !isDeepStrictEqual(a.annotations ?? {}, b.annotations ?? {}) ||
    (!onlyOwnAdded && !isDeepStrictEqual(before, after))
  );
}
