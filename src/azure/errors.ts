// ARM failures as one typed union. Every RestError, network error and failed long-running operation
// leaving src/azure is an ArmError, so controllers switch on `kind` instead of parsing messages.
//
// The code table learns from Azure Service Operator's classifier (known codes first, then the HTTP
// status), narrowed to the five outcomes a controller acts on differently:
//   notFound  – the resource (or its parent) is absent: Stalled/SnapshotMissing or "already deleted".
//   conflict  – the resource is busy or changed underneath us (409 OperationNotAllowed, 412): retry later.
//   throttled – ARM's budget is spent (429): retry after `retryAfterMs`.
//   invalid   – the request cannot succeed until the spec or the world changes (400-class, policy
//               denial, quota, SKU, authorization): Stalled. Policy/quota/RBAC are world state, so a
//               slow requeue is still reasonable.
//   transient – 5xx, 408, connection resets, timeouts, aborts: retry with backoff (≈ 1 s → minutes),
//               and never sooner than `retryAfterMs`, which any status carries when ARM sent one
//               (503 + Retry-After exactly like 429).
//
// A code the table does not know is decided by the HTTP status:
//   404 → notFound · 409/412 → conflict · 408/5xx → transient · other 4xx → invalid
//   no status or a 2xx (a failed long-running operation, `status.provisioningError`) → invalid.
// The last row differs from ASO on purpose: ASO retries unknown operation failures, but with its own
// slow backoff; for us `transient` means a fast exponential retry, and re-submitting an operation
// ARM failed for a reason we cannot read would repeat it at full speed. `invalid` is a slow recheck.
// A failure with neither code nor status never reached ARM (a socket error): transient.

export type ArmErrorKind = "notFound" | "conflict" | "throttled" | "invalid" | "transient";

export const ARM_ERROR_KINDS: readonly ArmErrorKind[] = ["notFound", "conflict", "throttled", "invalid", "transient"];

export interface ArmError {
  readonly kind: ArmErrorKind;
  /** ARM error code (e.g. `ResourceNotFound`), or a synthetic one for errors without a body. */
  readonly code: string;
  readonly message: string;
  readonly statusCode?: number;
  /** From Retry-After / retry-after-ms / x-ms-retry-after-ms, when the response carried one. */
  readonly retryAfterMs?: number;
  /** x-ms-request-id (or the correlation id), for messages a person can take to Azure support. */
  readonly requestId?: string;
}

/** Codes without a body: network failures and our own client-side limits. */
export const SYNTHETIC_CODES = {
  network: "NetworkError",
  timeout: "RequestTimeout",
  aborted: "Aborted",
  unknown: "UnknownError",
  operationFailed: "OperationFailed",
  operationCanceled: "OperationCanceled",
  clientRateLimited: "ClientWriteRateLimited",
} as const;

// Keys are lower-case: ARM error codes are compared case-insensitively.
const CODE_TABLE: ReadonlyMap<string, ArmErrorKind> = new Map<string, ArmErrorKind>(
  (
    [
      ["ResourceNotFound", "notFound"],
      ["ResourceGroupNotFound", "notFound"],
      ["ParentResourceNotFound", "notFound"],
      ["NotFound", "notFound"],

      // AKS answers a second write while one is in flight with 409 OperationNotAllowed.
      ["OperationNotAllowed", "conflict"],
      ["AnotherOperationInProgress", "conflict"],
      ["Conflict", "conflict"],
      ["PreconditionFailed", "conflict"],
      ["ResourceGroupBeingDeleted", "conflict"],

      ["TooManyRequests", "throttled"],
      ["SubscriptionRequestsThrottled", "throttled"],
      [SYNTHETIC_CODES.clientRateLimited, "throttled"],

      ["BadRequest", "invalid"],
      ["BadRequestFormat", "invalid"],
      ["InvalidParameter", "invalid"],
      ["InvalidParameterValue", "invalid"],
      ["InvalidRequestContent", "invalid"],
      ["InvalidRequestFormat", "invalid"],
      ["InvalidResourceName", "invalid"],
      ["InvalidResourceType", "invalid"],
      ["InvalidResourceReference", "invalid"],
      ["InvalidResourceGroupLocation", "invalid"],
      ["InvalidTemplate", "invalid"],
      ["InvalidValuesForRequestParameters", "invalid"],
      ["LocationRequired", "invalid"],
      ["LocationNotAvailableForResourceType", "invalid"],
      ["MissingRequiredParameter", "invalid"],
      ["MethodNotAllowed", "invalid"],
      ["PropertyChangeNotAllowed", "invalid"],
      ["RequestDisallowedByPolicy", "invalid"],
      ["ReservedResourceName", "invalid"],
      ["RegionIsOfferRestricted", "invalid"],
      ["SkuNotAvailable", "invalid"],
      ["QuotaExceeded", "invalid"],
      ["ResourceQuotaExceeded", "invalid"],
      ["AuthorizationFailed", "invalid"],
      ["LinkedAuthorizationFailed", "invalid"],
      ["AuthenticationFailed", "invalid"],
      ["InvalidAuthenticationToken", "invalid"],
      ["InvalidAuthenticationTokenTenant", "invalid"],
      ["SubscriptionNotFound", "invalid"],
      ["SubscriptionNotRegistered", "invalid"],
      ["MissingSubscriptionRegistration", "invalid"],
      ["NoRegisteredProviderFound", "invalid"],
      ["ReadOnlyDisabledSubscription", "invalid"],
      // A lock needs a person; ASO retries it very slowly, which a Stalled requeue also does.
      ["ScopeLocked", "invalid"],

      ["InternalServerError", "transient"],
      ["InternalOperationError", "transient"],
      // Compute's code for its own internal failures ("An internal execution error occurred").
      ["InternalDiskManagementError", "transient"],
      ["ServiceUnavailable", "transient"],
      ["GatewayTimeout", "transient"],
      ["RequestTimeout", "transient"],
      ["OperationPreempted", "transient"],
      ["AllocationFailed", "transient"],
      ["ZonalAllocationFailed", "transient"],
      ["RetryableError", "transient"],
      [SYNTHETIC_CODES.timeout, "transient"],
      [SYNTHETIC_CODES.aborted, "transient"],
      [SYNTHETIC_CODES.network, "transient"],
      // The operation failed and neither the resource nor the status document said why.
      [SYNTHETIC_CODES.operationFailed, "invalid"],
    ] as const
  ).map(([code, kind]) => [code.toLowerCase(), kind]),
);

// Deployment-style wrappers whose first detail carries the real cause.
const WRAPPER_CODES = new Set(["deploymentfailed", "resourcedeploymentfailure", "multipleerrorsoccurred"]);

// Node and undici socket errors: the request may not have reached ARM, so it is safe to retry.
const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "REQUEST_SEND_ERROR",
  "PARSE_ERROR",
]);

/** Pure: which kind an ARM code and HTTP status mean. */
export function classifyArmCode(code: string | undefined, statusCode: number | undefined): ArmErrorKind {
  // Compute throttles with 429 + code OperationNotAllowed: the status wins over the code.
  if (statusCode === 429) return "throttled";
  const lc = code?.toLowerCase();
  // OperationNotAllowed on a 400 is a permanent refusal, not "busy".
  if (lc === "operationnotallowed" && statusCode === 400) return "invalid";
  const known = lc === undefined ? undefined : CODE_TABLE.get(lc);
  if (known !== undefined) return known;
  if (statusCode === undefined || statusCode < 400) return lc === undefined ? "transient" : "invalid";
  if (statusCode === 404) return "notFound";
  if (statusCode === 409 || statusCode === 412) return "conflict";
  if (statusCode === 408 || statusCode >= 500) return "transient";
  return "invalid";
}

/** Minimal header access shared by core-rest-pipeline's HttpHeaders and plain records. */
export interface HeaderReader {
  get(name: string): string | undefined;
}

export function headersFromRecord(record: Readonly<Record<string, string | undefined>>): HeaderReader {
  const lower = new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name) => lower.get(name.toLowerCase()) };
}

/**
 * Milliseconds to wait before retrying, in the SDK's precedence: `retry-after-ms`,
 * `x-ms-retry-after-ms`, then `Retry-After` (delta-seconds or an HTTP-date measured from `now`).
 */
export function parseRetryAfterMs(headers: HeaderReader, now: number): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = parseNonNegativeNumber(headers.get(name));
    if (ms !== undefined) return Math.round(ms);
  }
  const value = headers.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  const seconds = parseNonNegativeNumber(value);
  if (seconds !== undefined) return Math.round(seconds * 1000);
  // An HTTP-date has a weekday and month name; Date.parse would also read "-3" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function parseNonNegativeNumber(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

interface ErrorBody {
  code?: string;
  message?: string;
  details?: ErrorBody[];
}

/**
 * Reads `{"error":{code,message,details}}` or the unwrapped `{code,message,details}` AKS sometimes
 * sends. Returns undefined when neither shape is there.
 */
export function parseErrorBody(body: unknown): ErrorBody | undefined {
  if (typeof body === "string") {
    try {
      return parseErrorBody(JSON.parse(body) as unknown);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(body)) return undefined;
  const inner = isRecord(body["error"]) ? body["error"] : body;
  const code = typeof inner["code"] === "string" ? inner["code"] : undefined;
  const message = typeof inner["message"] === "string" ? inner["message"] : undefined;
  if (code === undefined && message === undefined) return undefined;
  const rawDetails = inner["details"];
  const details = Array.isArray(rawDetails)
    ? rawDetails.map((d) => parseErrorBody(d)).filter((d): d is ErrorBody => d !== undefined)
    : undefined;
  return { code, message, details };
}

/** Follows deployment-style wrappers to the first detail that names the real cause. */
function effective(body: ErrorBody): ErrorBody {
  const first = body.details?.[0];
  if (body.code !== undefined && WRAPPER_CODES.has(body.code.toLowerCase()) && first?.code !== undefined) {
    return effective(first);
  }
  return body;
}

/** An ArmError from an error detail (failed LRO status body, `status.provisioningError`). */
export function armErrorFromDetail(
  detail: { code?: string; message?: string; details?: ErrorBody[] },
  extra: { statusCode?: number; retryAfterMs?: number; requestId?: string } = {},
): ArmError {
  const eff = effective(detail);
  const code = eff.code ?? detail.code ?? SYNTHETIC_CODES.operationFailed;
  const message = eff.message ?? detail.message ?? code;
  return withOptional({ kind: classifyArmCode(code, extra.statusCode), code, message }, extra);
}

/**
 * Turns anything a pipeline or poller threw into an ArmError. `now` resolves HTTP-date Retry-After
 * values. Never throws.
 */
export function toArmError(err: unknown, now: number): ArmError {
  if (isArmErrorCarrier(err)) return err.armError;
  if (!isRecord(err)) {
    return { kind: "transient", code: SYNTHETIC_CODES.unknown, message: String(err) };
  }
  const name = typeof err["name"] === "string" ? err["name"] : "";
  const message = typeof err["message"] === "string" ? err["message"] : String(err);
  const rawCode = typeof err["code"] === "string" ? err["code"] : undefined;
  const statusCode = typeof err["statusCode"] === "number" ? err["statusCode"] : undefined;

  if (name === "AbortError" || name === "TimeoutError") {
    return { kind: "transient", code: SYNTHETIC_CODES.timeout, message };
  }

  const response = isRecord(err["response"]) ? err["response"] : undefined;
  const headers = response !== undefined ? headerReaderOf(response["headers"]) : undefined;
  const retryAfterMs = headers !== undefined ? parseRetryAfterMs(headers, now) : undefined;
  const requestId = headers?.get("x-ms-request-id") ?? headers?.get("x-ms-correlation-request-id");
  const extra = { statusCode, retryAfterMs, requestId };

  if (statusCode === undefined) {
    if (rawCode !== undefined && NETWORK_ERROR_CODES.has(rawCode)) {
      return withOptional({ kind: "transient", code: SYNTHETIC_CODES.network, message: `${rawCode}: ${message}` }, extra);
    }
    const cause = err["cause"];
    if (isRecord(cause) && typeof cause["code"] === "string" && NETWORK_ERROR_CODES.has(cause["code"])) {
      return withOptional({ kind: "transient", code: SYNTHETIC_CODES.network, message: `${cause["code"]}: ${message}` }, extra);
    }
  }

  // Prefer the body (it has details); RestError.code already covers both body shapes when parsed.
  const fromDetails = isRecord(err["details"]) ? parseErrorBody(err["details"]) : undefined;
  const fromText = response !== undefined ? parseErrorBody(response["bodyAsText"]) : undefined;
  const body = fromDetails ?? fromText;
  if (body !== undefined) {
    const eff = effective(body);
    const code = eff.code ?? rawCode ?? statusCodeName(statusCode);
    return withOptional({ kind: classifyArmCode(code, statusCode), code, message: eff.message ?? message }, extra);
  }
  const code = rawCode ?? statusCodeName(statusCode);
  // No HTTP answer at all (an unknown socket/library error): the request may never have reached ARM.
  const kind = statusCode === undefined ? "transient" : classifyArmCode(rawCode, statusCode);
  return withOptional({ kind, code, message }, extra);
}

function statusCodeName(statusCode: number | undefined): string {
  return statusCode === undefined ? SYNTHETIC_CODES.unknown : `HttpStatus${statusCode}`;
}

function withOptional(
  base: { kind: ArmErrorKind; code: string; message: string },
  extra: { statusCode?: number | undefined; retryAfterMs?: number | undefined; requestId?: string | undefined },
): ArmError {
  return {
    ...base,
    ...(extra.statusCode !== undefined ? { statusCode: extra.statusCode } : {}),
    ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
    ...(extra.requestId !== undefined ? { requestId: extra.requestId } : {}),
  };
}

function headerReaderOf(h: unknown): HeaderReader | undefined {
  if (isRecord(h) && typeof h["get"] === "function") {
    const get = h["get"] as (name: string) => unknown;
    return {
      get: (name) => {
        const v: unknown = get.call(h, name);
        return typeof v === "string" ? v : undefined;
      },
    };
  }
  if (isRecord(h)) {
    const rec: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(h)) if (typeof v === "string") rec[k] = v;
    return headersFromRecord(rec);
  }
  return undefined;
}

/**
 * An Error that carries an ArmError through code paths that must throw (a pipeline policy refusing
 * to send); `toArmError` unwraps it unchanged.
 */
export class ArmRequestError extends Error {
  readonly armError: ArmError;
  constructor(armError: ArmError) {
    super(`${armError.code}: ${armError.message}`);
    this.name = "ArmRequestError";
    this.armError = armError;
  }
}

function isArmErrorCarrier(e: unknown): e is ArmRequestError {
  return e instanceof ArmRequestError;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One line for conditions and events: `Code: message`. */
export function describeArmError(e: ArmError): string {
  return e.message.startsWith(e.code) ? e.message : `${e.code}: ${e.message}`;
}
