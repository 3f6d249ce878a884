// Knobs a test (or the demo) sets at start-up and may change at runtime through the control API.
// Defaults are small so LROs finish within a test's patience but are still observable mid-flight.

export interface Timing {
  /** How long an agent-pool create/update/delete/node-image upgrade stays InProgress. */
  readonly agentPoolOperationMs: number;
  /** How long a managed-cluster create/update/delete stays InProgress. */
  readonly clusterOperationMs: number;
  /** How long a disk/snapshot create or delete LRO runs (provisioningState Updating/Deleting). */
  readonly computeOperationMs: number;
  /** Background copy of a slow snapshot: completionPercent 0→100 after provisioning succeeded. */
  readonly copyDurationMs: number;
  /** Hydration of a disk created from a slow snapshot: completionPercent 0→100. */
  readonly hydrationDurationMs: number;
}

export const DEFAULT_TIMING: Timing = {
  agentPoolOperationMs: 1500,
  clusterOperationMs: 2000,
  computeOperationMs: 500,
  copyDurationMs: 2000,
  hydrationDurationMs: 1500,
};

/**
 * Which new Compute snapshots get a background copy (completionPercent rising from 0):
 * - slowSources: incremental snapshots of Premium SSD v2 / Ultra disks, and CopyStart copies (ARM's behaviour);
 * - allIncremental: every incremental snapshot (to exercise the readiness gate with ordinary disks);
 * - never: no completionPercent at all.
 */
export type CopyProgressMode = "slowSources" | "allIncremental" | "never";

export interface Behaviour {
  /** Items per page in list responses; later pages are reached through an absolute nextLink. */
  readonly pageSize: number;
  /** AKS 409 OperationNotAllowed body shape: ARM's `{"error":{…}}` or AKS's bare `{"code",…}`. */
  readonly conflictBody: "wrapped" | "unwrapped";
  /** Retry-After (seconds) on LRO answers; omitted when undefined (the SDK then polls at its own interval). */
  readonly lroRetryAfterSeconds: number | undefined;
  readonly copyProgress: CopyProgressMode;
  /** Create unknown subscriptions/resource groups on first use instead of answering 404. */
  readonly autoCreateResourceGroups: boolean;
  /** Answer 401 AuthenticationFailed to ARM requests without `Authorization: Bearer …` (as ARM does). */
  readonly requireBearerToken: boolean;
}

export const DEFAULT_BEHAVIOUR: Behaviour = {
  pageSize: 100,
  conflictBody: "wrapped",
  lroRetryAfterSeconds: undefined,
  copyProgress: "slowSources",
  autoCreateResourceGroups: false,
  requireBearerToken: true,
};

/**
 * The api-versions each provider answers; anything else is refused as ARM refuses it (400
 * InvalidApiVersionParameter when malformed, NoRegisteredProviderFound when unknown). The SDK
 * clients' versions (AKS 2026-06-01, Compute 2026-03-02), the official examples' versions, AKS's
 * LRO status version 2017-08-31, and a few released versions between them.
 */
export const SUPPORTED_API_VERSIONS: Readonly<Record<"ContainerService" | "Compute", readonly string[]>> = {
  ContainerService: ["2017-08-31", "2024-05-01", "2024-09-01", "2025-05-02-preview", "2025-10-01", "2026-06-01"],
  Compute: ["2023-10-02", "2024-03-02", "2025-01-02", "2026-03-02"],
};

export interface BucketSettings {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** ARM's per-subscription token buckets (2024 throttling model). */
export interface RateLimitSettings {
  readonly enabled: boolean;
  readonly reads: BucketSettings;
  readonly writes: BucketSettings;
  readonly deletes: BucketSettings;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  enabled: true,
  reads: { capacity: 250, refillPerSecond: 25 },
  writes: { capacity: 200, refillPerSecond: 10 },
  deletes: { capacity: 200, refillPerSecond: 10 },
};
