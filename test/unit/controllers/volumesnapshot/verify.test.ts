import { describe, expect, it } from "vitest";
import type { ContentView, VolumeSnapshotView } from "../../../../src/controllers/volumesnapshot/objects.ts";
import { verify, type AzureObservation, type VerifyInput } from "../../../../src/controllers/volumesnapshot/verify.ts";

const HANDLE = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snapshot-1";
const NOW = new Date("2026-11-28T12:00:00Z");
const CREATED = "2026-11-28T11:55:00Z"; // 5 minutes before NOW

const readyVs: VolumeSnapshotView = {
  namespace: "app",
  name: "data-1",
  uid: "u1",
  createdAt: CREATED,
  labels: {},
  annotations: {},
  sourcePvc: "data",
  boundContentName: "snapcontent-u1",
  readyToUse: true,
  deleting: false,
};
const readyContent: ContentView = { name: "snapcontent-u1", driver: "disk.csi.azure.com", snapshotHandle: HANDLE, readyToUse: true };

const found = (s: Partial<Extract<AzureObservation, { kind: "found" }>["snapshot"]>): AzureObservation => ({
  kind: "found",
  snapshot: { provisioningState: "succeeded", ...s },
});

function input(over: Partial<VerifyInput>): VerifyInput {
  return {
    vs: readyVs,
    content: readyContent,
    cls: undefined,
    azure: undefined,
    verifiedHandle: undefined,
    scopeAllowed: () => true,
    now: NOW,
    deadlineMs: 30 * 60_000,
    ...over,
  };
}

describe("verify", () => {
  it.each<{ name: string; in: Partial<VerifyInput>; state: string; reason: string; needsAzure: boolean; pct?: number; msg?: RegExp }>([
    {
      name: "4555: readyToUse true while the Azure copy is at 40 % is not verified",
      in: { azure: found({ completionPercent: 40 }) },
      state: "Waiting",
      reason: "CopyInProgress",
      needsAzure: true,
      pct: 40,
      msg: /40% complete/,
    },
    { name: "fully copied and Succeeded is verified", in: { azure: found({ completionPercent: 100 }) }, state: "Verified", reason: "SnapshotVerified", needsAzure: false, pct: 100 },
    { name: "completionPercent absent (full snapshot) is verified", in: { azure: found({}) }, state: "Verified", reason: "SnapshotVerified", needsAzure: false },
    { name: "Kubernetes ready, Azure not read yet: ask for a read", in: {}, state: "Waiting", reason: "CheckingAzure", needsAzure: true },
    {
      name: "copyCompletionError fails with the ARM code",
      in: { azure: found({ completionPercent: 63, copyCompletionError: { code: "CopySourceNotFound", message: "source gone" } }) },
      state: "Failed",
      reason: "CopyFailed",
      needsAzure: false,
      msg: /CopySourceNotFound: source gone/,
    },
    { name: "provisioning Failed fails", in: { azure: found({ provisioningState: "failed", rawProvisioningState: "Failed" }) }, state: "Failed", reason: "ProvisioningFailed", needsAzure: false },
    { name: "provisioning in progress waits", in: { azure: found({ provisioningState: "inProgress", rawProvisioningState: "Creating" }) }, state: "Waiting", reason: "AzureProvisioning", needsAzure: true },
    {
      name: "Instant Access while copying is its own state, not verified",
      in: { azure: found({ completionPercent: 20, snapshotAccessState: "InstantAccess" }) },
      state: "InstantAccess",
      reason: "InstantAccessOnly",
      needsAzure: true,
      pct: 20,
    },
    {
      name: "AvailableWithInstantAccess after the copy is verified",
      in: { azure: found({ completionPercent: 100, snapshotAccessState: "AvailableWithInstantAccess" }) },
      state: "Verified",
      reason: "SnapshotVerified",
      needsAzure: false,
    },
    { name: "access Pending after the copy waits", in: { azure: found({ completionPercent: 100, snapshotAccessState: "Pending" }) }, state: "Waiting", reason: "AccessPending", needsAzure: true },
    {
      name: "Azure snapshot gone fails",
      in: { azure: { kind: "notFound", code: "ResourceNotFound", message: "not found" } },
      state: "Failed",
      reason: "AzureSnapshotNotFound",
      needsAzure: false,
    },
    {
      name: "seed 003: PVC missing, no content bound",
      in: { vs: { ...readyVs, readyToUse: false, boundContentName: undefined, error: { message: "Failed to create snapshot content with error cannot get claim from snapshot" } }, content: undefined },
      state: "Failed",
      reason: "SnapshotContentCreationFailed",
      needsAzure: false,
      msg: /cannot get claim from snapshot/,
    },
    {
      name: "VolumeSnapshot error with content bound",
      in: { vs: { ...readyVs, error: { message: "boom" } } },
      state: "Failed",
      reason: "VolumeSnapshotError",
      needsAzure: false,
    },
    {
      name: "content status.error fails",
      in: { content: { ...readyContent, readyToUse: false, error: { message: "CreateSnapshot failed: quota" } } },
      state: "Failed",
      reason: "ContentError",
      needsAzure: false,
      msg: /quota/,
    },
    { name: "Kubernetes not ready yet waits without ARM", in: { vs: { ...readyVs, readyToUse: false } }, state: "Waiting", reason: "WaitingForKubernetes", needsAzure: false },
    { name: "content not seen yet waits", in: { content: undefined }, state: "Waiting", reason: "WaitingForKubernetes", needsAzure: false },
    { name: "ready without a handle waits", in: { content: { name: "c", driver: "disk.csi.azure.com", readyToUse: true } }, state: "Waiting", reason: "WaitingForSnapshotHandle", needsAzure: false },
    {
      name: "another driver is not verifiable",
      in: { content: { ...readyContent, driver: "ebs.csi.aws.com" } },
      state: "NotVerifiable",
      reason: "DriverNotVerifiable",
      needsAzure: false,
      msg: /readyToUse=true/,
    },
    {
      name: "another driver known from the class only",
      in: { content: undefined, cls: { name: "c", driver: "file.csi.azure.com", annotations: {} } },
      state: "NotVerifiable",
      reason: "DriverNotVerifiable",
      needsAzure: false,
    },
    { name: "handle outside the namespace's scopes", in: { scopeAllowed: () => false }, state: "NotVerifiable", reason: "ScopeNotAllowed", needsAzure: false },
    {
      name: "a handle that is not a Compute snapshot id",
      in: { content: { ...readyContent, snapshotHandle: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/disks/d" } },
      state: "Failed",
      reason: "InvalidSnapshotHandle",
      needsAzure: false,
    },
    { name: "recorded as verified: no ARM read again", in: { verifiedHandle: HANDLE.toUpperCase() }, state: "Verified", reason: "SnapshotVerified", needsAzure: false },
    {
      name: "a recorded verification of another handle does not count",
      in: { verifiedHandle: `${HANDLE}-old` },
      state: "Waiting",
      reason: "CheckingAzure",
      needsAzure: true,
    },
    {
      name: "copying past the deadline fails and names what it waited for",
      in: { azure: found({ completionPercent: 40 }), deadlineMs: 60_000 },
      state: "Failed",
      reason: "DeadlineExceeded",
      needsAzure: false,
      pct: 40,
      msg: /within 60s of creation: CopyInProgress/,
    },
    {
      name: "Kubernetes not ready past the deadline fails",
      in: { vs: { ...readyVs, readyToUse: false }, deadlineMs: 60_000 },
      state: "Failed",
      reason: "DeadlineExceeded",
      needsAzure: false,
    },
    {
      name: "Instant Access only past the deadline fails",
      in: { azure: found({ completionPercent: 20, snapshotAccessState: "InstantAccess" }), deadlineMs: 60_000 },
      state: "Failed",
      reason: "DeadlineExceeded",
      needsAzure: false,
    },
    {
      name: "past the deadline but Azure not read yet: read first (the copy may be done)",
      in: { deadlineMs: 60_000 },
      state: "Waiting",
      reason: "CheckingAzure",
      needsAzure: true,
    },
    { name: "verified stays verified past the deadline", in: { azure: found({ completionPercent: 100 }), deadlineMs: 60_000 }, state: "Verified", reason: "SnapshotVerified", needsAzure: false },
  ])("$name", (row) => {
    const got = verify(input(row.in));
    expect({ state: got.state, reason: got.reason, needsAzure: got.needsAzure }).toEqual({ state: row.state, reason: row.reason, needsAzure: row.needsAzure });
    if (row.pct !== undefined) expect(got.completionPercent).toBe(row.pct);
    if (row.msg) expect(got.message).toMatch(row.msg);
  });
});
