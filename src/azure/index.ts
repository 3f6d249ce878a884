// The Azure layer: the only code in aksnap importing @azure/*. `createAzure` builds the ports the
// controllers use; everything crossing this boundary is a plain domain type or an ArmError.

import type { TokenCredential } from "@azure/core-auth";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createArmClients, type RetryOptions } from "./clients.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "./deadline.ts";
import { createArmMetrics } from "./metrics.ts";
import { createAgentPoolsPort, type AgentPoolsPort } from "./ports/agentPools.ts";
import { createComputeSnapshotsPort, type ComputeSnapshotsPort } from "./ports/computeSnapshots.ts";
import { createDisksPort, type DisksPort } from "./ports/disks.ts";
import { createManagedClustersPort, type ManagedClustersPort } from "./ports/managedClusters.ts";
import { createNodePoolSnapshotsPort, type NodePoolSnapshotsPort } from "./ports/nodePoolSnapshots.ts";
import { DEFAULT_WRITE_RATE, realSleep, type Sleep, type WriteRateOptions } from "./ratelimit.ts";

export interface AzureClock {
  now(): number;
  sleep?: Sleep;
}

export interface AzureOptions {
  /** ARM endpoint: ARM_ENDPOINTS.public, a sovereign cloud, or the local emulator's URL. */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** Extra CA (PEM) to trust for this endpoint, e.g. the emulator's self-signed certificate. */
  readonly ca?: string | readonly string[];
  /** Client-side write token bucket per subscription; `false` disables it. Default 10/s, burst 200. */
  readonly writeRate?: Partial<WriteRateOptions> | false;
  readonly retry?: RetryOptions;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** Sent as the User-Agent prefix, e.g. `aksnap/0.1.0`. */
  readonly userAgent?: string;
  /** Token scope override; default `<endpoint origin>/.default`. */
  readonly scope?: string;
  /**
   * Deadline of one port call (SDK retries and write-budget waits included), combined with the
   * caller's `signal`; a call past it returns a transient `RequestTimeout`. Default 30 s.
   */
  readonly requestTimeoutMs?: number;
  /** Time source for metrics, the token bucket and Retry-After dates. Default: the system clock. */
  readonly clock?: AzureClock;
}

export interface AzureLayer {
  readonly nodePoolSnapshots: NodePoolSnapshotsPort;
  readonly agentPools: AgentPoolsPort;
  readonly managedClusters: ManagedClustersPort;
  readonly computeSnapshots: ComputeSnapshotsPort;
  readonly disks: DisksPort;
}

export function createAzure(opts: AzureOptions): AzureLayer {
  const clock = opts.clock;
  const now = clock !== undefined ? () => clock.now() : () => Date.now();
  const sleep = clock?.sleep ?? realSleep;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // A write may queue for the bucket at most half the call's deadline, so a queued write is refused
  // as throttled (with retryAfterMs) instead of timing out with no time left to be sent.
  const writeRate =
    opts.writeRate === false ? false : clampWait({ ...DEFAULT_WRITE_RATE, ...(opts.writeRate ?? {}) }, Math.floor(timeoutMs / 2));
  const logger = opts.logger?.child({ component: "azure" });
  const clients = createArmClients({
    endpoint: opts.endpoint,
    credential: opts.credential,
    ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    userAgent: opts.userAgent ?? "aksnap",
    writeRate,
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
    metrics: createArmMetrics(opts.registry),
    now,
    sleep,
    ...(logger !== undefined ? { logger } : {}),
    timeoutMs,
  });
  return {
    nodePoolSnapshots: createNodePoolSnapshotsPort(clients, now),
    agentPools: createAgentPoolsPort(clients, now),
    managedClusters: createManagedClustersPort(clients, now),
    computeSnapshots: createComputeSnapshotsPort(clients, now),
    disks: createDisksPort(clients, now),
  };
}

function clampWait(w: Required<WriteRateOptions>, limit: number): Required<WriteRateOptions> {
  return { ...w, maxWaitMs: Math.min(w.maxWaitMs, limit) };
}

export { ARM_ENDPOINTS, type RetryOptions } from "./clients.ts";
export { DEFAULT_REQUEST_TIMEOUT_MS, type CallOptions } from "./deadline.ts";
export {
  createCredential,
  fixedTokenCredential,
  workloadIdentityFromEnv,
  type CredentialConfig,
  type CredentialFromEnvResult,
  type WorkloadIdentityEnv,
} from "./credential.ts";
export {
  ARM_ERROR_KINDS,
  classifyArmCode,
  describeArmError,
  parseRetryAfterMs,
  toArmError,
  type ArmError,
  type ArmErrorKind,
} from "./errors.ts";
export * from "./ids.ts";
export {
  diskHydration,
  normalizeProvisioningState,
  snapshotReadiness,
  type CopyCompletionError,
  type CopyProgress,
  type ProvisioningState,
  type Readiness,
} from "./provisioning.ts";
export { DEFAULT_WRITE_RATE, type WriteRateOptions } from "./ratelimit.ts";
export type { ArmResult, LroCheck, LroStart } from "./result.ts";
export type { AgentPool, AgentPoolSpec, AgentPoolsPort, ProvisioningError, WriteConditions } from "./ports/agentPools.ts";
export type { TagSelector } from "./ports/common.ts";
export type { ComputeSnapshot, ComputeSnapshotSpec, ComputeSnapshotsPort, ListByTagQuery } from "./ports/computeSnapshots.ts";
export type { DiskFromSnapshotSpec, DisksPort, ManagedDisk } from "./ports/disks.ts";
export type { ClusterAgentPoolProfile, ManagedCluster, ManagedClusterCreateSpec, ManagedClustersPort } from "./ports/managedClusters.ts";
export type { NodePoolSnapshot, NodePoolSnapshotSpec, NodePoolSnapshotsPort } from "./ports/nodePoolSnapshots.ts";
