// What the target shows decides between writing and waiting: a restart never writes twice.
import { describe, expect, it } from "vitest";
import { defaultDnsPrefix, newClusterSpec, newPoolSpec, observeTarget, TAG_RESTORE, taintString, type ObservedTarget } from "../../../../src/controllers/restorerequest/target.ts";
import type { NodePoolRestore, RestoreMode } from "../../../../src/crds/restorerequest.ts";

const SNAP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/s1";
const OTHER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/s0";
const ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/np";
const snap = { id: SNAP, kubernetesVersion: "1.33.3", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202511.01.0" };
const OWNER = "team-a/restore";

const ours = (over: Partial<ObservedTarget> = {}): ObservedTarget => ({ id: ID, provisioningState: "succeeded", tags: { [TAG_RESTORE]: OWNER }, creationSourceResourceId: SNAP, ...over });
const upgraded = (over: Partial<ObservedTarget> = {}): ObservedTarget => ({
  id: ID,
  provisioningState: "succeeded",
  creationSourceResourceId: SNAP.toUpperCase(),
  kubernetesVersion: "1.33.3",
  nodeImageVersion: snap.nodeImageVersion,
  ...over,
});
const untouched = (over: Partial<ObservedTarget> = {}): ObservedTarget => ({ id: ID, provisioningState: "succeeded", creationSourceResourceId: OTHER, kubernetesVersion: "1.32.5", ...over });

describe("observeTarget", () => {
  it.each<[string, RestoreMode, ObservedTarget | undefined, string, string?]>([
    ["create: absent → start", "CreateNodePool", undefined, "start"],
    ["create: ours, Creating → wait for it", "CreateNodePool", ours({ provisioningState: "inProgress", rawProvisioningState: "Creating" }), "running", "Creating"],
    ["create: ours, Succeeded → done", "CreateNodePool", ours(), "done"],
    ["create: ours, Failed → failed with provisioningError", "CreateNodePool", ours({ provisioningState: "failed", provisioningError: { code: "QuotaExceeded", message: "no cores" } }), "failed", "no cores"],
    ["create: someone else's → refused", "CreateNodePool", ours({ tags: { [TAG_RESTORE]: "other/ns" } }), "refused", "someone else"],
    ["cluster: ours, Creating → wait", "CreateCluster", ours({ provisioningState: "inProgress" }), "running"],
    ["cluster: untagged → refused", "CreateCluster", ours({ tags: {} }), "refused"],
    ["upgrade: gone → refused", "UpgradeNodePool", undefined, "refused", "no longer exists"],
    ["upgrade: untouched → start", "UpgradeNodePool", untouched(), "start"],
    ["upgrade: untouched and busy → wait", "UpgradeNodePool", untouched({ provisioningState: "inProgress", rawProvisioningState: "Scaling" }), "busy", "Scaling"],
    ["upgrade: ours, Upgrading → wait", "UpgradeNodePool", upgraded({ provisioningState: "inProgress" }), "running"],
    ["upgrade: ours, Succeeded at the snapshot's image → done", "UpgradeNodePool", upgraded(), "done"],
    ["upgrade: ours, Succeeded at another image → refused", "UpgradeNodePool", upgraded({ nodeImageVersion: "AKSUbuntu-2204gen2containerd-202512.01.0" }), "refused", "not the snapshot's"],
    ["upgrade: same source but old version is not ours", "UpgradeNodePool", upgraded({ kubernetesVersion: "1.32.5" }), "start"],
    ["node image: ours, upgrading → wait", "UpgradeNodeImage", upgraded({ provisioningState: "inProgress", rawProvisioningState: "UpgradingNodeImageVersion" }), "running"],
    ["node image: ours, canceled → failed", "UpgradeNodeImage", upgraded({ provisioningState: "canceled" }), "failed", "Canceled"],
    ["node image: ours, deleting → refused", "UpgradeNodeImage", upgraded({ provisioningState: "deleting" }), "refused", "being deleted"],
  ])("%s", (_n, mode, t, kind, fragment) => {
    const o = observeTarget(mode, snap, OWNER, t, ID);
    expect(o.kind).toBe(kind);
    if (fragment) expect(JSON.stringify(o)).toContain(fragment);
  });
});

describe("request bodies", () => {
  const np: NodePoolRestore = {
    snapshotId: SNAP,
    mode: "CreateNodePool",
    target: { resourceGroup: "rg", clusterName: "my_cluster", agentPoolName: "np" },
    count: 3,
    agentPoolMode: "System",
    vmSize: "Standard_D16ds_v5",
    labels: { team: "a" },
    taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: "spot", effect: "PreferNoSchedule" }],
  };

  it("a new pool carries the snapshot as creationData, the owner tag, and the request's fields", () => {
    expect(newPoolSpec(np, SNAP, OWNER)).toEqual({
      count: 3,
      mode: "System",
      creationSourceResourceId: SNAP,
      tags: { [TAG_RESTORE]: OWNER },
      vmSize: "Standard_D16ds_v5",
      nodeLabels: { team: "a" },
      nodeTaints: ["dedicated=gpu:NoSchedule", "spot:PreferNoSchedule"],
    });
  });

  it("a new cluster's system pool comes from the snapshot at its version, in its region unless told", () => {
    const spec = newClusterSpec({ ...np, mode: "CreateCluster", agentPoolMode: undefined } as NodePoolRestore, { ...snap, location: "West Europe" }, OWNER);
    expect(spec).toMatchObject({ location: "westeurope", dnsPrefix: "my-cluster", kubernetesVersion: "1.33.3", tags: { [TAG_RESTORE]: OWNER } });
    expect(spec.systemPool).toMatchObject({ name: "np", count: 3, creationSourceResourceId: SNAP, orchestratorVersion: "1.33.3", nodeTaints: ["dedicated=gpu:NoSchedule", "spot:PreferNoSchedule"] });
  });

  it.each([
    ["my_cluster", "my-cluster"],
    ["_x_", "x"],
    ["a".repeat(63), "a".repeat(54)],
  ])("defaultDnsPrefix(%s)", (name, want) => expect(defaultDnsPrefix(name)).toBe(want));

  it("taintString without a value", () => expect(taintString({ key: "k", effect: "NoExecute" })).toBe("k:NoExecute"));
});
