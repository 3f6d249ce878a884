import { describe, expect, it } from "vitest";
import type { Hook, HookResult } from "../../../../src/crds/hooks.ts";
import type { SnapshotScheduleSpec } from "../../../../src/crds/snapshotschedule.ts";
import { hooksOf, hookVerdict } from "../../../../src/controllers/snapshotschedule/hooks.ts";
import { exitCodeOf, tail } from "../../../../src/kube/exec.ts";

const hook = (name: string, onError?: "Continue" | "Fail"): Hook => ({ name, podSelector: { matchLabels: { app: "db" } }, command: ["true"], ...(onError ? { onError } : {}) });
const res = (result: HookResult["result"], pod?: string): HookResult => ({ name: "h", phase: "pre", durationMs: 1, result, ...(pod ? { pod } : {}) });

describe("hooksOf", () => {
  it("schedule-wide pre hooks wrap the volume ones: freeze outer → inner, thaw inner → outer", () => {
    const spec: SnapshotScheduleSpec = {
      hooks: { pre: [hook("s-pre")], post: [hook("s-post")] },
      template: { volumes: { pvcSelector: {}, hooks: { pre: [hook("v-pre")], post: [hook("v-post")] } } },
    };
    const h = hooksOf(spec);
    expect(h.pre.map((x) => x.name)).toEqual(["s-pre", "v-pre"]);
    expect(h.post.map((x) => x.name)).toEqual(["v-post", "s-post"]);
  });
  it("no hooks: nothing to run", () => {
    expect(hooksOf({ template: { volumes: { pvcSelector: {} } } })).toEqual({ pre: [], post: [] });
  });
});

describe("hookVerdict", () => {
  it.each([
    { name: "all succeeded", h: hook("a"), rs: [res("Succeeded", "p1")], want: undefined },
    { name: "Fail is the default", h: hook("a"), rs: [res("Succeeded", "p1"), res("TimedOut", "p2")], want: "pre hook a TimedOut in p2" },
    { name: "NoPods fails too", h: hook("a", "Fail"), rs: [res("NoPods")], want: "pre hook a NoPods" },
    { name: "Continue goes on", h: hook("a", "Continue"), rs: [res("Failed", "p1")], want: undefined },
  ])("$name", ({ h, rs, want }) => {
    expect(hookVerdict(h, "pre", rs)).toBe(want);
  });
  it("stays within status.lastRun.hookFailure's 1024 characters whatever the message", () => {
    const long = { ...res("Failed", "p".repeat(253)), message: "m".repeat(1024) };
    expect(hookVerdict(hook("a".repeat(63)), "pre", [long])?.length).toBe(1024);
  });
});

describe("exec helpers", () => {
  it.each([
    { name: "success", s: { status: "Success" }, want: 0 },
    { name: "non-zero exit", s: { status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } }, want: 3 },
    { name: "no exit code (container not found)", s: { status: "Failure", message: "container not found" }, want: undefined },
  ])("exitCodeOf: $name", ({ s, want }) => {
    expect(exitCodeOf(s)).toBe(want);
  });
  it("tail keeps the last 20 lines, bounded in characters", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n") + "\n";
    expect(tail(text).split("\n")).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 30}`));
    expect(tail("x".repeat(5000)).length).toBe(2048);
  });
});
