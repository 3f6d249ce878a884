import { describe, expect, it } from "vitest";
import {
  diskHydration,
  normalizeProvisioningState,
  snapshotReadiness,
  type CopyProgress,
  type ProvisioningState,
  type Readiness,
} from "../../../src/azure/provisioning.ts";

describe("normalizeProvisioningState", () => {
  it.each<[string | undefined, ProvisioningState]>([
    ["Succeeded", "succeeded"],
    ["succeeded", "succeeded"],
    ["Failed", "failed"],
    ["Canceled", "canceled"],
    ["Cancelled", "canceled"],
    ["Deleting", "deleting"],
    ["Creating", "inProgress"],
    ["Updating", "inProgress"],
    ["Accepted", "inProgress"],
    ["Upgrading", "inProgress"],
    ["Scaling", "inProgress"],
    ["Canceling", "inProgress"],
    ["Starting", "inProgress"],
    ["Stopping", "inProgress"],
    ["ReconcilingClusterETCDCertificates", "inProgress"],
    ["", "unknown"],
    [undefined, "unknown"],
  ])("%s → %s", (raw, expected) => {
    expect(normalizeProvisioningState(raw)).toBe(expected);
  });
});

const ok: CopyProgress = { provisioningState: "succeeded", rawProvisioningState: "Succeeded" };

describe("snapshotReadiness", () => {
  it.each<[string, CopyProgress, Readiness["kind"], string?]>([
    ["succeeded, nothing else", ok, "ready"],
    ["100% with Available", { ...ok, completionPercent: 100, snapshotAccessState: "Available" }, "ready"],
    ["AvailableWithInstantAccess", { ...ok, snapshotAccessState: "AvailableWithInstantAccess" }, "ready"],
    // The AKS#4555 gap: Succeeded while the copy sits at 0%.
    ["succeeded but copying", { ...ok, completionPercent: 0 }, "pending", "Copying"],
    ["succeeded, 99.5%", { ...ok, completionPercent: 99.5 }, "pending", "Copying"],
    ["access Pending", { ...ok, snapshotAccessState: "Pending" }, "pending", "AccessPending"],
    ["access InstantAccess only", { ...ok, snapshotAccessState: "InstantAccess" }, "pending", "AccessPending"],
    ["still creating", { provisioningState: "inProgress", rawProvisioningState: "Creating" }, "pending", "Provisioning"],
    ["no provisioning state", { provisioningState: "unknown" }, "pending", "Provisioning"],
    ["copy error", { ...ok, completionPercent: 40, copyCompletionError: { code: "CopySourceNotFound", message: "source gone" } }, "failed"],
    ["provisioning failed", { provisioningState: "failed", rawProvisioningState: "Failed" }, "failed"],
    ["being deleted", { provisioningState: "deleting", rawProvisioningState: "Deleting" }, "failed"],
  ])("%s → %s %s", (_n, s, kind, reason) => {
    const r = snapshotReadiness(s);
    expect(r.kind).toBe(kind);
    if (reason !== undefined && r.kind === "pending") expect(r.reason).toBe(reason);
  });

  it("carries the copy error's code and the completion percent", () => {
    expect(snapshotReadiness({ ...ok, copyCompletionError: { code: "CopySourceNotFound", message: "m" } })).toEqual({
      kind: "failed",
      code: "CopySourceNotFound",
      message: "m",
    });
    expect(snapshotReadiness({ ...ok, completionPercent: 42 })).toMatchObject({ kind: "pending", completionPercent: 42 });
  });
});

describe("diskHydration", () => {
  it.each<[string, CopyProgress, Readiness["kind"]]>([
    ["hydrated", { ...ok, completionPercent: 100 }, "ready"],
    ["no percent", ok, "ready"],
    ["hydrating", { ...ok, completionPercent: 10 }, "pending"],
    ["access state is not a disk concern", { ...ok, snapshotAccessState: "Pending" }, "ready"],
    ["failed", { provisioningState: "failed" }, "failed"],
  ])("%s → %s", (_n, d, kind) => {
    expect(diskHydration(d).kind).toBe(kind);
  });
});
