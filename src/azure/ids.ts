// ARM resource ids: parse, format, compare. ARM treats ids case-insensitively and answers with
// whatever casing it likes (`resourcegroups`, lower-cased providers), so ids are only ever compared
// through `sameResourceId` / `resourceIdKey`, never with `===`.

export interface ParsedResourceId {
  readonly subscriptionId: string;
  readonly resourceGroup?: string;
  /** Namespace as written in the id, e.g. `Microsoft.ContainerService`. */
  readonly provider?: string;
  /** Nested type segments after the provider, e.g. `["managedClusters", "agentPools"]`. */
  readonly types: readonly string[];
  /** Names matching `types`, e.g. `["c1", "pool1"]`. */
  readonly names: readonly string[];
}

/** Parses `/subscriptions/{s}[/resourceGroups/{rg}[/providers/{ns}/{type}/{name}...]]`; undefined if malformed. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const parts = id.split("/").filter((p) => p !== "");
  if (parts.length < 2 || !eq(parts[0], "subscriptions")) return undefined;
  const subscriptionId = parts[1];
  if (subscriptionId === undefined) return undefined;
  let i = 2;
  let resourceGroup: string | undefined;
  if (i < parts.length) {
    if (!eq(parts[i], "resourceGroups")) return undefined;
    resourceGroup = parts[i + 1];
    if (resourceGroup === undefined) return undefined;
    i += 2;
  }
  if (i === parts.length) return { subscriptionId, ...(resourceGroup !== undefined ? { resourceGroup } : {}), types: [], names: [] };
  if (!eq(parts[i], "providers")) return undefined;
  const provider = parts[i + 1];
  const rest = parts.slice(i + 2);
  if (provider === undefined || rest.length === 0 || rest.length % 2 !== 0) return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let j = 0; j < rest.length; j += 2) {
    types.push(rest[j] as string);
    names.push(rest[j + 1] as string);
  }
  return { subscriptionId, ...(resourceGroup !== undefined ? { resourceGroup } : {}), provider, types, names };
}

/** Canonical key for maps and equality: lower-case, no trailing slash. */
export function resourceIdKey(id: string): string {
  return id.trim().replace(/\/+$/, "").toLowerCase();
}

export function sameResourceId(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return resourceIdKey(a) === resourceIdKey(b);
}

function eq(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The ARM resource type of a parsed id, e.g. `Microsoft.ContainerService/managedClusters/agentPools`. */
export function resourceTypeOf(p: ParsedResourceId): string | undefined {
  return p.provider === undefined ? undefined : [p.provider, ...p.types].join("/");
}

// --- typed references for the resources the operator touches ---

/** A resource directly under a resource group: AKS snapshots, Compute snapshots, disks. */
export interface GroupResourceRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export interface ManagedClusterRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly clusterName: string;
}

export interface AgentPoolRef extends ManagedClusterRef {
  readonly agentPoolName: string;
}

const CS = "Microsoft.ContainerService";
const COMPUTE = "Microsoft.Compute";

function groupPrefix(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function managedClusterId(r: ManagedClusterRef): string {
  return `${groupPrefix(r.subscriptionId, r.resourceGroup)}/providers/${CS}/managedClusters/${r.clusterName}`;
}

export function agentPoolId(r: AgentPoolRef): string {
  return `${managedClusterId(r)}/agentPools/${r.agentPoolName}`;
}

export function nodePoolSnapshotId(r: GroupResourceRef): string {
  return `${groupPrefix(r.subscriptionId, r.resourceGroup)}/providers/${CS}/snapshots/${r.name}`;
}

export function computeSnapshotId(r: GroupResourceRef): string {
  return `${groupPrefix(r.subscriptionId, r.resourceGroup)}/providers/${COMPUTE}/snapshots/${r.name}`;
}

export function diskId(r: GroupResourceRef): string {
  return `${groupPrefix(r.subscriptionId, r.resourceGroup)}/providers/${COMPUTE}/disks/${r.name}`;
}

function matches(p: ParsedResourceId | undefined, provider: string, types: readonly string[]): p is ParsedResourceId & { resourceGroup: string } {
  return (
    p !== undefined &&
    p.resourceGroup !== undefined &&
    eq(p.provider, provider) &&
    p.types.length === types.length &&
    p.types.every((t, i) => eq(t, types[i] as string))
  );
}

export function parseManagedClusterId(id: string): ManagedClusterRef | undefined {
  const p = parseResourceId(id);
  if (!matches(p, CS, ["managedClusters"])) return undefined;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, clusterName: p.names[0] as string };
}

export function parseAgentPoolId(id: string): AgentPoolRef | undefined {
  const p = parseResourceId(id);
  if (!matches(p, CS, ["managedClusters", "agentPools"])) return undefined;
  return {
    subscriptionId: p.subscriptionId,
    resourceGroup: p.resourceGroup,
    clusterName: p.names[0] as string,
    agentPoolName: p.names[1] as string,
  };
}

function parseGroupResource(id: string, provider: string, type: string): GroupResourceRef | undefined {
  const p = parseResourceId(id);
  if (!matches(p, provider, [type])) return undefined;
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, name: p.names[0] as string };
}

export function parseNodePoolSnapshotId(id: string): GroupResourceRef | undefined {
  return parseGroupResource(id, CS, "snapshots");
}

export function parseComputeSnapshotId(id: string): GroupResourceRef | undefined {
  return parseGroupResource(id, COMPUTE, "snapshots");
}

export function parseDiskId(id: string): GroupResourceRef | undefined {
  return parseGroupResource(id, COMPUTE, "disks");
}

/** Microsoft.ContainerService/snapshots name rule (1–63 chars, alphanumeric ends, `-`/`_` inside). */
export const NODE_POOL_SNAPSHOT_NAME = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;

export function isValidNodePoolSnapshotName(name: string): boolean {
  return NODE_POOL_SNAPSHOT_NAME.test(name);
}
