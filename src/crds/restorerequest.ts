// RestoreRequest (rr): a one-shot restore with an immutable spec and a terminal phase — a node pool
// (or cluster) from a node-pool snapshot, and/or new PVCs from verified VolumeSnapshots.
import Type, { type Static } from "typebox";
import {
  AgentPoolName,
  ClusterName,
  ConditionsSchema,
  Location,
  NamespaceName,
  NodePoolSnapshotId,
  ObjectName,
  ObservedGeneration,
  ResourceGroupName,
  SubscriptionId,
  VmSize,
} from "./common.ts";
import { HookResultSchema, hookList, hookSchema, MAX_HOOK_RESULTS } from "./hooks.ts";
import { defineKind, type Resource } from "./kind.ts";
import { dateTime, has, jsonEqual, matching, stringEnum, stringMap, withRules } from "./schema.ts";
import { RUN_REF_REGEX } from "./shapes.ts";

export const RESTORE_MODES = ["CreateNodePool", "UpgradeNodePool", "UpgradeNodeImage", "CreateCluster"] as const;
export const RestoreModeSchema = stringEnum(RESTORE_MODES, {
  description:
    "CreateNodePool: a new agent pool from the snapshot. UpgradeNodePool: an existing pool to the snapshot's Kubernetes and node image " +
    "(both must be newer). UpgradeNodeImage: node image only. CreateCluster: a new cluster whose system pool comes from the snapshot.",
});
export type RestoreMode = Static<typeof RestoreModeSchema>;

export const RestoreTargetSchema = Type.Object(
  {
    subscriptionId: Type.Optional(SubscriptionId("Subscription of the target cluster. Default: the operator's default subscription.")),
    resourceGroup: ResourceGroupName("Resource group of the target cluster."),
    clusterName: ClusterName("The target cluster (CreateCluster: the cluster to create)."),
    agentPoolName: Type.Optional(AgentPoolName("The agent pool to create or upgrade. CreateCluster: the system pool's name (default nodepool1).")),
  },
  { description: "Where the restore lands." },
);
export type RestoreTarget = Static<typeof RestoreTargetSchema>;

export const TaintSchema = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 317, description: "Taint key." }),
    value: Type.Optional(Type.String({ maxLength: 63, description: "Taint value." })),
    effect: stringEnum(["NoSchedule", "PreferNoSchedule", "NoExecute"] as const, { description: "Taint effect." }),
  },
  { description: "A node taint, sent to AKS as key=value:effect." },
);

const createModes: readonly RestoreMode[] = ["CreateNodePool", "CreateCluster"];

export const NodePoolRestoreSchema = withRules(
  Type.Object(
    {
      snapshotRef: Type.Optional(
        Type.Object({ name: ObjectName("Name of a NodePoolSnapshot in this namespace.") }, { description: "A NodePoolSnapshot in this namespace (must be Ready)." }),
      ),
      snapshotId: Type.Optional(NodePoolSnapshotId("ARM id of a node-pool snapshot, e.g. a golden image managed elsewhere.")),
      mode: RestoreModeSchema,
      target: RestoreTargetSchema,
      count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "Node count of the new pool (CreateNodePool, CreateCluster)." })),
      agentPoolMode: Type.Optional(stringEnum(["User", "System"] as const, { description: "Mode of the new pool (CreateNodePool). Default: User." })),
      vmSize: Type.Optional(VmSize("VM size of the new pool; must be in the snapshot's VM family. Default: the snapshot's.")),
      labels: Type.Optional(stringMap({ maxProperties: 64, maxValueLength: 63, description: "Node labels of the new pool." })),
      taints: Type.Optional(Type.Array(TaintSchema, { maxItems: 32, description: "Node taints of the new pool." })),
      cluster: Type.Optional(
        Type.Object(
          {
            location: Type.Optional(Location("Region of the new cluster. Default: the snapshot's region.")),
            dnsPrefix: Type.Optional(
              withRules(Type.String({ maxLength: 54, description: "DNS prefix of the new cluster. Default: the cluster name." }), [
                matching("^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$|^[a-zA-Z0-9]$", "dnsPrefix must be 1-54 letters, digits or '-', starting and ending with a letter or digit"),
              ]),
            ),
          },
          { description: "The minimal fields of a new cluster (CreateCluster)." },
        ),
      ),
    },
    { description: "Restore from a node-pool snapshot. Preflight (VM family, versions, target existence) runs before any ARM write." },
  ),
  [
    {
      rule: "has(self.snapshotRef) != has(self.snapshotId)",
      message: "nodePool needs exactly one of snapshotRef (a NodePoolSnapshot in this namespace) or snapshotId (the ARM id of a node-pool snapshot)",
      check: (n) => has(n, "snapshotRef") !== has(n, "snapshotId"),
    },
    {
      rule: "self.mode == 'CreateCluster' || has(self.target.agentPoolName)",
      message: "target.agentPoolName is required for CreateNodePool, UpgradeNodePool and UpgradeNodeImage",
      check: (n) => n.mode === "CreateCluster" || has(n.target, "agentPoolName"),
    },
    {
      rule: "!(self.mode in ['CreateNodePool', 'CreateCluster']) || has(self.count)",
      message: "count is required for CreateNodePool and CreateCluster",
      check: (n) => !createModes.includes(n.mode) || has(n, "count"),
    },
    {
      rule: "self.mode in ['CreateNodePool', 'CreateCluster'] || !(has(self.count) || has(self.vmSize) || has(self.labels) || has(self.taints))",
      message: "count, vmSize, labels and taints apply only to CreateNodePool and CreateCluster: upgrades keep the pool's own",
      check: (n) => createModes.includes(n.mode) || !(has(n, "count") || has(n, "vmSize") || has(n, "labels") || has(n, "taints")),
    },
    {
      rule: "self.mode == 'CreateNodePool' || !has(self.agentPoolMode)",
      message: "agentPoolMode applies only to CreateNodePool (a new cluster's pool is always System)",
      check: (n) => n.mode === "CreateNodePool" || !has(n, "agentPoolMode"),
    },
    {
      rule: "self.mode == 'CreateCluster' || !has(self.cluster)",
      message: "cluster applies only to CreateCluster",
      check: (n) => n.mode === "CreateCluster" || !has(n, "cluster"),
    },
  ],
);
export type NodePoolRestore = Static<typeof NodePoolRestoreSchema>;

export const VolumeSourceSchema = withRules(
  Type.Object(
    {
      volumeSnapshotName: Type.Optional(ObjectName("A VolumeSnapshot to restore.")),
      schedule: Type.Optional(ObjectName("A SnapshotSchedule whose run to restore (every PVC of the run, or pvcNames).")),
      run: Type.Optional(
        withRules(Type.String({ maxLength: 12, description: "Run id (YYYYMMDDHHmm, UTC) or latest: the newest run whose snapshots are all verified." }), [
          matching(RUN_REF_REGEX, "run must be latest or a run id YYYYMMDDHHmm (UTC), such as 202611230200"),
        ]),
      ),
      namespace: Type.Optional(
        NamespaceName(
          "Namespace of the source. Default: this namespace. Another namespace must grant it with the annotation aksnap.io/restore-to-namespaces listing this one.",
        ),
      ),
    },
    { description: "The snapshots to restore: one VolumeSnapshot, or a schedule run." },
  ),
  [
    {
      rule: "has(self.volumeSnapshotName) != has(self.schedule)",
      message: "volumes.from needs exactly one of volumeSnapshotName or schedule (with run)",
      check: (f) => has(f, "volumeSnapshotName") !== has(f, "schedule"),
    },
    {
      rule: "has(self.schedule) == has(self.run)",
      message: "schedule and run go together: run is a run id (YYYYMMDDHHmm) or latest",
      check: (f) => has(f, "schedule") === has(f, "run"),
    },
  ],
);
export type VolumeSource = Static<typeof VolumeSourceSchema>;

export const VolumeRestoreSchema = withRules(
  Type.Object(
    {
      from: VolumeSourceSchema,
      pvcNames: Type.Optional(
        Type.Array(ObjectName("A source PVC name."), { maxItems: 64, description: "Restore only these PVCs of the run (default: all). Only with schedule." }),
      ),
      storageClassName: Type.Optional(ObjectName("StorageClass of the new PVCs. Default: the source PVC's.")),
      conflictPolicy: Type.Optional(
        stringEnum(["Fail", "Skip", "Rename"] as const, {
          default: "Fail",
          description: "When a PVC of that name exists: Fail the restore, Skip that volume, or Rename the new PVC. An existing PVC is never deleted or overwritten.",
        }),
      ),
      waitForHydration: Type.Optional(
        Type.Boolean({ default: true, description: "Succeed only when the new disks are fully hydrated from the snapshot (completionPercent 100)." }),
      ),
    },
    { description: "New PVCs (dataSource: VolumeSnapshot) from verified snapshots only." },
  ),
  [
    {
      rule: "!has(self.pvcNames) || has(self.from.schedule)",
      message: "pvcNames selects PVCs of a schedule run; it does not apply to volumeSnapshotName",
      check: (v) => !has(v, "pvcNames") || has(v.from, "schedule"),
    },
  ],
);
export type VolumeRestore = Static<typeof VolumeRestoreSchema>;

export const DEFAULT_WAIT_FOR_POD_SECONDS = 600;
/** A hook whose exec a restart interrupted runs once more; interrupted again, it counts as Failed. */
export const MAX_HOOK_ATTEMPTS = 2;
export const MAX_WAIT_FOR_POD_SECONDS = 3600;

export const RestoreHookSchema = hookSchema({
  where: "every pod in this namespace that the selector matches, that mounts a restored PVC and whose container is running",
  onFail: "the RestoreRequest ends Failed and the hooks after it do not run (the restored PVCs stay).",
});

export const RestoreHooksSchema = Type.Object(
  {
    post: hookList(
      RestoreHookSchema,
      "once every restored PVC is bound and hydrated, e.g. an integrity check; each waits for a pod that mounts a restored PVC (see waitForPodSeconds)",
    ),
    waitForPodSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_FOR_POD_SECONDS,
        default: DEFAULT_WAIT_FOR_POD_SECONDS,
        description:
          "How long each hook waits for a pod to run it in (matching podSelector, mounting a restored PVC, its container running), counted from when the hook's turn comes. " +
          "None by then: the hook's result is NoPods, a failure subject to onError.",
      }),
    ),
  },
  { description: "Commands run in the workload's pods after the volumes are restored (e.g. a database consistency check). Needs the chart value hooks.enabled." },
);
export type RestoreHooks = Static<typeof RestoreHooksSchema>;

export const RestoreRequestSpecSchema = withRules(
  Type.Object(
    {
      nodePool: Type.Optional(NodePoolRestoreSchema),
      volumes: Type.Optional(VolumeRestoreSchema),
      hooks: Type.Optional(RestoreHooksSchema),
    },
    { description: "What to restore. Immutable: a RestoreRequest runs once." },
  ),
  [
    {
      rule: "has(self.nodePool) || has(self.volumes)",
      message: "a RestoreRequest needs nodePool, volumes, or both",
      check: (s) => has(s, "nodePool") || has(s, "volumes"),
    },
    {
      rule: "!has(self.hooks) || has(self.volumes)",
      message: "hooks run in pods that mount the restored PVCs: they need spec.volumes (a node-pool restore has no PVC to run them against)",
      check: (s) => !has(s, "hooks") || has(s, "volumes"),
    },
    {
      rule: "!has(self.hooks) || !has(self.volumes) || !has(self.volumes.waitForHydration) || self.volumes.waitForHydration",
      message: "hooks run once the restored PVCs are bound and hydrated: they need volumes.waitForHydration true (the default)",
      check: (s) => !has(s, "hooks") || s.volumes?.waitForHydration !== false,
    },
  ],
  [
    {
      rule: "self == oldSelf",
      message: "RestoreRequest spec is immutable: create a new RestoreRequest to restore again",
      check: (s, o) => jsonEqual(s, o),
    },
  ],
);
export type RestoreRequestSpec = Static<typeof RestoreRequestSpecSchema>;

export const RestorePhaseSchema = stringEnum(["Pending", "Running", "Succeeded", "Failed"] as const, { description: "Succeeded and Failed are terminal." });
export type RestorePhase = Static<typeof RestorePhaseSchema>;

export const PreflightCheckSchema = Type.Object({
  name: Type.String({
    maxLength: 128,
    description: "The rule, in chain order: ScopeAllowed, SnapshotReady, TargetExists, TargetAbsent, RegionAllowed, VMFamilyMatches, VersionsAllowed (those of the mode).",
  }),
  result: stringEnum(["Passed", "Failed", "Skipped", "Pending"] as const, {
    description: "Skipped: the rule's facts were not read because an earlier rule failed. Pending: waiting (the NodePoolSnapshot is still being created).",
  }),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type PreflightCheck = Static<typeof PreflightCheckSchema>;

export const VolumeRestoreStatusSchema = Type.Object({
  pvc: Type.String({ maxLength: 253, description: "The new PVC." }),
  sourcePvc: Type.Optional(Type.String({ maxLength: 253, description: "The PVC the snapshot was taken of." })),
  volumeSnapshot: Type.Optional(Type.String({ maxLength: 253, description: "The VolumeSnapshot restored from." })),
  phase: stringEnum(["Pending", "Creating", "Hydrating", "Succeeded", "Skipped", "Failed"] as const),
  completionPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: "Hydration progress of the new disk." })),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type VolumeRestoreStatus = Static<typeof VolumeRestoreStatusSchema>;

export const HookProgressSchema = Type.Object(
  {
    done: Type.Integer({ minimum: 0, description: "How many of spec.hooks.post have an outcome; a restarted operator goes on after them." }),
    current: Type.Optional(
      Type.Object(
        {
          name: Type.String({ maxLength: 63, description: "The hook whose turn it is." }),
          waitingSince: dateTime("When its turn came: its wait for a pod (waitForPodSeconds) counts from here."),
          attempt: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HOOK_ATTEMPTS, description: "Set just before the exec: 1, or 2 when a restart interrupted the first." })),
          execToken: Type.Optional(
            Type.String({
              maxLength: 64,
              description: "Written before the exec; a process that finds one it did not write knows an exec may have been cut off (operator restart) and runs the hook once more.",
            }),
          ),
          startedAt: Type.Optional(dateTime("When the exec of this attempt was armed.")),
        },
        { description: "The hook in progress: waiting for a pod, or (with execToken) executing." },
      ),
    ),
  },
  { description: "Where the restore's hooks are: the next one, and whether its exec may be in flight." },
);

export const RestoreRequestStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration()),
    conditions: Type.Optional(ConditionsSchema),
    phase: Type.Optional(RestorePhaseSchema),
    startedAt: Type.Optional(dateTime()),
    completedAt: Type.Optional(dateTime()),
    preflight: Type.Optional(
      Type.Array(PreflightCheckSchema, { maxItems: 32, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], description: "Checks run before any write." }),
    ),
    nodePool: Type.Optional(
      Type.Object(
        {
          id: Type.Optional(Type.String({ maxLength: 1024, description: "ARM id of the agent pool (or cluster) created or upgraded." })),
          provisioningState: Type.Optional(Type.String({ maxLength: 64, description: "Its ARM provisioningState, as last read (progress while the operation runs)." })),
          snapshotId: Type.Optional(Type.String({ maxLength: 1024, description: "ARM id of the node-pool snapshot restored from." })),
          completedAt: Type.Optional(dateTime("When the node-pool side finished (volumes, if any, come next).")),
          kubernetesVersion: Type.Optional(Type.String({ maxLength: 64, description: "The target's Kubernetes version, as last read." })),
          nodeImageVersion: Type.Optional(Type.String({ maxLength: 256, description: "The target's node image version, as last read." })),
          operation: Type.Optional(
            Type.Object(
              {
                resumeToken: Type.String({ maxLength: 16384, description: "Opaque: resumes the ARM long-running operation in a later reconcile or another process." }),
                startedAt: Type.Optional(dateTime()),
              },
              { description: "The ARM operation in flight; cleared when it ends. A restarted operator resumes it and never starts a second one." },
            ),
          ),
          error: Type.Optional(
            Type.Object(
              {
                code: Type.String({ maxLength: 256, description: "ARM's error code (the pool's or cluster's provisioningError for a failed operation)." }),
                message: Type.Optional(Type.String({ maxLength: 4096 })),
              },
              { description: "Why the ARM write or operation failed." },
            ),
          ),
        },
        { description: "The node-pool side of the restore." },
      ),
    ),
    volumes: Type.Optional(
      Type.Array(VolumeRestoreStatusSchema, { maxItems: 1000, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["pvc"], description: "One entry per new PVC." }),
    ),
    hooks: Type.Optional(Type.Array(HookResultSchema, { maxItems: MAX_HOOK_RESULTS, description: "Outcomes of spec.hooks.post, per hook and pod, in the order they ran." })),
    hookProgress: Type.Optional(HookProgressSchema),
  },
  { description: "What the operator observed; written only by the operator." },
);
export type RestoreRequestStatus = Static<typeof RestoreRequestStatusSchema>;
export type HookProgress = Static<typeof HookProgressSchema>;

export const RestoreRequestKind = defineKind({
  kind: "RestoreRequest",
  plural: "restorerequests",
  singular: "restorerequest",
  shortNames: ["rr"],
  description:
    "RestoreRequest restores once: a node pool or cluster from a node-pool snapshot, and/or new PVCs from verified VolumeSnapshots. " +
    "The spec is immutable and the phase ends in Succeeded or Failed.",
  spec: RestoreRequestSpecSchema,
  status: RestoreRequestStatusSchema,
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Mode", type: "string", jsonPath: ".spec.nodePool.mode" },
    { name: "Hooks", type: "integer", jsonPath: ".status.hookProgress.done", priority: 1 },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "Started", type: "date", jsonPath: ".status.startedAt", priority: 1 },
    { name: "Completed", type: "date", jsonPath: ".status.completedAt", priority: 1 },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
});

export type RestoreRequest = Resource<"RestoreRequest", RestoreRequestSpec, RestoreRequestStatus>;

export const parseRestoreRequest = RestoreRequestKind.parse;
