// ARM resource ids: parsing, canonical formatting, and case-insensitive keys. ARM treats ids
// case-insensitively (AKS even answers with `resourcegroups`), so every map is keyed by `keyOf`.

export type ResourceKind = "managedCluster" | "agentPool" | "aksSnapshot" | "disk" | "computeSnapshot";

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  "managedCluster",
  "agentPool",
  "aksSnapshot",
  "disk",
  "computeSnapshot",
];

export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The managed cluster's name for an agent pool; undefined otherwise. */
  readonly cluster?: string;
  readonly name: string;
}

interface KindInfo {
  readonly provider: string;
  readonly type: string;
  /** Full ARM resource type, as it appears in a resource's `type` field. */
  readonly armType: string;
}

export const KIND_INFO: Readonly<Record<ResourceKind, KindInfo>> = {
  managedCluster: {
    provider: "Microsoft.ContainerService",
    type: "managedClusters",
    armType: "Microsoft.ContainerService/managedClusters",
  },
  agentPool: {
    provider: "Microsoft.ContainerService",
    type: "agentPools",
    armType: "Microsoft.ContainerService/managedClusters/agentPools",
  },
  aksSnapshot: {
    provider: "Microsoft.ContainerService",
    type: "snapshots",
    armType: "Microsoft.ContainerService/snapshots",
  },
  disk: { provider: "Microsoft.Compute", type: "disks", armType: "Microsoft.Compute/disks" },
  computeSnapshot: { provider: "Microsoft.Compute", type: "snapshots", armType: "Microsoft.Compute/snapshots" },
};

/**
 * The id the emulator answers with. AKS's own ids spell the segment `resourcegroups` (real AKS GETs
 * return `/subscriptions/x/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c`)
 * while Compute keeps `resourceGroups`; so a client comparing ids with `===` fails here as it would
 * against ARM.
 */
export function formatResourceId(ref: ResourceRef): string {
  const segment = KIND_INFO[ref.kind].provider === "Microsoft.ContainerService" ? "resourcegroups" : "resourceGroups";
  const rg = `/subscriptions/${ref.subscriptionId}/${segment}/${ref.resourceGroup}`;
  switch (ref.kind) {
    case "managedCluster":
      return `${rg}/providers/Microsoft.ContainerService/managedClusters/${ref.name}`;
    case "agentPool":
      return `${rg}/providers/Microsoft.ContainerService/managedClusters/${ref.cluster ?? ""}/agentPools/${ref.name}`;
    case "aksSnapshot":
      return `${rg}/providers/Microsoft.ContainerService/snapshots/${ref.name}`;
    case "disk":
      return `${rg}/providers/Microsoft.Compute/disks/${ref.name}`;
    case "computeSnapshot":
      return `${rg}/providers/Microsoft.Compute/snapshots/${ref.name}`;
  }
}

/** Case-insensitive map key of a resource. */
export function keyOf(ref: ResourceRef): string {
  return formatResourceId(ref).toLowerCase();
}

export function rgKey(subscriptionId: string, resourceGroup: string): string {
  return `${subscriptionId}/${resourceGroup}`.toLowerCase();
}

/**
 * Parses an ARM id of one of the kinds the emulator holds. Tolerates a missing leading slash (some
 * official examples omit it), any casing, and a trailing slash. Returns undefined otherwise.
 */
export function parseResourceId(id: string): ResourceRef | undefined {
  const parts = id.replace(/^\/+|\/+$/g, "").split("/");
  if (parts.length < 8) return undefined;
  const [s, sub, r, rg, p, provider, type, name, childType, childName, ...rest] = parts;
  if (rest.length > 0) return undefined;
  if (s?.toLowerCase() !== "subscriptions" || r?.toLowerCase() !== "resourcegroups") return undefined;
  if (p?.toLowerCase() !== "providers" || !sub || !rg || !name || !provider || !type) return undefined;
  const prov = provider.toLowerCase();
  const t = type.toLowerCase();
  const base = { subscriptionId: sub, resourceGroup: rg };
  if (prov === "microsoft.containerservice" && t === "managedclusters") {
    if (childType === undefined) return { ...base, kind: "managedCluster", name };
    if (childType.toLowerCase() === "agentpools" && childName) {
      return { ...base, kind: "agentPool", cluster: name, name: childName };
    }
    return undefined;
  }
  if (childType !== undefined) return undefined;
  if (prov === "microsoft.containerservice" && t === "snapshots") return { ...base, kind: "aksSnapshot", name };
  if (prov === "microsoft.compute" && t === "disks") return { ...base, kind: "disk", name };
  if (prov === "microsoft.compute" && t === "snapshots") return { ...base, kind: "computeSnapshot", name };
  return undefined;
}

/** ARM location names are lower-case without spaces ("West US" ≡ "westus"). */
export function normLocation(location: string): string {
  return location.replace(/\s+/g, "").toLowerCase();
}

export function sameId(a: string, b: string): boolean {
  return a.replace(/^\/+/, "").toLowerCase() === b.replace(/^\/+/, "").toLowerCase();
}
