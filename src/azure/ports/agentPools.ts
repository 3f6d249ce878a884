// Microsoft.ContainerService/managedClusters/agentPools — long-running writes, started and checked
// without waiting (see ../lro.ts).

import type { AgentPool as SdkAgentPool } from "@azure/arm-containerservice";
import type { ArmClients } from "../clients.ts";
import type { CallOptions } from "../deadline.ts";
import { agentPoolId, parseAgentPoolId, type AgentPoolRef } from "../ids.ts";
import { normalizeProvisioningState, type ProvisioningState } from "../provisioning.ts";
import type { ArmResult, LroCheck, LroStart } from "../result.ts";
import { attempt, bodyOf, goneIsDeleted, limitOf, nothing, opt, portLro, scopeOf, tagsOf, withBody } from "./common.ts";
import { containerServiceSdk } from "../sdk.ts";

export interface ProvisioningError {
  readonly code: string;
  readonly message: string;
}

export interface AgentPool {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly clusterName: string;
  readonly provisioningState: ProvisioningState;
  readonly rawProvisioningState?: string;
  readonly count?: number;
  readonly vmSize?: string;
  readonly osType?: string;
  readonly osSku?: string;
  readonly mode?: string;
  readonly orchestratorVersion?: string;
  readonly currentOrchestratorVersion?: string;
  readonly nodeImageVersion?: string;
  readonly enableFips?: boolean;
  readonly nodeLabels?: Record<string, string>;
  readonly nodeTaints?: readonly string[];
  readonly tags?: Record<string, string>;
  /** creationData.sourceResourceId: the snapshot the pool was created or last upgraded from. */
  readonly creationSourceResourceId?: string;
  readonly powerState?: string;
  readonly eTag?: string;
  /** status.provisioningError: why the last operation failed. */
  readonly provisioningError?: ProvisioningError;
}

export interface AgentPoolSpec {
  readonly count: number;
  readonly mode?: "System" | "User";
  /** Unset: taken from the snapshot when creating from one. */
  readonly vmSize?: string;
  readonly orchestratorVersion?: string;
  readonly osType?: string;
  readonly osSku?: string;
  readonly nodeLabels?: Record<string, string>;
  readonly nodeTaints?: readonly string[];
  readonly tags?: Record<string, string>;
  /** A node-pool snapshot id: create the pool from it. */
  readonly creationSourceResourceId?: string;
}

export interface WriteConditions {
  /** Only if the current eTag matches (412 → conflict otherwise). */
  readonly ifMatch?: string;
  /** `*`: only if the pool does not exist yet. */
  readonly ifNoneMatch?: string;
}

/** Every method is bounded by the layer's deadline and `opts.signal` (see ../deadline.ts). */
export interface AgentPoolsPort {
  get(ref: AgentPoolRef, opts?: CallOptions): Promise<ArmResult<AgentPool>>;
  beginCreateOrUpdate(ref: AgentPoolRef, spec: AgentPoolSpec, conditions?: WriteConditions, opts?: CallOptions): Promise<LroStart<AgentPool>>;
  /**
   * Upgrade an existing pool to a snapshot's Kubernetes version and node image: GET the pool, set
   * orchestratorVersion and creationData.sourceResourceId, PUT it back with If-Match on its eTag
   * (every other field unchanged, so nothing is reset by a partial body).
   */
  beginUpgradeFromSnapshot(ref: AgentPoolRef, snapshot: { id: string; kubernetesVersion: string }, opts?: CallOptions): Promise<LroStart<AgentPool>>;
  /** Node-image-only upgrade; with `snapshotId`, to that snapshot's image (AKSSnapshotId header). */
  beginUpgradeNodeImage(ref: AgentPoolRef, snapshotId?: string, opts?: CallOptions): Promise<LroStart<undefined>>;
  /** An absent pool or cluster (204 or 404) is success. */
  beginDelete(ref: AgentPoolRef, opts?: CallOptions): Promise<LroStart<undefined>>;
  /** Succeeded value: the pool for createOrUpdate/upgradeFromSnapshot; undefined for delete and node-image upgrades (GET the pool). */
  checkOperation(resumeToken: string, opts?: CallOptions): Promise<LroCheck<AgentPool | undefined>>;
}

export function toAgentPool(p: SdkAgentPool, asked: AgentPoolRef): AgentPool {
  const parsed = p.id === undefined ? undefined : parseAgentPoolId(p.id);
  const ref = parsed ?? { ...asked, ...scopeOf(p.id, asked) };
  const pe = p.status?.provisioningError;
  return {
    id: p.id ?? agentPoolId(ref),
    name: p.name ?? ref.agentPoolName,
    subscriptionId: ref.subscriptionId,
    resourceGroup: ref.resourceGroup,
    clusterName: ref.clusterName,
    provisioningState: normalizeProvisioningState(p.provisioningState),
    ...opt("rawProvisioningState", p.provisioningState),
    ...opt("count", p.count),
    ...opt("vmSize", p.vmSize),
    ...opt("osType", p.osType),
    ...opt("osSku", p.osSKU),
    ...opt("mode", p.mode),
    ...opt("orchestratorVersion", p.orchestratorVersion),
    ...opt("currentOrchestratorVersion", p.currentOrchestratorVersion),
    ...opt("nodeImageVersion", p.nodeImageVersion),
    ...opt("enableFips", p.enableFips),
    ...opt("nodeLabels", p.nodeLabels === undefined ? undefined : { ...p.nodeLabels }),
    ...opt("nodeTaints", p.nodeTaints === undefined ? undefined : [...p.nodeTaints]),
    ...opt("tags", p.tags === undefined ? undefined : tagsOf(p.tags)),
    ...opt("creationSourceResourceId", p.creationData?.sourceResourceId),
    ...opt("powerState", p.powerState?.code),
    ...opt("eTag", p.eTag),
    ...opt(
      "provisioningError",
      pe?.code === undefined ? undefined : { code: pe.code, message: pe.message ?? pe.code },
    ),
  };
}

function toSdkAgentPool(spec: AgentPoolSpec): SdkAgentPool {
  return {
    count: spec.count,
    ...opt("mode", spec.mode),
    ...opt("vmSize", spec.vmSize),
    ...opt("orchestratorVersion", spec.orchestratorVersion),
    ...opt("osType", spec.osType),
    ...opt("osSKU", spec.osSku),
    ...opt("nodeLabels", spec.nodeLabels === undefined ? undefined : { ...spec.nodeLabels }),
    ...opt("nodeTaints", spec.nodeTaints === undefined ? undefined : [...spec.nodeTaints]),
    ...opt("tags", spec.tags === undefined ? undefined : { ...spec.tags }),
    ...opt("creationData", spec.creationSourceResourceId === undefined ? undefined : { sourceResourceId: spec.creationSourceResourceId }),
  };
}

export function createAgentPoolsPort(clients: ArmClients, now: () => number): AgentPoolsPort {
  const lro = portLro<AgentPoolRef, SdkAgentPool | void>(clients, now, {
    target: "agentPool",
    port: "agent pools",
    idOf: agentPoolId,
    parseId: parseAgentPoolId,
    provisioningError: async (c, ref, abortSignal) =>
      (await c.containerService.agentPools.get(ref.resourceGroup, ref.clusterName, ref.agentPoolName, { abortSignal })).status?.provisioningError,
  });

  // A synchronous success always carries the pool; narrow the type for callers.
  const put = async (ref: AgentPoolRef, body: SdkAgentPool, conditions: WriteConditions | undefined, opts: CallOptions | undefined): Promise<LroStart<AgentPool>> =>
    withBody(
      await lro.start(
        ref,
        "createOrUpdate",
        bodyOf(toAgentPool, ref),
        (c, abortSignal) =>
          c.containerService.agentPools.createOrUpdate(ref.resourceGroup, ref.clusterName, ref.agentPoolName, body, {
            abortSignal,
            ...opt("ifMatch", conditions?.ifMatch),
            ...opt("ifNoneMatch", conditions?.ifNoneMatch),
          }),
        opts,
      ),
      "agent pool",
    );

  return {
    get: (ref, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toAgentPool(
          await clients
            .forSubscription(ref.subscriptionId)
            .containerService.agentPools.get(ref.resourceGroup, ref.clusterName, ref.agentPoolName, { abortSignal }),
          ref,
        ),
      ),

    beginCreateOrUpdate: (ref, spec, conditions, opts) => put(ref, toSdkAgentPool(spec), conditions, opts),

    beginUpgradeFromSnapshot: async (ref, snapshot, opts) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const current = await attempt(now, limitOf(clients, opts), (abortSignal) =>
        c.containerService.agentPools.get(ref.resourceGroup, ref.clusterName, ref.agentPoolName, { abortSignal }),
      );
      if (!current.ok) return { kind: "failed", error: current.error };
      // The snapshot decides the node image; keeping the old one would contradict it.
      const { nodeImageVersion: _oldImage, ...rest } = current.value;
      const body: SdkAgentPool = {
        ...rest,
        orchestratorVersion: snapshot.kubernetesVersion,
        creationData: { sourceResourceId: snapshot.id },
      };
      return put(ref, body, opt("ifMatch", current.value.eTag), opts);
    },

    beginUpgradeNodeImage: (ref, snapshotId, opts) =>
      lro.start(
        ref,
        "upgradeNodeImage",
        nothing,
        (c, abortSignal) =>
          c.containerService.agentPools.upgradeNodeImageVersion(ref.resourceGroup, ref.clusterName, ref.agentPoolName, {
            abortSignal,
            // AKS reads the target image from this request header, not from a body.
            ...(snapshotId !== undefined ? { requestOptions: { headers: { AKSSnapshotId: snapshotId } } } : {}),
          }),
        opts,
      ),

    // The pool (or its cluster) is already gone: that is what a delete wants.
    beginDelete: async (ref, opts) =>
      goneIsDeleted(
        await lro.start(
          ref,
          "delete",
          nothing,
          (c, abortSignal) => c.containerService.agentPools.delete(ref.resourceGroup, ref.clusterName, ref.agentPoolName, { abortSignal }),
          opts,
        ),
      ),

    checkOperation: async (resumeToken, opts) => {
      const op = lro.resume(resumeToken);
      const ap = (c: typeof op.clients) => c.containerService.agentPools;
      switch (op.token.action) {
        case "createOrUpdate":
          return lro.check(op, bodyOf(toAgentPool, op.ref), (c, s, abortSignal) => containerServiceSdk.restorePoller(c.containerService, s, ap(c).createOrUpdate, { abortSignal }), opts);
        case "upgradeNodeImage":
          return lro.check(op, nothing, (c, s, abortSignal) => containerServiceSdk.restorePoller(c.containerService, s, ap(c).upgradeNodeImageVersion, { abortSignal }), opts);
        case "delete":
          return lro.check(op, nothing, (c, s, abortSignal) => containerServiceSdk.restorePoller(c.containerService, s, ap(c).delete, { abortSignal }), opts);
      }
    },
  };
}
