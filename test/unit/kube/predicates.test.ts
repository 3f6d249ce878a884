// Which updates re-enqueue a key (src/kube/predicates.ts).
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/kube/client.ts";
import { changedBeyondStatus } from "../../../src/kube/predicates.ts";

const OWN = "aksnap.io/snapshot-protection";
const obj = (m: Partial<KubeObject["metadata"]> = {}, status: unknown = {}): KubeObject => ({ apiVersion: "v1", kind: "X", metadata: { name: "a", generation: 1, ...m }, status });

describe("changedBeyondStatus", () => {
  // [name, old, new, with ownFinalizer, changed]
  it.each<[string, KubeObject, KubeObject, boolean, boolean]>([
    ["status only", obj(), obj({}, { x: 1 }), true, false],
    ["spec (generation)", obj(), obj({ generation: 2 }), true, true],
    ["deletion", obj(), obj({ deletionTimestamp: "2026-01-01T00:00:00Z" }), true, true],
    ["a label", obj(), obj({ labels: { a: "b" } }), true, true],
    ["our finalizer added, without the filter", obj(), obj({ finalizers: [OWN] }), false, true],
    ["our finalizer added (our own write, in the reconcile doing the work)", obj(), obj({ finalizers: [OWN] }), true, false],
    ["our finalizer added next to another", obj({ finalizers: ["x/y"] }), obj({ finalizers: ["x/y", OWN] }), true, false],
    ["our finalizer removed by someone", obj({ finalizers: [OWN] }), obj(), true, true],
    ["another finalizer added", obj(), obj({ finalizers: ["x/y"] }), true, true],
    ["ours and another added at once", obj(), obj({ finalizers: ["x/y", OWN] }), true, true],
  ])("%s", (_n, a, b, filter, changed) => {
    expect(changedBeyondStatus(a, b, filter ? { ownFinalizer: OWN } : {})).toBe(changed);
  });
});
