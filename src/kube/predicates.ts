// Event filters (controller-runtime's predicates). An update that changed only status — most often
// the controller's own status write — must not re-enqueue the key: that would bypass the per-key
// backoff and Retry-After of a failing reconcile and turn every write into another reconcile.
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "./client.ts";

/** True when something a reconciler acts on changed: spec (generation), deletion, labels, annotations or finalizers. */
export function changedBeyondStatus(oldObj: KubeObject, newObj: KubeObject): boolean {
  const a = oldObj.metadata;
  const b = newObj.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.labels ?? {}, b.labels ?? {}) ||
    !isDeepStrictEqual(a.annotations ?? {}, b.annotations ?? {}) ||
    !isDeepStrictEqual(a.finalizers ?? [], b.finalizers ?? [])
  );
}
