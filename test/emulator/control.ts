// The control API: everything a test or the demo scripts besides ARM traffic — timing, behaviour,
// rate limits, faults, injected LRO outcomes, the request log, and out-of-band world edits (delete
// a snapshot behind the operator's back, stall a copy, fail a copy). In-process as methods; over
// HTTP under /_emulator/ (see `handleControl`) for an emulator running as its own process.

import { renderCluster, renderPool } from "./aks.ts";
import { renderCompute } from "./compute.ts";
import type { Engine } from "./engine.ts";
import { mergeRateLimits } from "./engine.ts";
import type { FaultRule, FaultRuleInput } from "./faults.ts";
import { parseFaultRule } from "./faults.ts";
import { formatResourceId, keyOf, parseResourceId, RESOURCE_KINDS, type ResourceKind } from "./ids.ts";
import { bool, clone, isObject, mergePatch, num, obj, str, toJson, type JsonObject, type JsonValue } from "./json.ts";
import type { RequestFilter, RequestLogEntry } from "./requestlog.ts";
import type { Behaviour, CopyProgressMode, RateLimitSettings, Timing } from "./settings.ts";
import { percentAt, type InjectedOutcome, type OperationKind, type OutcomeRule, type OutcomeRuleInput, type StoredResource } from "./state.ts";
import { demoWorld, emptyWorld, type CopyCompletionError, type WorldFixture } from "./world.ts";

export interface ResourceSummary {
  readonly id: string;
  readonly kind: ResourceKind;
  readonly provisioningState: string | undefined;
}

export interface OperationSummary {
  readonly id: string;
  readonly provider: "ContainerService" | "Compute";
  readonly kind: OperationKind;
  readonly resourceId: string;
  readonly status: "InProgress" | "Succeeded" | "Failed" | "Canceled";
  readonly startTime: string;
  readonly endTime: string;
}

export interface CompletionSetting {
  /** completionPercent to show now (0..100). */
  readonly percent: number;
  /** Hold it there (a stalled copy) instead of continuing to rise. */
  readonly frozen?: boolean;
  /** Time a full 0→100 takes from here on; default the current copy duration. */
  readonly durationMs?: number;
}

export interface EmulatorControl {
  now(): number;
  timing(): Timing;
  setTiming(patch: Partial<Timing>): Timing;
  behaviour(): Behaviour;
  setBehaviour(patch: Partial<Behaviour>): Behaviour;
  rateLimits(): RateLimitSettings;
  /** Replaces the limiter settings and refills every bucket. */
  setRateLimits(patch: Partial<RateLimitSettings>): RateLimitSettings;

  addFault(rule: FaultRuleInput): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): FaultRule[];

  /** Makes the next matching long-running operation(s) end Failed/Canceled, or a copy fail. */
  injectOutcome(rule: OutcomeRuleInput): string;
  outcomes(): OutcomeRule[];
  clearOutcomes(): void;

  requests(filter?: RequestFilter): RequestLogEntry[];
  countRequests(filter?: RequestFilter): number;
  clearRequests(): void;

  /** Back to the starting world (or the given one) and start-up settings; clears log, faults, outcomes, buckets. */
  reset(world?: WorldFixture): void;
  /** Adds a fixture's contents to the current world. */
  loadWorld(world: WorldFixture): void;
  addResourceGroup(subscriptionId: string, name: string, location: string): void;
  /** The resource as a GET would answer now; undefined if absent. */
  getResource(id: string): JsonObject | undefined;
  listResources(kind?: ResourceKind): ResourceSummary[];
  /** Stores a wire body out of band (no LRO); creates the resource group if needed. */
  putResource(id: string, body: JsonObject): JsonObject;
  /** JSON merge patch on the stored body (e.g. flip provisioningState, change nodeImageVersion). */
  patchResource(id: string, patch: JsonObject): JsonObject;
  /** Removes a resource out of band (a cluster takes its pools along); true if it existed. */
  deleteResource(id: string): boolean;
  /** Sets a Compute disk/snapshot's completionPercent (starting a background copy if none). */
  setCompletion(id: string, setting: CompletionSetting): void;
  /** Sets (or with null clears) a Compute snapshot's copyCompletionError; progress stops where it is. */
  setCopyError(id: string, error: CopyCompletionError | null): void;
  /** Ends every in-flight long-running operation now, with its planned outcome. */
  settleOperations(): void;
  /**
   * Puts an agent pool (or cluster) into a provisioningState without an operation, e.g. `Upgrading`
   * or `Scaling` (busy: snapshots of it are refused with 409) and back to `Succeeded`.
   */
  setProvisioningState(id: string, provisioningState: string): JsonObject;
  /** Sets a cluster's (or pool's) powerState.code: `Stopped` refuses snapshots of its pools with 409. */
  setPowerState(id: string, code: "Running" | "Stopped"): JsonObject;
  operations(): OperationSummary[];
}

export class Control implements EmulatorControl {
  readonly #engine: Engine;
  constructor(engine: Engine) {
    this.#engine = engine;
  }
  now(): number {
    return this.#engine.clock.now();
  }
  timing(): Timing {
    return { ...this.#engine.timing };
  }
  setTiming(patch: Partial<Timing>): Timing {
    this.#engine.timing = { ...this.#engine.timing, ...patch };
    return this.timing();
  }
  behaviour(): Behaviour {
    return { ...this.#engine.behaviour };
  }
  setBehaviour(patch: Partial<Behaviour>): Behaviour {
    this.#engine.behaviour = { ...this.#engine.behaviour, ...patch };
    return this.behaviour();
  }
  rateLimits(): RateLimitSettings {
    return this.#engine.limiter.settings;
  }
  setRateLimits(patch: Partial<RateLimitSettings>): RateLimitSettings {
    this.#engine.limiter.configure(mergeRateLimits(this.#engine.limiter.settings, patch));
    return this.rateLimits();
  }
  addFault(rule: FaultRuleInput): string {
    return this.#engine.faults.add(rule);
  }
  removeFault(id: string): boolean {
    return this.#engine.faults.remove(id);
  }
  clearFaults(): void {
    this.#engine.faults.clear();
  }
  faults(): FaultRule[] {
    return this.#engine.faults.list();
  }
  injectOutcome(rule: OutcomeRuleInput): string {
    return this.#engine.state.addOutcomeRule(rule);
  }
  outcomes(): OutcomeRule[] {
    return this.#engine.state.listOutcomeRules();
  }
  clearOutcomes(): void {
    this.#engine.state.clearOutcomeRules();
  }
  requests(filter?: RequestFilter): RequestLogEntry[] {
    return this.#engine.log.query(filter);
  }
  countRequests(filter?: RequestFilter): number {
    return this.#engine.log.count(filter);
  }
  clearRequests(): void {
    this.#engine.log.clear();
  }
  reset(world?: WorldFixture): void {
    this.#engine.reset(world);
  }
  loadWorld(world: WorldFixture): void {
    this.#engine.load(world);
  }
  addResourceGroup(subscriptionId: string, name: string, location: string): void {
    this.#engine.state.addResourceGroup(subscriptionId, name, location);
  }
  #render(res: StoredResource): JsonObject {
    const state = this.#engine.state;
    switch (res.ref.kind) {
      case "managedCluster":
        return renderCluster(state, res);
      case "agentPool":
        return renderPool(res);
      case "aksSnapshot":
        return clone(res.body);
      case "disk":
      case "computeSnapshot":
        return renderCompute(res, this.now());
    }
  }
  #require(id: string): StoredResource {
    this.#engine.state.advance(this.now());
    const res = this.#engine.state.getById(id);
    if (!res) throw new Error(`no resource ${id}`);
    return res;
  }
  getResource(id: string): JsonObject | undefined {
    this.#engine.state.advance(this.now());
    const res = this.#engine.state.getById(id);
    return res ? this.#render(res) : undefined;
  }
  listResources(kind?: ResourceKind): ResourceSummary[] {
    this.#engine.state.advance(this.now());
    return [...this.#engine.state.resources.values()]
      .filter((r) => kind === undefined || r.ref.kind === kind)
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({ id: r.id, kind: r.ref.kind, provisioningState: str(obj(r.body["properties"])?.["provisioningState"]) }));
  }
  putResource(id: string, body: JsonObject): JsonObject {
    const ref = parseResourceId(id);
    if (!ref) throw new Error(`not a resource id the emulator holds: ${id}`);
    const state = this.#engine.state;
    state.addResourceGroup(ref.subscriptionId, ref.resourceGroup, str(body["location"]) ?? "westeurope");
    if (ref.kind === "agentPool" && !state.get({ ...ref, kind: "managedCluster", name: ref.cluster ?? "" })) {
      throw new Error(`agent pool ${id} needs its managed cluster first`);
    }
    const canonical = state.get(ref)?.id ?? formatResourceId(ref);
    const stored = clone(body);
    stored["id"] = canonical;
    stored["name"] = ref.name;
    const props = obj(stored["properties"]) ?? {};
    if (props["provisioningState"] === undefined) props["provisioningState"] = "Succeeded";
    stored["properties"] = props;
    if (ref.kind === "managedCluster") delete props["agentPoolProfiles"];
    const res = state.upsert(ref, canonical, stored);
    res.opId = undefined;
    return this.#render(res);
  }
  patchResource(id: string, patch: JsonObject): JsonObject {
    const res = this.#require(id);
    const next = mergePatch(res.body, patch);
    if (!isObject(next)) throw new Error("patch must leave an object");
    res.body = next;
    return this.#render(res);
  }
  deleteResource(id: string): boolean {
    this.#engine.state.advance(this.now());
    const state = this.#engine.state;
    const res = state.getById(id);
    if (!res) return false;
    if (res.ref.kind === "managedCluster") for (const p of state.poolsOf(res)) state.remove(p.key);
    return state.remove(res.key);
  }
  setCompletion(id: string, setting: CompletionSetting): void {
    const res = this.#require(id);
    if (res.ref.kind !== "disk" && res.ref.kind !== "computeSnapshot") throw new Error(`${id} is not a Compute disk or snapshot`);
    const now = this.now();
    const pct = Math.max(0, Math.min(100, setting.percent));
    const durationMs = setting.durationMs ?? res.progress?.durationMs ?? this.#engine.timing.copyDurationMs;
    const error = res.progress?.error;
    res.progress = setting.frozen
      ? { startedAt: now, durationMs, frozenPercent: pct, ...(error ? { error } : {}) }
      : { startedAt: now - (pct / 100) * durationMs, durationMs, ...(error ? { error } : {}) };
  }
  setCopyError(id: string, error: CopyCompletionError | null): void {
    const res = this.#require(id);
    if (res.ref.kind !== "computeSnapshot") throw new Error(`${id} is not a Compute snapshot (copyCompletionError is a snapshot property)`);
    const now = this.now();
    const current = res.progress ? percentAt(res.progress, now) : 0;
    if (error === null) {
      if (res.progress) {
        const { error: _dropped, ...rest } = res.progress;
        res.progress = rest;
      }
      return;
    }
    // Freeze where it is: a failed copy makes no more progress.
    res.progress = { startedAt: now, durationMs: res.progress?.durationMs ?? this.#engine.timing.copyDurationMs, frozenPercent: current, error: { ...error, atPercent: current } };
  }
  settleOperations(): void {
    this.#engine.state.settleAll();
  }
  setProvisioningState(id: string, provisioningState: string): JsonObject {
    const res = this.#require(id);
    if (res.ref.kind !== "agentPool" && res.ref.kind !== "managedCluster") throw new Error(`${id} is not an agent pool or managed cluster`);
    const props = obj(res.body["properties"]) ?? {};
    props["provisioningState"] = provisioningState;
    res.body["properties"] = props;
    return this.#render(res);
  }
  setPowerState(id: string, code: "Running" | "Stopped"): JsonObject {
    const res = this.#require(id);
    if (res.ref.kind !== "agentPool" && res.ref.kind !== "managedCluster") throw new Error(`${id} is not an agent pool or managed cluster`);
    const props = obj(res.body["properties"]) ?? {};
    props["powerState"] = { code };
    res.body["properties"] = props;
    return this.#render(res);
  }
  operations(): OperationSummary[] {
    this.#engine.state.advance(this.now());
    return [...this.#engine.state.operations.values()].map((op) => ({
      id: op.id,
      provider: op.provider,
      kind: op.kind,
      resourceId: op.primaryId,
      status: !op.settled ? "InProgress" : op.outcome.type === "succeeded" ? "Succeeded" : op.outcome.type === "failed" ? "Failed" : "Canceled",
      startTime: new Date(op.startedAt).toISOString(),
      endTime: new Date(op.endsAt).toISOString(),
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// Over HTTP
// ---------------------------------------------------------------------------------------------

export interface ControlAnswer {
  readonly status: number;
  readonly body?: JsonValue;
}

export const CONTROL_PREFIX = "/_emulator";

class BadInput extends Error {}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new BadInput(`missing or invalid ${what}`);
  return v;
}

function filterFrom(q: URLSearchParams): RequestFilter {
  const status = q.get("status");
  return {
    ...(q.get("method") !== null ? { method: q.get("method") ?? "" } : {}),
    ...(q.get("route") !== null ? { route: q.get("route") ?? "" } : {}),
    ...(q.get("path") !== null ? { path: q.get("path") ?? "" } : {}),
    ...(status !== null ? { status: Number(status) } : {}),
  };
}

function parseTiming(v: unknown): Partial<Timing> {
  if (!isObject(v)) throw new BadInput("timing must be an object");
  const out: Record<string, number> = {};
  for (const k of ["agentPoolOperationMs", "clusterOperationMs", "computeOperationMs", "copyDurationMs", "hydrationDurationMs"] as const) {
    if (v[k] !== undefined) out[k] = need(num(v[k]), k);
  }
  return out;
}

function parseBehaviour(v: unknown): Partial<Behaviour> {
  if (!isObject(v)) throw new BadInput("behaviour must be an object");
  const out: { -readonly [K in keyof Behaviour]?: Behaviour[K] } = {};
  if (v["pageSize"] !== undefined) out.pageSize = need(num(v["pageSize"]), "pageSize");
  if (v["conflictBody"] !== undefined) {
    const c = str(v["conflictBody"]);
    if (c !== "wrapped" && c !== "unwrapped") throw new BadInput("conflictBody must be wrapped or unwrapped");
    out.conflictBody = c;
  }
  if ("lroRetryAfterSeconds" in v) out.lroRetryAfterSeconds = v["lroRetryAfterSeconds"] === null ? undefined : need(num(v["lroRetryAfterSeconds"]), "lroRetryAfterSeconds");
  if (v["copyProgress"] !== undefined) {
    const c = str(v["copyProgress"]);
    const modes: readonly CopyProgressMode[] = ["slowSources", "allIncremental", "never"];
    const m = modes.find((x) => x === c);
    if (m === undefined) throw new BadInput("copyProgress must be slowSources, allIncremental or never");
    out.copyProgress = m;
  }
  if (v["autoCreateResourceGroups"] !== undefined) out.autoCreateResourceGroups = need(bool(v["autoCreateResourceGroups"]), "autoCreateResourceGroups");
  if (v["requireBearerToken"] !== undefined) out.requireBearerToken = need(bool(v["requireBearerToken"]), "requireBearerToken");
  return out;
}

function parseBucket(v: unknown, what: string): { capacity?: number; refillPerSecond?: number } | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new BadInput(`${what} must be an object`);
  return {
    ...(v["capacity"] !== undefined ? { capacity: need(num(v["capacity"]), `${what}.capacity`) } : {}),
    ...(v["refillPerSecond"] !== undefined ? { refillPerSecond: need(num(v["refillPerSecond"]), `${what}.refillPerSecond`) } : {}),
  };
}

function parseRateLimits(v: unknown, current: RateLimitSettings): Partial<RateLimitSettings> {
  if (!isObject(v)) throw new BadInput("rate limits must be an object");
  const out: { -readonly [K in keyof RateLimitSettings]?: RateLimitSettings[K] } = {};
  if (v["enabled"] !== undefined) out.enabled = need(bool(v["enabled"]), "enabled");
  for (const k of ["reads", "writes", "deletes"] as const) {
    const b = parseBucket(v[k], k);
    if (b) out[k] = { ...current[k], ...b };
  }
  return out;
}

function parseOutcomeRule(v: unknown): OutcomeRuleInput {
  if (!isObject(v)) throw new BadInput("outcome rule must be an object");
  const o = obj(v["outcome"]);
  if (!o) throw new BadInput("outcome rule needs `outcome`");
  let outcome: InjectedOutcome;
  switch (str(o["type"])) {
    case "failed":
      outcome = { type: "failed", code: need(str(o["code"]), "outcome.code"), message: need(str(o["message"]), "outcome.message") };
      break;
    case "canceled":
      outcome = { type: "canceled" };
      break;
    case "copyError": {
      const at = num(o["atPercent"]);
      outcome = {
        type: "copyError",
        errorCode: need(str(o["errorCode"]), "outcome.errorCode"),
        errorMessage: need(str(o["errorMessage"]), "outcome.errorMessage"),
        ...(at !== undefined ? { atPercent: at } : {}),
      };
      break;
    }
    default:
      throw new BadInput("outcome.type must be failed, canceled or copyError");
  }
  const kind = str(v["kind"]);
  if (kind !== undefined && !RESOURCE_KINDS.some((k) => k === kind)) throw new BadInput(`kind must be one of ${RESOURCE_KINDS.join(", ")}`);
  const operation = str(v["operation"]);
  const ops: readonly OperationKind[] = ["create", "update", "delete", "upgradeNodeImageVersion"];
  const op = ops.find((x) => x === operation);
  if (operation !== undefined && op === undefined) throw new BadInput(`operation must be one of ${ops.join(", ")}`);
  const idPattern = str(v["idPattern"]);
  const times = num(v["times"]);
  const kindTyped = RESOURCE_KINDS.find((k) => k === kind);
  return {
    outcome,
    ...(kindTyped !== undefined ? { kind: kindTyped } : {}),
    ...(op !== undefined ? { operation: op } : {}),
    ...(idPattern !== undefined ? { idPattern } : {}),
    ...(times !== undefined ? { times } : {}),
  };
}

function strRecord(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new BadInput(`${what} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = need(str(x), `${what}.${k}`);
  return out;
}

function arr(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new BadInput(`${what} must be an array`);
  return v;
}

function o(v: unknown, what: string): JsonObject {
  if (!isObject(v)) throw new BadInput(`${what} must be an object`);
  return v;
}

/** Validates a world fixture arriving as JSON (the demo and out-of-process tests send these). */
export function parseWorld(v: unknown): WorldFixture {
  if (v === "demo") return demoWorld();
  if (v === "empty") return emptyWorld();
  const w = o(v, "world");
  const latest = strRecord(w["latestNodeImageVersions"], "latestNodeImageVersions");
  return {
    ...(latest !== undefined ? { latestNodeImageVersions: latest } : {}),
    subscriptions: arr(w["subscriptions"], "subscriptions").map((s0, i) => {
      const s = o(s0, `subscriptions[${i}]`);
      return {
        subscriptionId: need(str(s["subscriptionId"]), `subscriptions[${i}].subscriptionId`),
        resourceGroups: arr(s["resourceGroups"], "resourceGroups").map((g0, j) => {
          const g = o(g0, `resourceGroups[${j}]`);
          const at = `subscriptions[${i}].resourceGroups[${j}]`;
          return {
            name: need(str(g["name"]), `${at}.name`),
            location: need(str(g["location"]), `${at}.location`),
            managedClusters: arr(g["managedClusters"], `${at}.managedClusters`).map((c0, k) => {
              const c = o(c0, `${at}.managedClusters[${k}]`);
              const ct = `${at}.managedClusters[${k}]`;
              const tags = strRecord(c["tags"], `${ct}.tags`);
              const dnsPrefix = str(c["dnsPrefix"]);
              return {
                name: need(str(c["name"]), `${ct}.name`),
                location: need(str(c["location"]), `${ct}.location`),
                kubernetesVersion: need(str(c["kubernetesVersion"]), `${ct}.kubernetesVersion`),
                ...(dnsPrefix !== undefined ? { dnsPrefix } : {}),
                ...(tags !== undefined ? { tags } : {}),
                agentPools: arr(c["agentPools"], `${ct}.agentPools`).map((p0, l) => {
                  const p = o(p0, `${ct}.agentPools[${l}]`);
                  const pt = `${ct}.agentPools[${l}]`;
                  const mode = str(p["mode"]);
                  if (mode !== "System" && mode !== "User") throw new BadInput(`${pt}.mode must be System or User`);
                  const osType = str(p["osType"]);
                  if (osType !== undefined && osType !== "Linux" && osType !== "Windows") throw new BadInput(`${pt}.osType must be Linux or Windows`);
                  const labels = strRecord(p["nodeLabels"], `${pt}.nodeLabels`);
                  const zones = p["availabilityZones"] !== undefined ? arr(p["availabilityZones"], `${pt}.availabilityZones`).map((z) => need(str(z), `${pt}.availabilityZones[]`)) : undefined;
                  const orchestratorVersion = str(p["orchestratorVersion"]);
                  const osSKU = str(p["osSKU"]);
                  const enableFIPS = bool(p["enableFIPS"]);
                  const maxPods = num(p["maxPods"]);
                  return {
                    name: need(str(p["name"]), `${pt}.name`),
                    vmSize: need(str(p["vmSize"]), `${pt}.vmSize`),
                    count: need(num(p["count"]), `${pt}.count`),
                    mode,
                    nodeImageVersion: need(str(p["nodeImageVersion"]), `${pt}.nodeImageVersion`),
                    ...(orchestratorVersion !== undefined ? { orchestratorVersion } : {}),
                    ...(osType !== undefined ? { osType } : {}),
                    ...(osSKU !== undefined ? { osSKU } : {}),
                    ...(enableFIPS !== undefined ? { enableFIPS } : {}),
                    ...(maxPods !== undefined ? { maxPods } : {}),
                    ...(zones !== undefined ? { availabilityZones: zones } : {}),
                    ...(labels !== undefined ? { nodeLabels: labels } : {}),
                  };
                }),
              };
            }),
            disks: arr(g["disks"], `${at}.disks`).map((d0, k) => {
              const d = o(d0, `${at}.disks[${k}]`);
              const dt = `${at}.disks[${k}]`;
              const sku = str(d["sku"]);
              const skus = ["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS", "PremiumV2_LRS"] as const;
              const skuTyped = skus.find((x) => x === sku);
              if (skuTyped === undefined) throw new BadInput(`${dt}.sku must be one of ${skus.join(", ")}`);
              const tags = strRecord(d["tags"], `${dt}.tags`);
              const zones = d["zones"] !== undefined ? arr(d["zones"], `${dt}.zones`).map((z) => need(str(z), `${dt}.zones[]`)) : undefined;
              return {
                name: need(str(d["name"]), `${dt}.name`),
                location: need(str(d["location"]), `${dt}.location`),
                diskSizeGB: need(num(d["diskSizeGB"]), `${dt}.diskSizeGB`),
                sku: skuTyped,
                ...(tags !== undefined ? { tags } : {}),
                ...(zones !== undefined ? { zones } : {}),
              };
            }),
            computeSnapshots: arr(g["computeSnapshots"], `${at}.computeSnapshots`).map((s1, k) => {
              const x = o(s1, `${at}.computeSnapshots[${k}]`);
              const xt = `${at}.computeSnapshots[${k}]`;
              const tags = strRecord(x["tags"], `${xt}.tags`);
              const err = x["copyCompletionError"] !== undefined ? o(x["copyCompletionError"], `${xt}.copyCompletionError`) : undefined;
              const incremental = bool(x["incremental"]);
              const pct = num(x["completionPercent"]);
              const size = num(x["diskSizeGB"]);
              const created = str(x["timeCreated"]);
              return {
                name: need(str(x["name"]), `${xt}.name`),
                location: need(str(x["location"]), `${xt}.location`),
                sourceDiskId: need(str(x["sourceDiskId"]), `${xt}.sourceDiskId`),
                ...(incremental !== undefined ? { incremental } : {}),
                ...(pct !== undefined ? { completionPercent: pct } : {}),
                ...(size !== undefined ? { diskSizeGB: size } : {}),
                ...(created !== undefined ? { timeCreated: created } : {}),
                ...(tags !== undefined ? { tags } : {}),
                ...(err !== undefined
                  ? { copyCompletionError: { errorCode: need(str(err["errorCode"]), `${xt}.copyCompletionError.errorCode`), errorMessage: need(str(err["errorMessage"]), `${xt}.copyCompletionError.errorMessage`) } }
                  : {}),
              };
            }),
            aksSnapshots: arr(g["aksSnapshots"], `${at}.aksSnapshots`).map((a0, k) => {
              const a = o(a0, `${at}.aksSnapshots[${k}]`);
              const xt = `${at}.aksSnapshots[${k}]`;
              const tags = strRecord(a["tags"], `${xt}.tags`);
              const osType = str(a["osType"]);
              if (osType !== undefined && osType !== "Linux" && osType !== "Windows") throw new BadInput(`${xt}.osType must be Linux or Windows`);
              const osSku = str(a["osSku"]);
              const fips = bool(a["enableFIPS"]);
              const created = str(a["createdAt"]);
              return {
                name: need(str(a["name"]), `${xt}.name`),
                location: need(str(a["location"]), `${xt}.location`),
                sourceAgentPoolId: need(str(a["sourceAgentPoolId"]), `${xt}.sourceAgentPoolId`),
                kubernetesVersion: need(str(a["kubernetesVersion"]), `${xt}.kubernetesVersion`),
                nodeImageVersion: need(str(a["nodeImageVersion"]), `${xt}.nodeImageVersion`),
                vmSize: need(str(a["vmSize"]), `${xt}.vmSize`),
                ...(osType !== undefined ? { osType } : {}),
                ...(osSku !== undefined ? { osSku } : {}),
                ...(fips !== undefined ? { enableFIPS: fips } : {}),
                ...(created !== undefined ? { createdAt: created } : {}),
                ...(tags !== undefined ? { tags } : {}),
              };
            }),
          };
        }),
      };
    }),
  };
}

/**
 * Serves /_emulator/… . `rest` is the path after the prefix, still percent-encoded, so ARM ids can
 * be appended verbatim: PUT /_emulator/resources/subscriptions/…/snapshots/x.
 */
export function handleControl(control: EmulatorControl, method: string, rest: string, query: URLSearchParams, body: unknown, url: string): ControlAnswer {
  try {
    return route(control, method.toUpperCase(), rest, query, body, url);
  } catch (e) {
    if (e instanceof BadInput) return { status: 400, body: { error: { code: "BadControlRequest", message: e.message } } };
    if (e instanceof Error) return { status: 400, body: { error: { code: "ControlRequestFailed", message: e.message } } };
    throw e;
  }
}

function idFrom(rest: string, prefix: string): string {
  return "/" + rest.slice(prefix.length).split("/").filter((s) => s !== "").map(decodeURIComponent).join("/");
}

function route(c: EmulatorControl, method: string, rest: string, q: URLSearchParams, body: unknown, url: string): ControlAnswer {
  const ok = (b: unknown = { ok: true }): ControlAnswer => ({ status: 200, body: toJson(b) });
  const path = rest.replace(/\/+$/, "");
  const lower = path.toLowerCase();
  if (lower === "/health" && method === "GET") return ok({ ok: true, url, now: new Date(c.now()).toISOString() });
  if (lower === "/requests" && method === "GET") return ok(c.requests(filterFrom(q)));
  if (lower === "/requests/count" && method === "GET") return ok({ count: c.countRequests(filterFrom(q)) });
  if (lower === "/requests" && method === "DELETE") {
    c.clearRequests();
    return ok();
  }
  if (lower === "/faults" && method === "GET") return ok(c.faults());
  if (lower === "/faults" && method === "POST") return ok({ id: c.addFault(parseFaultRule(body)) });
  if (lower === "/faults" && method === "DELETE") {
    c.clearFaults();
    return ok();
  }
  if (lower.startsWith("/faults/") && method === "DELETE") return ok({ removed: c.removeFault(decodeURIComponent(path.slice("/faults/".length))) });
  if (lower === "/outcomes" && method === "GET") return ok(c.outcomes());
  if (lower === "/outcomes" && method === "POST") return ok({ id: c.injectOutcome(parseOutcomeRule(body)) });
  if (lower === "/outcomes" && method === "DELETE") {
    c.clearOutcomes();
    return ok();
  }
  if (lower === "/timing" && method === "GET") return ok(c.timing());
  if (lower === "/timing" && method === "PUT") return ok(c.setTiming(parseTiming(body)));
  if (lower === "/behaviour" && method === "GET") return ok(c.behaviour());
  if (lower === "/behaviour" && method === "PUT") return ok(c.setBehaviour(parseBehaviour(body)));
  if (lower === "/rate-limits" && method === "GET") return ok(c.rateLimits());
  if (lower === "/rate-limits" && method === "PUT") return ok(c.setRateLimits(parseRateLimits(body, c.rateLimits())));
  if (lower === "/reset" && method === "POST") {
    const w = isObject(body) && body["world"] !== undefined ? parseWorld(body["world"]) : undefined;
    c.reset(w);
    return ok();
  }
  if (lower === "/world" && method === "POST") {
    c.loadWorld(parseWorld(body));
    return ok();
  }
  if (lower === "/resource-groups" && method === "POST") {
    const b = o(body, "body");
    c.addResourceGroup(need(str(b["subscriptionId"]), "subscriptionId"), need(str(b["name"]), "name"), need(str(b["location"]), "location"));
    return ok();
  }
  if (lower === "/settle" && method === "POST") {
    c.settleOperations();
    return ok();
  }
  if (lower === "/operations" && method === "GET") return ok(c.operations());
  if (lower === "/resources" && method === "GET") {
    const kind = q.get("kind");
    const k = RESOURCE_KINDS.find((x) => x === kind);
    if (kind !== null && k === undefined) throw new BadInput(`kind must be one of ${RESOURCE_KINDS.join(", ")}`);
    return ok(c.listResources(k));
  }
  if (lower.startsWith("/resources/")) {
    const id = idFrom(path, "/resources");
    switch (method) {
      case "GET": {
        const r = c.getResource(id);
        return r ? ok(r) : { status: 404, body: { error: { code: "ResourceNotFound", message: `no resource ${id}` } } };
      }
      case "PUT":
        return ok(c.putResource(id, o(body, "body")));
      case "PATCH":
        return ok(c.patchResource(id, o(body, "body")));
      case "DELETE":
        return ok({ deleted: c.deleteResource(id) });
      default:
        break;
    }
  }
  if (lower.startsWith("/provisioning-state/") && method === "PUT") {
    const b = o(body, "body");
    return ok(c.setProvisioningState(idFrom(path, "/provisioning-state"), need(str(b["provisioningState"]), "provisioningState")));
  }
  if (lower.startsWith("/power-state/") && method === "PUT") {
    const code = str(o(body, "body")["code"]);
    if (code !== "Running" && code !== "Stopped") throw new BadInput("code must be Running or Stopped");
    return ok(c.setPowerState(idFrom(path, "/power-state"), code));
  }
  if (lower.startsWith("/completion/") && method === "PUT") {
    const b = o(body, "body");
    const frozen = bool(b["frozen"]);
    const durationMs = num(b["durationMs"]);
    c.setCompletion(idFrom(path, "/completion"), {
      percent: need(num(b["percent"]), "percent"),
      ...(frozen !== undefined ? { frozen } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
    });
    return ok();
  }
  if (lower.startsWith("/copy-error/")) {
    const id = idFrom(path, "/copy-error");
    if (method === "DELETE") {
      c.setCopyError(id, null);
      return ok();
    }
    if (method === "PUT") {
      const b = o(body, "body");
      c.setCopyError(id, { errorCode: need(str(b["errorCode"]), "errorCode"), errorMessage: need(str(b["errorMessage"]), "errorMessage") });
      return ok();
    }
  }
  return { status: 404, body: { error: { code: "NotFound", message: `no control route ${method} ${CONTROL_PREFIX}${path}` } } };
}

/** Keys for tests that want to compare ids the way ARM does. */
export function sameResource(a: string, b: string): boolean {
  const x = parseResourceId(a);
  const y = parseResourceId(b);
  return x !== undefined && y !== undefined && keyOf(x) === keyOf(y);
}
