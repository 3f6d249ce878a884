import { describe, expect, it } from "vitest";
import type { NodePoolSnapshot as ArmSnapshot } from "../../../../src/azure/ports/nodePoolSnapshots.ts";
import type { Readiness } from "../../../../src/conditions/conditions.ts";
import { mirror, nextStatus } from "../../../../src/controllers/nodepoolsnapshot/status.ts";
import type { NodePoolSnapshotStatus } from "../../../../src/crds/nodepoolsnapshot.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/s1`;
const POOL = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/p1`;

const full: ArmSnapshot = {
  id: ID,
  name: "s1",
  subscriptionId: SUB,
  resourceGroup: "rg",
  location: "westeurope",
  tags: { env: "prod" },
  sourceResourceId: POOL,
  snapshotType: "NodePool",
  kubernetesVersion: "1.30.4",
  nodeImageVersion: "AKSUbuntu-2204gen2containerd-202409.04.0",
  osType: "Linux",
  osSku: "Ubuntu",
  vmSize: "Standard_D4s_v5",
  enableFips: false,
  createdAt: "2024-09-10T08:00:00.000Z",
};
const bare: ArmSnapshot = { id: ID, name: "s1", subscriptionId: SUB, resourceGroup: "rg", location: "westeurope", tags: {} };

const T0 = new Date("2025-01-01T00:00:00Z");
const T1 = new Date("2025-01-01T01:00:00Z");
const ready: Readiness = { state: "ready", reason: "SnapshotReady", message: "ok" };
const creating: Readiness = { state: "progressing", reason: "Creating", message: "creating" };
const stalled: Readiness = { state: "stalled", reason: "SourceAgentPoolNotFound", message: "gone" };
const missing: Readiness = { state: "notReady", reason: "SnapshotMissing", message: "deleted" };

describe("mirror", () => {
  it("mirrors every read-only property of the ARM snapshot", () => {
    expect(mirror(full)).toEqual({
      snapshotId: ID,
      location: "westeurope",
      sourceResourceId: POOL,
      kubernetesVersion: "1.30.4",
      nodeImageVersion: "AKSUbuntu-2204gen2containerd-202409.04.0",
      osType: "Linux",
      osSku: "Ubuntu",
      vmSize: "Standard_D4s_v5",
      enableFips: false,
      createdAt: "2024-09-10T08:00:00.000Z",
    });
  });

  it("omits what ARM did not return (no undefined members)", () => {
    const m = mirror(bare);
    expect(m).toEqual({ snapshotId: ID, location: "westeurope" });
    expect(Object.keys(m).sort()).toEqual(["location", "snapshotId"]);
  });

  it.each<[keyof ArmSnapshot & keyof NodePoolSnapshotStatus]>([
    ["sourceResourceId"],
    ["kubernetesVersion"],
    ["nodeImageVersion"],
    ["osType"],
    ["osSku"],
    ["vmSize"],
    ["enableFips"],
    ["createdAt"],
  ])("mirrors %s on its own", (field) => {
    const m = mirror({ ...bare, [field]: full[field] });
    expect(m[field]).toEqual(full[field]);
  });

  it("keeps enableFips false (a value, not an absence)", () => {
    expect(mirror({ ...bare, enableFips: false })).toHaveProperty("enableFips", false);
  });
});

describe("nextStatus", () => {
  it("first reconcile: observedGeneration, conditions, mirrored fields, sorted managed tag keys", () => {
    const s = nextStatus({ prev: undefined, generation: 1, readiness: ready, now: T0, snapshot: full, managedTagKeys: ["env", "aksnap.io-owner", "Team"] });
    expect(s).toEqual({
      ...mirror(full),
      managedTagKeys: ["Team", "aksnap.io-owner", "env"].sort(),
      observedGeneration: 1,
      conditions: [{ type: "Ready", status: "True", reason: "SnapshotReady", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z", observedGeneration: 1 }],
    });
  });

  it("sorts managedTagKeys without modifying the caller's array", () => {
    const keys = ["b", "a"];
    expect(nextStatus({ prev: undefined, generation: 1, readiness: ready, now: T0, managedTagKeys: keys }).managedTagKeys).toEqual(["a", "b"]);
    expect(keys).toEqual(["b", "a"]);
  });

  it.each<[string, Readiness]>([
    ["ready", ready],
    ["progressing", creating],
    ["stalled", stalled],
    ["notReady", missing],
  ])("sets observedGeneration on every outcome (%s)", (_n, readiness) => {
    const prev: NodePoolSnapshotStatus = { observedGeneration: 1 };
    const s = nextStatus({ prev, generation: 7, readiness, now: T0 });
    expect(s.observedGeneration).toBe(7);
    expect(s.conditions?.every((c) => c.observedGeneration === 7)).toBe(true);
    expect(s.conditions?.find((c) => c.type === "Ready")?.reason).toBe(readiness.reason);
  });

  it.each<[string, Readiness, Record<string, string>]>([
    ["ready", ready, { Ready: "True" }],
    ["progressing", creating, { Ready: "False", Reconciling: "True" }],
    ["stalled", stalled, { Ready: "False", Stalled: "True" }],
    ["notReady", missing, { Ready: "False" }],
  ])("kstatus condition set for %s", (_n, readiness, want) => {
    // Start from the opposite so every transition has something to remove.
    const from = nextStatus({ prev: undefined, generation: 1, readiness: readiness.state === "stalled" ? creating : stalled, now: T0 });
    const s = nextStatus({ prev: from, generation: 1, readiness, now: T1 });
    expect(Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c.status]))).toEqual(want);
  });

  it("keeps lastTransitionTime when the status is unchanged, even if reason and message change", () => {
    const a = nextStatus({ prev: undefined, generation: 1, readiness: creating, now: T0 });
    const b = nextStatus({ prev: a, generation: 2, readiness: { state: "progressing", reason: "Throttled", message: "429" }, now: T1 });
    const ready0 = b.conditions?.find((c) => c.type === "Ready");
    expect(ready0).toMatchObject({ status: "False", reason: "Throttled", message: "429", lastTransitionTime: "2025-01-01T00:00:00Z", observedGeneration: 2 });
    expect(b.conditions?.find((c) => c.type === "Reconciling")?.lastTransitionTime).toBe("2025-01-01T00:00:00Z");
  });

  it("moves lastTransitionTime when the status changes", () => {
    const a = nextStatus({ prev: undefined, generation: 1, readiness: creating, now: T0 });
    const b = nextStatus({ prev: a, generation: 1, readiness: ready, now: T1 });
    expect(b.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("2025-01-01T01:00:00Z");
  });

  it("is a fixed point: the same input twice gives an equal status (so the write is skipped)", () => {
    const a = nextStatus({ prev: undefined, generation: 3, readiness: ready, now: T0, snapshot: full, managedTagKeys: ["env"] });
    const b = nextStatus({ prev: a, generation: 3, readiness: ready, now: T1, snapshot: full, managedTagKeys: ["env"] });
    expect(b).toEqual(a);
  });

  it("without a fresh read keeps the mirrored fields and managed keys (a failed reconcile does not blank status)", () => {
    const a = nextStatus({ prev: undefined, generation: 1, readiness: ready, now: T0, snapshot: full, managedTagKeys: ["env"] });
    const b = nextStatus({ prev: a, generation: 2, readiness: { state: "progressing", reason: "ArmUnavailable", message: "503" }, now: T1 });
    expect(b).toMatchObject({ ...mirror(full), managedTagKeys: ["env"], observedGeneration: 2 });
  });

  it("a fresh read replaces the mirrored fields: what the new snapshot lacks is not kept from the old one", () => {
    // E.g. missingSnapshotPolicy Recreate: the new snapshot must not show the deleted one's properties.
    const a = nextStatus({ prev: undefined, generation: 1, readiness: ready, now: T0, snapshot: full });
    const b = nextStatus({ prev: a, generation: 1, readiness: ready, now: T1, snapshot: { ...bare, kubernetesVersion: "1.31.1" } });
    const { conditions: _c, observedGeneration: _g, ...mirrored } = b;
    expect(mirrored).toEqual({ snapshotId: ID, location: "westeurope", kubernetesVersion: "1.31.1" });
  });

  it("does not modify prev", () => {
    const prev = nextStatus({ prev: undefined, generation: 1, readiness: creating, now: T0 });
    const copy = structuredClone(prev);
    nextStatus({ prev, generation: 2, readiness: ready, now: T1, snapshot: full, managedTagKeys: ["a"] });
    expect(prev).toEqual(copy);
  });
});
