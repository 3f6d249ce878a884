// The admission table shared by the unit tests (local validation) and the integration tests (the
// real apiserver): the same manifests must be rejected by both, with the same message. Every case
// starts from a sample in config/samples and breaks one thing.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SAMPLES_DIR = join(REPO_ROOT, "config/samples");

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; spec: Record<string, unknown>; [k: string]: unknown };

export interface Sample {
  file: string;
  object: Manifest;
}

/** Every document of every config/samples/*.yaml. */
export function loadSamples(): Sample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(SAMPLES_DIR, file), "utf8"))
        .map((d) => d.toJS() as Manifest | null)
        .filter((o): o is Manifest => o !== null)
        .map((object) => ({ file, object })),
    );
}

/** A deep copy of the sample object named `name`. */
export function sample(name: string): Manifest {
  const s = loadSamples().find((x) => x.object.metadata.name === name);
  if (!s) throw new Error(`no sample named ${name}`);
  return structuredClone(s.object);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the cases poke arbitrary JSON into manifests
type Any = any;

/** A sample changed by `edit` (which mutates the copy's spec). */
function broken(name: string, edit: (spec: Record<string, Any>) => void): Manifest {
  const m = sample(name);
  edit(m.spec);
  return m;
}

export interface BadCase {
  name: string;
  manifest: Manifest;
  /** Text both the apiserver and local validation must report. */
  message: string;
}

const SUB = "00000000-0000-0000-0000-000000000001";
const POOL_ID = `/subscriptions/${SUB}/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/agentPools/userpool`;
const SNAPSHOT_ID = `/subscriptions/${SUB}/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/snapshots/golden-userpool`;

export const badCases: BadCase[] = [
  // --- NodePoolSnapshot ---------------------------------------------------------------------
  {
    name: "nps: no source and no adoption",
    manifest: broken("userpool-backup", (s) => delete s.source),
    message: "spec.source is required (the agent pool to capture), unless spec.snapshot.id adopts an existing snapshot",
  },
  {
    name: "nps: a typo'd source is pruned, so source is missing",
    manifest: broken("userpool-backup", (s) => {
      s.sorce = s.source;
      delete s.source;
    }),
    message: "spec.source is required (the agent pool to capture), unless spec.snapshot.id adopts an existing snapshot",
  },
  {
    name: "nps: agentPoolId together with the parts",
    manifest: broken("systempool-snapshot", (s) => (s.source.clusterName = "aks-demo")),
    message: "source.agentPoolId already names the agent pool: do not also set subscriptionId, resourceGroup, clusterName or agentPoolName",
  },
  {
    name: "nps: parts without agentPoolName",
    manifest: broken("userpool-backup", (s) => delete s.source.agentPoolName),
    message: "source needs either agentPoolId (a full ARM id) or all of resourceGroup, clusterName and agentPoolName",
  },
  {
    name: "nps: agent pool name with capitals",
    manifest: broken("userpool-backup", (s) => (s.source.agentPoolName = "UserPool")),
    message: "must be an agent pool name: 1-12 lowercase letters or digits, starting with a letter",
  },
  {
    name: "nps: agent pool name longer than 12",
    manifest: broken("userpool-backup", (s) => (s.source.agentPoolName = "userpool12345")),
    message: "Too long: may not be more than 12 bytes",
  },
  {
    name: "nps: agentPoolId that is a cluster id",
    manifest: broken("systempool-snapshot", (s) => (s.source.agentPoolId = POOL_ID.replace("/agentPools/userpool", ""))),
    message: "must be a full ARM agent pool id: /subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.ContainerService/managedClusters/<cluster>/agentPools/<pool>",
  },
  {
    name: "nps: subscription that is not a GUID",
    manifest: broken("userpool-backup", (s) => (s.source.subscriptionId = "my-subscription")),
    message: "must be an Azure subscription id, a GUID such as 00000000-0000-0000-0000-000000000001",
  },
  {
    name: "nps: resource group ending in a period",
    manifest: broken("userpool-backup", (s) => (s.source.resourceGroup = "rg-aks-demo.")),
    message: "must be a resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
  },
  {
    name: "nps: cluster name starting with a dash",
    manifest: broken("userpool-backup", (s) => (s.source.clusterName = "-aks-demo")),
    message: "must be an AKS cluster name: 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
  },
  {
    name: "nps: snapshot name with a dot",
    manifest: broken("userpool-template-dev", (s) => (s.snapshot.name = "userpool.template")),
    message: "must be an ARM snapshot name: 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
  },
  {
    name: "nps: display name instead of a region name",
    manifest: broken("userpool-dr-northeurope", (s) => (s.snapshot.location = "North Europe")),
    message: "must be an Azure region in its canonical form, such as westeurope or eastus2 (lowercase, no spaces)",
  },
  {
    name: "nps: adopt mode with a source",
    manifest: broken("golden-userpool", (s) => (s.source = { agentPoolId: POOL_ID })),
    message: "adopt mode (spec.snapshot.id) mirrors an existing snapshot: remove spec.source",
  },
  {
    name: "nps: adopt mode with placement fields",
    manifest: broken("golden-userpool", (s) => (s.snapshot.location = "westeurope")),
    message: "snapshot.id adopts an existing snapshot: do not also set subscriptionId, resourceGroup, name or location",
  },
  {
    name: "nps: adopting a Compute (disk) snapshot id",
    manifest: broken("golden-userpool", (s) => (s.snapshot.id = SNAPSHOT_ID.replace("Microsoft.ContainerService", "Microsoft.Compute"))),
    message: "must be a full ARM node-pool snapshot id: /subscriptions/<subscription-id>/resourceGroups/<resource-group>/providers/Microsoft.ContainerService/snapshots/<name>",
  },
  {
    name: "nps: unknown deletionPolicy",
    manifest: broken("userpool-backup", (s) => (s.deletionPolicy = "Keep")),
    message: 'Unsupported value: "Keep": supported values: "Delete", "Retain"',
  },
  {
    name: "nps: unknown missingSnapshotPolicy",
    manifest: broken("userpool-backup", (s) => (s.missingSnapshotPolicy = "Ignore")),
    message: 'Unsupported value: "Ignore": supported values: "Report", "Recreate"',
  },
  {
    name: "nps: operator-reserved tag",
    manifest: broken("userpool-backup", (s) => (s.tags["aksnap.io-owner"] = "someone/else")),
    message: "tag names starting with 'aksnap.io-' (in any case) are reserved for the operator",
  },
  {
    name: "nps: operator-reserved tag in another case",
    manifest: broken("userpool-backup", (s) => (s.tags["AKSNAP.IO-Owner"] = "someone/else")),
    message: "tag names starting with 'aksnap.io-' (in any case) are reserved for the operator",
  },
  ...["<", ">", "%", "&", "\\", "?", "/"].map((c) => ({
    name: `nps: tag name with ${c}`,
    manifest: broken("userpool-backup", (s) => (s.tags[`cost${c}centre`] = "v")),
    message: "tag names may not contain any of < > % & \\ ? /",
  })),
  {
    name: "nps: tag names that differ only in case",
    manifest: broken("userpool-backup", (s) => (s.tags = { Env: "prod", env: "dev" })),
    message: "tag names are case-insensitive in ARM: two names may not differ only in case",
  },
  {
    name: "nps: tag name longer than 512",
    manifest: broken("userpool-backup", (s) => (s.tags["k".repeat(513)] = "v")),
    message: "tag names must be 1-512 characters",
  },
  {
    name: "nps: tag value longer than 256",
    manifest: broken("userpool-backup", (s) => (s.tags["env"] = "v".repeat(257))),
    message: "Too long: may not be more than 256 bytes",
  },
  {
    name: "nps: more tags than ARM allows",
    manifest: broken("userpool-backup", (s) => (s.tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`tag${i}`, "v"])))),
    message: "Too many: 49: must have at most 48 items",
  },
  // --- SnapshotSchedule ----------------------------------------------------------------------
  {
    name: "ssch: six-field cron",
    manifest: broken("nodepools-nightly", (s) => (s.schedule = "0 0 2 * * *")),
    message: "schedule must be a 5-field cron expression (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @weekly, @monthly, @yearly",
  },
  {
    name: "ssch: time zone inside the cron",
    manifest: broken("nodepools-nightly", (s) => (s.schedule = "CRON_TZ=Europe/Amsterdam 0 2 * * *")),
    message: "set the time zone in spec.timeZone, not in the schedule",
  },
  {
    name: "ssch: minute 60",
    manifest: broken("volumes-6h", (s) => (s.schedule = "60 */6 * * *")),
    message: "schedule must be a 5-field cron expression",
  },
  {
    name: "ssch: unsupported macro",
    manifest: broken("volumes-6h", (s) => (s.schedule = "@every 6h")),
    message: "schedule must be a 5-field cron expression",
  },
  {
    name: "ssch: Windows time-zone name",
    manifest: broken("tagged-disks-daily", (s) => (s.timeZone = "W. Europe Standard Time")),
    message: "timeZone must be an IANA time zone name such as UTC or Europe/Amsterdam",
  },
  {
    name: "ssch: Local time zone",
    manifest: broken("tagged-disks-daily", (s) => (s.timeZone = "Local")),
    message: "timeZone must be an IANA time zone name such as UTC or Europe/Amsterdam",
  },
  {
    name: "ssch: two hooks of one name",
    manifest: broken("postgres-nightly", (s) => (s.template.volumes.hooks.pre[1].name = "checkpoint")),
    message: "hook names must be unique within a list",
  },
  {
    name: "ssch: a hook name that is not a DNS label",
    manifest: broken("postgres-nightly", (s) => (s.template.volumes.hooks.post[0].name = "Thaw_FS")),
    message: "hook name must be a DNS label",
  },
  {
    name: "ssch: hooks with neither pre nor post",
    manifest: broken("postgres-nightly", (s) => (s.hooks = {})),
    message: "hooks needs at least one of pre or post",
  },
  {
    name: "ssch: empty template",
    manifest: broken("volumes-6h", (s) => (s.template = {})),
    message: "template must capture at least one of nodePools, volumes or disks",
  },
  {
    name: "ssch: the same pool twice",
    manifest: broken("nodepools-nightly", (s) => (s.template.nodePools[1].source = { ...s.template.nodePools[0].source })),
    message: "each agent pool may appear only once in template.nodePools",
  },
  {
    name: "ssch: Replace is not a concurrency policy here",
    manifest: broken("nodepools-nightly", (s) => (s.concurrencyPolicy = "Replace")),
    message: 'Unsupported value: "Replace": supported values: "Forbid", "Allow"',
  },
  {
    name: "ssch: retention that keeps everything",
    manifest: broken("volumes-6h", (s) => (s.retention = { minVerified: 2 })),
    message: "retention needs at least one of maxCount, maxAge or keep",
  },
  {
    name: "ssch: maxAge in words",
    manifest: broken("tagged-disks-daily", (s) => (s.retention.maxAge = "3 days")),
    message: "maxAge must be a positive duration such as 90m, 72h, 30d or 2w",
  },
  {
    name: "ssch: zero maxAge",
    manifest: broken("tagged-disks-daily", (s) => (s.retention.maxAge = "0d")),
    message: "maxAge must be a positive duration such as 90m, 72h, 30d or 2w",
  },
  {
    name: "ssch: maxCount below minVerified",
    manifest: broken("volumes-6h", (s) => Object.assign(s.retention, { maxCount: 1, minVerified: 2 })),
    message: "retention.maxCount must be at least minVerified (the verified snapshots that are always kept)",
  },
  {
    name: "ssch: maxCount zero",
    manifest: broken("volumes-6h", (s) => (s.retention.maxCount = 0)),
    message: "should be greater than or equal to 1",
  },
  {
    name: "ssch: keep without any period",
    manifest: broken("nodepools-nightly", (s) => (s.retention.keep = {})),
    message: "keep needs at least one of hourly, daily, weekly, monthly or yearly",
  },
  {
    name: "ssch: In without values",
    manifest: broken("volumes-6h", (s) => delete s.template.volumes.pvcSelector.matchExpressions[0].values),
    message: "values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist",
  },
  {
    name: "ssch: disks without a snapshot resource group",
    manifest: broken("tagged-disks-daily", (s) => delete s.template.disks.snapshotResourceGroup),
    message: "Required value",
  },
  {
    name: "ssch: the same resource group twice",
    manifest: broken("tagged-disks-daily", (s) => s.template.disks.resourceGroups.push(s.template.disks.resourceGroups[0])),
    message: 'Duplicate value: "MC_rg-aks-demo_aks-demo_westeurope"',
  },
  {
    name: "ssch: disks selected by no tag",
    manifest: broken("tagged-disks-daily", (s) => (s.template.disks.matchTags = {})),
    message: "should have at least 1 properties",
  },
  // --- RestoreRequest ------------------------------------------------------------------------
  {
    name: "rr: empty spec",
    manifest: broken("azuredisk-restore", (s) => delete s.volumes),
    message: "a RestoreRequest needs nodePool, volumes, or both",
  },
  {
    name: "rr: both snapshotRef and snapshotId",
    manifest: broken("userpool-restore", (s) => (s.nodePool.snapshotId = SNAPSHOT_ID)),
    message: "nodePool needs exactly one of snapshotRef (a NodePoolSnapshot in this namespace) or snapshotId (the ARM id of a node-pool snapshot)",
  },
  {
    name: "rr: neither snapshotRef nor snapshotId",
    manifest: broken("userpool-to-golden", (s) => delete s.nodePool.snapshotId),
    message: "nodePool needs exactly one of snapshotRef (a NodePoolSnapshot in this namespace) or snapshotId (the ARM id of a node-pool snapshot)",
  },
  {
    name: "rr: unknown mode",
    manifest: broken("userpool-to-golden", (s) => (s.nodePool.mode = "Rollback")),
    message: 'Unsupported value: "Rollback": supported values: "CreateNodePool", "UpgradeNodePool", "UpgradeNodeImage", "CreateCluster"',
  },
  {
    name: "rr: upgrade without the pool name",
    manifest: broken("userpool-to-golden", (s) => delete s.nodePool.target.agentPoolName),
    message: "target.agentPoolName is required for CreateNodePool, UpgradeNodePool and UpgradeNodeImage",
  },
  {
    name: "rr: new pool without count",
    manifest: broken("userpool-restore", (s) => delete s.nodePool.count),
    message: "count is required for CreateNodePool and CreateCluster",
  },
  {
    name: "rr: node-image upgrade with a VM size",
    manifest: broken("systempool-image-rollback", (s) => (s.nodePool.vmSize = "Standard_D8s_v5")),
    message: "count, vmSize, labels and taints apply only to CreateNodePool and CreateCluster: upgrades keep the pool's own",
  },
  {
    name: "rr: agentPoolMode on a new cluster",
    manifest: broken("clone-from-prod-template", (s) => (s.nodePool.agentPoolMode = "User")),
    message: "agentPoolMode applies only to CreateNodePool (a new cluster's pool is always System)",
  },
  {
    name: "rr: cluster fields for a new pool",
    manifest: broken("userpool-restore", (s) => (s.nodePool.cluster = { location: "westeurope" })),
    message: "cluster applies only to CreateCluster",
  },
  {
    name: "rr: unknown taint effect",
    manifest: broken("userpool-restore", (s) => (s.nodePool.taints[0].effect = "NoWay")),
    message: 'Unsupported value: "NoWay": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  },
  {
    name: "rr: count zero",
    manifest: broken("userpool-restore", (s) => (s.nodePool.count = 0)),
    message: "should be greater than or equal to 1",
  },
  {
    name: "rr: volume snapshot and schedule at once",
    manifest: broken("azuredisk-restore", (s) => Object.assign(s.volumes.from, { schedule: "volumes-6h", run: "latest" })),
    message: "volumes.from needs exactly one of volumeSnapshotName or schedule (with run)",
  },
  {
    name: "rr: schedule without run",
    manifest: broken("postgres-from-latest-run", (s) => delete s.volumes.from.run),
    message: "schedule and run go together: run is a run id (YYYYMMDDHHmm) or latest",
  },
  {
    name: "rr: run that is not a run id",
    manifest: broken("postgres-from-latest-run", (s) => (s.volumes.from.run = "yesterday")),
    message: "run must be latest or a run id YYYYMMDDHHmm (UTC), such as 202611230200",
  },
  {
    name: "rr: pvcNames with a single volume snapshot",
    manifest: broken("azuredisk-restore", (s) => (s.volumes.pvcNames = ["pvc-azuredisk"])),
    message: "pvcNames selects PVCs of a schedule run; it does not apply to volumeSnapshotName",
  },
  {
    name: "rr: overwrite is not a conflict policy",
    manifest: broken("azuredisk-restore", (s) => (s.volumes.conflictPolicy = "Overwrite")),
    message: 'Unsupported value: "Overwrite": supported values: "Fail", "Skip", "Rename"',
  },
  {
    name: "rr: PVC name with capitals",
    manifest: broken("postgres-from-latest-run", (s) => (s.volumes.pvcNames[0] = "Data-Postgres-0")),
    message: "must be a Kubernetes object name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
  },
  {
    name: "rr: hooks on a node-pool restore",
    manifest: broken("userpool-restore", (s) => (s.hooks = sample("postgres-restore-checked").spec["hooks"])),
    message: "hooks run in pods that mount the restored PVCs: they need spec.volumes (a node-pool restore has no PVC to run them against)",
  },
  {
    name: "rr: hooks without waiting for hydration",
    manifest: broken("postgres-restore-checked", (s) => (s.volumes.waitForHydration = false)),
    message: "hooks run once the restored PVCs are bound and hydrated: they need volumes.waitForHydration true (the default)",
  },
  {
    name: "rr: hooks with an empty post list",
    manifest: broken("postgres-restore-checked", (s) => (s.hooks.post = [])),
    message: "should have at least 1 items",
  },
  {
    name: "rr: hooks without post",
    manifest: broken("postgres-restore-checked", (s) => delete s.hooks.post),
    message: "Required value",
  },
  {
    name: "rr: two restore hooks of one name",
    manifest: broken("postgres-restore-checked", (s) => (s.hooks.post[1].name = "amcheck")),
    message: "hook names must be unique within a list",
  },
  {
    name: "rr: a restore hook's wait beyond an hour",
    manifest: broken("postgres-restore-checked", (s) => (s.hooks.waitForPodSeconds = 3601)),
    message: "should be less than or equal to 3600",
  },
  {
    name: "rr: a restore hook with onError Ignore",
    manifest: broken("postgres-restore-checked", (s) => (s.hooks.post[0].onError = "Ignore")),
    message: 'Unsupported value: "Ignore": supported values: "Continue", "Fail"',
  },
  {
    name: "rr: namespace name too long",
    manifest: broken("staging-from-prod", (s) => (s.volumes.from.namespace = "a".repeat(64))),
    message: "Too long: may not be more than 63 bytes",
  },
];

export interface UpdateCase {
  name: string;
  /** Created first (as is). */
  original: Manifest;
  /** Changes the stored object's spec. */
  edit: (spec: Record<string, Any>) => void;
  /** Expected rejection message; undefined when the update must be accepted. */
  message?: string;
}

export const updateCases: UpdateCase[] = [
  {
    name: "nps: changing the source",
    original: sample("userpool-backup"),
    edit: (s) => (s.source.agentPoolName = "systempool"),
    message: "spec.source is immutable: create a new NodePoolSnapshot to capture another agent pool",
  },
  {
    name: "nps: switching the source to its full id",
    original: sample("userpool-backup"),
    edit: (s) => (s.source = { agentPoolId: POOL_ID }),
    message: "spec.source is immutable: create a new NodePoolSnapshot to capture another agent pool",
  },
  {
    name: "nps: moving the snapshot",
    original: sample("userpool-template-dev"),
    edit: (s) => (s.snapshot.name = "userpool-template-dev2"),
    message: "spec.snapshot is immutable: create a new NodePoolSnapshot to place or adopt another snapshot",
  },
  {
    name: "nps: adding a placement after creation",
    original: sample("userpool-backup"),
    edit: (s) => (s.snapshot = { resourceGroup: "rg-aks-demo" }),
    message: "spec.snapshot is immutable: it cannot be added or removed after creation",
  },
  {
    name: "nps: adopting another snapshot",
    original: sample("golden-userpool"),
    edit: (s) => (s.snapshot.id = SNAPSHOT_ID.replace("golden-userpool", "golden-userpool-v2")),
    message: "spec.snapshot is immutable: create a new NodePoolSnapshot to place or adopt another snapshot",
  },
  {
    name: "nps: tags are mutable",
    original: sample("userpool-backup"),
    edit: (s) => (s.tags = { ...s.tags, retention: "90-days" }),
  },
  {
    name: "nps: deletionPolicy is mutable",
    original: sample("userpool-backup"),
    edit: (s) => (s.deletionPolicy = "Retain"),
  },
  {
    name: "ssch: the template is mutable",
    original: sample("volumes-6h"),
    edit: (s) => (s.template.volumes.pvcSelector.matchLabels.backup = "hourly"),
  },
  {
    name: "rr: the spec is immutable",
    original: sample("userpool-restore"),
    edit: (s) => (s.nodePool.count = 5),
    message: "RestoreRequest spec is immutable: create a new RestoreRequest to restore again",
  },
];
