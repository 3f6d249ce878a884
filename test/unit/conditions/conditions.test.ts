import { describe, expect, it } from "vitest";
import { applyReadiness, kstatusOf, setCondition, type Condition, type Readiness } from "../../../src/conditions/conditions.ts";

const t0 = new Date("2026-11-23T10:00:00.123Z");
const t1 = new Date("2026-11-23T11:00:00Z");

describe("setCondition", () => {
  it("sets lastTransitionTime on first set, at second precision", () => {
    const out = setCondition([], { type: "Ready", status: "False", reason: "Creating", message: "m" }, 1, t0);
    expect(out).toEqual([{ type: "Ready", status: "False", reason: "Creating", message: "m", lastTransitionTime: "2026-11-23T10:00:00Z", observedGeneration: 1 }]);
  });

  it("keeps lastTransitionTime when only reason/message/generation change", () => {
    const a = setCondition([], { type: "Ready", status: "False", reason: "Creating", message: "m" }, 1, t0);
    const b = setCondition(a, { type: "Ready", status: "False", reason: "Waiting", message: "n" }, 2, t1);
    expect(b[0]).toMatchObject({ reason: "Waiting", message: "n", observedGeneration: 2, lastTransitionTime: "2026-11-23T10:00:00Z" });
  });

  it("moves lastTransitionTime when status changes", () => {
    const a = setCondition([], { type: "Ready", status: "False", reason: "Creating", message: "m" }, 1, t0);
    const b = setCondition(a, { type: "Ready", status: "True", reason: "Created", message: "ok" }, 1, t1);
    expect(b[0]?.lastTransitionTime).toBe("2026-11-23T11:00:00Z");
  });

  it("truncates very long messages", () => {
    const out = setCondition([], { type: "Ready", status: "False", reason: "R", message: "x".repeat(40_000) }, 1, t0);
    expect(out[0]?.message.length).toBeLessThanOrEqual(32_001);
  });
});

describe("applyReadiness (kstatus shape)", () => {
  const cases: Array<[Readiness["state"], string[], Record<string, string>]> = [
    ["ready", ["Ready"], { Ready: "True" }],
    ["progressing", ["Ready", "Reconciling"], { Ready: "False", Reconciling: "True" }],
    ["stalled", ["Ready", "Stalled"], { Ready: "False", Stalled: "True" }],
    ["notReady", ["Ready"], { Ready: "False" }],
  ];
  it.each(cases)("%s → types %j", (state, types, statuses) => {
    // Start from a state that has every condition, to show the stale ones are removed.
    let conds: Condition[] = applyReadiness([], { state: "progressing", reason: "A", message: "a" }, 1, t0);
    conds = setCondition(conds, { type: "Stalled", status: "True", reason: "S", message: "s" }, 1, t0);
    const out = applyReadiness(conds, { state, reason: "R", message: "msg" } as Readiness, 3, t1);
    expect(out.map((c) => c.type)).toEqual(types);
    for (const c of out) {
      expect(c.status).toBe(statuses[c.type]);
      expect(c.observedGeneration).toBe(3);
    }
  });
});

describe("kstatusOf", () => {
  const ready = applyReadiness([], { state: "ready", reason: "Ready", message: "" }, 1, t0);
  const stalled = applyReadiness([], { state: "stalled", reason: "X", message: "" }, 1, t0);
  const progressing = applyReadiness([], { state: "progressing", reason: "X", message: "" }, 1, t0);
  it.each([
    ["Current", 1, 1, ready],
    ["InProgress", 2, 1, ready],
    ["InProgress", 1, undefined, ready],
    ["Failed", 1, 1, stalled],
    ["InProgress", 1, 1, progressing],
  ] as const)("%s for generation %d observed %s", (want, gen, observed, conds) => {
    expect(kstatusOf(gen, observed, conds)).toBe(want);
  });
});
