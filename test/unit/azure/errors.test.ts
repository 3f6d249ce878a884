import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import {
  ArmRequestError,
  armErrorFromDetail,
  classifyArmCode,
  describeArmError,
  headersFromRecord,
  parseErrorBody,
  parseRetryAfterMs,
  toArmError,
  type ArmErrorKind,
} from "../../../src/azure/errors.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");

function restError(opts: {
  status?: number;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
  details?: unknown;
  bodyAsText?: string;
}): RestError {
  const request = createPipelineRequest({ url: "https://management.azure.com/x" });
  const e = new RestError(opts.message ?? "boom", {
    ...(opts.status !== undefined ? { statusCode: opts.status } : {}),
    ...(opts.code !== undefined ? { code: opts.code } : {}),
    request,
    ...(opts.status !== undefined
      ? {
          response: {
            status: opts.status,
            request,
            headers: createHttpHeaders(opts.headers ?? {}),
            ...(opts.bodyAsText !== undefined ? { bodyAsText: opts.bodyAsText } : {}),
          },
        }
      : {}),
  });
  if (opts.details !== undefined) e.details = opts.details;
  return e;
}

describe("classifyArmCode", () => {
  it.each<[string | undefined, number | undefined, ArmErrorKind]>([
    // not found
    ["ResourceNotFound", 404, "notFound"],
    ["ResourceGroupNotFound", 404, "notFound"],
    ["ParentResourceNotFound", 400, "notFound"],
    [undefined, 404, "notFound"],
    ["SomethingNew", 404, "notFound"],
    // conflict: busy or changed underneath
    ["OperationNotAllowed", 409, "conflict"],
    ["operationnotallowed", 409, "conflict"],
    ["OperationNotAllowed", undefined, "conflict"],
    ["AnotherOperationInProgress", 409, "conflict"],
    ["PreconditionFailed", 412, "conflict"],
    [undefined, 412, "conflict"],
    [undefined, 409, "conflict"],
    // throttled: the status wins (Compute throttles with code OperationNotAllowed)
    ["OperationNotAllowed", 429, "throttled"],
    ["TooManyRequests", 429, "throttled"],
    ["SubscriptionRequestsThrottled", 429, "throttled"],
    [undefined, 429, "throttled"],
    ["ClientWriteRateLimited", undefined, "throttled"],
    // invalid: won't succeed until spec or world changes
    ["OperationNotAllowed", 400, "invalid"],
    ["RequestDisallowedByPolicy", 403, "invalid"],
    ["QuotaExceeded", 409, "invalid"],
    ["ResourceQuotaExceeded", 400, "invalid"],
    ["SkuNotAvailable", 409, "invalid"],
    ["AuthorizationFailed", 403, "invalid"],
    ["LinkedAuthorizationFailed", 403, "invalid"],
    ["InvalidAuthenticationToken", 401, "invalid"],
    ["InvalidParameter", 400, "invalid"],
    ["PropertyChangeNotAllowed", 400, "invalid"],
    ["SubscriptionNotFound", 404, "invalid"],
    ["MissingSubscriptionRegistration", 409, "invalid"],
    ["ScopeLocked", 409, "invalid"],
    [undefined, 400, "invalid"],
    [undefined, 403, "invalid"],
    ["SomethingNew", 422, "invalid"],
    // transient
    ["InternalServerError", 500, "transient"],
    [undefined, 502, "transient"],
    [undefined, 503, "transient"],
    [undefined, 408, "transient"],
    ["AllocationFailed", 200, "transient"],
    ["OperationPreempted", undefined, "transient"],
    // unknown code without a status (failed LRO): a slow recheck, never a fast retry (see errors.ts)
    ["VMExtensionProvisioningError", undefined, "invalid"],
    [undefined, undefined, "transient"],
  ])("%s / %s → %s", (code, status, kind) => {
    expect(classifyArmCode(code, status)).toBe(kind);
  });
});

describe("parseRetryAfterMs", () => {
  it.each<[string, Record<string, string>, number | undefined]>([
    ["delta seconds", { "Retry-After": "5" }, 5000],
    ["zero", { "retry-after": "0" }, 0],
    ["fractional seconds", { "retry-after": "1.5" }, 1500],
    ["HTTP-date in the future", { "retry-after": "Sun, 01 Mar 2026 12:00:30 GMT" }, 30_000],
    ["HTTP-date in the past clamps to 0", { "retry-after": "Sun, 01 Mar 2026 11:59:00 GMT" }, 0],
    ["retry-after-ms", { "retry-after-ms": "250" }, 250],
    ["x-ms-retry-after-ms", { "x-ms-retry-after-ms": "750" }, 750],
    ["ms header beats seconds", { "retry-after": "10", "retry-after-ms": "100" }, 100],
    ["retry-after-ms beats x-ms-retry-after-ms", { "retry-after-ms": "100", "x-ms-retry-after-ms": "900" }, 100],
    ["invalid ms falls through to seconds", { "retry-after-ms": "soon", "retry-after": "2" }, 2000],
    ["negative is ignored", { "retry-after": "-3" }, undefined],
    ["garbage", { "retry-after": "later" }, undefined],
    ["empty", { "retry-after": "" }, undefined],
    ["absent", {}, undefined],
  ])("%s", (_name, headers, expected) => {
    expect(parseRetryAfterMs(headersFromRecord(headers), NOW)).toBe(expected);
  });
});

describe("parseErrorBody", () => {
  it.each<[string, unknown, ReturnType<typeof parseErrorBody>]>([
    ["wrapped", { error: { code: "Conflict", message: "busy" } }, { code: "Conflict", message: "busy", details: undefined }],
    ["unwrapped (AKS)", { code: "OperationNotAllowed", message: "in progress", subcode: "x" }, { code: "OperationNotAllowed", message: "in progress", details: undefined }],
    ["JSON text", '{"error":{"code":"BadRequest","message":"no"}}', { code: "BadRequest", message: "no", details: undefined }],
    ["details kept", { error: { code: "DeploymentFailed", message: "m", details: [{ code: "SkuNotAvailable", message: "s" }] } }, {
      code: "DeploymentFailed",
      message: "m",
      details: [{ code: "SkuNotAvailable", message: "s", details: undefined }],
    }],
    ["not an error body", { id: "/subscriptions/x" }, undefined],
    ["not JSON", "<html>", undefined],
    ["null", null, undefined],
  ])("%s", (_name, body, expected) => {
    expect(parseErrorBody(body)).toEqual(expected);
  });
});

describe("toArmError", () => {
  it("reads code, message, status, Retry-After and request id from a RestError", () => {
    const e = restError({
      status: 429,
      code: "TooManyRequests",
      message: "slow down",
      headers: { "retry-after": "7", "x-ms-request-id": "req-1" },
    });
    expect(toArmError(e, NOW)).toEqual({
      kind: "throttled",
      code: "TooManyRequests",
      message: "slow down",
      statusCode: 429,
      retryAfterMs: 7000,
      requestId: "req-1",
    });
  });

  it("prefers the deserialized body in `details` and follows deployment wrappers", () => {
    const e = restError({
      status: 400,
      code: "DeploymentFailed",
      details: { error: { code: "DeploymentFailed", message: "outer", details: [{ code: "RequestDisallowedByPolicy", message: "denied by policy 'no-big-vms'" }] } },
    });
    expect(toArmError(e, NOW)).toMatchObject({ kind: "invalid", code: "RequestDisallowedByPolicy", message: "denied by policy 'no-big-vms'" });
  });

  it("handles an unwrapped 409 body the SDK turned into code/message", () => {
    // createRestError reads body.error ?? body, so the code is on the error; details has no `error`.
    const e = restError({ status: 409, code: "OperationNotAllowed", message: "Operation is not allowed: another operation is in progress", details: { error: undefined } });
    expect(toArmError(e, NOW)).toMatchObject({ kind: "conflict", code: "OperationNotAllowed", statusCode: 409 });
  });

  it("parses a string body when the SDK left it unparsed", () => {
    const e = restError({ status: 404, bodyAsText: '{"code":"ResourceNotFound","message":"gone"}' });
    expect(toArmError(e, NOW)).toMatchObject({ kind: "notFound", code: "ResourceNotFound", message: "gone" });
  });

  it("names a status without a body", () => {
    expect(toArmError(restError({ status: 503 }), NOW)).toMatchObject({ kind: "transient", code: "HttpStatus503", statusCode: 503 });
  });

  it.each([
    ["REQUEST_SEND_ERROR RestError", restError({ code: "REQUEST_SEND_ERROR", message: "socket hang up" })],
    ["ECONNRESET", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })],
    ["ECONNREFUSED in cause", new Error("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) })],
  ])("network error %s → transient NetworkError", (_n, e) => {
    expect(toArmError(e, NOW)).toMatchObject({ kind: "transient", code: "NetworkError" });
  });

  it.each([
    ["AbortError", Object.assign(new Error("aborted"), { name: "AbortError" })],
    ["TimeoutError", new DOMException("timed out", "TimeoutError")],
  ])("%s → transient RequestTimeout", (_n, e) => {
    expect(toArmError(e, NOW)).toMatchObject({ kind: "transient", code: "RequestTimeout" });
  });

  it("unwraps an ArmRequestError unchanged", () => {
    const inner = { kind: "throttled", code: "ClientWriteRateLimited", message: "m", retryAfterMs: 5 } as const;
    expect(toArmError(new ArmRequestError(inner), NOW)).toBe(inner);
  });

  it("never throws on junk", () => {
    expect(toArmError("oops", NOW)).toMatchObject({ kind: "transient", code: "UnknownError", message: "oops" });
    expect(toArmError(undefined, NOW)).toMatchObject({ kind: "transient" });
    expect(toArmError(new Error("plain"), NOW)).toMatchObject({ kind: "transient", code: "UnknownError", message: "plain" });
  });
});

// The rows of the mapping comment in errors.ts for codes the table does not know.
describe("classifyArmCode: a code the table does not know is decided by the status", () => {
  it.each<{ name: string; status: number | undefined; kind: ArmErrorKind }>([
    { name: "404 → notFound", status: 404, kind: "notFound" },
    { name: "409 → conflict (busy)", status: 409, kind: "conflict" },
    { name: "412 → conflict (eTag moved)", status: 412, kind: "conflict" },
    { name: "408 → transient", status: 408, kind: "transient" },
    { name: "500 → transient", status: 500, kind: "transient" },
    { name: "503 → transient", status: 503, kind: "transient" },
    { name: "400 → invalid (slow recheck)", status: 400, kind: "invalid" },
    { name: "422 → invalid (slow recheck)", status: 422, kind: "invalid" },
    { name: "no status (failed LRO) → invalid, not a fast retry", status: undefined, kind: "invalid" },
    { name: "200 (failure inside a 200 status body) → invalid", status: 200, kind: "invalid" },
  ])("$name", ({ status, kind }) => {
    expect(classifyArmCode("NoSuchCodeInTheTable", status)).toBe(kind);
  });
});

describe("toArmError: Retry-After on every status, not only 429", () => {
  it.each<{ name: string; status: number; headers: Record<string, string>; kind: ArmErrorKind; retryAfterMs: number }>([
    { name: "429 Retry-After seconds", status: 429, headers: { "retry-after": "7" }, kind: "throttled", retryAfterMs: 7000 },
    { name: "503 Retry-After seconds", status: 503, headers: { "retry-after": "7" }, kind: "transient", retryAfterMs: 7000 },
    { name: "503 retry-after-ms", status: 503, headers: { "retry-after-ms": "1500" }, kind: "transient", retryAfterMs: 1500 },
    { name: "503 Retry-After HTTP-date", status: 503, headers: { "retry-after": "Sun, 01 Mar 2026 12:00:30 GMT" }, kind: "transient", retryAfterMs: 30_000 },
    { name: "500 Retry-After", status: 500, headers: { "retry-after": "2" }, kind: "transient", retryAfterMs: 2000 },
    { name: "409 busy with Retry-After", status: 409, headers: { "retry-after": "10" }, kind: "conflict", retryAfterMs: 10_000 },
  ])("$name", ({ status, headers, kind, retryAfterMs }) => {
    expect(toArmError(restError({ status, headers }), NOW)).toMatchObject({ kind, statusCode: status, retryAfterMs });
  });

  it("a socket error with a code nobody knows is transient (it never reached ARM)", () => {
    expect(toArmError(Object.assign(new Error("weird"), { code: "ERR_SOMETHING_NEW" }), NOW)).toMatchObject({ kind: "transient" });
  });
});

describe("armErrorFromDetail (failed LRO / provisioningError)", () => {
  it.each<[string, Parameters<typeof armErrorFromDetail>[0], ArmErrorKind, string]>([
    ["quota", { code: "QuotaExceeded", message: "cores" }, "invalid", "QuotaExceeded"],
    ["unknown code: slow recheck, not a fast retry", { code: "VMExtensionProvisioningError", message: "ext" }, "invalid", "VMExtensionProvisioningError"],
    ["known transient code stays transient", { code: "InternalOperationError", message: "x" }, "transient", "InternalOperationError"],
    ["wrapper", { code: "DeploymentFailed", message: "x", details: [{ code: "SkuNotAvailable", message: "sku" }] }, "invalid", "SkuNotAvailable"],
    ["no code: the operation failed for a reason ARM did not say", { message: "it broke" }, "invalid", "OperationFailed"],
  ])("%s", (_n, detail, kind, code) => {
    expect(armErrorFromDetail(detail)).toMatchObject({ kind, code });
  });
});

describe("describeArmError", () => {
  it("prefixes the code once", () => {
    expect(describeArmError({ kind: "invalid", code: "QuotaExceeded", message: "too many cores" })).toBe("QuotaExceeded: too many cores");
    expect(describeArmError({ kind: "invalid", code: "X", message: "X: already prefixed" })).toBe("X: already prefixed");
  });
});
