// Volume restore decisions as tables: only verified snapshots, latest skips unverified runs, the
// grant annotation, and PVC names under each conflict policy.
import { describe, expect, it } from "vitest";
import { decideName, granted, renamed, selectRun, usability } from "../../../../src/controllers/restorerequest/volumes-plan.ts";
import type { VolumeSnapshotView } from "../../../../src/controllers/volumesnapshot/objects.ts";

function vs(name: string, pvc: string, run: string, verified: string | undefined, state?: string): VolumeSnapshotView {
  return {
    namespace: "shop",
    name,
    uid: name,
    labels: { "aksnap.io/schedule": "nightly", "aksnap.io/run": run },
    annotations: { ...(verified !== undefined ? { "aksnap.io/verified": verified } : {}), ...(state ? { "aksnap.io/verification": state } : {}) },
    sourcePvc: pvc,
    deleting: false,
  };
}

const runs = [
  vs("db-1", "db", "202611270200", "true", "Verified"),
  vs("cache-1", "cache", "202611270200", "true", "Verified"),
  vs("db-2", "db", "202611280200", "true", "Verified"),
  vs("cache-2", "cache", "202611280200", "false", "Waiting"),
  vs("other", "db", "202611290200", "true"),
];
runs[4] = { ...runs[4], labels: { "aksnap.io/schedule": "weekly", "aksnap.io/run": "202611290200" } } as VolumeSnapshotView;

describe("selectRun", () => {
  it.each<[string, string, string[] | undefined, string, string[] | string]>([
    ["latest skips the newest run, which has an unverified snapshot", "latest", undefined, "selected", ["db-1", "cache-1"]],
    ["latest of a subset takes the newest run where that subset is verified", "latest", ["db"], "selected", ["db-2"]],
    ["a named run", "202611270200", undefined, "selected", ["db-1", "cache-1"]],
    ["a named run with an unverified snapshot waits", "202611280200", undefined, "waiting", "not verified yet"],
    ["a named run restricted to its verified PVC", "202611280200", ["db"], "selected", ["db-2"]],
    ["an unknown run", "202601010000", undefined, "failed", "no VolumeSnapshots of run"],
    ["a PVC the run lacks", "202611270200", ["ghost"], "failed", "no snapshot of PVC(s) ghost"],
    ["latest of a PVC no run has", "latest", ["ghost"], "failed", "no run whose snapshots"],
  ])("%s", (_n, run, pvcNames, kind, want) => {
    const s = selectRun(runs, "nightly", run, pvcNames);
    expect(s.kind).toBe(kind);
    if (s.kind === "selected") expect(s.snapshots.map((v) => v.name)).toEqual(want);
    else expect(s.message).toContain(want as string);
  });

  it("a failed verification in a named run fails rather than waits", () => {
    const bad = [vs("db-3", "db", "202611300200", "false", "Failed")];
    expect(selectRun(bad, "nightly", "202611300200", undefined)).toMatchObject({ kind: "failed", reason: "SnapshotNotVerified" });
  });
});

describe("usability", () => {
  it.each<[string, VolumeSnapshotView, string]>([
    ["verified", vs("a", "p", "r", "true", "Verified"), "verified"],
    ["not checked yet", vs("a", "p", "r", undefined), "waiting"],
    ["copy running", vs("a", "p", "r", "false", "Waiting"), "waiting"],
    ["instant access only", vs("a", "p", "r", "false", "InstantAccess"), "waiting"],
    ["failed", vs("a", "p", "r", "false", "Failed"), "unusable"],
    ["another driver", vs("a", "p", "r", "false", "NotVerifiable"), "unusable"],
    ["being deleted", { ...vs("a", "p", "r", "true"), deleting: true }, "unusable"],
  ])("%s", (_n, v, kind) => expect(usability(v).kind).toBe(kind));
});

describe("granted", () => {
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ["listed", { "aksnap.io/restore-to-namespaces": "staging, dr" }, true],
    ["wildcard", { "aksnap.io/restore-to-namespaces": "*" }, true],
    ["not listed", { "aksnap.io/restore-to-namespaces": "staging" }, false],
    ["prefix is not a match", { "aksnap.io/restore-to-namespaces": "dr-2" }, false],
    ["no annotation", {}, false],
    ["no namespace", undefined, false],
  ])("%s", (_n, annotations, want) => expect(granted(annotations, "dr")).toBe(want));
});

describe("decideName", () => {
  const taken = new Set(["db", "db-restored"]);
  it.each<[string, "Fail" | "Skip" | "Rename", string, string]>([
    ["free name, any policy", "Fail", "cache", "create:cache"],
    ["Fail", "Fail", "db", "fail"],
    ["Skip", "Skip", "db", "skip"],
    ["Rename finds the next free name", "Rename", "db", "create:db-restored-2"],
  ])("%s", (_n, policy, name, want) => {
    const d = decideName(name, policy, taken);
    expect(d.kind === "create" ? `create:${d.pvc}` : d.kind).toBe(want);
  });

  it("renamed names stay valid object names", () => {
    const n = renamed("x".repeat(253), 3);
    expect(n.length).toBeLessThanOrEqual(253);
    expect(n.endsWith("-restored-3")).toBe(true);
  });
});
