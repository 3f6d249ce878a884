// The preflight chain as a table: each rule's pass and fail, per mode, from facts alone (no fakes).
import { describe, expect, it } from "vitest";
import { PREFLIGHT_RULES, runPreflight, type Facts, type RuleOutcome } from "../../../../src/controllers/restorerequest/preflight.ts";
import { compareNodeImages, parseKubeVersion, skewProblem, vmFamily } from "../../../../src/controllers/restorerequest/versions.ts";
import type { RestoreMode } from "../../../../src/crds/restorerequest.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const CLUSTER = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1`;
const POOL = `${CLUSTER}/agentPools/np1`;
const SNAP = `/subscriptions/${SUB}/resourceGroups/rg-snap/providers/Microsoft.ContainerService/snapshots/s1`;
const IMG = (date: string): string => `AKSUbuntu-2204gen2containerd-${date}`;

const snapshot = { id: SNAP, location: "westeurope", kubernetesVersion: "1.33.3", nodeImageVersion: IMG("202511.01.0"), vmSize: "Standard_D8ds_v5" };
const cluster = { id: CLUSTER, location: "westeurope", kubernetesVersion: "1.33.3" };
const pool = { id: POOL, vmSize: "Standard_D4ds_v5", kubernetesVersion: "1.32.5", nodeImageVersion: IMG("202510.03.0") };

/** Facts for a mode where every rule passes; rows override what they test. */
function facts(mode: RestoreMode, over: Partial<Facts> = {}): Facts {
  const base: Facts = {
    mode,
    namespace: "team-a",
    deniedIds: [],
    allowedRegions: undefined,
    targetClusterId: CLUSTER,
    ...(mode === "CreateCluster" ? {} : { targetPoolId: POOL }),
    snapshot: { state: "ready", snapshot },
    cluster: mode === "CreateCluster" ? null : cluster,
    ...(mode === "CreateNodePool" ? { pool: null } : mode === "CreateCluster" ? {} : { pool }),
  };
  return { ...base, ...over };
}

const nodeImageOnly = (over: Partial<Facts> = {}): Facts => facts("UpgradeNodeImage", { pool: { ...pool, kubernetesVersion: "1.33.3" }, ...over });

describe("preflight chain", () => {
  it.each<[string, Facts]>([
    ["CreateNodePool", facts("CreateNodePool", { requestedVmSize: "Standard_D16ds_v5" })],
    ["CreateNodePool with the snapshot's size", facts("CreateNodePool")],
    ["CreateNodePool two minors below the control plane", facts("CreateNodePool", { snapshot: { state: "ready", snapshot: { ...snapshot, kubernetesVersion: "1.31.9" } } })],
    ["UpgradeNodePool", facts("UpgradeNodePool")],
    ["UpgradeNodePool, same node image", facts("UpgradeNodePool", { pool: { ...pool, nodeImageVersion: snapshot.nodeImageVersion } })],
    ["UpgradeNodeImage", nodeImageOnly()],
    ["CreateCluster", facts("CreateCluster")],
    ["CreateCluster in an allowed region", facts("CreateCluster", { allowedRegions: ["northeurope"], requestedLocation: "northeurope" })],
    ["region allowed", facts("CreateNodePool", { allowedRegions: ["westeurope", "northeurope"] })],
  ])("passes: %s", (_n, f) => {
    const r = runPreflight(f);
    expect(r.verdict).toEqual({ kind: "passed" });
    expect(r.checks.every((c) => c.result === "Passed")).toBe(true);
  });

  // [row, facts, failing rule, reason, message fragment]
  it.each<[string, Facts, string, string, string]>([
    ["scope refused", facts("CreateNodePool", { deniedIds: [CLUSTER], snapshot: undefined, cluster: undefined, pool: undefined }), "ScopeAllowed", "ScopeNotAllowed", "--allowed-scopes"],
    ["ARM snapshot missing", facts("CreateNodePool", { snapshot: { state: "missing", message: `node-pool snapshot ${SNAP} not found in ARM` } }), "SnapshotReady", "SnapshotNotReady", "not found"],
    ["NodePoolSnapshot stalled", facts("UpgradeNodePool", { snapshot: { state: "missing", message: "NodePoolSnapshot team-a/s is Stalled" } }), "SnapshotReady", "SnapshotNotReady", "Stalled"],
    ["cluster missing (CreateNodePool)", facts("CreateNodePool", { cluster: null, pool: undefined }), "TargetExists", "TargetNotFound", "cluster"],
    ["pool missing (UpgradeNodePool)", facts("UpgradeNodePool", { pool: null }), "TargetExists", "TargetNotFound", "needs an existing pool"],
    ["pool missing (UpgradeNodeImage)", nodeImageOnly({ pool: null }), "TargetExists", "TargetNotFound", "needs an existing pool"],
    ["pool exists (CreateNodePool)", facts("CreateNodePool", { pool }), "TargetAbsent", "TargetAlreadyExists", "UpgradeNodePool"],
    ["cluster exists (CreateCluster)", facts("CreateCluster", { cluster }), "TargetAbsent", "TargetAlreadyExists", "another target.clusterName"],
    ["region not allowed", facts("CreateNodePool", { allowedRegions: ["northeurope"] }), "RegionAllowed", "RegionNotAllowed", "westeurope"],
    ["new cluster's region not allowed", facts("CreateCluster", { allowedRegions: ["northeurope"] }), "RegionAllowed", "RegionNotAllowed", "nodePool.cluster.location"],
    ["requested size in another family", facts("CreateNodePool", { requestedVmSize: "Standard_NC6s_v3" }), "VMFamilyMatches", "VMFamilyMismatch", "family N"],
    ["cluster's system pool in another family", facts("CreateCluster", { requestedVmSize: "Standard_E4s_v5" }), "VMFamilyMatches", "VMFamilyMismatch", "D-series"],
    ["upgraded pool in another family", facts("UpgradeNodePool", { pool: { ...pool, vmSize: "Standard_E8s_v5" } }), "VMFamilyMatches", "VMFamilyMismatch", "runs Standard_E8s_v5"],
    ["new pool newer than the control plane", facts("CreateNodePool", { cluster: { ...cluster, kubernetesVersion: "1.32.9" } }), "VersionsAllowed", "VersionNotAllowed", "must not be newer"],
    ["new pool three minors behind", facts("CreateNodePool", { cluster: { ...cluster, kubernetesVersion: "1.36.0" } }), "VersionsAllowed", "VersionNotAllowed", "at most 2 minor"],
    ["upgrade to the same Kubernetes version", facts("UpgradeNodePool", { pool: { ...pool, kubernetesVersion: "1.33.3" } }), "VersionsAllowed", "VersionNotAllowed", "use mode UpgradeNodeImage"],
    ["upgrade to an older Kubernetes version", facts("UpgradeNodePool", { pool: { ...pool, kubernetesVersion: "1.33.4" } }), "VersionsAllowed", "VersionNotAllowed", "must be newer"],
    ["upgrade to an older node image", facts("UpgradeNodePool", { pool: { ...pool, nodeImageVersion: IMG("202512.01.0") } }), "VersionsAllowed", "VersionNotAllowed", "must not be older"],
    ["upgrade beyond the control plane", facts("UpgradeNodePool", { cluster: { ...cluster, kubernetesVersion: "1.33.1" } }), "VersionsAllowed", "VersionNotAllowed", "Upgrade the control plane first"],
    ["node-image-only across Kubernetes versions", facts("UpgradeNodeImage"), "VersionsAllowed", "VersionNotAllowed", "use mode UpgradeNodePool"],
    ["node-image-only to the same image", nodeImageOnly({ pool: { ...pool, kubernetesVersion: "1.33.3", nodeImageVersion: snapshot.nodeImageVersion } }), "VersionsAllowed", "VersionNotAllowed", "must be newer"],
  ])("fails: %s", (_n, f, rule, reason, fragment) => {
    const r = runPreflight(f);
    expect(r.verdict).toMatchObject({ kind: "failed", rule, reason });
    expect(r.verdict.kind === "failed" && r.verdict.message).toContain(fragment);
    expect(r.checks.find((c) => c.name === rule)?.result).toBe("Failed");
  });

  it("records every rule of the mode once, in chain order, with later rules Skipped when their facts were not read", () => {
    const r = runPreflight(facts("UpgradeNodePool", { deniedIds: [SNAP], snapshot: undefined, cluster: undefined, pool: undefined }));
    expect(r.checks.map((c) => [c.name, c.result])).toEqual([
      ["ScopeAllowed", "Failed"],
      ["SnapshotReady", "Skipped"],
      ["TargetExists", "Skipped"],
      ["RegionAllowed", "Skipped"],
      ["VMFamilyMatches", "Skipped"],
      ["VersionsAllowed", "Skipped"],
    ]);
  });

  it.each<[RestoreMode, string[]]>([
    ["CreateNodePool", ["ScopeAllowed", "SnapshotReady", "TargetExists", "TargetAbsent", "RegionAllowed", "VMFamilyMatches", "VersionsAllowed"]],
    ["UpgradeNodePool", ["ScopeAllowed", "SnapshotReady", "TargetExists", "RegionAllowed", "VMFamilyMatches", "VersionsAllowed"]],
    ["UpgradeNodeImage", ["ScopeAllowed", "SnapshotReady", "TargetExists", "RegionAllowed", "VMFamilyMatches", "VersionsAllowed"]],
    ["CreateCluster", ["ScopeAllowed", "SnapshotReady", "TargetAbsent", "RegionAllowed", "VMFamilyMatches", "VersionsAllowed"]],
  ])("%s lists its rules", (mode, names) => {
    expect(PREFLIGHT_RULES.filter((r) => r.modes.includes(mode)).map((r) => r.name)).toEqual(names);
  });

  it("a NodePoolSnapshot still being created is a wait, not a failure; a failure elsewhere still wins", () => {
    const pending = runPreflight(facts("CreateNodePool", { snapshot: { state: "pending", message: "NodePoolSnapshot team-a/s is not Ready yet" } }));
    expect(pending.verdict).toMatchObject({ kind: "pending", rule: "SnapshotReady", reason: "WaitingForSnapshot" });
    const both = runPreflight(facts("CreateNodePool", { snapshot: { state: "pending", message: "…" }, pool }));
    expect(both.verdict).toMatchObject({ kind: "failed", rule: "TargetAbsent" });
  });

  it("every failure message names the failed rule", () => {
    const r = runPreflight(facts("CreateNodePool", { pool }));
    expect(r.verdict.kind === "failed" && r.verdict.message).toMatch(/^preflight TargetAbsent failed: /);
  });

  it("each rule is total: no rule throws on facts that were not read", () => {
    const bare: Facts = { mode: "CreateNodePool", namespace: "n", deniedIds: [], allowedRegions: ["x"], targetClusterId: CLUSTER };
    for (const mode of ["CreateNodePool", "UpgradeNodePool", "UpgradeNodeImage", "CreateCluster"] as const) {
      for (const rule of PREFLIGHT_RULES) {
        const o: RuleOutcome = rule.check({ ...bare, mode });
        expect(["Passed", "Skipped", "Failed", "Pending"]).toContain(o.result);
      }
    }
  });
});

describe("versions", () => {
  it.each<[string, string, string, string | undefined]>([
    ["same", "1.33.3", "1.33.3", undefined],
    ["two minors older", "1.31.0", "1.33.3", undefined],
    ["three minors older", "1.30.9", "1.33.3", "at most 2 minor"],
    ["newer patch", "1.33.4", "1.33.3", "must not be newer"],
    ["other major", "2.33.0", "1.33.3", "major version"],
  ])("skew: %s", (_n, node, cp, want) => {
    const p = skewProblem(parseKubeVersion(node) ?? [0, 0, 0], parseKubeVersion(cp) ?? [0, 0, 0]);
    if (want === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(want);
  });

  it.each<[string, string | undefined, string | undefined, number | undefined]>([
    ["newer date", IMG("202511.01.0"), IMG("202510.03.0"), 1],
    ["same", IMG("202510.03.0"), IMG("202510.03.0"), 0],
    ["older patch", IMG("202510.03.0"), IMG("202510.03.1"), -1],
    ["unparseable", "custom", IMG("202510.03.0"), undefined],
  ])("node images: %s", (_n, a, b, sign) => {
    const c = compareNodeImages(a, b);
    expect(c === undefined ? undefined : Math.sign(c)).toBe(sign);
  });

  it.each([
    ["Standard_D8ds_v5", "D"],
    ["Standard_NC6s_v3", "N"],
    ["standard_e4s_v5", "E"],
    ["Basic_A1", "A"],
  ])("vmFamily(%s) = %s", (size, fam) => expect(vmFamily(size)).toBe(fam));

  it.each([
    ["1.33", [1, 33, 0]],
    ["v1.30.2", [1, 30, 2]],
    ["1.x", undefined],
  ])("parseKubeVersion(%s)", (v, want) => expect(parseKubeVersion(v)).toEqual(want));
});
