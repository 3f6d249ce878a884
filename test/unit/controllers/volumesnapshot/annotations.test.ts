import { describe, expect, it } from "vitest";
import { annotationPatch, recorded } from "../../../../src/controllers/volumesnapshot/annotations.ts";
import type { Verification } from "../../../../src/controllers/volumesnapshot/verify.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const H = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/x";
const waiting40: Verification = { state: "Waiting", reason: "CopyInProgress", message: "copy 40% complete", completionPercent: 40, handle: H, needsAzure: true };
const verified: Verification = { state: "Verified", reason: "SnapshotVerified", message: "complete", completionPercent: 100, handle: H, needsAzure: false };

describe("annotationPatch", () => {
  it("first record: every key, the time and the check time", () => {
    expect(annotationPatch({ other: "x" }, waiting40, NOW, NOW)).toEqual({
      "aksnap.io/verified": "false",
      "aksnap.io/verification": "Waiting",
      "aksnap.io/verification-reason": "CopyInProgress",
      "aksnap.io/verification-message": "copy 40% complete",
      "aksnap.io/completion-percent": "40",
      "aksnap.io/verification-time": "2026-11-28T12:00:00Z",
      "aksnap.io/azure-checked-at": "2026-11-28T12:00:00Z",
    });
  });

  it("nothing changed and Azure not read: no write", () => {
    const current = annotationPatch({}, waiting40, NOW, NOW) as Record<string, string>;
    expect(annotationPatch(current, waiting40, new Date(NOW.getTime() + 5000), undefined)).toBeNull();
  });

  it("progress only: percent and check time move, the transition time does not", () => {
    const current = annotationPatch({}, waiting40, NOW, NOW) as Record<string, string>;
    const later = new Date(NOW.getTime() + 15_000);
    expect(annotationPatch(current, { ...waiting40, completionPercent: 70, message: "copy 70% complete" }, later, later)).toEqual({
      "aksnap.io/verification-message": "copy 70% complete",
      "aksnap.io/completion-percent": "70",
      "aksnap.io/azure-checked-at": "2026-11-28T12:00:15Z",
    });
  });

  it("verified: records the handle and the transition", () => {
    const current = annotationPatch({}, waiting40, NOW, NOW) as Record<string, string>;
    const later = new Date(NOW.getTime() + 15_000);
    const p = annotationPatch(current, verified, later, later);
    expect(p).toMatchObject({ "aksnap.io/verified": "true", "aksnap.io/verified-handle": H, "aksnap.io/verification-time": "2026-11-28T12:00:15Z" });
    expect(recorded({ ...current, ...(p as Record<string, string>) })).toEqual({ state: "Verified", reason: "SnapshotVerified", verifiedHandle: H, checkedAt: later });
  });

  it("leaving Verified removes the verified handle (null deletes in a merge patch)", () => {
    const current = { ...(annotationPatch({}, verified, NOW, NOW) as Record<string, string>) };
    const failed: Verification = { state: "Failed", reason: "VolumeSnapshotError", message: "x", needsAzure: false };
    expect(annotationPatch(current, failed, NOW, undefined)).toMatchObject({ "aksnap.io/verified-handle": null, "aksnap.io/verified": "false" });
  });

  it("long messages are cut to 1024 characters", () => {
    const p = annotationPatch({}, { ...waiting40, message: "m".repeat(5000) }, NOW, undefined) as Record<string, string>;
    expect(p["aksnap.io/verification-message"]).toHaveLength(1024);
  });
});
