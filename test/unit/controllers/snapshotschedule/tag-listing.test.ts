// Retention's tag lookups share one listing per snapshot resource group and tag name
// (src/controllers/snapshotschedule/tag-listing.ts): 1,000 schedules in one group cost one LIST per
// few seconds, not one each.
import { describe, expect, it } from "vitest";
import type { ArmError } from "../../../../src/azure/errors.ts";
import type { ListByTagQuery } from "../../../../src/azure/ports/common.ts";
import type { ComputeSnapshot, ComputeSnapshotsPort } from "../../../../src/azure/ports/computeSnapshots.ts";
import { fail, ok, type ArmResult } from "../../../../src/azure/result.ts";
import { sharedTagListing } from "../../../../src/controllers/snapshotschedule/tag-listing.ts";

const SUB = "sub";
const TAG = "aksnap.io-schedule";
const snap = (name: string, schedule: string): ComputeSnapshot =>
  ({ id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/snapshots/${name}`, name, subscriptionId: SUB, resourceGroup: "rg", location: "westeurope", tags: { [TAG]: schedule } }) as unknown as ComputeSnapshot;
const query = (schedule: string, rg = "rg"): ListByTagQuery => ({ subscriptionId: SUB, resourceGroups: [rg], tag: { name: TAG, value: schedule } });
const throttled: ArmError = { kind: "throttled", code: "TooManyRequests", message: "slow down" };

function setup() {
  let now = 0;
  const asked: ListByTagQuery[] = [];
  const answers: Array<ArmResult<ComputeSnapshot[]>> = [];
  let release: (() => void) | undefined;
  let hold = false;
  const port = {
    get: () => Promise.resolve(fail(throttled)),
    listByTag: async (q: ListByTagQuery) => {
      asked.push(q);
      if (hold) await new Promise<void>((r) => (release = r));
      return answers.shift() ?? ok([snap("a-1", "ns/a"), snap("a-2", "ns/a"), snap("b-1", "ns/b")]);
    },
  } as unknown as ComputeSnapshotsPort;
  const shared = sharedTagListing(port, { now: () => now, maxAgeMs: 5000 });
  return {
    shared,
    asked,
    answers,
    set now(t: number) {
      now = t;
    },
    hold: (on: boolean) => (hold = on),
    release: () => release?.(),
  };
}

const names = (r: ArmResult<ComputeSnapshot[]>): string[] => (r.ok ? r.value.map((s) => s.name) : [`error ${r.error.kind}`]);

describe("shared tag listing", () => {
  it("one LIST (by tag name, any value) answers every schedule of the group while younger than maxAge, each seeing its own", async () => {
    const t = setup();
    expect(names(await t.shared.listByTag(query("ns/a")))).toEqual(["a-1", "a-2"]);
    t.now = 5000;
    expect(names(await t.shared.listByTag(query("ns/b")))).toEqual(["b-1"]);
    expect(t.asked).toEqual([{ subscriptionId: SUB, resourceGroups: ["rg"], tag: { name: TAG } }]);
    t.now = 5001;
    await t.shared.listByTag(query("ns/a"));
    expect(t.asked).toHaveLength(2);
  });

  it("concurrent schedules share the LIST in flight", async () => {
    const t = setup();
    t.hold(true);
    const both = Promise.all([t.shared.listByTag(query("ns/a")), t.shared.listByTag(query("ns/b"))]);
    await new Promise((r) => setImmediate(r));
    t.release();
    expect((await both).map(names)).toEqual([["a-1", "a-2"], ["b-1"]]);
    expect(t.asked).toHaveLength(1);
  });

  it.each([
    ["another resource group is its own listing", query("ns/a", "rg-2"), 2],
    ["the same group in another case is the same listing", query("ns/a", "RG"), 1],
  ])("%s", async (_n, second, lists) => {
    const t = setup();
    await t.shared.listByTag(query("ns/a"));
    await t.shared.listByTag(second);
    expect(t.asked).toHaveLength(lists);
  });

  it("a failed LIST is not shared: the next asker lists again", async () => {
    const t = setup();
    t.answers.push(fail(throttled));
    expect(names(await t.shared.listByTag(query("ns/a")))).toEqual(["error throttled"]);
    expect(names(await t.shared.listByTag(query("ns/a")))).toEqual(["a-1", "a-2"]);
    expect(t.asked).toHaveLength(2);
  });

  it("every other method is the port's own", async () => {
    const t = setup();
    expect(names((await t.shared.get({ subscriptionId: SUB, resourceGroup: "rg", name: "x" })) as ArmResult<ComputeSnapshot[]>)).toEqual(["error throttled"]);
  });
});
