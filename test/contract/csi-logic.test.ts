// The test CSI driver's pure decisions: readiness per behaviour, ARM names from CSI names,
// pagination tokens, capacity rounding, class parameters.
import { describe, expect, it } from "vitest";
import { armName, paginate, sizeGiB, snapshotReadiness, splitParameters, type SnapshotBehaviour, type SnapshotState } from "../csi-driver/logic.ts";

const copying: SnapshotState = { provisioningState: "Succeeded", completionPercent: 40, snapshotAccessState: "Pending" };
const instant: SnapshotState = { provisioningState: "Succeeded", completionPercent: 40, snapshotAccessState: "InstantAccess" };
const done: SnapshotState = { provisioningState: "Succeeded", completionPercent: 100, snapshotAccessState: "Available" };
const noProgress: SnapshotState = { provisioningState: "Succeeded" };
const failedCopy: SnapshotState = { ...copying, copyCompletionError: { errorCode: "CopySourceNotFound", errorMessage: "gone" } };
const provisioning: SnapshotState = { provisioningState: "Updating" };

describe("snapshotReadiness", () => {
  it.each<{ name: string; b: SnapshotBehaviour; s: SnapshotState; want: ReturnType<typeof snapshotReadiness> }>([
    { name: "4555: ready while copying", b: "ready-on-provisioned", s: copying, want: { ready: true } },
    { name: "4555: blind to a failed copy", b: "ready-on-provisioned", s: failedCopy, want: { ready: true } },
    { name: "nobody is ready before provisioning succeeded", b: "ready-on-provisioned", s: provisioning, want: { ready: false } },
    { name: "wait-for-copy: not ready at 40 %", b: "wait-for-copy", s: copying, want: { ready: false } },
    { name: "wait-for-copy: ready at 100 %", b: "wait-for-copy", s: done, want: { ready: true } },
    { name: "wait-for-copy: ready when ARM reports no progress (fast sources)", b: "wait-for-copy", s: noProgress, want: { ready: true } },
    { name: "wait-for-copy: a failed copy is an error", b: "wait-for-copy", s: failedCopy, want: { failed: "snapshot background copy failed: CopySourceNotFound: gone" } },
    { name: "instant-access: ready in the instant-access window", b: "instant-access", s: instant, want: { ready: true } },
    { name: "instant-access: not ready while Pending without a window", b: "instant-access", s: copying, want: { ready: false } },
    { name: "a Failed provisioning is an error in every mode", b: "instant-access", s: { provisioningState: "Failed" }, want: { failed: "snapshot provisioningState is Failed" } },
  ])("$name", ({ b, s, want }) => {
    expect(snapshotReadiness(b, s)).toEqual(want);
  });
});

describe("armName", () => {
  it("keeps names ARM accepts and is deterministic for the rest, within 80 characters and distinct per CSI name", () => {
    expect(armName("snapshot-7c0c1f5e-2b1d-4a43-9f0e-0d1b7d5c3a11")).toBe("snapshot-7c0c1f5e-2b1d-4a43-9f0e-0d1b7d5c3a11");
    const long = "CreateSnapshot-snapshot-maxlen-" + "x".repeat(97);
    expect(long).toHaveLength(128);
    expect(armName(long)).toBe(armName(long));
    expect(armName(long).length).toBeLessThanOrEqual(80);
    expect(armName(long)).not.toBe(armName(long.slice(0, -1) + "y"));
    expect(armName("a/b")).toMatch(/^a-b-[0-9a-f]{10}$/);
    expect(armName("a/b")).not.toBe(armName("a-b"));
  });
});

describe("paginate", () => {
  const items = ["a", "b", "c", "d", "e"];
  it.each<{ name: string; max: number; token: string; want: ReturnType<typeof paginate<string>> }>([
    { name: "everything without a limit", max: 0, token: "", want: { entries: items, nextToken: "" } },
    { name: "a first page and a token", max: 2, token: "", want: { entries: ["a", "b"], nextToken: "2" } },
    { name: "the rest from a token", max: 0, token: "2", want: { entries: ["c", "d", "e"], nextToken: "" } },
    { name: "a token at the end is an empty page", max: 0, token: "5", want: { entries: [], nextToken: "" } },
    { name: "a token past the end is invalid (CSI: ABORTED)", max: 0, token: "6", want: { error: "invalid-token" } },
    { name: "a token that is not ours is invalid", max: 0, token: "abc", want: { error: "invalid-token" } },
    { name: "a negative max_entries is invalid", max: -1, token: "", want: { error: "invalid-max" } },
  ])("$name", ({ max, token, want }) => {
    expect(paginate(items, max, token)).toEqual(want);
  });
});

describe("sizeGiB and splitParameters", () => {
  it("rounds up to whole GiB, honours the minimum, and refuses a limit below it", () => {
    expect(sizeGiB(1, 0, 1)).toEqual({ gib: 1 });
    expect(sizeGiB(10 * 1024 ** 3 + 1, 0, 1)).toEqual({ gib: 11 });
    expect(sizeGiB(0, 0, 32)).toEqual({ gib: 32 });
    expect(sizeGiB(3 * 1024 ** 3, 2 * 1024 ** 3, 1)).toEqual({ error: `a 3 GiB disk exceeds limit_bytes ${2 * 1024 ** 3}` });
  });

  it("takes known keys case-insensitively, turns sidecar metadata into tags, and refuses unknown keys", () => {
    expect(splitParameters({ resourcegroup: "rg", "csi.storage.k8s.io/pvc/name": "data", "csi.storage.k8s.io/fstype": "ext4" }, ["resourceGroup"])).toEqual({
      known: { resourceGroup: "rg" },
      tags: { "k8s-azure-created-by": "aksnap-test-csi-driver", "kubernetes.io-created-for-pvc-name": "data" },
    });
    expect(splitParameters({ resourceGroupp: "rg" }, ["resourceGroup"])).toEqual({ error: "invalid parameter resourceGroupp (known: resourceGroup)" });
  });
});
