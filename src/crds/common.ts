// Pieces shared by the kinds: Azure names and ids, Kubernetes names, tags, LabelSelector,
// metav1.Condition and the object metadata we read back. Regexes follow the ARM REST specs
// (Azure/azure-rest-api-specs) where they define one.
import Type, { type Static } from "typebox";
import { dateTime, pattern, stringEnum, stringMap, withRules } from "./schema.ts";

export const GROUP = "aksnap.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

// ---------------------------------------------------------------------------------------------
// Regex sources (RE2 ∩ ECMAScript-with-u). Exported for the emulator and tests.
// ---------------------------------------------------------------------------------------------
export const RE = {
  subscriptionId: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
  // ARM: 1-90 of letters, digits, '-', '_', '.', '(', ')'; no trailing '.'.
  resourceGroup: "^[-\\p{L}\\p{N}_.()]{0,89}[-\\p{L}\\p{N}_()]$",
  // AKS `resourceName` (managed clusters and snapshots share it).
  armName: "^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$",
  agentPoolName: "^[a-z][a-z0-9]{0,11}$",
  // Canonical region names: `westeurope`, `eastus2`, `usgovvirginia`.
  location: "^[a-z][a-z0-9]{1,39}$",
  vmSize: "^[A-Za-z][A-Za-z0-9_]{1,63}$",
  dnsSubdomain: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
  dnsLabel: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
} as const;

const guid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const rg = "[-\\p{L}\\p{N}_.()]{0,89}[-\\p{L}\\p{N}_()]";
const armName = "[a-zA-Z0-9](?:[-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?";
// ARM ids are case-insensitive and come back with varying casing (`resourcegroups`), so the fixed
// segments match any case; the names keep their own rules.
const rgPrefix = `(?i:/subscriptions/)${guid}(?i:/resourceGroups/)${rg}`;
export const RE_ID = {
  agentPool: `^${rgPrefix}(?i:/providers/Microsoft\\.ContainerService/managedClusters/)${armName}(?i:/agentPools/)[a-z][a-z0-9]{0,11}$`,
  nodePoolSnapshot: `^${rgPrefix}(?i:/providers/Microsoft\\.ContainerService/snapshots/)${armName}$`,
} as const;

// ---------------------------------------------------------------------------------------------
// Azure names
// ---------------------------------------------------------------------------------------------
export const SubscriptionId = (description: string) =>
  pattern(RE.subscriptionId, "must be an Azure subscription id, a GUID such as 00000000-0000-0000-0000-000000000001", { maxLength: 36, description });

export const ResourceGroupName = (description: string) =>
  pattern(RE.resourceGroup, "must be a resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'", { maxLength: 90, description });

export const ClusterName = (description: string) =>
  pattern(RE.armName, "must be an AKS cluster name: 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit", { maxLength: 63, description });

export const AgentPoolName = (description: string) =>
  pattern(RE.agentPoolName, "must be an agent pool name: 1-12 lowercase letters or digits, starting with a letter (Windows pools: at most 6)", { maxLength: 12, description });

export const SnapshotName = (description: string) =>
  pattern(RE.armName, "must be an ARM snapshot name: 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit", { maxLength: 63, description });

export const Location = (description: string) =>
  pattern(RE.location, "must be an Azure region in its canonical form, such as westeurope or eastus2 (lowercase, no spaces)", { maxLength: 40, description });

export const VmSize = (description: string) => pattern(RE.vmSize, "must be an Azure VM size such as Standard_D4s_v5", { maxLength: 64, description });

export const AgentPoolId = (description: string) =>
  pattern(
    RE_ID.agentPool,
    "must be a full ARM agent pool id: /subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.ContainerService/managedClusters/<cluster>/agentPools/<pool>",
    { maxLength: 512, description },
  );

export const NodePoolSnapshotId = (description: string) =>
  pattern(
    RE_ID.nodePoolSnapshot,
    "must be a full ARM node-pool snapshot id: /subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.ContainerService/snapshots/<name>",
    { maxLength: 512, description },
  );

// ---------------------------------------------------------------------------------------------
// Kubernetes names
// ---------------------------------------------------------------------------------------------
export const ObjectName = (description: string) =>
  pattern(RE.dnsSubdomain, "must be a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit", {
    maxLength: 253,
    minLength: 1,
    description,
  });

export const NamespaceName = (description: string) =>
  pattern(RE.dnsLabel, "must be a namespace name: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit", {
    maxLength: 63,
    minLength: 1,
    description,
  });

// ---------------------------------------------------------------------------------------------
// ARM tags
// ---------------------------------------------------------------------------------------------
/** Tag keys the operator writes; users may not set keys with this prefix. */
export const OPERATOR_TAG_PREFIX = "aksnap.io-";
// ARM allows 50 tags per resource; the operator adds up to two of its own.
export const MAX_USER_TAGS = 48;

/** Characters ARM refuses in tag names. */
export const FORBIDDEN_TAG_NAME_CHARS = "<>%&\\?/";
const lower = (k: string): string => k.toLowerCase();

// ARM's tag rules, enforced at admission so a bad tag is refused by kubectl, not by ARM minutes
// later: ≤ 50 tags (48 + the operator's two), names 1-512 characters without <>%&\?/, values ≤ 256,
// names compared case-insensitively (so the reserved prefix in any case, and no two names that
// differ only in case: ARM would keep one of them).
export const Tags = (description: string) =>
  withRules(stringMap({ description, maxProperties: MAX_USER_TAGS, maxValueLength: 256 }), [
    {
      rule: `self.all(k, !k.lowerAscii().startsWith('${OPERATOR_TAG_PREFIX}'))`,
      message: `tag names starting with '${OPERATOR_TAG_PREFIX}' (in any case) are reserved for the operator`,
      check: (m) => Object.keys(m).every((k) => !lower(k).startsWith(OPERATOR_TAG_PREFIX)),
    },
    {
      rule: "self.all(k, size(k) >= 1 && size(k) <= 512)",
      message: "tag names must be 1-512 characters",
      check: (m) => Object.keys(m).every((k) => k.length >= 1 && k.length <= 512),
    },
    {
      rule: String.raw`self.all(k, !k.matches(r'[<>%&?/\\]'))`,
      message: String.raw`tag names may not contain any of < > % & \ ? /`,
      check: (m) => Object.keys(m).every((k) => ![...FORBIDDEN_TAG_NAME_CHARS].some((c) => k.includes(c))),
    },
    {
      rule: "self.all(k, self.filter(j, j.lowerAscii() == k.lowerAscii()).size() == 1)",
      message: "tag names are case-insensitive in ARM: two names may not differ only in case",
      check: (m) => new Set(Object.keys(m).map(lower)).size === Object.keys(m).length,
    },
  ]);

// ---------------------------------------------------------------------------------------------
// LabelSelector (metav1.LabelSelector)
// ---------------------------------------------------------------------------------------------
export const LabelSelectorRequirementSchema = withRules(
  Type.Object({
    key: Type.String({ minLength: 1, maxLength: 317, description: "The label key the selector applies to." }),
    operator: stringEnum(["In", "NotIn", "Exists", "DoesNotExist"] as const, { description: "How the key relates to the values." }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64, description: "Values for In and NotIn; empty for Exists and DoesNotExist." }),
    ),
  }),
  [
    {
      rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
      message: "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
      check: (r) => (r.operator === "In" || r.operator === "NotIn" ? (r.values?.length ?? 0) > 0 : (r.values?.length ?? 0) === 0),
    },
  ],
);

/** A metav1.LabelSelector whose descriptions name what it selects ("PVC", "pod"): one shape, one type. */
export const labelSelectorSchema = (what: string) =>
  Type.Object(
    {
      matchLabels: Type.Optional(stringMap({ description: `Labels a ${what} must all carry.`, maxProperties: 32, maxValueLength: 63 })),
      matchExpressions: Type.Optional(Type.Array(LabelSelectorRequirementSchema, { maxItems: 16, description: `Requirements a ${what} must all meet.` })),
    },
    { description: "A Kubernetes label selector; an empty selector selects everything." },
  );
export const PvcSelectorSchema = labelSelectorSchema("PVC");
export const PodSelectorSchema = labelSelectorSchema("pod");
export type LabelSelector = Static<ReturnType<typeof labelSelectorSchema>>;

// ---------------------------------------------------------------------------------------------
// Status pieces
// ---------------------------------------------------------------------------------------------
export const ConditionSchema = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: "Condition type: Ready, Reconciling or Stalled." }),
    status: stringEnum(["True", "False", "Unknown"] as const),
    observedGeneration: Type.Optional(Type.Integer({ format: "int64", minimum: 0, description: "The .metadata.generation the condition was set for." })),
    lastTransitionTime: dateTime("When the status last changed."),
    reason: Type.String({ minLength: 1, maxLength: 1024, description: "PascalCase, stable; see docs/api.md." }),
    message: Type.String({ maxLength: 32768, description: "Human-readable detail naming the cause." }),
  },
  { description: "metav1.Condition." },
);
export type Condition = Static<typeof ConditionSchema>;

export const ConditionsSchema = Type.Array(ConditionSchema, {
  maxItems: 16,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
  description: "Ready is always present; Reconciling and Stalled only while True (kstatus).",
});

export const ObservedGeneration = () =>
  Type.Integer({ format: "int64", minimum: 0, description: "The .metadata.generation the status was computed for; set on every reconcile." });

// ---------------------------------------------------------------------------------------------
// Object metadata as read back from the API (not part of the CRD schema: the apiserver owns it).
// ---------------------------------------------------------------------------------------------
export const ObjectMetaSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  creationTimestamp: Type.Optional(Type.String()),
  deletionTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(stringMap()),
  annotations: Type.Optional(stringMap()),
  finalizers: Type.Optional(Type.Array(Type.String())),
  ownerReferences: Type.Optional(
    Type.Array(
      Type.Object({
        apiVersion: Type.String(),
        kind: Type.String(),
        name: Type.String(),
        uid: Type.String(),
        controller: Type.Optional(Type.Boolean()),
        blockOwnerDeletion: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
});
export type ObjectMeta = Static<typeof ObjectMetaSchema>;
