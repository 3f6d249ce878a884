// Microsoft.ContainerService/managedClusters — only what RestoreRequest's CreateCluster mode and the
// preflight checks need: read a cluster, create one whose system pool comes from a snapshot, delete.

import type { ManagedCluster as SdkManagedCluster } from "@azure/arm-containerservice";
import type { ArmClients } from "../clients.ts";
import type { CallOptions } from "../deadline.ts";
import { managedClusterId, parseManagedClusterId, type ManagedClusterRef } from "../ids.ts";
import { normalizeProvisioningState, type ProvisioningState } from "../provisioning.ts";
import type { ArmResult, LroCheck, LroStart } from "../result.ts";
import type { ProvisioningError, WriteConditions } from "./agentPools.ts";
import { attempt, bodyOf, goneIsDeleted, limitOf, nothing, opt, portLro, scopeOf, tagsOf, withBody, type TrackedResource } from "./common.ts";
import { containerServiceSdk } from "../sdk.ts";

export interface ClusterAgentPoolProfile {
  readonly name: string;
  readonly mode?: string;
  readonly count?: number;
  readonly vmSize?: string;
  readonly osType?: string;
  readonly osSku?: string;
  readonly orchestratorVersion?: string;
  readonly nodeImageVersion?: string;
  readonly creationSourceResourceId?: string;
}

export interface ManagedCluster extends TrackedResource {
  readonly provisioningState: ProvisioningState;
  readonly rawProvisioningState?: string;
  /** Requested control-plane version. */
  readonly kubernetesVersion?: string;
  /** Running control-plane version (what skew rules compare against). */
  readonly currentKubernetesVersion?: string;
  readonly powerState?: string;
  readonly fqdn?: string;
  readonly nodeResourceGroup?: string;
  readonly agentPoolProfiles: readonly ClusterAgentPoolProfile[];
  readonly eTag?: string;
  readonly provisioningError?: ProvisioningError;
}

/** The minimal cluster: system-assigned identity, one System pool made from a node-pool snapshot. */
export interface ManagedClusterCreateSpec {
  readonly location: string;
  readonly dnsPrefix: string;
  readonly kubernetesVersion?: string;
  readonly tags?: Record<string, string>;
  readonly systemPool: {
    readonly name: string;
    readonly count: number;
    /** Node-pool snapshot id; unset vmSize/osType/osSku/version come from it. */
    readonly creationSourceResourceId: string;
    readonly vmSize?: string;
    readonly osType?: string;
    readonly osSku?: string;
    readonly orchestratorVersion?: string;
    readonly nodeLabels?: Record<string, string>;
    /** AKS syntax: key=value:Effect. */
    readonly nodeTaints?: readonly string[];
  };
}

/** Every method is bounded by the layer's deadline and `opts.signal` (see ../deadline.ts). */
export interface ManagedClustersPort {
  get(ref: ManagedClusterRef, opts?: CallOptions): Promise<ArmResult<ManagedCluster>>;
  beginCreate(
    ref: ManagedClusterRef,
    spec: ManagedClusterCreateSpec,
    conditions?: WriteConditions,
    opts?: CallOptions,
  ): Promise<LroStart<ManagedCluster>>;
  /** An absent cluster (204 or 404) is success. */
  beginDelete(ref: ManagedClusterRef, opts?: CallOptions): Promise<LroStart<undefined>>;
  /** Succeeded value: the cluster after a create; undefined after a delete. */
  checkOperation(resumeToken: string, opts?: CallOptions): Promise<LroCheck<ManagedCluster | undefined>>;
}

export function toManagedCluster(m: SdkManagedCluster, asked: ManagedClusterRef): ManagedCluster {
  const ref = (m.id === undefined ? undefined : parseManagedClusterId(m.id)) ?? { ...asked, ...scopeOf(m.id, asked) };
  const pe = m.status?.provisioningError;
  return {
    id: m.id ?? managedClusterId(ref),
    name: m.name ?? ref.clusterName,
    subscriptionId: ref.subscriptionId,
    resourceGroup: ref.resourceGroup,
    location: m.location,
    tags: tagsOf(m.tags),
    provisioningState: normalizeProvisioningState(m.provisioningState),
    ...opt("rawProvisioningState", m.provisioningState),
    ...opt("kubernetesVersion", m.kubernetesVersion),
    ...opt("currentKubernetesVersion", m.currentKubernetesVersion),
    ...opt("powerState", m.powerState?.code),
    ...opt("fqdn", m.fqdn),
    ...opt("nodeResourceGroup", m.nodeResourceGroup),
    agentPoolProfiles: (m.agentPoolProfiles ?? []).map((p) => ({
      name: p.name,
      ...opt("mode", p.mode),
      ...opt("count", p.count),
      ...opt("vmSize", p.vmSize),
      ...opt("osType", p.osType),
      ...opt("osSku", p.osSKU),
      ...opt("orchestratorVersion", p.orchestratorVersion),
      ...opt("nodeImageVersion", p.nodeImageVersion),
      ...opt("creationSourceResourceId", p.creationData?.sourceResourceId),
    })),
    ...opt("eTag", m.eTag),
    ...opt("provisioningError", pe?.code === undefined ? undefined : { code: pe.code, message: pe.message ?? pe.code }),
  };
}

function toSdkCluster(spec: ManagedClusterCreateSpec): SdkManagedCluster {
  const p = spec.systemPool;
  return {
    location: spec.location,
    tags: { ...(spec.tags ?? {}) },
    identity: { type: "SystemAssigned" },
    dnsPrefix: spec.dnsPrefix,
    ...opt("kubernetesVersion", spec.kubernetesVersion),
    agentPoolProfiles: [
      {
        name: p.name,
        mode: "System",
        count: p.count,
        creationData: { sourceResourceId: p.creationSourceResourceId },
        ...opt("vmSize", p.vmSize),
        ...opt("osType", p.osType),
        ...opt("osSKU", p.osSku),
        ...opt("orchestratorVersion", p.orchestratorVersion),
        ...opt("nodeLabels", p.nodeLabels === undefined ? undefined : { ...p.nodeLabels }),
        ...opt("nodeTaints", p.nodeTaints === undefined ? undefined : [...p.nodeTaints]),
      },
    ],
  };
}

export function createManagedClustersPort(clients: ArmClients, now: () => number): ManagedClustersPort {
  const lro = portLro<ManagedClusterRef, SdkManagedCluster | void>(clients, now, {
    target: "managedCluster",
    port: "managed clusters",
    idOf: managedClusterId,
    parseId: parseManagedClusterId,
    provisioningError: async (c, ref, abortSignal) =>
      (await c.containerService.managedClusters.get(ref.resourceGroup, ref.clusterName, { abortSignal })).status?.provisioningError,
  });

  return {
    get: (ref, opts) =>
      attempt(now, limitOf(clients, opts), async (abortSignal) =>
        toManagedCluster(
          await clients.forSubscription(ref.subscriptionId).containerService.managedClusters.get(ref.resourceGroup, ref.clusterName, { abortSignal }),
          ref,
        ),
      ),

    beginCreate: async (ref, spec, conditions, opts) =>
      withBody(
        await lro.start(
          ref,
          "createOrUpdate",
          bodyOf(toManagedCluster, ref),
          (c, abortSignal) =>
            c.containerService.managedClusters.createOrUpdate(ref.resourceGroup, ref.clusterName, toSdkCluster(spec), {
              abortSignal,
              ...opt("ifMatch", conditions?.ifMatch),
              ...opt("ifNoneMatch", conditions?.ifNoneMatch),
            }),
          opts,
        ),
        "managed cluster",
      ),

    beginDelete: async (ref, opts) =>
      goneIsDeleted(
        await lro.start(
          ref,
          "delete",
          nothing,
          (c, abortSignal) => c.containerService.managedClusters.delete(ref.resourceGroup, ref.clusterName, { abortSignal }),
          opts,
        ),
      ),

    checkOperation: async (resumeToken, opts) => {
      const op = lro.resume(resumeToken);
      const mc = (c: typeof op.clients) => c.containerService.managedClusters;
      switch (op.token.action) {
        case "createOrUpdate":
          return lro.check(op, bodyOf(toManagedCluster, op.ref), (c, s, abortSignal) => containerServiceSdk.restorePoller(c.containerService, s, mc(c).createOrUpdate, { abortSignal }), opts);
        case "delete":
          return lro.check(op, nothing, (c, s, abortSignal) => containerServiceSdk.restorePoller(c.containerService, s, mc(c).delete, { abortSignal }), opts);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a managed cluster operation");
      }
    },
  };
}
