// The emulator's memory: subscriptions, resource groups, resources (ARM wire bodies plus the
// bookkeeping ARM hides: in-flight operation, background copy) and long-running operations.
// No timers: operations carry their end time and `advance(now)` settles whatever has ended, so
// behaviour is a pure function of the requests and the clock.

import { randomUUID } from "node:crypto";
import { errorToJson, resourceGroupNotFound, subscriptionNotFound, type ArmErrorDetail } from "./errors.ts";
import { keyOf, parseResourceId, rgKey, type ResourceKind, type ResourceRef } from "./ids.ts";
import { isObject, obj, type JsonObject } from "./json.ts";
import type { CopyCompletionError } from "./world.ts";

export interface CopyProgress {
  /** When completionPercent starts rising (provisioning has succeeded by then). */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Set by the control API: progress held at this value. */
  readonly frozenPercent?: number;
  /** An injected copy failure that stops progress at `atPercent`. */
  readonly error?: CopyCompletionError & { readonly atPercent: number };
}

export interface StoredResource {
  readonly ref: ResourceRef;
  /** Canonical id, in the casing of the request that created it. */
  readonly id: string;
  readonly key: string;
  /** Wire body without the fields computed at read time (completionPercent, agentPoolProfiles, …). */
  body: JsonObject;
  /** Creation order, for stable listing. */
  readonly seq: number;
  opId: string | undefined;
  progress: CopyProgress | undefined;
}

export type OperationKind = "create" | "update" | "delete" | "upgradeNodeImageVersion";

export type OperationEffect =
  | { readonly type: "provision" }
  | { readonly type: "delete" }
  | { readonly type: "nodeImage"; readonly nodeImageVersion: string };

export type OperationOutcome =
  | { readonly type: "succeeded" }
  | { readonly type: "failed"; readonly error: ArmErrorDetail }
  | { readonly type: "canceled" };

export interface OperationRecord {
  readonly id: string;
  readonly provider: "ContainerService" | "Compute";
  readonly kind: OperationKind;
  readonly subscriptionId: string;
  readonly location: string;
  /** The primary resource first; a cluster operation also lists its agent pools. */
  readonly resourceKeys: readonly string[];
  readonly primaryId: string;
  readonly startedAt: number;
  readonly endsAt: number;
  readonly effect: OperationEffect;
  readonly outcome: OperationOutcome;
  settled: boolean;
}

export type InjectedOutcome =
  | { readonly type: "failed"; readonly code: string; readonly message: string }
  | { readonly type: "canceled" }
  /** Compute snapshot/disk creates only: provisioning succeeds, the background copy stops with copyCompletionError. */
  | { readonly type: "copyError"; readonly errorCode: string; readonly errorMessage: string; readonly atPercent?: number };

export interface OutcomeRuleInput {
  readonly kind?: ResourceKind;
  /** Regular expression source tested case-insensitively against the resource id. */
  readonly idPattern?: string;
  readonly operation?: OperationKind;
  /** How many operations it applies to; default 1. */
  readonly times?: number;
  readonly outcome: InjectedOutcome;
}

export interface OutcomeRule extends OutcomeRuleInput {
  readonly id: string;
  readonly used: number;
}

interface ResourceGroupRecord {
  readonly subscriptionId: string;
  readonly name: string;
  readonly location: string;
}

export class ArmState {
  readonly subscriptions = new Map<string, string>();
  readonly resourceGroups = new Map<string, ResourceGroupRecord>();
  readonly resources = new Map<string, StoredResource>();
  readonly operations = new Map<string, OperationRecord>();
  latestNodeImages: Record<string, string> = {};
  #outcomeRules: { input: OutcomeRuleInput; id: string; used: number }[] = [];
  #seq = 0;
  #ruleSeq = 0;

  // ---- subscriptions and resource groups ----

  addSubscription(subscriptionId: string): void {
    const k = subscriptionId.toLowerCase();
    if (!this.subscriptions.has(k)) this.subscriptions.set(k, subscriptionId);
  }

  addResourceGroup(subscriptionId: string, name: string, location: string): void {
    this.addSubscription(subscriptionId);
    const k = rgKey(subscriptionId, name);
    if (!this.resourceGroups.has(k)) this.resourceGroups.set(k, { subscriptionId, name, location });
  }

  /** Throws ARM's 404 when the subscription or resource group is unknown (unless auto-creating). */
  requireResourceGroup(subscriptionId: string, resourceGroup: string, autoCreate: boolean, location = "westeurope"): ResourceGroupRecord {
    const rg = this.resourceGroups.get(rgKey(subscriptionId, resourceGroup));
    if (rg) return rg;
    if (autoCreate) {
      this.addResourceGroup(subscriptionId, resourceGroup, location);
      const created = this.resourceGroups.get(rgKey(subscriptionId, resourceGroup));
      if (created) return created;
    }
    if (!this.subscriptions.has(subscriptionId.toLowerCase())) throw subscriptionNotFound(subscriptionId);
    throw resourceGroupNotFound(resourceGroup);
  }

  requireSubscription(subscriptionId: string, autoCreate: boolean): void {
    if (this.subscriptions.has(subscriptionId.toLowerCase())) return;
    if (autoCreate) {
      this.addSubscription(subscriptionId);
      return;
    }
    throw subscriptionNotFound(subscriptionId);
  }

  // ---- resources ----

  get(ref: ResourceRef): StoredResource | undefined {
    return this.resources.get(keyOf(ref));
  }

  getById(id: string): StoredResource | undefined {
    const ref = parseResourceId(id);
    return ref ? this.get(ref) : undefined;
  }

  /** Stores a new resource or replaces the body of an existing one (keeping its id casing and order). */
  upsert(ref: ResourceRef, id: string, body: JsonObject): StoredResource {
    const key = keyOf(ref);
    const existing = this.resources.get(key);
    if (existing) {
      existing.body = body;
      return existing;
    }
    const res: StoredResource = { ref, id, key, body, seq: ++this.#seq, opId: undefined, progress: undefined };
    this.resources.set(key, res);
    return res;
  }

  remove(key: string): boolean {
    return this.resources.delete(key);
  }

  list(kind: ResourceKind, subscriptionId: string, resourceGroup?: string, cluster?: string): StoredResource[] {
    const sub = subscriptionId.toLowerCase();
    const rg = resourceGroup?.toLowerCase();
    const cl = cluster?.toLowerCase();
    return [...this.resources.values()]
      .filter(
        (r) =>
          r.ref.kind === kind &&
          r.ref.subscriptionId.toLowerCase() === sub &&
          (rg === undefined || r.ref.resourceGroup.toLowerCase() === rg) &&
          (cl === undefined || r.ref.cluster?.toLowerCase() === cl),
      )
      .sort((a, b) => a.seq - b.seq);
  }

  poolsOf(cluster: StoredResource): StoredResource[] {
    return this.list("agentPool", cluster.ref.subscriptionId, cluster.ref.resourceGroup, cluster.ref.name);
  }

  // ---- operations ----

  /** The unsettled operation a resource is part of, if any (call after `advance`). */
  activeOperation(res: StoredResource): OperationRecord | undefined {
    if (res.opId === undefined) return undefined;
    const op = this.operations.get(res.opId);
    return op && !op.settled ? op : undefined;
  }

  startOperation(input: Omit<OperationRecord, "id" | "settled" | "resourceKeys"> & { resources: readonly StoredResource[] }): OperationRecord {
    const { resources, ...rest } = input;
    const op: OperationRecord = { ...rest, id: randomUUID(), resourceKeys: resources.map((r) => r.key), settled: false };
    this.operations.set(op.id.toLowerCase(), op);
    for (const r of resources) r.opId = op.id;
    return op;
  }

  getOperation(id: string): OperationRecord | undefined {
    return this.operations.get(id.toLowerCase());
  }

  /** Settles, in end-time order, every operation that has ended by `now`. */
  advance(now: number): void {
    const due = [...this.operations.values()].filter((op) => !op.settled && op.endsAt <= now).sort((a, b) => a.endsAt - b.endsAt);
    for (const op of due) this.#settle(op);
  }

  /** Ends every in-flight operation now (control API: "finish everything"). */
  settleAll(): void {
    for (const op of [...this.operations.values()].filter((o) => !o.settled)) this.#settle(op);
  }

  #settle(op: OperationRecord): void {
    op.settled = true;
    for (const key of op.resourceKeys) {
      const res = this.resources.get(key);
      if (!res || res.opId !== op.id) continue;
      res.opId = undefined;
      const props = obj(res.body["properties"]) ?? {};
      res.body["properties"] = props;
      switch (op.outcome.type) {
        case "succeeded":
          if (op.effect.type === "delete") {
            this.resources.delete(key);
            continue;
          }
          props["provisioningState"] = "Succeeded";
          if (op.effect.type === "nodeImage") props["nodeImageVersion"] = op.effect.nodeImageVersion;
          if (res.ref.kind === "agentPool") {
            if (typeof props["orchestratorVersion"] === "string") props["currentOrchestratorVersion"] = props["orchestratorVersion"];
            const status = obj(props["status"]);
            if (status) delete status["provisioningError"];
          }
          if (res.ref.kind === "managedCluster" && typeof props["kubernetesVersion"] === "string") {
            props["currentKubernetesVersion"] = props["kubernetesVersion"];
          }
          break;
        case "failed":
          props["provisioningState"] = "Failed";
          if (res.ref.kind === "agentPool" || res.ref.kind === "managedCluster") {
            const status = isObject(props["status"]) ? props["status"] : {};
            status["provisioningError"] = errorToJson(op.outcome.error);
            props["status"] = status;
          }
          break;
        case "canceled":
          props["provisioningState"] = "Canceled";
          break;
      }
    }
  }

  // ---- injected outcomes ----

  addOutcomeRule(input: OutcomeRuleInput): string {
    const id = `outcome-${++this.#ruleSeq}`;
    if (input.idPattern !== undefined) new RegExp(input.idPattern, "i");
    this.#outcomeRules.push({ input, id, used: 0 });
    return id;
  }

  listOutcomeRules(): OutcomeRule[] {
    return this.#outcomeRules.map((r) => ({ ...r.input, id: r.id, used: r.used }));
  }

  clearOutcomeRules(): void {
    this.#outcomeRules = [];
  }

  /** Consumes the first rule matching an operation about to start. */
  takeOutcome(kind: ResourceKind, id: string, operation: OperationKind, accept: (o: InjectedOutcome) => boolean = () => true): InjectedOutcome | undefined {
    for (const rule of this.#outcomeRules) {
      const { input } = rule;
      if (rule.used >= (input.times ?? 1)) continue;
      if (input.kind !== undefined && input.kind !== kind) continue;
      if (input.operation !== undefined && input.operation !== operation) continue;
      if (input.idPattern !== undefined && !new RegExp(input.idPattern, "i").test(id)) continue;
      if (!accept(input.outcome)) continue;
      rule.used += 1;
      return input.outcome;
    }
    return undefined;
  }

  clear(): void {
    this.subscriptions.clear();
    this.resourceGroups.clear();
    this.resources.clear();
    this.operations.clear();
    this.#outcomeRules = [];
  }
}

/** Maps an injected outcome to an operation outcome (copy errors do not fail the operation). */
export function operationOutcome(injected: InjectedOutcome | undefined): OperationOutcome {
  if (!injected) return { type: "succeeded" };
  switch (injected.type) {
    case "failed":
      return { type: "failed", error: { code: injected.code, message: injected.message } };
    case "canceled":
      return { type: "canceled" };
    case "copyError":
      return { type: "succeeded" };
  }
}

/** Progress ignoring any error: the held value, or elapsed time over duration. */
function rawPercent(p: CopyProgress, now: number): number {
  if (p.frozenPercent !== undefined) return p.frozenPercent;
  return p.durationMs <= 0 ? 100 : Math.max(0, Math.min(100, Math.floor(((now - p.startedAt) / p.durationMs) * 100)));
}

export function percentAt(p: CopyProgress, now: number): number {
  const raw = rawPercent(p, now);
  return p.error ? Math.min(raw, p.error.atPercent) : raw;
}

/** The copy error once progress has reached the point where the injected failure happens. */
export function copyErrorAt(p: CopyProgress, now: number): CopyCompletionError | undefined {
  if (!p.error) return undefined;
  return rawPercent(p, now) >= p.error.atPercent ? { errorCode: p.error.errorCode, errorMessage: p.error.errorMessage } : undefined;
}
