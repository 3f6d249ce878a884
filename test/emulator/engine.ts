// The emulator without sockets: one ARM request in, one decision out (answer, drop the connection,
// or wait then answer). Faults first, then the bearer token, then api-version, then the
// subscription's token bucket, then the route handler against the state settled to `now`. The HTTP
// layer only carries this out.

import { randomUUID } from "node:crypto";
import type { Clock } from "./clock.ts";
import { json, type Ctx, type EmuRequest, type EmuResponse } from "./context.ts";
import { ArmHttpError } from "./errors.ts";
import type { FaultAction } from "./faults.ts";
import { FaultBook } from "./faults.ts";
import { RateLimiter, requestClass } from "./ratelimit.ts";
import { RequestLog } from "./requestlog.ts";
import { matchRoute, pathSegments, type Route } from "./routes.ts";
import { seedWorld } from "./seed.ts";
import {
  DEFAULT_BEHAVIOUR,
  DEFAULT_RATE_LIMITS,
  DEFAULT_TIMING,
  SUPPORTED_API_VERSIONS,
  type Behaviour,
  type RateLimitSettings,
  type Timing,
} from "./settings.ts";
import { ArmState } from "./state.ts";
import type { WorldFixture } from "./world.ts";

export type Decision =
  | { readonly type: "respond"; readonly response: EmuResponse; readonly route: string; readonly fault?: string }
  | { readonly type: "reset"; readonly route: string; readonly fault: string }
  | { readonly type: "delay"; readonly ms: number; readonly route: string; readonly fault: string };

export interface EngineOptions {
  readonly world: WorldFixture;
  readonly clock: Clock;
  readonly timing?: Partial<Timing>;
  readonly behaviour?: Partial<Behaviour>;
  readonly rateLimits?: Partial<RateLimitSettings>;
  readonly random?: () => number;
}

/** Compute's informational per-resource budgets: [3-minute, 30-minute] capacities. */
const COMPUTE_POLICIES: Readonly<Record<string, readonly [number, number]>> = {
  LowCostGet: [14999, 119999],
  CreateUpdateDisks: [999, 7999],
  DeleteDisks: [999, 7999],
  HighCostSnapshotCreateHydrate: [999, 7999],
  GetOperation: [49999, 399999],
};

export class Engine {
  readonly state = new ArmState();
  readonly log = new RequestLog();
  readonly faults: FaultBook;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  timing: Timing;
  behaviour: Behaviour;
  #world: WorldFixture;
  readonly #initial: { timing: Timing; behaviour: Behaviour; rateLimits: RateLimitSettings };
  #computeWindows = new Map<string, { start3: number; n3: number; start30: number; n30: number }>();

  constructor(opts: EngineOptions) {
    this.clock = opts.clock;
    this.timing = { ...DEFAULT_TIMING, ...(opts.timing ?? {}) };
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...(opts.behaviour ?? {}) };
    this.limiter = new RateLimiter(mergeRateLimits(DEFAULT_RATE_LIMITS, opts.rateLimits ?? {}));
    this.faults = new FaultBook(opts.random);
    this.#world = opts.world;
    this.#initial = { timing: this.timing, behaviour: this.behaviour, rateLimits: this.limiter.settings };
    seedWorld(this.state, this.#world, this.clock.now());
  }

  /**
   * Back to the start: the starting world (or a new one), the start-up timing, behaviour and rate
   * limits; no operations, outcome rules, faults, log entries or spent tokens.
   */
  reset(world?: WorldFixture): void {
    if (world) this.#world = world;
    this.state.clear();
    this.log.clear();
    this.faults.clear();
    this.timing = this.#initial.timing;
    this.behaviour = this.#initial.behaviour;
    this.limiter.configure(this.#initial.rateLimits);
    this.#computeWindows.clear();
    seedWorld(this.state, this.#world, this.clock.now());
  }

  /** Adds a fixture's subscriptions, resource groups and resources to the current world. */
  load(world: WorldFixture): void {
    const latest = { ...this.state.latestNodeImages };
    seedWorld(this.state, world, this.clock.now());
    if (!world.latestNodeImageVersions) this.state.latestNodeImages = latest;
  }

  decide(req: EmuRequest, baseUrl: string, skipFaults = false): Decision {
    const segs = pathSegments(req.path);
    const match = matchRoute(req.method, segs);
    const routeName = match.type === "route" ? match.route.name : "unmatched";
    const requestId = randomUUID();

    if (!skipFaults) {
      const hit = this.faults.match(req.method, req.path);
      if (hit) {
        const answer = faultResponse(hit.action);
        switch (answer.type) {
          case "reset":
            return { type: "reset", route: routeName, fault: hit.id };
          case "delay":
            return { type: "delay", ms: answer.ms, route: routeName, fault: hit.id };
          case "respond":
            return { type: "respond", response: withCommon(answer.response, requestId, req), route: routeName, fault: hit.id };
        }
      }
    }

    const now = this.clock.now();
    // ARM's front door authenticates before it looks at the route: even a 404 needs a token.
    if (this.behaviour.requireBearerToken) {
      const refused = authenticationFailed(req.headers["authorization"]);
      if (refused !== undefined) return { type: "respond", route: routeName, response: withCommon(refused, requestId, req) };
    }
    const apiVersion = queryCi(req.query, "api-version");
    if (match.type === "none") {
      return { type: "respond", route: routeName, response: withCommon(unknownRoute(segs, apiVersion), requestId, req) };
    }
    if (apiVersion === undefined || apiVersion === "") {
      const e = new ArmHttpError(400, {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      });
      return { type: "respond", route: routeName, response: withCommon(json(e.status, e.body()), requestId, req) };
    }
    const versionRefused = match.type === "route" ? unsupportedApiVersion(match.route, apiVersion, segs) : undefined;
    if (versionRefused !== undefined) {
      return { type: "respond", route: routeName, response: withCommon(json(versionRefused.status, versionRefused.body()), requestId, req) };
    }
    if (match.type === "methodNotAllowed") {
      const e = new ArmHttpError(405, {
        code: "HttpMethodNotAllowed",
        message: `The HTTP method '${req.method}' is not supported for this resource; allowed: ${match.allowed.join(", ")}.`,
      });
      return { type: "respond", route: routeName, response: withCommon(json(e.status, e.body(), { Allow: match.allowed.join(", ") }), requestId, req) };
    }

    const { route, params } = match;
    const sub = params["sub"];
    const cls = requestClass(req.method);
    const limitHeaders: Record<string, string> = {};
    if (sub !== undefined) {
      const taken = this.limiter.take(sub, cls, now);
      if (!taken.ok) {
        const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
        const kind = cls === "reads" ? "read" : cls === "deletes" ? "delete" : "write";
        const e = new ArmHttpError(429, {
          code: "SubscriptionRequestsThrottled",
          message: `Number of '${kind}' requests for subscription '${sub}' actor 'aksnap-emulator' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
        });
        const response = json(429, e.body(), { "Retry-After": String(seconds), [`x-ms-ratelimit-remaining-subscription-${cls}`]: "0" });
        return { type: "respond", route: route.name, response: withCommon(response, requestId, req) };
      }
      limitHeaders[`x-ms-ratelimit-remaining-subscription-${cls}`] = String(taken.remaining);
      if (cls === "deletes") limitHeaders["x-ms-ratelimit-remaining-subscription-writes"] = String(this.limiter.remaining(sub, "writes", now));
      if (route.computePolicy !== undefined) limitHeaders["x-ms-ratelimit-remaining-resource"] = this.#computeBudget(sub, route.computePolicy, now);
    }

    this.state.advance(now);
    const ctx: Ctx = { state: this.state, now, baseUrl, req, params, apiVersion, timing: this.timing, behaviour: this.behaviour };
    let response: EmuResponse;
    try {
      response = route.handler(ctx);
    } catch (err) {
      if (!(err instanceof ArmHttpError)) throw err;
      response = json(err.status, err.body(), { ...err.headers });
    }
    return {
      type: "respond",
      route: route.name,
      response: withCommon({ ...response, headers: { ...response.headers, ...limitHeaders } }, requestId, req),
    };
  }

  #computeBudget(sub: string, policy: string, now: number): string {
    const caps = COMPUTE_POLICIES[policy] ?? [999, 7999];
    const key = `${sub.toLowerCase()}/${policy}`;
    const w = this.#computeWindows.get(key) ?? { start3: now, n3: 0, start30: now, n30: 0 };
    if (now - w.start3 >= 180_000) Object.assign(w, { start3: now, n3: 0 });
    if (now - w.start30 >= 1_800_000) Object.assign(w, { start30: now, n30: 0 });
    w.n3 += 1;
    w.n30 += 1;
    this.#computeWindows.set(key, w);
    return `Microsoft.Compute/${policy}3Min;${Math.max(0, caps[0] - w.n3)},Microsoft.Compute/${policy}30Min;${Math.max(0, caps[1] - w.n30)}`;
  }

  routeFor(method: string, path: string): Route | undefined {
    const m = matchRoute(method, pathSegments(path));
    return m.type === "route" ? m.route : undefined;
  }
}

function mergeRateLimits(base: RateLimitSettings, p: Partial<RateLimitSettings>): RateLimitSettings {
  return {
    enabled: p.enabled ?? base.enabled,
    reads: { ...base.reads, ...(p.reads ?? {}) },
    writes: { ...base.writes, ...(p.writes ?? {}) },
    deletes: { ...base.deletes, ...(p.deletes ?? {}) },
  };
}

export { mergeRateLimits };

function queryCi(q: URLSearchParams, name: string): string | undefined {
  for (const [k, v] of q) if (k.toLowerCase() === name) return v;
  return undefined;
}

type FaultAnswer = { type: "reset" } | { type: "delay"; ms: number } | { type: "respond"; response: EmuResponse };

function faultResponse(a: FaultAction): FaultAnswer {
  switch (a.kind) {
    case "reset":
      return { type: "reset" };
    case "delay":
      return { type: "delay", ms: a.ms };
    case "throttle": {
      const headers: Record<string, string> = {};
      if (a.retryAfterSeconds !== undefined) headers["Retry-After"] = String(a.retryAfterSeconds);
      if (a.retryAfterMs !== undefined) headers[a.msHeader ?? "retry-after-ms"] = String(a.retryAfterMs);
      const e = new ArmHttpError(429, {
        code: "TooManyRequests",
        message: "The request is being throttled (injected fault).",
      });
      return { type: "respond", response: json(429, e.body(), headers) };
    }
    case "serverError": {
      const status = a.status ?? 500;
      const e = new ArmHttpError(status, {
        code: a.code ?? (status === 503 ? "ServiceUnavailable" : status === 504 ? "GatewayTimeout" : "InternalServerError"),
        message: a.message ?? "An internal error occurred while processing the request (injected fault).",
      });
      const headers: Record<string, string> = a.retryAfterSeconds !== undefined ? { "Retry-After": String(a.retryAfterSeconds) } : {};
      return { type: "respond", response: json(status, e.body(), headers) };
    }
    case "error": {
      const e = new ArmHttpError(a.status, { code: a.code, message: a.message }, { unwrapped: a.unwrapped ?? false });
      return { type: "respond", response: json(a.status, e.body()) };
    }
  }
}

/**
 * ARM's 401 for a missing or non-Bearer Authorization header (shape and messages as ARM sends them,
 * with the WWW-Authenticate challenge). Any bearer token is accepted: there is no identity here.
 */
function authenticationFailed(header: string | undefined): EmuResponse | undefined {
  if (header !== undefined && /^Bearer\s+\S+/i.test(header)) return undefined;
  const message =
    header === undefined || header.trim() === ""
      ? "Authentication failed. The 'Authorization' header is missing."
      : "Authentication failed. The 'Authorization' header is provided in an invalid format.";
  const e = new ArmHttpError(401, { code: "AuthenticationFailed", message });
  return json(401, e.body(), {
    "WWW-Authenticate": `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${message}"`,
  });
}

// yyyy-mm-dd with an optional -preview/-beta/-alpha/-privatepreview suffix.
const API_VERSION_SHAPE = /^\d{4}-\d{2}-\d{2}(-(preview|beta|alpha|privatepreview))?$/i;

/**
 * ARM refuses a malformed api-version with 400 InvalidApiVersionParameter and a well-formed one the
 * provider does not serve with 400 NoRegisteredProviderFound (messages reconstructed from ARM's).
 */
function unsupportedApiVersion(route: Route, apiVersion: string | undefined, segs: readonly string[]): ArmHttpError | undefined {
  if (apiVersion === undefined || apiVersion === "") return undefined;
  const supported = SUPPORTED_API_VERSIONS[route.provider];
  if (supported.some((v) => v.toLowerCase() === apiVersion.toLowerCase())) return undefined;
  const list = [...supported].reverse().join(",");
  if (!API_VERSION_SHAPE.test(apiVersion)) {
    return new ArmHttpError(400, {
      code: "InvalidApiVersionParameter",
      message: `The api-version '${apiVersion}' is invalid. The supported versions are '${list}'.`,
    });
  }
  const pi = segs.findIndex((s) => s.toLowerCase() === "providers");
  const type = pi >= 0 ? segs.slice(pi + 2).filter((_, i) => i % 2 === 0).join("/") : "";
  return new ArmHttpError(400, {
    code: "NoRegisteredProviderFound",
    message: `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${list}'.`,
  });
}

function unknownRoute(segs: readonly string[], apiVersion: string | undefined): EmuResponse {
  const pi = segs.findIndex((s) => s.toLowerCase() === "providers");
  const ns = pi >= 0 ? segs[pi + 1] : undefined;
  const type = pi >= 0 ? segs[pi + 2] : undefined;
  const e =
    ns !== undefined && type !== undefined
      ? new ArmHttpError(404, {
          code: "InvalidResourceType",
          message: `The resource type '${type}' could not be found in the namespace '${ns}' for api version '${apiVersion ?? ""}'.`,
        })
      : new ArmHttpError(404, { code: "NotFound", message: `No route for '/${segs.join("/")}'.` });
  return json(e.status, e.body());
}

function withCommon(res: EmuResponse, requestId: string, req: EmuRequest): EmuResponse {
  return {
    ...res,
    headers: {
      "x-ms-request-id": requestId,
      "x-ms-correlation-request-id": req.headers["x-ms-client-request-id"] ?? requestId,
      "x-ms-routing-request-id": `LOCAL:${requestId}`,
      "Cache-Control": "no-cache",
      ...res.headers,
    },
  };
}
