// Long-running operations without waiting. `startLro` sends the initial request, and if ARM is
// still working returns a resume token (the SDK poller's serialized state in an envelope naming the
// resource). `checkLro` rebuilds a poller from that token — in a later reconcile, or another process
// — polls exactly once, and reports. No poller is ever awaited (awaiting one polls until done).

import { armErrorFromDetail, isRecord, parseErrorBody, SYNTHETIC_CODES, toArmError, type ArmError } from "./errors.ts";
import type { SubscriptionClients } from "./clients.ts";
import type { LroCheck, LroStart } from "./result.ts";

export type LroTarget = "agentPool" | "managedCluster" | "computeSnapshot" | "disk";
export type LroAction = "createOrUpdate" | "delete" | "upgradeNodeImage";

/** Decoded resume token. Opaque to controllers: they store and hand back the string. */
export interface ResumeToken {
  readonly v: 1;
  readonly target: LroTarget;
  readonly action: LroAction;
  readonly subscriptionId: string;
  readonly resourceId: string;
  /** The SDK poller's `serialize()` output. */
  readonly sdk: string;
}

const TARGETS: readonly LroTarget[] = ["agentPool", "managedCluster", "computeSnapshot", "disk"];
const ACTIONS: readonly LroAction[] = ["createOrUpdate", "delete", "upgradeNodeImage"];

export function encodeResumeToken(t: ResumeToken): string {
  return Buffer.from(JSON.stringify(t), "utf8").toString("base64url");
}

/** Throws on a token this layer did not make: that is a programmer error, not an ARM failure. */
export function decodeResumeToken(token: string): ResumeToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new Error("malformed ARM resume token");
  }
  if (
    !isRecord(parsed) ||
    parsed["v"] !== 1 ||
    !TARGETS.includes(parsed["target"] as LroTarget) ||
    !ACTIONS.includes(parsed["action"] as LroAction) ||
    typeof parsed["subscriptionId"] !== "string" ||
    typeof parsed["resourceId"] !== "string" ||
    typeof parsed["sdk"] !== "string"
  ) {
    throw new Error("malformed ARM resume token");
  }
  return {
    v: 1,
    target: parsed["target"] as LroTarget,
    action: parsed["action"] as LroAction,
    subscriptionId: parsed["subscriptionId"],
    resourceId: parsed["resourceId"],
    sdk: parsed["sdk"],
  };
}

/** The part of the SDK's PollerLike we use; kept structural so no core-lro type leaks in. */
export interface SdkPoller<R> {
  submitted(): Promise<void>;
  poll(options?: { abortSignal?: AbortSignal }): Promise<SdkOperationState<R>>;
  serialize(): Promise<string>;
  readonly operationState: SdkOperationState<R> | undefined;
}

export interface SdkOperationState<R> {
  readonly status: "notStarted" | "running" | "succeeded" | "canceled" | "failed";
  readonly result?: R;
  readonly error?: Error;
}

export interface LroContext<R, T> {
  readonly target: LroTarget;
  readonly action: LroAction;
  /** Only the subscription id and the raw GET for status documents are needed here. */
  readonly clients: Pick<SubscriptionClients, "subscriptionId" | "getJson">;
  readonly resourceId: string;
  readonly now: () => number;
  /** The call's combined signal (caller + deadline): status polls and re-GETs use it too. */
  readonly signal?: AbortSignal;
  /** SDK result → domain value. */
  readonly map: (result: R | undefined) => T;
  /**
   * Where a failed operation's cause is read first. AKS: re-GET the resource and read
   * `status.provisioningError` (the SDK's own error for a failed LRO has no code).
   */
  readonly provisioningError?: () => Promise<{ code?: string; message?: string } | undefined>;
}

/**
 * Sends the initial request of an SDK long-running operation. `begin` must create the poller (the
 * SDK sends the request eagerly); it is called here so a synchronous throw is also classified.
 */
export async function startLro<R, T>(ctx: LroContext<R, T>, begin: () => SdkPoller<R>): Promise<LroStart<T>> {
  let poller: SdkPoller<R>;
  try {
    poller = begin();
    await poller.submitted();
  } catch (e) {
    return { kind: "failed", error: toArmError(e, ctx.now()) };
  }
  return (await ended(ctx, poller, poller.operationState)) ?? { kind: "submitted", resumeToken: await tokenOf(ctx, poller) };
}

/** Polls once from a resume token. `restore` rebuilds the SDK poller for the token's operation. */
export async function checkLro<R, T>(
  ctx: LroContext<R, T>,
  restore: (sdkState: string) => SdkPoller<R>,
  token: ResumeToken,
): Promise<LroCheck<T>> {
  const poller = restore(token.sdk);
  let state: SdkOperationState<R>;
  try {
    state = await poller.poll(ctx.signal !== undefined ? { abortSignal: ctx.signal } : undefined);
  } catch (e) {
    // A RestError is a failed poll request (the SDK marks the state failed for those too), so it
    // is told apart from a terminal operation by its name, before looking at the state.
    if (isRecord(e) && e["name"] === "RestError") {
      const error = toArmError(e, ctx.now());
      return error.kind === "throttled" || error.kind === "transient" ? { kind: "unknown", error } : { kind: "failed", error };
    }
    const st = poller.operationState;
    if (st?.status === "canceled") return { kind: "failed", error: canceled(ctx) };
    if (st?.status === "failed") return { kind: "failed", error: await failureOf(ctx, poller, st.error ?? asError(e)) };
    return { kind: "unknown", error: toArmError(e, ctx.now()) };
  }
  // Still running: re-serialize, ARM may have moved the operation to a new status URL.
  return (await ended(ctx, poller, state)) ?? { kind: "inProgress", resumeToken: await tokenOf(ctx, poller) };
}

/** An operation that has ended, the same for a start and a check: what it ended with. */
type LroEnded<T> = Extract<LroStart<T>, { kind: "succeeded" | "failed" }>;

/** How the operation ended; undefined while it is still running (or has not reported a state yet). */
async function ended<R, T>(ctx: LroContext<R, T>, poller: SdkPoller<R>, state: SdkOperationState<R> | undefined): Promise<LroEnded<T> | undefined> {
  switch (state?.status) {
    case "succeeded":
      return { kind: "succeeded", value: ctx.map(state.result) };
    case "failed":
      return { kind: "failed", error: await failureOf(ctx, poller, state.error) };
    case "canceled":
      return { kind: "failed", error: canceled(ctx) };
    case "running":
    case "notStarted":
    case undefined:
      return undefined;
  }
}

async function tokenOf<R, T>(ctx: LroContext<R, T>, poller: SdkPoller<R>): Promise<string> {
  return encodeResumeToken({
    v: 1,
    target: ctx.target,
    action: ctx.action,
    subscriptionId: ctx.clients.subscriptionId,
    resourceId: ctx.resourceId,
    sdk: await poller.serialize(),
  });
}

function canceled<R, T>(ctx: LroContext<R, T>): ArmError {
  return {
    kind: "conflict",
    code: SYNTHETIC_CODES.operationCanceled,
    message: `the ${ctx.action} operation on ${ctx.resourceId} was canceled`,
  };
}

/**
 * The cause of a failed operation, most specific first: the resource's provisioningError (AKS), the
 * `error` of the operation status document, then the SDK's message (code-less) as a last resort.
 */
async function failureOf<R, T>(ctx: LroContext<R, T>, poller: SdkPoller<R>, sdkError: Error | undefined): Promise<ArmError> {
  if (ctx.provisioningError !== undefined) {
    try {
      const detail = await ctx.provisioningError();
      if (detail?.code !== undefined) return armErrorFromDetail(detail);
    } catch {
      // fall through to the status document
    }
  }
  try {
    const opUrl = operationLocationOf(await poller.serialize());
    if (opUrl !== undefined) {
      const { body } = await ctx.clients.getJson(opUrl, ctx.signal);
      const detail = parseErrorBody(body);
      if (detail?.code !== undefined) return armErrorFromDetail(detail);
    }
  } catch {
    // fall through to the SDK's message
  }
  // Re-submitting an operation that failed for an unknown reason at full speed repeats the failure.
  return {
    kind: "invalid",
    code: SYNTHETIC_CODES.operationFailed,
    message: sdkError?.message ?? `the ${ctx.action} operation on ${ctx.resourceId} failed`,
  };
}

function operationLocationOf(serialized: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(serialized);
    const state = isRecord(parsed) ? parsed["state"] : undefined;
    const config = isRecord(state) ? state["config"] : undefined;
    const loc = isRecord(config) ? config["operationLocation"] : undefined;
    return typeof loc === "string" ? loc : undefined;
  } catch {
    return undefined;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
