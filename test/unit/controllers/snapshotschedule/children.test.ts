import { describe, expect, it } from "vitest";
import {
  childRecord,
  diskRecord,
  diskResult,
  diskSnapshotPlan,
  isOurChild,
  labelSelectorString,
  matchesTags,
  nodePoolChild,
  nodePoolResult,
  nodePoolTarget,
  ownerReferences,
  retentionDaysOf,
  runOutcome,
  scheduleTagValue,
  volumeChild,
  volumeResult,
  type ScheduleRef,
} from "../../../../src/controllers/snapshotschedule/children.ts";
import type { Readiness } from "../../../../src/azure/provisioning.ts";
import type { TargetResult } from "../../../../src/crds/snapshotschedule.ts";
import type { KubeObject } from "../../../../src/kube/client.ts";

const s: ScheduleRef = { namespace: "shop", name: "nightly", uid: "u-1" };
const RUN = "202611280200";
const SUB = "00000000-0000-0000-0000-000000000001";

const obj = (o: Partial<KubeObject> & Record<string, unknown>): KubeObject => ({ apiVersion: "v1", kind: "X", metadata: { name: "c", namespace: "shop", generation: 1 }, ...o }) as KubeObject;

describe("child objects", () => {
  it("a node-pool child: deterministic name, run labels, the template's spec, no owner reference with Retain", () => {
    const t = { source: { resourceGroup: "rg", clusterName: "aks", agentPoolName: "userpool" }, tags: { env: "prod" } };
    const target = nodePoolTarget(t, SUB);
    const a = nodePoolChild(s, t, target, RUN, undefined);
    const b = nodePoolChild(s, t, target, RUN, "Retain");
    expect(a).toEqual(b);
    expect(a.metadata.name).toMatch(/^nightly-userpool-aks-rg-[0-9a-z-]*-[0-9a-f]{8}-202611280200$/);
    expect(a.metadata.name.length).toBeLessThanOrEqual(63);
    expect(a.metadata.labels).toEqual({ "aksnap.io/schedule": "nightly", "aksnap.io/run": RUN, "app.kubernetes.io/managed-by": "aksnap" });
    expect(a.metadata.ownerReferences).toBeUndefined();
    expect(a["spec"]).toEqual({ source: t.source, tags: { env: "prod" } });
  });

  it.each([
    ["parts, default subscription", { resourceGroup: "RG", clusterName: "aks", agentPoolName: "pool" }, `pool.aks.rg.${SUB}`],
    ["agentPoolId", { agentPoolId: `/subscriptions/${SUB}/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/aks/agentPools/pool` }, `pool.aks.rg.${SUB}`],
  ])("node-pool target identity from %s is the same pool", (_n, source, want) => {
    expect(nodePoolTarget({ source }, SUB)).toBe(want);
  });

  it("childDeletionPolicy Delete: the schedule owns its children", () => {
    expect(ownerReferences(s, "Delete")).toEqual([{ apiVersion: "aksnap.io/v1alpha1", kind: "SnapshotSchedule", name: "nightly", uid: "u-1", controller: true, blockOwnerDeletion: false }]);
    expect(volumeChild(s, "data-0", "csi-azuredisk", RUN, "Delete").metadata.ownerReferences).toHaveLength(1);
  });

  it("a volume child names its PVC and class", () => {
    const v = volumeChild(s, "data-0", "csi-azuredisk", RUN, undefined);
    expect(v.apiVersion).toBe("snapshot.storage.k8s.io/v1");
    expect(v["spec"]).toEqual({ source: { persistentVolumeClaimName: "data-0" }, volumeSnapshotClassName: "csi-azuredisk" });
    expect(volumeChild(s, "data-0", undefined, RUN, undefined)["spec"]).toEqual({ source: { persistentVolumeClaimName: "data-0" } });
  });

  it.each([
    ["same schedule and run", { "aksnap.io/schedule": "nightly", "aksnap.io/run": RUN }, true],
    ["another run", { "aksnap.io/schedule": "nightly", "aksnap.io/run": "202611270200" }, false],
    ["another schedule", { "aksnap.io/schedule": "weekly", "aksnap.io/run": RUN }, false],
    ["no labels (someone else's object)", undefined, false],
  ])("isOurChild: %s → %s", (_n, labels, want) => {
    expect(isOurChild(obj({ metadata: { name: "c", ...(labels ? { labels } : {}) } }), s, RUN)).toBe(want);
  });

  it.each([
    ["empty", {}, ""],
    ["labels", { matchLabels: { app: "db", tier: "data" } }, "app=db,tier=data"],
    [
      "expressions",
      { matchExpressions: [{ key: "a", operator: "In" as const, values: ["x", "y"] }, { key: "b", operator: "NotIn" as const, values: ["z"] }, { key: "c", operator: "Exists" as const }, { key: "d", operator: "DoesNotExist" as const }] },
      "a in (x,y),b notin (z),c,!d",
    ],
  ])("labelSelectorString: %s", (_n, sel, want) => {
    expect(labelSelectorString(sel)).toBe(want);
  });
});

describe("disk snapshots: the durable ARM record", () => {
  const disk = { id: `/subscriptions/${SUB}/resourceGroups/MC_rg/providers/Microsoft.Compute/disks/pvc-a`, name: "pvc-a", location: "westeurope", tags: { backup: "true", RetentionTime: "7" } };
  const tpl = { resourceGroups: ["MC_rg"], matchTags: { backup: "true" }, snapshotResourceGroup: "rg-snap" };

  it("is incremental, in snapshotResourceGroup, tagged with source disk, schedule, run and the disk's retention days", () => {
    const p = diskSnapshotPlan(s, tpl, SUB, disk, RUN);
    expect(p.ref).toMatchObject({ subscriptionId: SUB, resourceGroup: "rg-snap" });
    expect(p.ref.name).toMatch(/^pvc-a-202611280200-[0-9a-f]{8}$/);
    expect(p.spec).toEqual({
      location: "westeurope",
      sourceResourceId: disk.id,
      incremental: true,
      tags: { "aksnap.io-owner": "shop/nightly", "aksnap.io-schedule": "shop/nightly", "aksnap.io-run": RUN, "aksnap.io-source-disk": disk.id, "aksnap.io-retention-days": "7" },
    });
  });

  it("without the retention tag, no retention days are written (the schedule's policy applies)", () => {
    const p = diskSnapshotPlan(s, tpl, SUB, { ...disk, tags: { backup: "true" } }, RUN);
    expect(p.spec.tags?.["aksnap.io-retention-days"]).toBeUndefined();
  });

  it.each([
    ["7", 7],
    [" 30 ", 30],
    ["0", undefined],
    ["7d", undefined],
    ["-1", undefined],
    [undefined, undefined],
  ])("retentionDaysOf(%j) = %j", (v, want) => {
    expect(retentionDaysOf(v === undefined ? {} : { retentionTime: v }, "retentionTime")).toBe(want);
  });

  it.each([
    ["all present (names case-insensitive)", { Backup: "true", x: "1" }, { backup: "true" }, true],
    ["value differs", { backup: "True" }, { backup: "true" }, false],
    ["one missing", { backup: "true" }, { backup: "true", env: "prod" }, false],
  ])("matchesTags: %s", (_n, tags, want, ok) => {
    expect(matchesTags(tags, want)).toBe(ok);
  });

  it("a long namespace/name is cut and hashed to fit ARM's 256-character tag value", () => {
    const v = scheduleTagValue({ namespace: "n".repeat(63), name: "x".repeat(253) });
    expect(v.length).toBe(256);
    expect(v).toMatch(/#[0-9a-f]{16}$/);
  });

  it("reads a retention record from tags alone", () => {
    const snap = { id: "/s/1", tags: { "aksnap.io-run": "202611250200", "aksnap.io-source-disk": disk.id, "aksnap.io-retention-days": "1" } };
    expect(diskRecord(snap, { kind: "ready" }, new Set())).toEqual({ id: "/s/1", time: new Date("2026-11-25T02:00:00Z"), state: "Verified", target: disk.id.toLowerCase(), retentionDays: 1 });
    expect(diskRecord(snap, { kind: "ready" }, new Set(["202611250200"])).state).toBe("Pending");
    expect(diskRecord(snap, { kind: "failed", code: "X", message: "m" }, new Set()).state).toBe("Failed");
  });
});

describe("child results", () => {
  const cond = (type: string, status: string, reason = "R", message = "m") => ({ type, status, reason, message });
  it.each<[string, KubeObject | undefined, string, string | undefined]>([
    ["not made yet", undefined, "Pending", "Creating"],
    ["Ready for its generation", obj({ status: { observedGeneration: 1, conditions: [cond("Ready", "True")] } }), "Verified", undefined],
    ["Ready for an older generation", obj({ metadata: { name: "c", generation: 2 }, status: { observedGeneration: 1, conditions: [cond("Ready", "True")] } }), "Pending", "WaitingForReady"],
    ["Reconciling", obj({ status: { observedGeneration: 1, conditions: [cond("Ready", "False", "SourcePoolBusy"), cond("Reconciling", "True", "SourcePoolBusy")] } }), "Pending", "WaitingForReady: SourcePoolBusy"],
    ["Stalled", obj({ status: { observedGeneration: 1, conditions: [cond("Ready", "False", "SourceAgentPoolNotFound", "no pool"), cond("Stalled", "True", "SourceAgentPoolNotFound", "no pool")] } }), "Failed", "ChildStalled: SourceAgentPoolNotFound: no pool"],
  ])("node pool: %s → %s", (_n, o, phase, msg) => {
    const r = nodePoolResult(o);
    expect(r.phase).toBe(phase);
    if (msg) expect(r.message).toContain(msg);
  });

  const vs = (annotations: Record<string, string>, status: Record<string, unknown> = {}): KubeObject => obj({ metadata: { name: "v", annotations }, status });
  it.each<[string, KubeObject | undefined, string, string | undefined]>([
    ["not made yet", undefined, "Pending", "Creating"],
    ["readyToUse but not verified by aksnap", vs({}, { readyToUse: true }), "Pending", "not verified yet"],
    ["verified", vs({ "aksnap.io/verified": "true", "aksnap.io/verification": "Verified" }), "Verified", undefined],
    ["verified=true without the state (hand-edited)", vs({ "aksnap.io/verified": "true" }), "Pending", undefined],
    ["copy in progress", vs({ "aksnap.io/verified": "false", "aksnap.io/verification": "Waiting", "aksnap.io/verification-reason": "CopyInProgress" }), "Pending", "Waiting CopyInProgress"],
    [
      "failed (seed 003: PVC missing)",
      vs({ "aksnap.io/verified": "false", "aksnap.io/verification": "Failed", "aksnap.io/verification-reason": "VolumeSnapshotError", "aksnap.io/verification-message": 'persistentvolumeclaim "gone" not found' }),
      "Failed",
      'VerificationFailed: VolumeSnapshotError: persistentvolumeclaim "gone" not found',
    ],
    ["another driver", vs({ "aksnap.io/verified": "false", "aksnap.io/verification": "NotVerifiable", "aksnap.io/verification-reason": "DriverNotVerifiable" }), "NotVerifiable", "DriverNotVerifiable"],
  ])("volume: %s → %s", (_n, o, phase, msg) => {
    const r = volumeResult(o);
    expect(r.phase).toBe(phase);
    if (msg) expect(r.message).toContain(msg);
  });

  it.each<[string, Readiness, string, number | undefined, string | undefined]>([
    ["ready", { kind: "ready" }, "Verified", 100, undefined],
    ["copying at 40 %", { kind: "pending", reason: "Copying", completionPercent: 40, message: "completionPercent is 40" }, "Pending", 40, "CopyInProgress"],
    ["provisioning", { kind: "pending", reason: "Provisioning", message: "Creating" }, "Pending", undefined, "Provisioning"],
    ["access pending", { kind: "pending", reason: "AccessPending", completionPercent: 100, message: "Pending" }, "Pending", 100, "AccessPending"],
    ["copy error", { kind: "failed", code: "CopySourceNotFound", message: "gone" }, "Failed", undefined, "VerificationFailed: CopySourceNotFound: gone"],
  ])("disk: %s → %s", (_n, r, phase, pct, msg) => {
    const out = diskResult(r);
    expect(out.phase).toBe(phase);
    expect(out.completionPercent).toBe(pct);
    if (msg) expect(out.message).toContain(msg);
  });
});

describe("run outcome", () => {
  const r = (phase: TargetResult["phase"]): TargetResult => ({ kind: "DiskSnapshot", target: "d", name: `n-${phase}`, phase, message: "Creating" });
  const t0 = new Date("2026-11-28T02:00:00Z");
  const soon = new Date("2026-11-28T02:10:00Z");
  const late = new Date("2026-11-28T09:00:00Z");
  const H6 = 6 * 3_600_000;
  it.each<[string, TargetResult[], Date, string, number, number]>([
    ["all verified", [r("Verified"), r("Verified")], soon, "Succeeded", 2, 0],
    ["verified and not verifiable", [r("Verified"), r("NotVerifiable")], soon, "Succeeded", 1, 0],
    ["one pending", [r("Verified"), r("Pending")], soon, "Running", 1, 0],
    ["one failed, one pending: still running", [r("Failed"), r("Pending")], soon, "Running", 0, 1],
    ["one failed, rest verified", [r("Failed"), r("Verified")], soon, "Failed", 1, 1],
    ["nothing to capture", [], soon, "Failed", 0, 0],
    ["pending past the deadline", [r("Verified"), r("Pending")], late, "Failed", 1, 1],
  ])("%s → %s", (_n, results, now, phase, verified, failed) => {
    const o = runOutcome(results, t0, now, H6);
    expect(o).toMatchObject({ phase, verified, failed, targets: results.length });
  });

  it("a child past the deadline says so", () => {
    expect(runOutcome([r("Pending")], t0, late, H6).results[0]?.message).toMatch(/^DeadlineExceeded: not verified within 360 min/);
  });

  it("children of an active run are Pending for retention, whatever they show", () => {
    const o = obj({ metadata: { name: "c", labels: { "aksnap.io/run": RUN } } });
    expect(childRecord(o, "Failed", new Set([RUN]))).toEqual({ id: "c", time: new Date("2026-11-28T02:00:00Z"), state: "Pending" });
    expect(childRecord(o, "Failed", new Set()).state).toBe("Failed");
  });
});
