// The test CSI driver's decisions, free of gRPC and ARM: how a CSI request name becomes an ARM
// resource name, when a snapshot counts as ready under each driver behaviour, list pagination,
// capacity rounding, and parameter validation. Unit-testable without sockets.

import { createHash } from "node:crypto";

export const DRIVER_NAME = "disk.csi.azure.com";
export const GiB = 1024 * 1024 * 1024;

/**
 * How the driver answers `ready_to_use`, mirroring real azuredisk versions:
 * - `ready-on-provisioned`: true as soon as the snapshot PUT succeeded (Azure/AKS issue 4555);
 * - `wait-for-copy`: false until the background copy's completionPercent reaches 100 (today's driver);
 * - `instant-access`: the snapshot is created with an instant-access window and is ready while that
 *   window makes it restorable (snapshotAccessState InstantAccess / AvailableWithInstantAccess).
 */
export const SNAPSHOT_BEHAVIOURS = ["ready-on-provisioned", "wait-for-copy", "instant-access"] as const;
export type SnapshotBehaviour = (typeof SNAPSHOT_BEHAVIOURS)[number];

export function isSnapshotBehaviour(v: unknown): v is SnapshotBehaviour {
  return typeof v === "string" && (SNAPSHOT_BEHAVIOURS as readonly string[]).includes(v);
}

// Azure disk and snapshot names (Microsoft.Compute): 1–80 characters, alphanumerics, `_`, `-`, `.`,
// starting with an alphanumeric or `_` and ending with an alphanumeric or `_`.
const ARM_NAME = /^[a-zA-Z0-9_]([-a-zA-Z0-9_.]{0,78}[a-zA-Z0-9_])?$/;
const ARM_NAME_MAX = 80;

/**
 * The ARM name for a CSI request name. Deterministic, so a retried request finds its own resource
 * (CSI requires idempotency by name); a name ARM would refuse (too long — CSI allows 128 — or with
 * other characters) gets a sanitised prefix plus a hash of the whole name, so two CSI names never share
 * an ARM resource.
 */
export function armName(csiName: string): string {
  if (ARM_NAME.test(csiName)) return csiName;
  const hash = createHash("sha256").update(csiName).digest("hex").slice(0, 10);
  const clean = csiName.replace(/[^-a-zA-Z0-9_.]/g, "-").replace(/^[-.]+/, "");
  return `${clean.slice(0, ARM_NAME_MAX - hash.length - 1)}-${hash}`;
}

/** The fields of an ARM snapshot that readiness depends on. */
export interface SnapshotState {
  provisioningState?: string | undefined;
  completionPercent?: number | undefined;
  snapshotAccessState?: string | undefined;
  copyCompletionError?: { errorCode?: string | undefined; errorMessage?: string | undefined } | undefined;
}

export type Readiness = { ready: boolean } | { failed: string };

/** What the driver answers for a snapshot in `state` under behaviour `b`. */
export function snapshotReadiness(b: SnapshotBehaviour, state: SnapshotState): Readiness {
  const ps = state.provisioningState;
  if (ps === "Failed" || ps === "Canceled") return { failed: `snapshot provisioningState is ${ps}` };
  if (ps !== "Succeeded") return { ready: false };
  // The 4555 behaviour: provisioning is all it looks at, so it never sees a copy fail either.
  if (b === "ready-on-provisioned") return { ready: true };
  const err = state.copyCompletionError;
  if (err) return { failed: `snapshot background copy failed: ${err.errorCode ?? "unknown"}: ${err.errorMessage ?? ""}` };
  if (b === "instant-access") {
    const access = state.snapshotAccessState;
    if (access === "InstantAccess" || access === "AvailableWithInstantAccess" || access === "Available") return { ready: true };
    if (access !== undefined) return { ready: false };
  }
  const pct = state.completionPercent;
  return { ready: pct === undefined || pct >= 100 };
}

/** Requested capacity → whole GiB (Azure sizes disks in GiB), or an error for an unsatisfiable range. */
export function sizeGiB(required: number, limit: number, minimumGiB: number): { gib: number } | { error: string } {
  if (required < 0 || limit < 0) return { error: "capacity_range bytes must not be negative" };
  const want = Math.max(minimumGiB, Math.ceil(required / GiB));
  if (limit > 0 && want * GiB > limit) return { error: `a ${want} GiB disk exceeds limit_bytes ${limit}` };
  return { gib: want };
}

/** Pagination over a stable list: CSI tokens are opaque; ours is the index of the next entry. */
export function paginate<T>(items: readonly T[], maxEntries: number, startingToken: string): { entries: T[]; nextToken: string } | { error: "invalid-max" | "invalid-token" } {
  if (maxEntries < 0) return { error: "invalid-max" };
  let start = 0;
  if (startingToken !== "") {
    if (!/^\d+$/.test(startingToken)) return { error: "invalid-token" };
    start = Number(startingToken);
    if (start > items.length) return { error: "invalid-token" };
  }
  const end = maxEntries === 0 ? items.length : Math.min(items.length, start + maxEntries);
  return { entries: items.slice(start, end), nextToken: end < items.length ? String(end) : "" };
}

// csi-provisioner and csi-snapshotter add these with --extra-create-metadata; they name the
// Kubernetes objects and become tags, like the real driver does.
const METADATA_TAGS: Readonly<Record<string, string>> = {
  "csi.storage.k8s.io/pvc/name": "kubernetes.io-created-for-pvc-name",
  "csi.storage.k8s.io/pvc/namespace": "kubernetes.io-created-for-pvc-namespace",
  "csi.storage.k8s.io/pv/name": "kubernetes.io-created-for-pv-name",
  "csi.storage.k8s.io/volumesnapshot/name": "kubernetes.io-created-for-volumesnapshot-name",
  "csi.storage.k8s.io/volumesnapshot/namespace": "kubernetes.io-created-for-volumesnapshot-namespace",
  "csi.storage.k8s.io/volumesnapshotcontent/name": "kubernetes.io-created-for-volumesnapshotcontent-name",
};

export interface SplitParameters {
  known: Record<string, string>;
  tags: Record<string, string>;
}

/**
 * Splits StorageClass / VolumeSnapshotClass parameters (keys compared case-insensitively, as the
 * real driver does) into the driver's own and metadata tags; an unknown key is an error, so a typo
 * in a test's class fails loudly instead of being ignored.
 */
export function splitParameters(params: Readonly<Record<string, string>>, allowed: readonly string[]): SplitParameters | { error: string } {
  const known: Record<string, string> = {};
  const tags: Record<string, string> = { "k8s-azure-created-by": "aksnap-test-csi-driver" };
  for (const [k, v] of Object.entries(params)) {
    const tag = METADATA_TAGS[k];
    if (tag) {
      tags[tag] = v;
      continue;
    }
    if (k.startsWith("csi.storage.k8s.io/")) continue;
    const canon = allowed.find((a) => a.toLowerCase() === k.toLowerCase());
    if (!canon) return { error: `invalid parameter ${k} (known: ${allowed.join(", ")})` };
    known[canon] = v;
  }
  return { known, tags };
}

/** Same ARM resource? Ids are case-insensitive and may come with or without a leading slash. */
export function sameArmId(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const norm = (s: string): string => "/" + s.replace(/^\/+/, "").toLowerCase();
  return norm(a) === norm(b);
}
