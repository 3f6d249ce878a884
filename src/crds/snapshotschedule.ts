// SnapshotSchedule (ssch): cron-driven snapshot runs over node pools, PVCs and tagged Azure disks,
// with retention that only ever counts verified snapshots.
import Type, { type Static } from "typebox";
import { ConditionsSchema, PvcSelectorSchema, Location, ObjectName, ObservedGeneration, ResourceGroupName, SubscriptionId, Tags } from "./common.ts";
import { HookResultSchema, hookList, hookSchema, MAX_HOOK_RESULTS } from "./hooks.ts";
import { defineKind, type Resource } from "./kind.ts";
import { AgentPoolSourceSchema, DeletionPolicySchema } from "./nodepoolsnapshot.ts";
import { dateTime, has, jsonEqual, matching, setOf, stringEnum, stringMap, withRules } from "./schema.ts";
import { CRON_REGEX, DURATION_REGEX, RUN_ID_REGEX, TIME_ZONE_REGEX, ZERO_DURATION_REGEX } from "./shapes.ts";

export const DEFAULT_TIME_ZONE = "UTC";
export const DEFAULT_RETENTION_TAG_KEY = "retentionTime";

/** Snapshot placement for scheduled children: no name (derived per run) and no adoption. */
export const ScheduledSnapshotPlacementSchema = Type.Object(
  {
    subscriptionId: Type.Optional(SubscriptionId("Subscription for the snapshots. Default: the source's subscription.")),
    resourceGroup: Type.Optional(ResourceGroupName("Resource group for the snapshots. Default: the source cluster's resource group.")),
    location: Type.Optional(Location("Region for the snapshots. Default (and the only one AKS accepts): the source cluster's region.")),
  },
  { description: "Where each run's snapshots live; names are derived from schedule, target and run id." },
);

export const NodePoolSnapshotTemplateSchema = Type.Object(
  {
    source: AgentPoolSourceSchema,
    snapshot: Type.Optional(ScheduledSnapshotPlacementSchema),
    tags: Type.Optional(Tags("ARM tags for each snapshot, merged with the operator's (aksnap.io-owner, aksnap.io-schedule).")),
    deletionPolicy: Type.Optional(DeletionPolicySchema),
  },
  { description: "One child NodePoolSnapshot per run: the NodePoolSnapshot spec without a snapshot name." },
);
export type NodePoolSnapshotTemplate = Static<typeof NodePoolSnapshotTemplateSchema>;

export const ScheduleHookSchema = hookSchema({
  where: "every running pod the selector matches in the schedule's namespace",
  onFail: "a failing pre hook fails the run before any snapshot is taken (the post hooks still run); a failing post hook marks the run Failed.",
});

const hooks = (when: string) => Type.Optional(hookList(ScheduleHookSchema, when));

export const HooksSchema = withRules(
  Type.Object(
    {
      pre: hooks("before a run's snapshots are created (e.g. flush and freeze)"),
      post: hooks("once the snapshots are created, and whenever the pre hooks ran, even if they or the snapshots failed (e.g. thaw)"),
    },
    { description: "Application-consistent snapshots: commands run in pods before and after the snapshots. Needs the chart value hooks.enabled." },
  ),
  [{ rule: "has(self.pre) || has(self.post)", message: "hooks needs at least one of pre or post", check: (h) => has(h, "pre") || has(h, "post") }],
);
export type Hooks = Static<typeof HooksSchema>;

export const VolumeTemplateSchema = Type.Object(
  {
    pvcSelector: PvcSelectorSchema,
    volumeSnapshotClassName: Type.Optional(ObjectName("VolumeSnapshotClass for the children. Default: the cluster's default class for the PVC's driver.")),
    hooks: Type.Optional(HooksSchema),
  },
  { description: "PVCs in the schedule's namespace to snapshot as snapshot.storage.k8s.io/v1 VolumeSnapshots." },
);
export type VolumeTemplate = Static<typeof VolumeTemplateSchema>;

export const DiskTemplateSchema = Type.Object(
  {
    subscriptionId: Type.Optional(SubscriptionId("Subscription of the disks and snapshots. Default: the operator's default subscription.")),
    resourceGroups: setOf(ResourceGroupName("A resource group to search."), {
      minItems: 1,
      maxItems: 16,
      description: "Resource groups searched for tagged disks (for AKS-managed disks: the node resource group, MC_…).",
    }),
    matchTags: stringMap({
      minProperties: 1,
      maxProperties: 16,
      maxValueLength: 256,
      description: 'ARM tags a disk must all carry to be snapshotted, e.g. aksSnapshotBackupEnabled: "true".',
    }),
    snapshotResourceGroup: ResourceGroupName("Resource group for the incremental Microsoft.Compute/snapshots."),
    retentionTagKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        default: DEFAULT_RETENTION_TAG_KEY,
        description: "Disk tag whose value (days, e.g. retentionTime: 7) overrides the retention age for that disk's snapshots.",
      }),
    ),
  },
  {
    description:
      "Azure managed disks selected by ARM tag. Snapshots are tagged with source disk, schedule, run and retention: the tags are the durable record, so cleanup works even if the cluster is lost.",
  },
);
export type DiskTemplate = Static<typeof DiskTemplateSchema>;

export const ScheduleTemplateSchema = withRules(
  Type.Object(
    {
      nodePools: Type.Optional(
        withRules(Type.Array(NodePoolSnapshotTemplateSchema, { minItems: 1, maxItems: 16, description: "Node pools to snapshot; one child NodePoolSnapshot each per run." }), [
          {
            rule: "self.all(a, self.exists_one(b, b.source == a.source))",
            message: "each agent pool may appear only once in template.nodePools",
            check: (xs) => xs.every((a) => xs.filter((b) => jsonEqual(a.source, b.source)).length === 1),
          },
        ]),
      ),
      volumes: Type.Optional(VolumeTemplateSchema),
      disks: Type.Optional(DiskTemplateSchema),
    },
    { description: "What one run captures: any of node pools, PVCs and tagged disks." },
  ),
  [
    {
      rule: "has(self.nodePools) || has(self.volumes) || has(self.disks)",
      message: "template must capture at least one of nodePools, volumes or disks",
      check: (t) => has(t, "nodePools") || has(t, "volumes") || has(t, "disks"),
    },
  ],
);
export type ScheduleTemplate = Static<typeof ScheduleTemplateSchema>;

const keepCount = (what: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: `Keep the newest verified snapshot of each of the last N ${what}.` }));

export const KeepSchema = withRules(
  Type.Object(
    { hourly: keepCount("hours"), daily: keepCount("days"), weekly: keepCount("weeks"), monthly: keepCount("months"), yearly: keepCount("years") },
    { description: "Grandfather-father-son retention, calendar-correct in spec.timeZone." },
  ),
  [
    {
      rule: "has(self.hourly) || has(self.daily) || has(self.weekly) || has(self.monthly) || has(self.yearly)",
      message: "keep needs at least one of hourly, daily, weekly, monthly or yearly",
      check: (k) => has(k, "hourly") || has(k, "daily") || has(k, "weekly") || has(k, "monthly") || has(k, "yearly"),
    },
  ],
);

const durationRe = new RegExp(DURATION_REGEX, "u");
const zeroRe = new RegExp(ZERO_DURATION_REGEX, "u");

export const RetentionSchema = withRules(
  Type.Object(
    {
      maxCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: "Keep at most this many verified snapshots per target." })),
      maxAge: Type.Optional(
        withRules(Type.String({ maxLength: 32, description: "Delete verified snapshots older than this: 90m, 72h, 30d, 2w, 1d12h." }), [
          {
            rule: `self.matches(r'${DURATION_REGEX}') && !self.matches(r'${ZERO_DURATION_REGEX}')`,
            message: "maxAge must be a positive duration such as 90m, 72h, 30d or 2w (units m, h, d, w; combinations like 1d12h allowed)",
            check: (s) => durationRe.test(s) && !zeroRe.test(s),
          },
        ]),
      ),
      keep: Type.Optional(KeepSchema),
      minVerified: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 10000, default: 1, description: "Never delete the last N verified snapshots of a target, whatever else says." }),
      ),
      failedHistoryLimit: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 100, default: 1, description: "Failed snapshots kept per target for inspection." }),
      ),
    },
    { description: "Which snapshots to keep. Only verified snapshots count toward keeping; retention runs after a run verifies." },
  ),
  [
    {
      rule: "has(self.maxCount) || has(self.maxAge) || has(self.keep)",
      message: "retention needs at least one of maxCount, maxAge or keep",
      check: (r) => has(r, "maxCount") || has(r, "maxAge") || has(r, "keep"),
    },
    {
      rule: "!has(self.maxCount) || self.maxCount >= (has(self.minVerified) ? self.minVerified : 1)",
      message: "retention.maxCount must be at least minVerified (the verified snapshots that are always kept)",
      check: (r) => r.maxCount === undefined || r.maxCount >= (r.minVerified ?? 1),
    },
  ],
);
export type Retention = Static<typeof RetentionSchema>;

export const SnapshotScheduleSpecSchema = Type.Object(
  {
    schedule: Type.Optional(
      withRules(Type.String({ maxLength: 128, description: "5-field cron (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly. Omitted: on-demand runs only." }), [
        matching(
          CRON_REGEX,
          "schedule must be a 5-field cron expression (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @weekly, @monthly, @yearly; set the time zone in spec.timeZone, not in the schedule",
        ),
      ]),
    ),
    timeZone: Type.Optional(
      withRules(Type.String({ maxLength: 64, default: DEFAULT_TIME_ZONE, description: "IANA time zone the schedule and calendar retention use. DST gaps and overlaps are handled like CronJob." }), [
        {
          rule: `self != 'Local' && self.matches(r'${TIME_ZONE_REGEX}')`,
          message: "timeZone must be an IANA time zone name such as UTC or Europe/Amsterdam (Windows names like 'W. Europe Standard Time' and Local are not accepted)",
          check: (s) => s !== "Local" && new RegExp(TIME_ZONE_REGEX, "u").test(s),
        },
      ]),
    ),
    suspend: Type.Optional(Type.Boolean({ default: false, description: "Suspend scheduled runs; on-demand runs still happen." })),
    startingDeadlineSeconds: Type.Optional(
      Type.Integer({ format: "int64", minimum: 0, description: "A run that could not start within this many seconds of its time is counted as missed." }),
    ),
    concurrencyPolicy: Type.Optional(
      stringEnum(["Forbid", "Allow"] as const, { default: "Forbid", description: "Forbid: skip a run while the previous one is still active. Allow: run concurrently." }),
    ),
    template: ScheduleTemplateSchema,
    hooks: Type.Optional(HooksSchema),
    retention: Type.Optional(RetentionSchema),
    childDeletionPolicy: Type.Optional(
      stringEnum(["Retain", "Delete"] as const, { default: "Retain", description: "What happens to the children (and their snapshots) when the schedule is deleted." }),
    ),
  },
  { description: "When to run, what one run captures and what to keep." },
);
export type SnapshotScheduleSpec = Static<typeof SnapshotScheduleSpecSchema>;

export const RunPhaseSchema = stringEnum(["Pending", "Running", "Succeeded", "Failed"] as const, { description: "Succeeded when every child is verified." });
export type RunPhase = Static<typeof RunPhaseSchema>;

export const TargetResultSchema = Type.Object(
  {
    kind: stringEnum(["NodePoolSnapshot", "VolumeSnapshot", "DiskSnapshot"] as const, { description: "What the child is." }),
    target: Type.String({ maxLength: 1024, description: "What was captured: agent pool id, PVC name or disk id." }),
    name: Type.String({ maxLength: 1024, description: "The child: object name (NodePoolSnapshot, VolumeSnapshot) or ARM id (disk snapshot)." }),
    phase: stringEnum(["Pending", "Verified", "NotVerifiable", "Failed"] as const, {
      description: "Verified: ready in Kubernetes and in Azure. NotVerifiable: a non-Azure driver, readyToUse only.",
    }),
    completionPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: "Azure snapshot copy progress." })),
    message: Type.Optional(Type.String({ maxLength: 4096 })),
    operation: Type.Optional(
      Type.String({
        maxLength: 16384,
        description: "Resume token of the ARM create in flight (disk snapshots): a restarted operator polls that operation, and its failure code, instead of guessing.",
      }),
    ),
  },
  { description: "One child of a run." },
);
export type TargetResult = Static<typeof TargetResultSchema>;

export const RunStatusSchema = Type.Object(
  {
    id: withRules(Type.String({ maxLength: 12 }), [matching(RUN_ID_REGEX, "run ids are the scheduled time in UTC, YYYYMMDDHHmm")]),
    scheduledTime: dateTime("The time the run was scheduled for (or requested at)."),
    startedAt: Type.Optional(dateTime()),
    completedAt: Type.Optional(dateTime()),
    phase: RunPhaseSchema,
    targets: Type.Integer({ minimum: 0, description: "Children in the run." }),
    verified: Type.Integer({ minimum: 0, description: "Children verified." }),
    failed: Type.Integer({ minimum: 0, description: "Children failed." }),
    results: Type.Optional(Type.Array(TargetResultSchema, { maxItems: 1000, description: "Per-child results." })),
    hooks: Type.Optional(Type.Array(HookResultSchema, { maxItems: MAX_HOOK_RESULTS, description: "Hook outcomes, in the order they ran." })),
    hooksDone: Type.Optional(
      Type.Object(
        { pre: Type.Integer({ minimum: 0 }), post: Type.Integer({ minimum: 0 }) },
        { description: "How many pre and post hooks completed: a restarted operator resumes after them instead of running one twice." },
      ),
    ),
    hookFailure: Type.Optional(Type.String({ maxLength: 1024, description: "A pre hook with onError Fail failed: no snapshot is taken, the post hooks still run." })),
  },
  { description: "One run." },
);
export type RunStatus = Static<typeof RunStatusSchema>;

export const SnapshotScheduleStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration()),
    conditions: Type.Optional(ConditionsSchema),
    lastScheduleTime: Type.Optional(dateTime("The last time a run was started by the schedule.")),
    nextScheduleTime: Type.Optional(dateTime("The next scheduled run.")),
    lastSuccessfulTime: Type.Optional(dateTime("When the last successful run completed.")),
    missedRuns: Type.Optional(Type.Integer({ format: "int64", minimum: 0, description: "Runs missed (operator down, startingDeadlineSeconds passed, or Forbid)." })),
    activeRuns: Type.Optional(
      Type.Array(
        Type.Object({
          id: Type.String({ maxLength: 12, description: "Run id, YYYYMMDDHHmm (UTC)." }),
          scheduledTime: dateTime(),
        }),
        { maxItems: 64, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"], description: "Runs in flight." },
      ),
    ),
    lastRun: Type.Optional(RunStatusSchema),
    counts: Type.Optional(
      Type.Object(
        {
          total: Type.Integer({ minimum: 0 }),
          verified: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0 }),
        },
        { description: "Children currently kept, by verification result." },
      ),
    ),
    lastHandledRunRequest: Type.Optional(Type.String({ maxLength: 256, description: "The last aksnap.io/run-requested-at token acted on." })),
  },
  { description: "What the operator observed; written only by the operator." },
);
export type SnapshotScheduleStatus = Static<typeof SnapshotScheduleStatusSchema>;

export const SnapshotScheduleKind = defineKind({
  kind: "SnapshotSchedule",
  plural: "snapshotschedules",
  singular: "snapshotschedule",
  shortNames: ["ssch"],
  description:
    "SnapshotSchedule runs snapshots of node pools, PVCs and tagged Azure disks on a cron schedule (or on demand with the " +
    "aksnap.io/run-requested-at annotation) and applies retention to verified snapshots.",
  spec: SnapshotScheduleSpecSchema,
  status: SnapshotScheduleStatusSchema,
  printerColumns: [
    { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
    { name: "TimeZone", type: "string", jsonPath: ".spec.timeZone", priority: 1 },
    { name: "Suspend", type: "boolean", jsonPath: ".spec.suspend" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: "LastRun", type: "string", jsonPath: ".status.lastRun.phase" },
    { name: "LastSchedule", type: "date", jsonPath: ".status.lastScheduleTime" },
    { name: "NextSchedule", type: "date", jsonPath: ".status.nextScheduleTime" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
});

export type SnapshotSchedule = Resource<"SnapshotSchedule", SnapshotScheduleSpec, SnapshotScheduleStatus>;

export const parseSnapshotSchedule = SnapshotScheduleKind.parse;
