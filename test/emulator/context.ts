// What a route handler sees (the parsed request, the state, the clock reading, the settings) and
// what it returns. Handlers are synchronous functions of this context: no I/O, no timers.

import { randomUUID } from "node:crypto";
import { ArmHttpError, invalidRequestContent, preconditionFailed } from "./errors.ts";
import { isObject, obj, str, type JsonObject, type JsonValue } from "./json.ts";
import type { Behaviour, Timing } from "./settings.ts";
import type { ArmState, OperationRecord, StoredResource } from "./state.ts";

export interface EmuRequest {
  readonly method: string;
  /** Percent-decoded path, without query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonValue | undefined;
}

export interface EmuResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: JsonValue;
}

export interface Ctx {
  readonly state: ArmState;
  readonly now: number;
  /** https://127.0.0.1:port — every URL the emulator hands out is absolute and points here. */
  readonly baseUrl: string;
  readonly req: EmuRequest;
  readonly params: Readonly<Record<string, string>>;
  readonly apiVersion: string;
  readonly timing: Timing;
  readonly behaviour: Behaviour;
}

export function json(status: number, body?: JsonValue, headers: Record<string, string> = {}): EmuResponse {
  return body === undefined ? { status, headers } : { status, headers, body };
}

export function param(ctx: Ctx, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new Error(`route parameter ${name} missing`);
  return v;
}

/** The request body as an object; ARM answers 400 InvalidRequestContent otherwise. */
export function requireBody(ctx: Ctx): JsonObject {
  const b = ctx.req.body;
  if (!isObject(b)) throw invalidRequestContent("The request content was invalid and could not be deserialized: the body must be a JSON object.");
  return b;
}

export function requireLocation(body: JsonObject): string {
  const location = str(body["location"]);
  if (location === undefined || location === "") {
    throw new ArmHttpError(400, { code: "LocationRequired", message: "The location property is required for this definition." });
  }
  return location;
}

export function propsOf(body: JsonObject): JsonObject {
  return obj(body["properties"]) ?? {};
}

export function tagsOf(body: JsonObject): JsonObject | undefined {
  const t = body["tags"];
  if (t === undefined || t === null) return undefined;
  if (!isObject(t)) throw invalidRequestContent("The request content was invalid and could not be deserialized: 'tags' must be an object.");
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== "string") throw invalidRequestContent(`The request content was invalid and could not be deserialized: tag '${k}' must be a string.`);
  }
  checkTagRules(t);
  return t;
}

export const TAG_LIMITS = { count: 50, nameLength: 512, valueLength: 256 } as const;
const TAG_NAME_RESERVED = /[<>%&\\?/]/;
// Control characters are refused like the reserved ones.
const TAG_NAME_CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * ARM's tag rules, applied to every PUT/PATCH that carries tags: at most 50, names ≤ 512 characters
 * without `<>%&\?/` or control characters, values ≤ 256, names case-insensitive (two names that
 * differ only in case are one name twice). Codes InvalidTagNameCharacters/InvalidTagNameLength/
 * InvalidTagValueLength/InvalidTagCount/InvalidTagName: see docs/emulator.md for which are
 * reconstructed.
 */
export function checkTagRules(tags: Readonly<Record<string, unknown>>): void {
  const names = Object.keys(tags);
  if (names.length > TAG_LIMITS.count) {
    throw new ArmHttpError(400, {
      code: "InvalidTagCount",
      message: `The number of tags '${names.length}' exceeds the maximum of '${TAG_LIMITS.count}' tags per resource.`,
    });
  }
  const reserved = names.filter((n) => TAG_NAME_RESERVED.test(n) || TAG_NAME_CONTROL.test(n));
  if (reserved.length > 0) {
    throw new ArmHttpError(400, {
      code: "InvalidTagNameCharacters",
      message: `The tag names '${reserved.join(",")}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
    });
  }
  for (const n of names) {
    if (n.length > TAG_LIMITS.nameLength) {
      throw new ArmHttpError(400, {
        code: "InvalidTagNameLength",
        message: `The tag name '${n}' exceeds the maximum length of '${TAG_LIMITS.nameLength}' characters.`,
      });
    }
    const v = tags[n];
    if (typeof v === "string" && v.length > TAG_LIMITS.valueLength) {
      throw new ArmHttpError(400, {
        code: "InvalidTagValueLength",
        message: `The tag value '${v}' of tag '${n}' exceeds the maximum length of '${TAG_LIMITS.valueLength}' characters.`,
      });
    }
  }
  const seen = new Map<string, string>();
  for (const n of names) {
    const first = seen.get(n.toLowerCase());
    if (first !== undefined) {
      throw new ArmHttpError(400, {
        code: "InvalidTagName",
        message: `The tag names '${first}' and '${n}' differ only in case. Tag names are case-insensitive.`,
      });
    }
    seen.set(n.toLowerCase(), n);
  }
}

export function newETag(): string {
  return randomUUID();
}

function unquote(v: string): string {
  const t = v.trim();
  return t.startsWith('W/"') ? t.slice(3, -1) : t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

/**
 * If-Match / If-None-Match against the resource's eTag (`properties.eTag` on agent pools, top-level
 * `eTag` on managed clusters, as in the swagger); 412 PreconditionFailed on mismatch.
 */
export function checkPreconditions(ctx: Ctx, existing: StoredResource | undefined): void {
  const ifMatch = ctx.req.headers["if-match"];
  const ifNoneMatch = ctx.req.headers["if-none-match"];
  const current = existing ? (str(obj(existing.body["properties"])?.["eTag"]) ?? str(existing.body["eTag"])) : undefined;
  if (ifMatch !== undefined && ifMatch !== "") {
    const want = unquote(ifMatch);
    if (!existing) throw preconditionFailed(`Operation is not allowed: the resource does not exist, so If-Match '${want}' cannot match.`);
    if (want !== "*" && want !== current) {
      throw preconditionFailed(`Operation is not allowed since the eTag '${want}' in If-Match does not match the current eTag '${current ?? ""}'.`);
    }
  }
  if (ifNoneMatch !== undefined && ifNoneMatch !== "" && existing) {
    const want = unquote(ifNoneMatch);
    if (want === "*" || want === current) {
      throw preconditionFailed(`Operation is not allowed: If-None-Match '${want}' matches the existing resource (eTag '${current ?? ""}').`);
    }
  }
}

export function systemData(now: number, existing?: JsonValue): JsonObject {
  const prev = obj(existing);
  const t = new Date(now).toISOString();
  return {
    createdBy: str(prev?.["createdBy"]) ?? "aksnap-emulator@example.com",
    createdByType: str(prev?.["createdByType"]) ?? "Application",
    createdAt: str(prev?.["createdAt"]) ?? t,
    lastModifiedBy: "aksnap-emulator@example.com",
    lastModifiedByType: "Application",
    lastModifiedAt: t,
  };
}

export function retryAfterHeader(ctx: Ctx): Record<string, string> {
  const s = ctx.behaviour.lroRetryAfterSeconds;
  return s === undefined ? {} : { "Retry-After": String(s) };
}

export function aksAsyncOperationUrl(ctx: Ctx, op: OperationRecord): string {
  return `${ctx.baseUrl}/subscriptions/${op.subscriptionId}/providers/Microsoft.ContainerService/locations/${op.location}/operations/${op.id}?api-version=2017-08-31`;
}

export function aksOperationResultUrl(ctx: Ctx, op: OperationRecord): string {
  return `${ctx.baseUrl}/subscriptions/${op.subscriptionId}/providers/Microsoft.ContainerService/locations/${op.location}/operationresults/${op.id}?api-version=${encodeURIComponent(ctx.apiVersion)}`;
}

export function computeOperationUrl(ctx: Ctx, op: OperationRecord, monitor: boolean): string {
  const base = `${ctx.baseUrl}/subscriptions/${op.subscriptionId}/providers/Microsoft.Compute/locations/${op.location}/DiskOperations/${op.id}?p=${op.id.slice(0, 8)}&api-version=${encodeURIComponent(ctx.apiVersion)}`;
  return monitor ? `${base}&monitor=true` : base;
}

function skipToken(q: URLSearchParams): string | undefined {
  for (const [k, v] of q) if (k.toLowerCase() === "$skiptoken") return v;
  return undefined;
}

/** One page of a list with an absolute nextLink (offset encoded in $skipToken) when more remain. */
export function page(ctx: Ctx, items: JsonValue[]): EmuResponse {
  const token = skipToken(ctx.req.query);
  let start = 0;
  if (token !== undefined) {
    const n = Number.parseInt(Buffer.from(token, "base64url").toString("utf8"), 10);
    if (!Number.isInteger(n) || n < 0) throw new ArmHttpError(400, { code: "InvalidSkipToken", message: `The skip token '${token}' is invalid.` });
    start = n;
  }
  const size = Math.max(1, ctx.behaviour.pageSize);
  const value = items.slice(start, start + size);
  const body: JsonObject = { value };
  if (start + size < items.length) {
    const next = Buffer.from(String(start + size), "utf8").toString("base64url");
    const pathEnc = ctx.req.path.split("/").map(encodeURIComponent).join("/");
    body["nextLink"] = `${ctx.baseUrl}${pathEnc}?api-version=${encodeURIComponent(ctx.apiVersion)}&$skipToken=${next}`;
  }
  return json(200, body);
}

// ---- versions ----

export type Semver = readonly [number, number, number];

export function parseVersion(v: string): Semver | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareVersions(a: Semver, b: Semver): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Node images end in a dated version (AKSUbuntu-2204gen2containerd-202510.03.0, AKSUbuntu:1604:2020.03.11). */
export function compareNodeImages(a: string, b: string): number {
  const tail = (s: string): number[] => (/(\d+)\.(\d+)\.(\d+)$/.exec(s)?.slice(1) ?? []).map(Number);
  const x = tail(a);
  const y = tail(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** VM family of an Azure size: the series letter after "Standard_" (D in Standard_D8ds_v5, N in Standard_NC6s_v3). */
export function vmFamily(vmSize: string): string {
  const m = /^(?:standard_|basic_)?([a-z])/i.exec(vmSize);
  return (m?.[1] ?? vmSize).toUpperCase();
}
