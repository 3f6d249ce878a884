import { describe, expect, it } from "vitest";
import { isValidNodePoolSnapshotName, NODE_POOL_SNAPSHOT_NAME } from "../../../../src/azure/ids.ts";
import { ARM_TAG_VALUE_MAX, desiredFor, isOurs, OWNER_TAG, ownerTagValue, SCHEDULE_LABEL, SCHEDULE_TAG, snapshotNameFor, type Defaults } from "../../../../src/controllers/nodepoolsnapshot/desired.ts";
import { Reasons } from "../../../../src/controllers/nodepoolsnapshot/reasons.ts";
import type { NodePoolSnapshot, NodePoolSnapshotSpec } from "../../../../src/crds/nodepoolsnapshot.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const SUB2 = "00000000-0000-0000-0000-000000000002";
const DEFAULT_SUB = "00000000-0000-0000-0000-00000000000d";
const CS = "Microsoft.ContainerService";
const poolId = (sub: string, rg: string, cluster: string, pool: string): string =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/${CS}/managedClusters/${cluster}/agentPools/${pool}`;
const snapId = (sub: string, rg: string, name: string): string => `/subscriptions/${sub}/resourceGroups/${rg}/providers/${CS}/snapshots/${name}`;

function nps(spec: NodePoolSnapshotSpec, meta: { namespace?: string; name?: string; labels?: Record<string, string> } = {}): NodePoolSnapshot {
  return {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "NodePoolSnapshot",
    metadata: { name: meta.name ?? "backup", namespace: meta.namespace ?? "team-a", ...(meta.labels ? { labels: meta.labels } : {}) },
    spec,
  };
}

const withDefault: Defaults = { defaultSubscriptionId: DEFAULT_SUB };
const noDefault: Defaults = { defaultSubscriptionId: undefined };

describe("snapshotNameFor", () => {
  const long = "x".repeat(253);
  const ns63 = `n${"s".repeat(61)}n`;
  it.each([
    ["short", "team-a", "backup"],
    ["single characters", "a", "b"],
    ["dots in the object name (DNS subdomain)", "team-a", "pool.v1.backup"],
    ["name starting with a digit", "0ns", "1-backup"],
    ["max-length namespace and a 253-char name", ns63, long],
    ["max-length namespace, short name", ns63, "a"],
    ["name full of dots", "ns", "a.....................................................................z"],
    ["separator lands exactly at the cut", "n".repeat(53), "x"],
    ["underscore-ish characters cut at the end", "ns", `${"a".repeat(50)}......b`],
    ["empty namespace (cluster-scoped key)", "", "backup"],
    ["empty namespace, name starting with a separator character", "", ".hidden"],
    ["non-ASCII characters", "équipe", "sauvegarde-ü"],
    ["only separators", "", "..."],
  ])("%s → a valid ARM snapshot name", (_n, ns, name) => {
    const got = snapshotNameFor(ns, name);
    expect(got, got).toMatch(NODE_POOL_SNAPSHOT_NAME);
    expect(isValidNodePoolSnapshotName(got)).toBe(true);
    expect(got.length).toBeLessThanOrEqual(63);
  });

  it("is valid for a grid of namespace/name lengths and characters", () => {
    const alphabet = ["a", "z9", "a-b", "a.b", "-", ".", "0"];
    for (let nsLen = 1; nsLen <= 63; nsLen += 7) {
      for (let nameLen = 1; nameLen <= 253; nameLen += 23) {
        for (const piece of alphabet) {
          const ns = `n${piece.repeat(nsLen)}`.slice(0, 63);
          const name = `m${piece.repeat(nameLen)}`.slice(0, 253);
          const got = snapshotNameFor(ns, name);
          expect(isValidNodePoolSnapshotName(got), `${ns}/${name} → ${got}`).toBe(true);
        }
      }
    }
  });

  it("keeps short keys readable", () => {
    expect(snapshotNameFor("team-a", "backup")).toMatch(/^team-a-backup-[0-9a-f]{8}$/);
    expect(snapshotNameFor("team-a", "pool.v1")).toMatch(/^team-a-pool-v1-[0-9a-f]{8}$/);
  });

  it("uses the full 63 characters for long keys", () => {
    expect(snapshotNameFor("n".repeat(63), "x".repeat(253))).toHaveLength(63);
  });

  it("is deterministic", () => {
    expect(snapshotNameFor("team-a", "backup")).toBe(snapshotNameFor("team-a", "backup"));
    expect(snapshotNameFor("n".repeat(63), "x".repeat(253))).toBe(snapshotNameFor("n".repeat(63), "x".repeat(253)));
  });

  it.each([
    ["a-b", "c", "a", "b-c"],
    ["a", "b.c", "a", "b-c"],
    ["team", "a.b", "team", "a-b"],
    // Same 54-character readable head: only the hash tells them apart.
    ["n".repeat(63), `${"x".repeat(100)}1`, "n".repeat(63), `${"x".repeat(100)}2`],
  ])("%s/%s and %s/%s do not collide", (ns1, n1, ns2, n2) => {
    expect(snapshotNameFor(ns1, n1)).not.toBe(snapshotNameFor(ns2, n2));
  });

  it("never collides across many keys", () => {
    const seen = new Map<string, string>();
    for (const ns of ["a", "a-b", "a-b-c", "team", "team-a"]) {
      for (const name of ["b", "b-c", "c", "b.c", "a-b", "x".repeat(200), `${"x".repeat(199)}y`]) {
        const got = snapshotNameFor(ns, name);
        const key = `${ns}/${name}`;
        expect(seen.get(got), `${key} collides`).toBeUndefined();
        seen.set(got, key);
      }
    }
  });
});

describe("desiredFor: capture", () => {
  const parts = { resourceGroup: "rg-aks", clusterName: "aks1", agentPoolName: "userpool" };

  it("resolves the source by parts and defaults every placement field from it", () => {
    const r = desiredFor(nps({ source: { subscriptionId: SUB, ...parts } }), withDefault);
    const name = snapshotNameFor("team-a", "backup");
    expect(r).toEqual({
      ok: true,
      value: {
        mode: "capture",
        snapshot: { subscriptionId: SUB, resourceGroup: "rg-aks", name },
        snapshotId: snapId(SUB, "rg-aks", name),
        source: { subscriptionId: SUB, ...parts },
        sourceId: poolId(SUB, "rg-aks", "aks1", "userpool"),
        location: undefined,
        tags: { [OWNER_TAG]: "team-a/backup" },
        deletionPolicy: "Delete",
      },
    });
  });

  it("resolves the source by agentPoolId (ignoring the default subscription)", () => {
    const r = desiredFor(nps({ source: { agentPoolId: poolId(SUB2, "RG-X", "c9", "sys") } }), withDefault);
    if (!r.ok || r.value.mode !== "capture") throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.value.source).toEqual({ subscriptionId: SUB2, resourceGroup: "RG-X", clusterName: "c9", agentPoolName: "sys" });
    expect(r.value.sourceId).toBe(poolId(SUB2, "RG-X", "c9", "sys"));
    expect(r.value.snapshot).toEqual({ subscriptionId: SUB2, resourceGroup: "RG-X", name: snapshotNameFor("team-a", "backup") });
  });

  it("accepts ARM's lower-case spelling in agentPoolId", () => {
    const id = poolId(SUB, "rg", "c1", "p1").replace("resourceGroups", "resourcegroups").replace(CS, CS.toLowerCase());
    const r = desiredFor(nps({ source: { agentPoolId: id } }), noDefault);
    expect(r.ok && r.value.mode === "capture" ? r.value.source : undefined).toEqual({ subscriptionId: SUB, resourceGroup: "rg", clusterName: "c1", agentPoolName: "p1" });
  });

  it("takes the operator's default subscription when the parts omit it", () => {
    const r = desiredFor(nps({ source: parts }), withDefault);
    if (!r.ok || r.value.mode !== "capture") throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.value.source.subscriptionId).toBe(DEFAULT_SUB);
    expect(r.value.snapshot.subscriptionId).toBe(DEFAULT_SUB);
  });

  it("the spec's subscription beats the default", () => {
    const r = desiredFor(nps({ source: { subscriptionId: SUB, ...parts } }), withDefault);
    expect(r.ok && r.value.mode === "capture" ? r.value.source.subscriptionId : undefined).toBe(SUB);
  });

  it("is SubscriptionUnknown without a subscription in the spec or a default", () => {
    const r = desiredFor(nps({ source: parts }), noDefault);
    expect(r).toEqual({ ok: false, reason: Reasons.SubscriptionUnknown, message: expect.stringContaining("--default-subscription-id") });
  });

  it.each<[string, NodePoolSnapshotSpec, string]>([
    ["no source and no adopt id", {}, "spec.source is required"],
    ["parts without a cluster", { source: { subscriptionId: SUB, resourceGroup: "rg", agentPoolName: "p" } }, "needs resourceGroup, clusterName and agentPoolName"],
    ["agentPoolId of a cluster", { source: { agentPoolId: `/subscriptions/${SUB}/resourceGroups/rg/providers/${CS}/managedClusters/c1` } }, "is not an agent pool id"],
    ["agentPoolId of another provider", { source: { agentPoolId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/managedClusters/c1/agentPools/p` } }, "is not an agent pool id"],
  ])("is InvalidSpec for %s", (_n, spec, msg) => {
    const r = desiredFor(nps(spec), withDefault);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(Reasons.InvalidSpec);
    expect(r.message).toContain(msg);
  });

  it.each<[string, NodePoolSnapshotSpec["snapshot"], { sub: string; rg: string; name: string; location: string | undefined }]>([
    ["nothing set", undefined, { sub: SUB, rg: "rg-aks", name: snapshotNameFor("team-a", "backup"), location: undefined }],
    ["empty placement", {}, { sub: SUB, rg: "rg-aks", name: snapshotNameFor("team-a", "backup"), location: undefined }],
    ["resource group only", { resourceGroup: "rg-snaps" }, { sub: SUB, rg: "rg-snaps", name: snapshotNameFor("team-a", "backup"), location: undefined }],
    ["subscription only", { subscriptionId: SUB2 }, { sub: SUB2, rg: "rg-aks", name: snapshotNameFor("team-a", "backup"), location: undefined }],
    ["name only", { name: "golden" }, { sub: SUB, rg: "rg-aks", name: "golden", location: undefined }],
    ["location only", { location: "westeurope" }, { sub: SUB, rg: "rg-aks", name: snapshotNameFor("team-a", "backup"), location: "westeurope" }],
    ["everything", { subscriptionId: SUB2, resourceGroup: "rg-snaps", name: "golden", location: "eastus2" }, { sub: SUB2, rg: "rg-snaps", name: "golden", location: "eastus2" }],
  ])("placement: %s", (_n, snapshot, want) => {
    const r = desiredFor(nps({ source: { subscriptionId: SUB, ...parts }, ...(snapshot ? { snapshot } : {}) }), noDefault);
    if (!r.ok || r.value.mode !== "capture") throw new Error(`unexpected ${JSON.stringify(r)}`);
    expect(r.value.snapshot).toEqual({ subscriptionId: want.sub, resourceGroup: want.rg, name: want.name });
    expect(r.value.snapshotId).toBe(snapId(want.sub, want.rg, want.name));
    expect(r.value.location).toBe(want.location);
  });

  it.each<[string, NodePoolSnapshotSpec["deletionPolicy"], string]>([
    ["default", undefined, "Delete"],
    ["Delete", "Delete", "Delete"],
    ["Retain", "Retain", "Retain"],
  ])("deletionPolicy %s → %s", (_n, deletionPolicy, want) => {
    const r = desiredFor(nps({ source: { subscriptionId: SUB, ...parts }, ...(deletionPolicy ? { deletionPolicy } : {}) }), noDefault);
    expect(r.ok && r.value.deletionPolicy).toBe(want);
  });
});

describe("desiredFor: adopt", () => {
  const id = snapId(SUB2, "rg-golden", "ubuntu-2404");

  it("mirrors the given id; Retain by default", () => {
    expect(desiredFor(nps({ snapshot: { id } }), noDefault)).toEqual({
      ok: true,
      value: {
        mode: "adopt",
        snapshot: { subscriptionId: SUB2, resourceGroup: "rg-golden", name: "ubuntu-2404" },
        snapshotId: id,
        tags: { [OWNER_TAG]: "team-a/backup" },
        deletionPolicy: "Retain",
      },
    });
  });

  it("normalises ARM's casing of the id", () => {
    const r = desiredFor(nps({ snapshot: { id: id.replace("resourceGroups", "resourcegroups") } }), noDefault);
    expect(r.ok && r.value.snapshotId).toBe(id);
  });

  it("honours an explicit deletionPolicy Delete", () => {
    const r = desiredFor(nps({ snapshot: { id }, deletionPolicy: "Delete" }), noDefault);
    expect(r.ok && r.value.deletionPolicy).toBe("Delete");
  });

  it("needs no subscription (the id carries it)", () => {
    expect(desiredFor(nps({ snapshot: { id } }), noDefault).ok).toBe(true);
  });

  it.each([
    ["a Compute snapshot id", `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s1`],
    ["a resource group id", `/subscriptions/${SUB}/resourceGroups/rg`],
    ["not an id", "ubuntu-2404"],
  ])("is InvalidSpec for %s", (_n, bad) => {
    const r = desiredFor(nps({ snapshot: { id: bad } }), withDefault);
    expect(r).toEqual({ ok: false, reason: Reasons.InvalidSpec, message: expect.stringContaining("is not a Microsoft.ContainerService/snapshots id") });
  });
});

describe("desiredFor: tags", () => {
  const source = { subscriptionId: SUB, resourceGroup: "rg", clusterName: "c1", agentPoolName: "p1" };
  it.each<[string, Record<string, string> | undefined, Record<string, string> | undefined, Record<string, string>]>([
    ["no user tags", undefined, undefined, { [OWNER_TAG]: "team-a/backup" }],
    ["user tags kept", { env: "prod", purpose: "dr" }, undefined, { env: "prod", purpose: "dr", [OWNER_TAG]: "team-a/backup" }],
    ["schedule label → schedule tag", undefined, { [SCHEDULE_LABEL]: "nightly" }, { [OWNER_TAG]: "team-a/backup", [SCHEDULE_TAG]: "nightly" }],
    ["empty schedule label is no tag", undefined, { [SCHEDULE_LABEL]: "" }, { [OWNER_TAG]: "team-a/backup" }],
    ["other labels are not tags", undefined, { app: "x", "aksnap.io/run": "202401010000" }, { [OWNER_TAG]: "team-a/backup" }],
    // Admission forbids aksnap.io-* tags; if one slips through, the operator's value still wins.
    ["operator tags win over user tags", { [OWNER_TAG]: "someone/else", [SCHEDULE_TAG]: "fake", env: "prod" }, { [SCHEDULE_LABEL]: "nightly" }, { [OWNER_TAG]: "team-a/backup", [SCHEDULE_TAG]: "nightly", env: "prod" }],
  ])("%s", (_n, tags, labels, want) => {
    for (const spec of [{ source, ...(tags ? { tags } : {}) }, { snapshot: { id: snapId(SUB, "rg", "s") }, ...(tags ? { tags } : {}) }]) {
      const r = desiredFor(nps(spec, labels ? { labels } : {}), noDefault);
      expect(r.ok && r.value.tags).toEqual(want);
    }
  });
});

describe("ownerTagValue: within ARM's 256-character tag value", () => {
  const ns63 = "n".repeat(63);
  it.each<[string, string, string]>([
    ["short: <namespace>/<name>", "team-a", "backup"],
    ["exactly 256", "team-a", "b".repeat(256 - "team-a/".length)],
    ["the longest key (63 + 1 + 253 = 317)", ns63, "b".repeat(253)],
    ["one over", "team-a", "b".repeat(257 - "team-a/".length)],
  ])("%s", (_n, ns, name) => {
    const v = ownerTagValue(ns, name);
    expect(v.length).toBeLessThanOrEqual(ARM_TAG_VALUE_MAX);
    if (`${ns}/${name}`.length <= ARM_TAG_VALUE_MAX) expect(v).toBe(`${ns}/${name}`);
    else expect(v).toMatch(new RegExp(`^${ns}/b+#[0-9a-f]{16}$`));
  });

  it("long keys that share a 239-character prefix stay distinct", () => {
    const a = ownerTagValue("n".repeat(63), `${"b".repeat(252)}1`);
    const b = ownerTagValue("n".repeat(63), `${"b".repeat(252)}2`);
    expect(a).not.toBe(b);
  });
});

describe("isOurs: the owner tag, or the id our status recorded", () => {
  const ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/x";
  const me = (status?: { snapshotId: string }): NodePoolSnapshot =>
    ({ metadata: { name: "backup", namespace: "team-a" }, spec: {}, ...(status ? { status } : {}) }) as unknown as NodePoolSnapshot;
  it.each<[string, NodePoolSnapshot, Record<string, string>, boolean]>([
    ["our owner tag", me(), { [OWNER_TAG]: "team-a/backup" }, true],
    ["our owner tag, key in another case (ARM tag names are case-insensitive)", me(), { "AKSNAP.IO-OWNER": "team-a/backup" }, true],
    ["another namespace's object of the same name", me(), { [OWNER_TAG]: "team-b/backup" }, false],
    ["no owner tag, nothing recorded (a golden snapshot)", me(), { golden: "true" }, false],
    ["no owner tag, but the id our status recorded (tags stripped by someone)", me({ snapshotId: ID.toUpperCase() }), {}, true],
    ["recorded id, but someone else's owner tag", me({ snapshotId: ID }), { [OWNER_TAG]: "team-b/backup" }, false],
  ])("%s → %s", (_n, obj, tags, want) => {
    expect(isOurs(obj, { id: ID, tags })).toBe(want);
  });
});
