import { describe, expect, it } from "vitest";
import {
  agentPoolId,
  computeSnapshotId,
  diskId,
  isValidNodePoolSnapshotName,
  managedClusterId,
  nodePoolSnapshotId,
  parseAgentPoolId,
  parseComputeSnapshotId,
  parseDiskId,
  parseManagedClusterId,
  parseNodePoolSnapshotId,
  parseResourceId,
  resourceIdKey,
  resourceTypeOf,
  sameResourceId,
} from "../../../src/azure/ids.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const POOL = `/subscriptions/${SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/pool1`;

describe("parseResourceId", () => {
  it("splits a nested id", () => {
    const p = parseResourceId(POOL);
    expect(p).toEqual({
      subscriptionId: SUB,
      resourceGroup: "rg1",
      provider: "Microsoft.ContainerService",
      types: ["managedClusters", "agentPools"],
      names: ["c1", "pool1"],
    });
    expect(p && resourceTypeOf(p)).toBe("Microsoft.ContainerService/managedClusters/agentPools");
  });

  it.each([
    ["subscription", `/subscriptions/${SUB}`, { subscriptionId: SUB, types: [], names: [] }],
    ["resource group, ARM's lower-case spelling", `/subscriptions/${SUB}/resourcegroups/RG1`, { subscriptionId: SUB, resourceGroup: "RG1", types: [], names: [] }],
    ["trailing slash", `/subscriptions/${SUB}/resourceGroups/rg/`, { subscriptionId: SUB, resourceGroup: "rg", types: [], names: [] }],
  ])("%s", (_n, id, expected) => {
    expect(parseResourceId(id)).toEqual(expected);
  });

  it.each([
    ["empty", ""],
    ["not an id", "hello"],
    ["missing subscription", "/subscriptions"],
    ["odd type/name segments", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/disks`],
    ["unknown segment", `/subscriptions/${SUB}/foo/bar`],
    ["providers without namespace", `/subscriptions/${SUB}/resourceGroups/rg/providers`],
  ])("rejects %s", (_n, id) => {
    expect(parseResourceId(id)).toBeUndefined();
  });
});

describe("id comparison is case-insensitive", () => {
  it.each([
    [POOL, POOL.toLowerCase(), true],
    [POOL, POOL.replace("resourceGroups", "resourcegroups"), true],
    [POOL, `${POOL}/`, true],
    [POOL, POOL.replace("pool1", "pool2"), false],
    [POOL, undefined, false],
  ])("%s vs %s → %s", (a, b, same) => {
    expect(sameResourceId(a, b)).toBe(same);
  });

  it("keys are stable across casings", () => {
    expect(resourceIdKey(POOL.toUpperCase())).toBe(resourceIdKey(POOL));
  });
});

describe("typed ids round-trip", () => {
  const pool = { subscriptionId: SUB, resourceGroup: "rg1", clusterName: "c1", agentPoolName: "pool1" };
  const group = { subscriptionId: SUB, resourceGroup: "rg1", name: "n1" };

  it("agent pool", () => {
    expect(agentPoolId(pool)).toBe(POOL);
    expect(parseAgentPoolId(POOL)).toEqual(pool);
    // ARM answers in other casings; parsing still works.
    expect(parseAgentPoolId(POOL.replace("resourceGroups", "resourcegroups").replace("agentPools", "agentpools"))).toEqual(pool);
  });

  it("managed cluster", () => {
    const ref = { subscriptionId: SUB, resourceGroup: "rg1", clusterName: "c1" };
    expect(parseManagedClusterId(managedClusterId(ref))).toEqual(ref);
  });

  it.each([
    ["node-pool snapshot", nodePoolSnapshotId, parseNodePoolSnapshotId, "Microsoft.ContainerService/snapshots"],
    ["compute snapshot", computeSnapshotId, parseComputeSnapshotId, "Microsoft.Compute/snapshots"],
    ["disk", diskId, parseDiskId, "Microsoft.Compute/disks"],
  ] as const)("%s", (_n, format, parse, type) => {
    const id = format(group);
    expect(id).toContain(`/providers/${type}/n1`);
    expect(parse(id)).toEqual(group);
  });

  it("parsers refuse other resource types", () => {
    expect(parseAgentPoolId(managedClusterId(pool))).toBeUndefined();
    expect(parseManagedClusterId(POOL)).toBeUndefined();
    expect(parseNodePoolSnapshotId(computeSnapshotId(group))).toBeUndefined();
    expect(parseComputeSnapshotId(nodePoolSnapshotId(group))).toBeUndefined();
    expect(parseDiskId(computeSnapshotId(group))).toBeUndefined();
    expect(parseDiskId(`/subscriptions/${SUB}/providers/Microsoft.Compute/disks/d`)).toBeUndefined();
  });
});

describe("node-pool snapshot name rule", () => {
  it.each([
    ["a", true],
    ["A1", true],
    ["snap-2026_01", true],
    ["x".repeat(63), true],
    ["x".repeat(64), false],
    ["", false],
    ["-start", false],
    ["end-", false],
    ["_x", false],
    ["has.dot", false],
    ["has space", false],
    ["ünïcode", false],
  ])("%j → %s", (name, valid) => {
    expect(isValidNodePoolSnapshotName(name)).toBe(valid);
  });
});
