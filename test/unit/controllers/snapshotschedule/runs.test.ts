import { describe, expect, it } from "vitest";
import {
  childName,
  COMPUTE_SNAPSHOT_NAME,
  diskSnapshotName,
  DNS_LABEL,
  runId,
  runTime,
  scheduleLabelValue,
} from "../../../../src/controllers/snapshotschedule/runs.ts";

describe("run ids", () => {
  it.each([
    ["a minute in UTC", "2026-11-28T02:00:00Z", "202611280200"],
    ["seconds are dropped (runs are minute-aligned)", "2026-11-28T02:00:59.999Z", "202611280200"],
    ["Kolkata 07:30 is 02:00 UTC", "2026-11-28T07:30:00+05:30", "202611280200"],
    ["New York's second 01:30 on fall-back day", "2026-11-01T01:30:00-05:00", "202611010630"],
    ["leap day", "2028-02-29T00:00:00Z", "202802290000"],
  ])("%s", (_name, at, id) => {
    expect(runId(new Date(at))).toBe(id);
    expect(runTime(id)?.toISOString()).toBe(new Date(Math.floor(Date.parse(at) / 60_000) * 60_000).toISOString());
  });

  it.each([
    ["30 February", "202602301200"],
    ["hour 24", "202611282400"],
    ["too short", "20261128020"],
    ["latest is a restore reference, not a run id", "latest"],
  ])("runTime refuses %s", (_name, id) => {
    expect(runTime(id)).toBeUndefined();
  });
});

describe("childName", () => {
  const long = "a".repeat(253);
  it.each([
    ["short and clean: readable", "nightly", "userpool", "202611280200", "nightly-userpool"],
    ["readable part exactly fills its 41 characters", "s".repeat(33), "t".repeat(7), "202611280200", `${"s".repeat(33)}-${"t".repeat(7)}`],
    ["one over: cut", "s".repeat(34), "t".repeat(7), "202611280200", `${"s".repeat(34)}-${"t".repeat(6)}`],
    ["dots in the schedule name (DNS subdomain)", "db.nightly", "data", "202611280200", undefined],
    ["upper case and underscores in a PVC-ish target", "nightly", "Data_Vol", "202611280200", undefined],
    ["253-character schedule", long, "pool", "202611280200", undefined],
    ["target that is all punctuation", "nightly", "___", "202611280200", undefined],
  ])("%s", (_name, schedule, target, run, prefix) => {
    const name = childName(schedule, target, run);
    expect(name).toMatch(DNS_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(new RegExp(`-[0-9a-f]{8}-${run}$`));
    if (prefix !== undefined) expect(name.slice(0, -22)).toBe(prefix);
    expect(childName(schedule, target, run)).toBe(name); // deterministic
  });

  it.each([
    ["underscore vs dash", ["nightly", "data_vol"], ["nightly", "data-vol"]],
    ["upper vs lower case", ["nightly", "Data"], ["nightly", "data"]],
    ["same 63-char cut, different tails", [`${"s".repeat(60)}x`, "p"], [`${"s".repeat(60)}y`, "p"]],
    ["where the dash sits", ["a-b", "c"], ["a", "b-c"]],
  ])("no clash when readable parts coincide: %s", (_name, [s1, t1], [s2, t2]) => {
    expect(childName(s1!, t1!, "202611280200")).not.toBe(childName(s2!, t2!, "202611280200"));
  });
});

describe("scheduleLabelValue", () => {
  it.each([
    ["short name as is", "nightly", "nightly"],
    ["63 as is", "n".repeat(63), "n".repeat(63)],
    ["longer: cut and hashed", "n".repeat(64), undefined],
    ["long with a dot at the cut", `${"n".repeat(53)}.${"m".repeat(40)}`, undefined],
  ])("%s", (_name, schedule, want) => {
    const v = scheduleLabelValue(schedule);
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/);
    if (want !== undefined) expect(v).toBe(want);
  });
});

describe("diskSnapshotName", () => {
  const id = (rg: string, name: string): string => `/subscriptions/0000/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${name}`;
  it.each([
    ["AKS PVC disk", "pvc-0f7c9a6e-3b1d-4c2e-9a8f-1234567890ab", "MC_rg_aks_westeurope", "team-a/nightly"],
    ["80-character disk name", "d".repeat(80), "rg", "team-a/nightly"],
    ["disk name ending in a dot-ish character after the cut", `${"d".repeat(57)}.${"e".repeat(22)}`, "rg", "ns/s"],
    ["leading underscore", "_data", "rg", "ns/s"],
  ])("%s", (_name, disk, rg, schedule) => {
    const name = diskSnapshotName(disk, id(rg, disk), schedule, "202611280200");
    expect(name).toMatch(COMPUTE_SNAPSHOT_NAME);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/-202611280200-[0-9a-f]{8}$/);
  });

  it("starts with the disk name when it fits (seed 002: named from disk and time)", () => {
    expect(diskSnapshotName("data-disk", id("rg", "data-disk"), "ns/s", "202611280200")).toMatch(/^data-disk-202611280200-[0-9a-f]{8}$/);
  });

  it.each([
    ["same disk name in two resource groups", ["data", id("rg1", "data"), "ns/s"], ["data", id("rg2", "data"), "ns/s"]],
    ["one disk in two schedules", ["data", id("rg", "data"), "ns/a"], ["data", id("rg", "data"), "ns/b"]],
  ])("no clash: %s", (_name, a, b) => {
    expect(diskSnapshotName(a[0]!, a[1]!, a[2]!, "202611280200")).not.toBe(diskSnapshotName(b[0]!, b[1]!, b[2]!, "202611280200"));
  });

  it("ignores the case of the disk id (ARM ids are case-insensitive)", () => {
    expect(diskSnapshotName("d", id("RG", "d"), "ns/s", "202611280200")).toBe(diskSnapshotName("d", id("rg", "d"), "ns/s", "202611280200"));
  });
});
