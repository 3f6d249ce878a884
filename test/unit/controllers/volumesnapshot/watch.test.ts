import { describe, expect, it } from "vitest";
import { snapshotChanged, verifierHandlers } from "../../../../src/controllers/volumesnapshot/watch.ts";
import type { KubeObject } from "../../../../src/kube/client.ts";

const vs = (over: Partial<KubeObject["metadata"]> = {}, status: unknown = { readyToUse: false }): KubeObject => ({
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshot",
  metadata: { namespace: "a", name: "s", resourceVersion: "1", labels: {}, annotations: {}, ...over },
  spec: { volumeSnapshotClassName: "c1", source: { persistentVolumeClaimName: "p" } },
  status,
});

describe("snapshotChanged", () => {
  it.each([
    { name: "our own annotation patch", b: vs({ resourceVersion: "2", annotations: { "aksnap.io/verified": "false", "aksnap.io/completion-percent": "40", "aksnap.io/azure-checked-at": "t" } }), want: false },
    { name: "status readyToUse flips", b: vs({ resourceVersion: "2" }, { readyToUse: true }), want: true },
    { name: "an opt-in label", b: vs({ resourceVersion: "2", labels: { "aksnap.io/verify": "true" } }), want: true },
    { name: "someone else's annotation", b: vs({ resourceVersion: "2", annotations: { "velero.io/x": "y" } }), want: true },
    { name: "deletion", b: vs({ resourceVersion: "2", deletionTimestamp: "2026-11-28T00:00:00Z" }), want: true },
    { name: "resourceVersion only", b: vs({ resourceVersion: "2" }), want: false },
  ])("$name → $want", ({ b, want }) => {
    expect(snapshotChanged(vs(), b)).toBe(want);
  });
});

describe("verifierHandlers", () => {
  it("a content enqueues its bound VolumeSnapshot; a class change enqueues the snapshots of that class", () => {
    const keys: string[] = [];
    const h = verifierHandlers((k) => keys.push(k), () => [vs(), vs({ name: "other" }), { ...vs({ name: "x" }), spec: { volumeSnapshotClassName: "c2" } }]);
    h.contents.onAdd?.({ apiVersion: "v", kind: "VolumeSnapshotContent", metadata: { name: "sc" }, spec: { volumeSnapshotRef: { namespace: "a", name: "s" } } });
    h.classes.onUpdate?.(
      { apiVersion: "v", kind: "VolumeSnapshotClass", metadata: { name: "c1", annotations: {} }, driver: "disk.csi.azure.com" },
      { apiVersion: "v", kind: "VolumeSnapshotClass", metadata: { name: "c1", annotations: { "aksnap.io/verify": "true" } }, driver: "disk.csi.azure.com" },
    );
    expect(keys).toEqual(["a/s", "a/s", "a/other"]);
  });
});
