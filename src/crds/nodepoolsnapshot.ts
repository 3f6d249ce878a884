// NodePoolSnapshot (nps): one AKS node-pool snapshot, `Microsoft.ContainerService/snapshots`.
import Type, { type Static } from "typebox";
import {
  AgentPoolId,
  AgentPoolName,
  ClusterName,
  ConditionsSchema,
  Location,
  NodePoolSnapshotId,
  ObservedGeneration,
  ResourceGroupName,
  SnapshotName,
  SubscriptionId,
  Tags,
} from "./common.ts";
import { defineKind, type Resource } from "./kind.ts";
import { dateTime, has, jsonEqual, stringEnum, withRules } from "./schema.ts";

export const DeletionPolicySchema = stringEnum(["Delete", "Retain"] as const, {
  description:
    "What happens to the ARM snapshot when the object is deleted. Default: Delete, or Retain in adopt mode (spec.snapshot.id). " +
    "A finalizer holds the object until the ARM DELETE completed (or was deliberately skipped).",
});
export type DeletionPolicy = Static<typeof DeletionPolicySchema>;

export const MissingSnapshotPolicySchema = stringEnum(["Report", "Recreate"] as const, {
  description:
    "What the operator does when the ARM snapshot it created is deleted outside it. Report (default): Stalled with reason " +
    "SnapshotMissing, nothing recreated (a new snapshot would capture today's node image, not the one backed up). " +
    "Recreate: take a new snapshot of the source pool if it still exists.",
});
export type MissingSnapshotPolicy = Static<typeof MissingSnapshotPolicySchema>;

/** The agent pool to capture: a full ARM id, or its parts. */
export const AgentPoolSourceSchema = withRules(
  Type.Object(
    {
      agentPoolId: Type.Optional(AgentPoolId("Full ARM id of the agent pool. Excludes the other fields.")),
      subscriptionId: Type.Optional(SubscriptionId("Subscription of the cluster. Default: the operator's default subscription.")),
      resourceGroup: Type.Optional(ResourceGroupName("Resource group of the cluster.")),
      clusterName: Type.Optional(ClusterName("Name of the AKS cluster.")),
      agentPoolName: Type.Optional(AgentPoolName("Name of the agent pool.")),
    },
    { description: "The agent pool to capture: either agentPoolId, or resourceGroup + clusterName + agentPoolName (and optionally subscriptionId)." },
  ),
  [
    {
      rule: "has(self.agentPoolId) || (has(self.resourceGroup) && has(self.clusterName) && has(self.agentPoolName))",
      message: "source needs either agentPoolId (a full ARM id) or all of resourceGroup, clusterName and agentPoolName",
      check: (s) => has(s, "agentPoolId") || (has(s, "resourceGroup") && has(s, "clusterName") && has(s, "agentPoolName")),
    },
    {
      rule: "!has(self.agentPoolId) || !(has(self.subscriptionId) || has(self.resourceGroup) || has(self.clusterName) || has(self.agentPoolName))",
      message: "source.agentPoolId already names the agent pool: do not also set subscriptionId, resourceGroup, clusterName or agentPoolName",
      check: (s) => !has(s, "agentPoolId") || !(has(s, "subscriptionId") || has(s, "resourceGroup") || has(s, "clusterName") || has(s, "agentPoolName")),
    },
  ],
);
export type AgentPoolSource = Static<typeof AgentPoolSourceSchema>;

const placementDescriptions = {
  subscriptionId: "Subscription for the snapshot. Default: the source's subscription.",
  resourceGroup: "Resource group for the snapshot. Default: the source cluster's resource group.",
  location:
    "Region for the snapshot. Default: the source cluster's region. AKS creates snapshots only in the source pool's region: " +
    "another region is accepted here but the operator refuses it (Stalled).",
};

/** Where the ARM snapshot lives (NodePoolSnapshot), or which existing one to adopt. */
export const SnapshotPlacementSchema = withRules(
  Type.Object(
    {
      id: Type.Optional(NodePoolSnapshotId("Adopt mode: the full ARM id of an existing node-pool snapshot to mirror. Excludes the other fields and spec.source.")),
      subscriptionId: Type.Optional(SubscriptionId(placementDescriptions.subscriptionId)),
      resourceGroup: Type.Optional(ResourceGroupName(placementDescriptions.resourceGroup)),
      name: Type.Optional(SnapshotName("ARM name of the snapshot. Default: a deterministic valid name derived from namespace and name.")),
      location: Type.Optional(Location(placementDescriptions.location)),
    },
    { description: "Where the ARM snapshot lives; every field defaults from the source. Or, with id, an existing snapshot to adopt." },
  ),
  [
    {
      rule: "!has(self.id) || !(has(self.subscriptionId) || has(self.resourceGroup) || has(self.name) || has(self.location))",
      message: "snapshot.id adopts an existing snapshot: do not also set subscriptionId, resourceGroup, name or location",
      check: (p) => !has(p, "id") || !(has(p, "subscriptionId") || has(p, "resourceGroup") || has(p, "name") || has(p, "location")),
    },
  ],
);
export type SnapshotPlacement = Static<typeof SnapshotPlacementSchema>;

const immutable = <T>(what: string, hint: string) => ({
  rule: "self == oldSelf",
  message: `${what} is immutable: ${hint}`,
  check: (self: T, old: T) => jsonEqual(self, old),
});

export const NodePoolSnapshotSpecSchema = withRules(
  Type.Object(
    {
      source: Type.Optional(
        withRules(AgentPoolSourceSchema, [], [immutable<AgentPoolSource>("spec.source", "create a new NodePoolSnapshot to capture another agent pool")]),
      ),
      snapshot: Type.Optional(
        withRules(SnapshotPlacementSchema, [], [immutable<SnapshotPlacement>("spec.snapshot", "create a new NodePoolSnapshot to place or adopt another snapshot")]),
      ),
      tags: Type.Optional(Tags("ARM tags for the snapshot, merged with the operator's (aksnap.io-owner, aksnap.io-schedule). Mutable: applied with a tags PATCH.")),
      deletionPolicy: Type.Optional(DeletionPolicySchema),
      missingSnapshotPolicy: Type.Optional(MissingSnapshotPolicySchema),
    },
    { description: "What to capture and where the snapshot lives." },
  ),
  [
    {
      rule: "has(self.source) || (has(self.snapshot) && has(self.snapshot.id))",
      message: "spec.source is required (the agent pool to capture), unless spec.snapshot.id adopts an existing snapshot",
      check: (s) => has(s, "source") || has(s.snapshot, "id"),
    },
    {
      rule: "!(has(self.source) && has(self.snapshot) && has(self.snapshot.id))",
      message: "adopt mode (spec.snapshot.id) mirrors an existing snapshot: remove spec.source",
      check: (s) => !(has(s, "source") && has(s.snapshot, "id")),
    },
  ],
  [
    {
      rule: "has(self.source) == has(oldSelf.source)",
      message: "spec.source is immutable: it cannot be added or removed after creation",
      check: (s, o) => has(s, "source") === has(o, "source"),
    },
    {
      rule: "has(self.snapshot) == has(oldSelf.snapshot)",
      message: "spec.snapshot is immutable: it cannot be added or removed after creation",
      check: (s, o) => has(s, "snapshot") === has(o, "snapshot"),
    },
  ],
);
export type NodePoolSnapshotSpec = Static<typeof NodePoolSnapshotSpecSchema>;

export const NodePoolSnapshotStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration()),
    conditions: Type.Optional(ConditionsSchema),
    snapshotId: Type.Optional(Type.String({ maxLength: 1024, description: "ARM id of the snapshot." })),
    sourceResourceId: Type.Optional(Type.String({ maxLength: 1024, description: "ARM id of the agent pool it was taken from (creationData.sourceResourceId)." })),
    location: Type.Optional(Type.String({ maxLength: 64, description: "Region of the snapshot." })),
    kubernetesVersion: Type.Optional(Type.String({ maxLength: 64, description: "Kubernetes version captured." })),
    nodeImageVersion: Type.Optional(Type.String({ maxLength: 256, description: "Node image version captured." })),
    vmSize: Type.Optional(Type.String({ maxLength: 64, description: "VM size of the source pool." })),
    osType: Type.Optional(Type.String({ maxLength: 64, description: "Linux or Windows." })),
    osSku: Type.Optional(Type.String({ maxLength: 64, description: "OS SKU, e.g. Ubuntu, AzureLinux." })),
    enableFips: Type.Optional(Type.Boolean({ description: "Whether the source pool used a FIPS-enabled OS." })),
    createdAt: Type.Optional(dateTime("When ARM created the snapshot (systemData.createdAt).")),
    managedTagKeys: Type.Optional(
      Type.Array(Type.String({ maxLength: 512 }), {
        maxItems: 50,
        description: "ARM tag keys the operator set on the snapshot, so a tag removed from spec.tags is removed in ARM while tags others set (e.g. Azure Policy) are kept.",
      }),
    ),
  },
  { description: "What the operator observed; written only by the operator." },
);
export type NodePoolSnapshotStatus = Static<typeof NodePoolSnapshotStatusSchema>;

export const NodePoolSnapshotKind = defineKind({
  kind: "NodePoolSnapshot",
  plural: "nodepoolsnapshots",
  singular: "nodepoolsnapshot",
  shortNames: ["nps"],
  description:
    "NodePoolSnapshot is one AKS node-pool snapshot (Microsoft.ContainerService/snapshots): taken from an agent pool, " +
    "or adopted from an existing snapshot, and deleted with the object unless deletionPolicy is Retain.",
  spec: NodePoolSnapshotSpecSchema,
  status: NodePoolSnapshotStatusSchema,
  printerColumns: [
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Kubernetes", type: "string", jsonPath: ".status.kubernetesVersion" },
    { name: "NodeImage", type: "string", jsonPath: ".status.nodeImageVersion" },
    { name: "VMSize", type: "string", jsonPath: ".status.vmSize" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
    { name: "Location", type: "string", jsonPath: ".status.location", priority: 1 },
    { name: "Snapshot", type: "string", jsonPath: ".status.snapshotId", priority: 1 },
  ],
});

export type NodePoolSnapshot = Resource<"NodePoolSnapshot", NodePoolSnapshotSpec, NodePoolSnapshotStatus>;

export const parseNodePoolSnapshot = NodePoolSnapshotKind.parse;

/** True when the spec adopts an existing ARM snapshot instead of taking one. */
export function isAdopted(spec: NodePoolSnapshotSpec): boolean {
  return spec.snapshot?.id !== undefined;
}

/** deletionPolicy as the operator applies it: explicit, else Retain when adopted, else Delete. */
export function effectiveDeletionPolicy(spec: NodePoolSnapshotSpec): DeletionPolicy {
  return spec.deletionPolicy ?? (isAdopted(spec) ? "Retain" : "Delete");
}
