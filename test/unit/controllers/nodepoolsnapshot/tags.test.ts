import { describe, expect, it } from "vitest";
import { planTags } from "../../../../src/controllers/nodepoolsnapshot/tags.ts";

type Tags = Record<string, string>;
const OWNER = { "aksnap.io-owner": "team-a/backup" };
// What Azure Policy typically adds; never ours to touch.
const POLICY = { CostCenter: "1234", "hidden-link:/app-insights": "x" };

describe("planTags (three-way merge: actual, desired, previously managed)", () => {
  it.each<[string, Tags, Tags, string[], Tags | undefined]>([
    ["new snapshot, nothing managed yet: no-op when ARM already has them", { ...OWNER }, { ...OWNER }, [], undefined],
    ["in sync", { ...OWNER, env: "prod" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], undefined],
    ["in sync with foreign tags", { ...OWNER, env: "prod", ...POLICY }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], undefined],
    ["add a tag", { ...OWNER }, { ...OWNER, env: "prod" }, ["aksnap.io-owner"], { ...OWNER, env: "prod" }],
    ["add a tag, keep foreign tags", { ...OWNER, ...POLICY }, { ...OWNER, env: "prod" }, ["aksnap.io-owner"], { ...OWNER, ...POLICY, env: "prod" }],
    ["change a value", { ...OWNER, env: "dev" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], { ...OWNER, env: "prod" }],
    ["remove a previously managed tag", { ...OWNER, env: "prod", team: "a" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env", "team"], { ...OWNER, env: "prod" }],
    ["remove a previously managed tag, keep foreign tags", { ...OWNER, team: "a", ...POLICY }, { ...OWNER }, ["aksnap.io-owner", "team"], { ...OWNER, ...POLICY }],
    ["a tag we never managed is kept even if not desired", { ...OWNER, team: "a" }, { ...OWNER }, ["aksnap.io-owner"], undefined],
    ["remove a previously managed tag already gone: no-op", { ...OWNER }, { ...OWNER }, ["aksnap.io-owner", "team"], undefined],
    ["take over a foreign tag's value when desired", { ...OWNER, CostCenter: "1234" }, { ...OWNER, CostCenter: "9" }, ["aksnap.io-owner"], { ...OWNER, CostCenter: "9" }],
    ["desired key in another case: no-op (ARM keys are case-insensitive)", { ...OWNER, Env: "prod" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], undefined],
    ["desired key in another case with a new value: one key, desired spelling", { ...OWNER, Env: "dev" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], { ...OWNER, env: "prod" }],
    ["previously managed key in another case is removed", { ...OWNER, TEAM: "a" }, { ...OWNER }, ["aksnap.io-owner", "team"], { ...OWNER }],
    ["values compare exactly", { ...OWNER, env: "Prod" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], { ...OWNER, env: "prod" }],
    ["empty value is a value", { ...OWNER, env: "" }, { ...OWNER, env: "prod" }, ["aksnap.io-owner", "env"], { ...OWNER, env: "prod" }],
    ["adopted: nothing desired, nothing managed, foreign tags stay", { ...POLICY }, {}, [], undefined],
    ["adopted: all user tags removed from spec", { ...POLICY, env: "prod" }, {}, ["env"], { ...POLICY }],
    ["snapshot has no tags at all", {}, { ...OWNER }, [], { ...OWNER }],
  ])("%s", (_n, actual, desired, previouslyManaged, patch) => {
    const plan = planTags(actual, desired, previouslyManaged);
    expect(plan.patch).toEqual(patch);
    expect(plan.managedKeys).toEqual(Object.keys(desired));
  });

  it("a patch is the full tag set: applying it reaches a fixed point", () => {
    const actual = { ...OWNER, env: "dev", team: "a", ...POLICY };
    const desired = { ...OWNER, env: "prod", owner: "me" };
    const first = planTags(actual, desired, ["aksnap.io-owner", "env", "team"]);
    expect(first.patch).toEqual({ ...OWNER, env: "prod", owner: "me", ...POLICY });
    const second = planTags(first.patch ?? {}, desired, first.managedKeys);
    expect(second.patch).toBeUndefined();
  });

  it("does not modify its inputs", () => {
    const actual = { ...OWNER, env: "dev" };
    const desired = { ...OWNER, env: "prod" };
    const managed = ["aksnap.io-owner", "env"];
    planTags(actual, desired, managed);
    expect(actual).toEqual({ ...OWNER, env: "dev" });
    expect(desired).toEqual({ ...OWNER, env: "prod" });
    expect(managed).toEqual(["aksnap.io-owner", "env"]);
  });
});
