// Public surface of the ARM emulator for tests, the demo and the src/azure contract tests.

export { startEmulator, makeSelfSignedCert } from "./server.ts";
export type { EmulatorOptions, RunningEmulator, TlsMaterial } from "./server.ts";
export { CONTROL_PREFIX, parseWorld, sameResource } from "./control.ts";
export type { EmulatorControl, CompletionSetting, ResourceSummary, OperationSummary } from "./control.ts";
export { ManualClock, systemClock } from "./clock.ts";
export type { Clock } from "./clock.ts";
export { DEFAULT_BEHAVIOUR, DEFAULT_RATE_LIMITS, DEFAULT_TIMING } from "./settings.ts";
export type { Behaviour, BucketSettings, CopyProgressMode, RateLimitSettings, Timing } from "./settings.ts";
export type { FaultAction, FaultRule, FaultRuleInput } from "./faults.ts";
export type { RequestFilter, RequestLogEntry } from "./requestlog.ts";
export type { InjectedOutcome, OperationKind, OutcomeRule, OutcomeRuleInput } from "./state.ts";
export { formatResourceId, parseResourceId, normLocation } from "./ids.ts";
export type { ResourceKind, ResourceRef } from "./ids.ts";
export {
  demoWorld,
  emptyWorld,
  DEFAULT_LATEST_NODE_IMAGES,
  DEMO_CLUSTER,
  DEMO_DR_CLUSTER,
  DEMO_DR_RESOURCE_GROUP,
  DEMO_NODE_RESOURCE_GROUP,
  DEMO_RESOURCE_GROUP,
  DEMO_SNAPSHOT_RESOURCE_GROUP,
  DEMO_SUBSCRIPTION_ID,
} from "./world.ts";
export type {
  AgentPoolFixture,
  AgentPoolMode,
  AksSnapshotFixture,
  ComputeSnapshotFixture,
  CopyCompletionError,
  DiskFixture,
  DiskSkuName,
  ManagedClusterFixture,
  OsType,
  ResourceGroupFixture,
  SubscriptionFixture,
  WorldFixture,
} from "./world.ts";
export type { JsonObject, JsonValue } from "./json.ts";
