// SDK clients, one pair per subscription, built once. Every client shares the metrics policy; the
// two clients of a subscription share its write token bucket (ARM's budget is per subscription).

import type https from "node:https";
import { rootCertificates } from "node:tls";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { ContainerServiceClient } from "@azure/arm-containerservice";
import type { TokenCredential } from "@azure/core-auth";
import type { HttpClient, Pipeline, PipelinePolicy } from "@azure/core-rest-pipeline";
import type { Logger } from "pino";
import { ArmRequestError, parseRetryAfterMs, toArmError } from "./errors.ts";
import { armMetricsPolicy, resourceTypeFromUrl, type ArmMetrics } from "./metrics.ts";
import { createTokenBucket, writeRateLimitPolicy, type Sleep, type WriteRateOptions } from "./ratelimit.ts";
import { FixedTlsAgent } from "../runtime/tls-agent.ts";
import { computeSdk, containerServiceSdk, pipelineSdk } from "./sdk.ts";

/** Resource Manager endpoints of the Azure clouds; the emulator passes its own URL instead. */
export const ARM_ENDPOINTS = {
  public: "https://management.azure.com",
  china: "https://management.chinacloudapi.cn",
  usGovernment: "https://management.usgovcloudapi.net",
} as const;

export interface RetryOptions {
  /** SDK retries for 408/5xx/network errors and for 429s that carry Retry-After (SDK default 3). */
  readonly maxRetries?: number;
  readonly retryDelayInMs?: number;
  readonly maxRetryDelayInMs?: number;
  /**
   * A 429/503 whose Retry-After is longer than this is not waited out inside the call (which would
   * pin a worker and end as a RequestTimeout): it returns at once as throttled/transient with
   * `retryAfterMs`, for the controller's requeue. Shorter ones the SDK waits out. Default 5 s.
   */
  readonly maxInlineRetryAfterMs?: number;
}

export const DEFAULT_MAX_INLINE_RETRY_AFTER_MS = 5_000;

export interface ArmClientsOptions {
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** Token scope; defaults to `<endpoint origin>/.default`, which is right for every Azure cloud. */
  readonly scope?: string;
  /** Extra CA certificates (PEM) trusted for this endpoint only, on top of Node's roots. */
  readonly ca?: string | readonly string[];
  readonly userAgent: string;
  readonly writeRate: WriteRateOptions | false;
  readonly retry?: RetryOptions;
  readonly metrics: ArmMetrics;
  readonly now: () => number;
  readonly sleep: Sleep;
  readonly logger?: Logger;
  /** Deadline of one port call (see deadline.ts). */
  readonly timeoutMs: number;
}

/** A raw GET through a client's pipeline (auth, TLS, retries, metrics), for LRO status documents. */
export interface RawResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface SubscriptionClients {
  readonly subscriptionId: string;
  readonly containerService: ContainerServiceClient;
  /** Built on first use (see ./sdk.ts). */
  readonly compute: ComputeManagementClient;
  getJson(url: string, signal?: AbortSignal): Promise<RawResponse>;
}

export interface ArmClients {
  forSubscription(subscriptionId: string): SubscriptionClients;
  /** Deadline of one port call, from createAzure's `requestTimeoutMs`. */
  readonly timeoutMs: number;
}

/**
 * One keep-alive agent that trusts Node's roots plus `ca`. Handing the SDK `tlsOptions` instead made
 * Node build each request's pool key from the whole CA bundle (≈ 150 certificates, joined on every
 * request: ≈ 1 s of operator CPU per 1,000 snapshots created, measured with bench/scale.ts
 * --cpu-prof). One agent has one trust set, so its key leaves the CA out (FixedTlsAgent).
 */
export function armAgent(ca: readonly string[]): https.Agent {
  return new FixedTlsAgent({ keepAlive: true, ca: [...rootCertificates, ...ca] });
}

export function createArmClients(opts: ArmClientsOptions): ArmClients {
  const cache = new Map<string, SubscriptionClients>();
  const httpClient: HttpClient = pipelineSdk.createDefaultHttpClient();
  const scope = opts.scope ?? `${new URL(opts.endpoint).origin}/.default`;
  const extraCa = opts.ca === undefined ? undefined : typeof opts.ca === "string" ? [opts.ca] : [...opts.ca];
  // Node's roots plus ours: trusting the emulator must not mean trusting nothing else.
  const agent = extraCa === undefined ? undefined : armAgent(extraCa);
  const metricsPolicy = armMetricsPolicy(opts.metrics, opts.now);

  const build = (subscriptionId: string): SubscriptionClients => {
    // Outermost of the per-retry policies: it sees the answer after the bucket, the log and the
    // metrics have.
    const policies: PipelinePolicy[] = [longRetryAfterPolicy(opts.retry?.maxInlineRetryAfterMs ?? DEFAULT_MAX_INLINE_RETRY_AFTER_MS, opts.now)];
    if (opts.writeRate !== false) {
      const bucket = createTokenBucket({ ...opts.writeRate, now: opts.now, sleep: opts.sleep });
      policies.push(
        writeRateLimitPolicy(
          bucket,
          (ms) => {
            opts.metrics.writeWait.observe(ms / 1000);
            opts.logger?.debug({ subscriptionId, waitedMs: ms }, "ARM write delayed by the client-side write budget");
          },
          (rate) => {
            opts.metrics.writeRateCuts.inc();
            opts.logger?.info({ subscriptionId, ratePerSecond: rate }, "ARM throttled a write: client-side write rate halved (recovers gradually)");
          },
        ),
      );
    }
    if (agent !== undefined) policies.push({ name: "aksnapArmAgent", sendRequest: (req, next) => next(Object.assign(req, { agent })) });
    if (opts.logger !== undefined) policies.push(throttleLogPolicy(opts.logger, opts.now));
    // Metrics innermost so latency excludes the bucket wait.
    policies.push(metricsPolicy);
    const options = {
      endpoint: opts.endpoint,
      credentials: { scopes: [scope] },
      userAgentOptions: { userAgentPrefix: opts.userAgent },
      ...(opts.retry !== undefined ? { retryOptions: sdkRetryOptions(opts.retry) } : {}),
      additionalPolicies: policies.map((policy) => ({ policy, position: "perRetry" as const })),
    };
    const containerService = withoutFormData(new containerServiceSdk.ContainerServiceClient(opts.credential, subscriptionId, options));
    let compute: ComputeManagementClient | undefined;
    return {
      subscriptionId,
      containerService,
      get compute() {
        return (compute ??= withoutFormData(new (computeSdk().ComputeManagementClient)(opts.credential, subscriptionId, options)));
      },
      getJson: (url, signal) => getJson(containerService.pipeline, httpClient, url, signal),
    };
  };

  return {
    timeoutMs: opts.timeoutMs,
    forSubscription(subscriptionId) {
      const key = subscriptionId.toLowerCase();
      let c = cache.get(key);
      if (c === undefined) {
        c = build(subscriptionId);
        cache.set(key, c);
      }
      return c;
    },
  };
}

/**
 * Takes the SDK's form-data policy out of a client's pipeline. ARM requests here are JSON only, and
 * the policy's check (`typeof FormData !== "undefined"`) reads Node's lazy FormData global, which
 * loads Node's bundled undici, http2 and web streams on the first ARM request (≈ 10 MiB RSS, as in
 * src/runtime/http-facade.ts).
 */
function withoutFormData<C extends { pipeline: Pipeline }>(client: C): C {
  client.pipeline.removePolicy({ name: pipelineSdk.formDataPolicyName });
  return client;
}

async function getJson(pipeline: Pipeline, httpClient: HttpClient, url: string, signal?: AbortSignal): Promise<RawResponse> {
  const request = pipelineSdk.createPipelineRequest({ url, method: "GET", ...(signal !== undefined ? { abortSignal: signal } : {}) });
  request.headers.set("accept", "application/json");
  const response = await pipeline.sendRequest(httpClient, request);
  let body: unknown = undefined;
  if (response.bodyAsText !== undefined && response.bodyAsText !== null && response.bodyAsText !== "") {
    try {
      body = JSON.parse(response.bodyAsText) as unknown;
    } catch {
      body = response.bodyAsText;
    }
  }
  return { status: response.status, body };
}

function sdkRetryOptions(r: RetryOptions): { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number } {
  return {
    ...(r.maxRetries !== undefined ? { maxRetries: r.maxRetries } : {}),
    ...(r.retryDelayInMs !== undefined ? { retryDelayInMs: r.retryDelayInMs } : {}),
    ...(r.maxRetryDelayInMs !== undefined ? { maxRetryDelayInMs: r.maxRetryDelayInMs } : {}),
  };
}

/**
 * The SDK sleeps out any Retry-After on 429/503 inside the call, however long. Past `maxInlineMs`
 * this turns the answer into an ArmError (thrown past the SDK's retry loop, which does not retry
 * our own errors) so the call ends now and the controller requeues after `retryAfterMs`.
 */
export function longRetryAfterPolicy(maxInlineMs: number, now: () => number): PipelinePolicy {
  return {
    name: "aksnapLongRetryAfter",
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status !== 429 && response.status !== 503) return response;
      const retryAfterMs = parseRetryAfterMs({ get: (n) => response.headers.get(n) }, now());
      if (retryAfterMs === undefined || retryAfterMs <= maxInlineMs) return response;
      const error = toArmError(
        { name: "RestError", message: `ARM answered ${response.status}`, statusCode: response.status, response: { headers: response.headers, bodyAsText: response.bodyAsText } },
        now(),
      );
      throw new ArmRequestError(error);
    },
  };
}

/** 429s less than this apart are one throttling episode. */
export const THROTTLE_EPISODE_GAP_MS = 60_000;

/**
 * Logs ARM's 429s once per episode per subscription: the first at warn (with its Retry-After and
 * request id, and how many were throttled in the previous episode), the rest at debug. Throttling is
 * routine under load; a warn line per request buried real problems (thousands of lines in one run).
 */
export function throttleLogPolicy(logger: Logger, now: () => number): PipelinePolicy {
  let lastThrottleAt = -Infinity;
  let inEpisode = 0;
  return {
    name: "aksnapThrottleLog",
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status === 429) {
        const t = now();
        const fields = {
          method: request.method,
          resourceType: resourceTypeFromUrl(request.url),
          retryAfterMs: parseRetryAfterMs({ get: (n) => response.headers.get(n) }, t),
          requestId: response.headers.get("x-ms-request-id"),
        };
        if (t - lastThrottleAt >= THROTTLE_EPISODE_GAP_MS) {
          logger.warn({ ...fields, ...(inEpisode > 0 ? { throttledInPreviousEpisode: inEpisode } : {}) }, "ARM is throttling this subscription (429); further 429s in this episode are logged at debug");
          inEpisode = 0;
        } else {
          logger.debug(fields, "ARM throttled a request (429)");
        }
        inEpisode += 1;
        lastThrottleAt = t;
      }
      return response;
    },
  };
}
