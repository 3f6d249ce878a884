import { describe, expect, it } from "vitest";
import { parseArgs, parseDuration, UsageError, type FlagSpec } from "../../../src/cli/args.ts";
import { restoreFromFlags, RESTORE_FLAGS } from "../../../src/cli/restore.ts";
import { cell, humanAge, jsonPath, renderTable } from "../../../src/cli/table.ts";

const specs: FlagSpec[] = [{ name: "namespace", short: "n" }, { name: "all-namespaces", short: "A", boolean: true }, { name: "pvc", repeated: true }, ...RESTORE_FLAGS];

describe("parseArgs", () => {
  it.each([
    ["--flag value", ["status", "--namespace", "a"], "namespace", ["a"]],
    ["--flag=value", ["status", "--namespace=a"], "namespace", ["a"]],
    ["-n value", ["-n", "a", "status"], "namespace", ["a"]],
    ["-nvalue", ["-na"], "namespace", ["a"]],
    ["boolean shorthand", ["-A"], "all-namespaces", ["true"]],
    ["boolean =false", ["--all-namespaces=false"], "all-namespaces", ["false"]],
    ["repeated", ["--pvc", "a", "--pvc=b"], "pvc", ["a", "b"]],
  ])("%s", (_name, argv, flag, want) => {
    expect(parseArgs(argv, specs).flags.get(flag)).toEqual(want);
  });

  it.each([
    ["an unknown flag", ["--nope"], "unknown flag: --nope"],
    ["a missing value", ["-n"], "flag needs an argument: --namespace"],
    ["a non-repeatable flag twice", ["-n", "a", "-n", "b"], "given more than once"],
    ["a bad boolean", ["-A=yes"], 'invalid value "yes"'],
  ])("rejects %s", (_name, argv, message) => {
    expect(() => parseArgs(argv, specs)).toThrow(message);
  });

  it("keeps positionals in order around flags", () => {
    expect(parseArgs(["run", "-n", "x", "nightly"], specs).positionals).toEqual(["run", "nightly"]);
  });
});

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["100ms", 100],
    ["30s", 30_000],
    ["1h30m", 5_400_000],
  ])("%s", (s, ms) => expect(parseDuration(s)).toBe(ms));
  it("rejects a number without unit", () => expect(() => parseDuration("30")).toThrow(UsageError));
});

describe("tables", () => {
  it.each([
    ["seconds", 45_000, "45s"],
    ["minutes and seconds", 330_000, "5m30s"],
    ["minutes", 1_800_000, "30m"],
    ["hours and minutes", 3 * 3_600_000 + 20 * 60_000, "3h20m"],
    ["hours", 20 * 3_600_000, "20h"],
    ["days and hours", 76 * 3_600_000, "3d4h"],
    ["days", 20 * 86_400_000, "20d"],
  ])("ages like kubectl: %s", (_n, ms, want) => expect(humanAge(ms)).toBe(want));

  it("evaluates printer-column JSONPath, including a condition filter", () => {
    const o = { status: { conditions: [{ type: "Reconciling", status: "True" }, { type: "Ready", status: "False" }], lastRun: { phase: "Failed" } } };
    expect(jsonPath(o, '.status.conditions[?(@.type=="Ready")].status')).toBe("False");
    expect(jsonPath(o, ".status.lastRun.phase")).toBe("Failed");
    expect(jsonPath(o, ".status.conditions[0].type")).toBe("Reconciling");
    expect(jsonPath(o, ".spec.missing")).toBeUndefined();
  });

  it("pads columns and prints <none> and ages", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    expect(renderTable(["NAME", "READY", "AGE"], [["a", cell(undefined, "string", now), cell("2026-11-28T11:00:00Z", "date", now)], ["longer-name", "True", "1s"]])).toBe(
      "NAME          READY    AGE\na             <none>   60m\nlonger-name   True     1s\n",
    );
  });
});

describe("restoreFromFlags", () => {
  const p = (argv: string[]) => parseArgs(argv, specs);

  it("builds an UpgradeNodeImage request from an ARM snapshot id", () => {
    const id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/golden";
    const o = restoreFromFlags("pin", "team-a", p(["--snapshot-id", id, "--mode", "UpgradeNodeImage", "--resource-group", "rg", "--cluster", "c", "--agent-pool", "user"]));
    expect(o.spec).toEqual({ nodePool: { snapshotId: id, mode: "UpgradeNodeImage", target: { resourceGroup: "rg", clusterName: "c", agentPoolName: "user" } } });
  });

  it.each([
    ["no source at all", [], "a RestoreRequest needs nodePool, volumes, or both"],
    ["both a snapshot and an id", ["--snapshot", "a", "--snapshot-id", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/g", "--resource-group", "rg", "--cluster", "c", "--agent-pool", "p", "--count", "1"], "exactly one of snapshotRef"],
    ["a count on an upgrade", ["--snapshot", "a", "--mode", "UpgradeNodePool", "--resource-group", "rg", "--cluster", "c", "--agent-pool", "p", "--count", "2"], "apply only to CreateNodePool"],
    ["a malformed taint", ["--snapshot", "a", "--node-taint", "x:Sometimes"], "--node-taint"],
    ["a run without a schedule", ["--run", "latest"], "schedule and run go together"],
    ["a non-numeric count", ["--snapshot", "a", "--count", "three"], "--count must be a whole number"],
  ])("refuses %s", (_n, argv, message) => {
    expect(() => restoreFromFlags("x", "ns", p(argv))).toThrow(message);
  });
});
