// One paged LIST per resource group serves the periodic check of every Ready object in it
// (src/controllers/nodepoolsnapshot/listing.ts).
import { describe, expect, it } from "vitest";
import type { ArmError } from "../../../../src/azure/errors.ts";
import { nodePoolSnapshotId, type GroupResourceRef } from "../../../../src/azure/ids.ts";
import type { NodePoolSnapshot } from "../../../../src/azure/ports/nodePoolSnapshots.ts";
import { fail, ok, type ArmResult } from "../../../../src/azure/result.ts";
import { createGroupListing } from "../../../../src/controllers/nodepoolsnapshot/listing.ts";

const SUB = "00000000-0000-0000-0000-000000000001";
const ref = (name: string, resourceGroup = "rg-a"): GroupResourceRef => ({ subscriptionId: SUB, resourceGroup, name });
const snap = (r: GroupResourceRef): NodePoolSnapshot => ({ id: nodePoolSnapshotId(r), name: r.name, subscriptionId: SUB, resourceGroup: r.resourceGroup, location: "westeurope", tags: {} });
const call = { signal: new AbortController().signal };

function setup(opts: { maxAgeMs?: number; failureHoldMs?: number } = {}) {
  let now = 0;
  const lists: string[] = [];
  const answers: Array<ArmResult<NodePoolSnapshot[]>> = [];
  let contents = [snap(ref("a1")), snap(ref("a2")), snap(ref("b1", "rg-b"))];
  let release: (() => void) | undefined;
  let hold = false;
  const listing = createGroupListing({
    port: {
      listByResourceGroup: async (_sub, rg) => {
        lists.push(rg);
        if (hold) await new Promise<void>((r) => (release = r));
        return answers.shift() ?? ok(contents.filter((s) => s.resourceGroup === rg));
      },
    },
    now: () => now,
    maxAgeMs: opts.maxAgeMs ?? 1000,
    failureHoldMs: opts.failureHoldMs ?? 500,
  });
  return {
    listing,
    lists,
    answers,
    set now(t: number) {
      now = t;
    },
    setContents: (c: NodePoolSnapshot[]) => (contents = c),
    hold: (on: boolean) => (hold = on),
    release: () => release?.(),
  };
}

describe("group listing", () => {
  it("one LIST answers every object of its group while it is younger than maxAge; then listed again", async () => {
    const t = setup();
    expect((await t.listing.lookup(ref("a1"), call)).kind).toBe("listed");
    expect((await t.listing.lookup(ref("a2"), call)).kind).toBe("listed");
    expect((await t.listing.lookup(ref("gone"), call)).kind).toBe("notListed");
    expect(t.lists).toEqual(["rg-a"]);
    t.now = 1000;
    await t.listing.lookup(ref("a1"), call);
    expect(t.lists).toEqual(["rg-a"]);
    t.now = 1001;
    t.setContents([]);
    expect((await t.listing.lookup(ref("a1"), call)).kind).toBe("notListed");
    expect(t.lists).toEqual(["rg-a", "rg-a"]);
  });

  it("a listing past its age is dropped, so memory holds only listings that can still answer", async () => {
    const t = setup();
    await t.listing.lookup(ref("a1"), call);
    await t.listing.lookup(ref("b1", "rg-b"), call);
    expect(t.listing.size()).toBe(2);
    t.now = 1001;
    await t.listing.lookup(ref("a1"), call);
    expect(t.listing.size()).toBe(1);
  });

  it("a snapshot is found by its name in any casing, as ARM listed it, and frozen (the listing is shared)", async () => {
    const t = setup();
    const listed: NodePoolSnapshot = { ...snap(ref("Nightly-A1")), tags: { "aksnap.io-owner": "ns/a1" }, sourceResourceId: "/pool", kubernetesVersion: "1.33.2" };
    t.setContents([listed]);
    const found = await t.listing.lookup(ref("nightly-a1"), call);
    if (found.kind !== "listed") throw new Error(`expected listed, got ${found.kind}`);
    expect(found.snapshot).toEqual(listed);
    expect(Object.isFrozen(found.snapshot) && Object.isFrozen(found.snapshot.tags)).toBe(true);
  });

  it("groups are listed separately; resource group names compare case-insensitively", async () => {
    const t = setup();
    await t.listing.lookup(ref("a1"), call);
    await t.listing.lookup(ref("a1", "RG-A"), call);
    expect((await t.listing.lookup(ref("b1", "rg-b"), call)).kind).toBe("listed");
    expect(t.lists).toEqual(["rg-a", "rg-b"]);
  });

  it("concurrent lookups share the LIST in flight", async () => {
    const t = setup();
    t.hold(true);
    const all = Promise.all([t.listing.lookup(ref("a1"), call), t.listing.lookup(ref("a2"), call), t.listing.lookup(ref("x"), call)]);
    await new Promise((r) => setImmediate(r));
    t.release();
    expect((await all).map((l) => l.kind)).toEqual(["listed", "listed", "notListed"]);
    expect(t.lists).toEqual(["rg-a"]);
  });

  it.each<[string, ArmError, number]>([
    ["429 with Retry-After 3 s: held 3 s", { kind: "throttled", code: "TooManyRequests", message: "slow down", retryAfterMs: 3000 }, 3000],
    ["5xx without Retry-After: held failureHoldMs", { kind: "transient", code: "InternalServerError", message: "oops" }, 500],
  ])("a failed LIST (%s) answers its group's lookups with its error, then is retried", async (_n, error, heldMs) => {
    const t = setup();
    t.answers.push(fail(error));
    expect(await t.listing.lookup(ref("a1"), call)).toEqual({ kind: "failed", error });
    t.now = heldMs - 1;
    expect(await t.listing.lookup(ref("a2"), call)).toEqual({ kind: "failed", error });
    expect(t.lists).toEqual(["rg-a"]);
    t.now = heldMs;
    expect((await t.listing.lookup(ref("a2"), call)).kind).toBe("listed");
    expect(t.lists).toEqual(["rg-a", "rg-a"]);
  });
});
