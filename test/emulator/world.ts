// The world an emulator starts with: subscriptions, resource groups, AKS clusters with agent pools,
// managed disks and snapshots. Fixtures are typed and small; the state layer turns them into ARM
// wire bodies with the read-only fields ARM would fill in.

export type OsType = "Linux" | "Windows";
export type AgentPoolMode = "System" | "User";
export type DiskSkuName =
  | "Standard_LRS"
  | "Premium_LRS"
  | "StandardSSD_LRS"
  | "UltraSSD_LRS"
  | "Premium_ZRS"
  | "StandardSSD_ZRS"
  | "PremiumV2_LRS";

export interface AgentPoolFixture {
  readonly name: string;
  readonly vmSize: string;
  readonly count: number;
  readonly mode: AgentPoolMode;
  /** Defaults to the cluster's kubernetesVersion. */
  readonly orchestratorVersion?: string;
  readonly nodeImageVersion: string;
  readonly osType?: OsType;
  /** Wire name `osSKU` (e.g. Ubuntu, AzureLinux, Windows2022). */
  readonly osSKU?: string;
  readonly enableFIPS?: boolean;
  readonly maxPods?: number;
  readonly availabilityZones?: readonly string[];
  readonly nodeLabels?: Readonly<Record<string, string>>;
}

export interface ManagedClusterFixture {
  readonly name: string;
  readonly location: string;
  readonly kubernetesVersion: string;
  readonly dnsPrefix?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly agentPools: readonly AgentPoolFixture[];
}

export interface DiskFixture {
  readonly name: string;
  readonly location: string;
  readonly diskSizeGB: number;
  readonly sku: DiskSkuName;
  readonly tags?: Readonly<Record<string, string>>;
  readonly zones?: readonly string[];
  readonly osType?: OsType;
}

export interface CopyCompletionError {
  /** e.g. CopySourceNotFound */
  readonly errorCode: string;
  readonly errorMessage: string;
}

export interface ComputeSnapshotFixture {
  readonly name: string;
  readonly location: string;
  /** Full id of the source managed disk. */
  readonly sourceDiskId: string;
  readonly incremental?: boolean;
  readonly diskSizeGB?: number;
  readonly tags?: Readonly<Record<string, string>>;
  /** Omit for a finished snapshot; a number below 100 makes it still copying (frozen there). */
  readonly completionPercent?: number;
  readonly copyCompletionError?: CopyCompletionError;
  readonly timeCreated?: string;
}

export interface AksSnapshotFixture {
  readonly name: string;
  readonly location: string;
  readonly sourceAgentPoolId: string;
  readonly kubernetesVersion: string;
  readonly nodeImageVersion: string;
  readonly vmSize: string;
  readonly osType?: OsType;
  readonly osSku?: string;
  readonly enableFIPS?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
  readonly createdAt?: string;
}

export interface ResourceGroupFixture {
  readonly name: string;
  readonly location: string;
  readonly managedClusters?: readonly ManagedClusterFixture[];
  readonly disks?: readonly DiskFixture[];
  readonly computeSnapshots?: readonly ComputeSnapshotFixture[];
  readonly aksSnapshots?: readonly AksSnapshotFixture[];
}

export interface SubscriptionFixture {
  readonly subscriptionId: string;
  readonly resourceGroups: readonly ResourceGroupFixture[];
}

export interface WorldFixture {
  readonly subscriptions: readonly SubscriptionFixture[];
  /**
   * Newest node image per OS SKU: what `upgradeNodeImageVersion` without a snapshot moves a pool to,
   * and what a new pool gets when neither request nor snapshot names one.
   */
  readonly latestNodeImageVersions?: Readonly<Record<string, string>>;
}

export const DEFAULT_LATEST_NODE_IMAGES: Readonly<Record<string, string>> = {
  Ubuntu: "AKSUbuntu-2204gen2containerd-202511.07.0",
  Ubuntu2204: "AKSUbuntu-2204gen2containerd-202511.07.0",
  Ubuntu2404: "AKSUbuntu-2404gen2containerd-202511.07.0",
  AzureLinux: "AKSAzureLinux-V3gen2-202511.07.0",
  Windows2022: "AKSWindows-2022-containerd-20348.4297.251107",
};

export function emptyWorld(): WorldFixture {
  return { subscriptions: [] };
}

export const DEMO_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const DEMO_RESOURCE_GROUP = "rg-aks-demo";
export const DEMO_CLUSTER = "aks-demo";
export const DEMO_NODE_RESOURCE_GROUP = "MC_rg-aks-demo_aks-demo_westeurope";
export const DEMO_SNAPSHOT_RESOURCE_GROUP = "rg-aks-snapshots";
export const DEMO_DR_RESOURCE_GROUP = "rg-aks-dr";
export const DEMO_DR_CLUSTER = "aks-dr";

/**
 * A realistic demo estate: the production cluster in West Europe with a system and a user pool,
 * its node resource group holding PVC disks (one Premium SSD v2, the slow-copy case), a resource
 * group for snapshots, and a DR cluster in North Europe to restore into.
 */
export function demoWorld(): WorldFixture {
  const sub = DEMO_SUBSCRIPTION_ID;
  const image = "AKSUbuntu-2204gen2containerd-202510.03.0";
  const pvcTags = (pvc: string, ns: string): Record<string, string> => ({
    "k8s-azure-created-by": "kubernetes-azure-dd",
    "kubernetes.io-created-for-pv-name": `pvc-${pvc}`,
    "kubernetes.io-created-for-pvc-name": pvc,
    "kubernetes.io-created-for-pvc-namespace": ns,
    aksSnapshotBackupEnabled: "true",
  });
  return {
    latestNodeImageVersions: DEFAULT_LATEST_NODE_IMAGES,
    subscriptions: [
      {
        subscriptionId: sub,
        resourceGroups: [
          {
            name: DEMO_RESOURCE_GROUP,
            location: "westeurope",
            managedClusters: [
              {
                name: DEMO_CLUSTER,
                location: "westeurope",
                kubernetesVersion: "1.33.3",
                dnsPrefix: "aks-demo",
                tags: { environment: "demo", owner: "platform-team" },
                agentPools: [
                  {
                    name: "systempool",
                    vmSize: "Standard_D4ds_v5",
                    count: 3,
                    mode: "System",
                    nodeImageVersion: image,
                    osType: "Linux",
                    osSKU: "Ubuntu",
                    enableFIPS: false,
                    availabilityZones: ["1", "2", "3"],
                  },
                  {
                    name: "userpool",
                    vmSize: "Standard_D8ds_v5",
                    count: 2,
                    mode: "User",
                    nodeImageVersion: image,
                    osType: "Linux",
                    osSKU: "Ubuntu",
                    enableFIPS: false,
                    nodeLabels: { workload: "apps" },
                  },
                ],
              },
            ],
          },
          {
            name: DEMO_NODE_RESOURCE_GROUP,
            location: "westeurope",
            disks: [
              { name: "pvc-postgres-data-0", location: "westeurope", diskSizeGB: 128, sku: "Premium_LRS", zones: ["1"], tags: pvcTags("postgres-data-0", "shop") },
              { name: "pvc-redis-data-0", location: "westeurope", diskSizeGB: 32, sku: "StandardSSD_LRS", zones: ["2"], tags: pvcTags("redis-data-0", "shop") },
              { name: "pvc-analytics-0", location: "westeurope", diskSizeGB: 512, sku: "PremiumV2_LRS", zones: ["1"], tags: { ...pvcTags("analytics-0", "data"), retentionTime: "7" } },
              { name: "pvc-scratch-0", location: "westeurope", diskSizeGB: 64, sku: "StandardSSD_LRS", zones: ["3"], tags: { "kubernetes.io-created-for-pvc-name": "scratch-0", "kubernetes.io-created-for-pvc-namespace": "shop" } },
            ],
          },
          { name: DEMO_SNAPSHOT_RESOURCE_GROUP, location: "westeurope" },
          {
            name: DEMO_DR_RESOURCE_GROUP,
            location: "northeurope",
            managedClusters: [
              {
                name: DEMO_DR_CLUSTER,
                location: "northeurope",
                kubernetesVersion: "1.33.3",
                dnsPrefix: "aks-dr",
                tags: { environment: "dr" },
                agentPools: [
                  {
                    name: "systempool",
                    vmSize: "Standard_D4ds_v5",
                    count: 1,
                    mode: "System",
                    nodeImageVersion: "AKSUbuntu-2204gen2containerd-202509.12.0",
                    osType: "Linux",
                    osSKU: "Ubuntu",
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}
