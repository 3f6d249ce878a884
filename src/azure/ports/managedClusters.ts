// Microsoft.ContainerService/managedClusters — only what RestoreRequest's CreateCluster mode and the
// preflight checks need: read a cluster, create one whose system pool comes from a snapshot, delete.

import { restorePoller, type ManagedCluster as SdkManagedCluster } from "@azure/arm-containerservice";
import type { ArmClients, SubscriptionClients } from "../clients.ts";
import { managedClusterId, parseManagedClusterId, type ManagedClusterRef } from "../ids.ts";
import { checkLro, decodeResumeToken, startLro, type LroAction, type LroContext } from "../lro.ts";
import { normalizeProvisioningState, type ProvisioningState } from "../provisioning.ts";
import type { ArmResult, LroCheck, LroStart } from "../result.ts";
import type { ProvisioningError, WriteConditions } from "./agentPools.ts";
import { attempt, opt, scopeOf, tagsOf } from "./common.ts";

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

export interface ManagedCluster {
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tags: Record<string, string>;
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
  };
}

export interface ManagedClustersPort {
  get(ref: ManagedClusterRef): Promise<ArmResult<ManagedCluster>>;
  beginCreate(ref: ManagedClusterRef, spec: ManagedClusterCreateSpec, conditions?: WriteConditions): Promise<LroStart<ManagedCluster>>;
  /** An absent cluster (204 or 404) is success. */
  beginDelete(ref: ManagedClusterRef): Promise<LroStart<undefined>>;
  /** Succeeded value: the cluster after a create; undefined after a delete. */
  checkOperation(resumeToken: string): Promise<LroCheck<ManagedCluster | undefined>>;
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
      },
    ],
  };
}

export function createManagedClustersPort(clients: ArmClients, now: () => number): ManagedClustersPort {
  const ctx = <T>(c: SubscriptionClients, ref: ManagedClusterRef, action: LroAction, map: (r: SdkManagedCluster | void | undefined) => T): LroContext<SdkManagedCluster | void, T> => ({
    target: "managedCluster",
    action,
    clients: c,
    resourceId: managedClusterId(ref),
    now,
    map,
    provisioningError: async () => (await c.containerService.managedClusters.get(ref.resourceGroup, ref.clusterName)).status?.provisioningError,
  });
  const clusterOf = (ref: ManagedClusterRef) => (r: SdkManagedCluster | void | undefined): ManagedCluster | undefined =>
    r === undefined || r === null ? undefined : toManagedCluster(r, ref);
  const nothing = (): undefined => undefined;

  return {
    get: (ref) =>
      attempt(now, async () =>
        toManagedCluster(await clients.forSubscription(ref.subscriptionId).containerService.managedClusters.get(ref.resourceGroup, ref.clusterName), ref),
      ),

    beginCreate: async (ref, spec, conditions) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "createOrUpdate", clusterOf(ref)), () =>
        c.containerService.managedClusters.createOrUpdate(ref.resourceGroup, ref.clusterName, toSdkCluster(spec), {
          ...opt("ifMatch", conditions?.ifMatch),
          ...opt("ifNoneMatch", conditions?.ifNoneMatch),
        }),
      );
      if (started.kind === "succeeded" && started.value === undefined) {
        return { kind: "failed", error: { kind: "transient", code: "EmptyResponse", message: "ARM returned no managed cluster body" } };
      }
      return started as LroStart<ManagedCluster>;
    },

    beginDelete: async (ref) => {
      const c = clients.forSubscription(ref.subscriptionId);
      const started = await startLro(ctx(c, ref, "delete", nothing), () => c.containerService.managedClusters.delete(ref.resourceGroup, ref.clusterName));
      return started.kind === "failed" && started.error.kind === "notFound" ? { kind: "succeeded", value: undefined } : started;
    },

    checkOperation: async (resumeToken) => {
      const token = decodeResumeToken(resumeToken);
      const ref = parseManagedClusterId(token.resourceId);
      if (token.target !== "managedCluster" || ref === undefined) {
        throw new Error(`resume token for ${token.target} ${token.resourceId} given to the managed clusters port`);
      }
      const c = clients.forSubscription(token.subscriptionId);
      const cs = c.containerService;
      switch (token.action) {
        case "createOrUpdate":
          return checkLro(ctx(c, ref, token.action, clusterOf(ref)), (s) => restorePoller(cs, s, cs.managedClusters.createOrUpdate), token);
        case "delete":
          return checkLro(ctx(c, ref, token.action, nothing), (s) => restorePoller(cs, s, cs.managedClusters.delete), token);
        case "upgradeNodeImage":
          throw new Error("upgradeNodeImage is not a managed cluster operation");
      }
    },
  };
}
