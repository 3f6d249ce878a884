// A small typed REST client over a kubeconfig's auth (tokens, client certs, in-cluster config:
// ./kubeconfig.ts in the operator, @kubernetes/client-node's KubeConfig in tests; see KubeAuth). We speak to the API directly so that resourceVersion, the status
// subresource, patch types and watch streams are explicit — exactly what an operator must get right.
import https from "node:https";
import type * as http from "node:http";
import { FixedTlsAgent } from "../runtime/tls-agent.ts";
import { classifyStatus, KubeApiError, withRequest } from "./errors.ts";
import type { KubeAuth } from "./kubeconfig.ts";
import { http as nodeHttp } from "../runtime/node-http.ts";

/** Where a kind lives in the API. */
export interface ResourceType {
  group: string; // "" for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  /** Server-side apply bookkeeping; informers drop it by default (see stripManagedFields). */
  managedFields?: unknown[];
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
}

/** The least every object has; typed parsing at the boundary turns it into a kind's own type. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export type WatchEvent =
  | { type: "ADDED" | "MODIFIED" | "DELETED"; object: KubeObject }
  | { type: "BOOKMARK"; resourceVersion: string }
  | { type: "ERROR"; status: { code?: number; reason?: string; message?: string } };

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Overrides the client's per-request timeout (ms). */
  timeoutMs?: number;
}

/** The trailing options every public method takes: a caller's signal (the reconcile's) and a timeout. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's per-request timeout (ms). */
  timeoutMs?: number;
}

export interface KubeClientOptions {
  /** Per-request deadline (a watch: until the response starts). Default 30 s, as a Go client's. */
  timeoutMs?: number;
  /** Connections kept per apiserver (requests beyond wait for one). Default 32. */
  maxSockets?: number;
  /** TCP keepalive probe delay on idle connections. Default 30 s (client-go's dialer). */
  tcpKeepAliveMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  const ns = rt.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const n = name ? `/${encodeURIComponent(name)}` : "";
  const sub = subresource ? `/${subresource}` : "";
  return `${base}${ns}/${rt.plural}${n}${sub}`;
}

export function objectKey(o: { metadata: { namespace?: string; name: string } }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** TLS material the agent is built from; the agent is rebuilt when it changes (rotated client certs). */
const TLS_KEYS = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername", "ciphers", "secureProtocol"] as const;

function tlsOptionsOf(o: https.RequestOptions): https.AgentOptions {
  const picked: Record<string, unknown> = {};
  for (const k of TLS_KEYS) if (o[k] !== undefined) picked[k] = o[k];
  return picked as https.AgentOptions;
}

// Our kubeconfig loader hands out the same Buffers on every request: encode each once.
const encoded = new WeakMap<Buffer, string>();
function base64Of(b: Buffer): string {
  let s = encoded.get(b);
  if (s === undefined) encoded.set(b, (s = b.toString("base64")));
  return s;
}

/** By value: client-node's KubeConfig hands out fresh Buffers for the same CA and client cert on every request. */
function tlsFingerprint(o: https.AgentOptions): string {
  const part = (v: unknown): string => {
    if (v === undefined) return "";
    if (Buffer.isBuffer(v)) return base64Of(v);
    if (Array.isArray(v)) return v.map(part).join(",");
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  return TLS_KEYS.map((k) => part(o[k])).join("|");
}

function transient(message: string, reason = ""): KubeApiError {
  return new KubeApiError("transient", 0, reason, message);
}

export class KubeClient {
  private readonly kc: KubeAuth;
  readonly server: string;
  private readonly timeoutMs: number;
  private readonly agentOptions: https.AgentOptions;
  private readonly usesProxy: boolean;
  private agent: { tls: string; agent: http.Agent } | undefined;

  constructor(kc: KubeAuth, opts: KubeClientOptions = {}) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
    this.usesProxy = Boolean(cluster.proxyUrl);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // kc.applyToHTTPSOptions hands out an agent without keep-alive: every request would open (and
    // TLS-handshake) a new connection. Ours reuses connections and probes idle ones with TCP
    // keepalive, so a dead peer is noticed by the kernel as well as by our deadlines.
    // Idle connections are kept up to the pool size: with 8 (Node's usual), a burst of workers
    // waiting on ARM at once closed the rest, and the next burst paid a TLS handshake for each
    // (client-go keeps 25 idle per host for the same reason).
    const maxSockets = opts.maxSockets ?? 32;
    this.agentOptions = {
      keepAlive: true,
      keepAliveMsecs: opts.tcpKeepAliveMs ?? 30_000,
      maxSockets,
      maxFreeSockets: maxSockets,
      scheduling: "lifo",
    };
  }

  /** The keep-alive agent for these TLS options (one per client; rebuilt only if they change). */
  private agentFor(protocol: string, o: https.RequestOptions): http.Agent | undefined {
    if (this.usesProxy) return undefined; // keep the proxy agent kubeconfig built
    const tls = tlsOptionsOf(o);
    const fingerprint = tlsFingerprint(tls);
    if (this.agent?.tls === fingerprint) return this.agent.agent;
    this.agent?.agent.destroy();
    const agent = protocol === "https:" ? new FixedTlsAgent({ ...this.agentOptions, ...tls }) : new nodeHttp.Agent(this.agentOptions);
    this.agent = { tls: fingerprint, agent };
    return agent;
  }

  /** Closes idle kept-alive connections (tests, shutdown). In-flight requests are not affected. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  private async options(method: string, path: string, opts: RequestOptions): Promise<https.RequestOptions & { url: URL }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const o: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    await this.kc.applyToHTTPSOptions(o);
    const agent = this.agentFor(url.protocol, o);
    if (agent) {
      o.agent = agent;
      // The agent holds the TLS options and applies them to every socket it opens.
      for (const k of TLS_KEYS) delete o[k];
    }
    if (opts.body !== undefined) {
      // An explicit length: Node sends a DELETE body without framing otherwise, which the server
      // then reads as the next request on a kept-alive connection (and DeleteOptions are lost).
      const headers = o.headers as Record<string, string | number>;
      headers["Content-Type"] = opts.contentType ?? "application/json";
      headers["Content-Length"] = Buffer.byteLength(JSON.stringify(opts.body));
    }
    return { ...o, url };
  }

  /**
   * Starts a request with a deadline and the caller's signal. onResponse gets the response; the
   * returned promise settles via settle. The deadline covers the whole exchange unless
   * onResponse calls `clearDeadline` (a watch: its stream has the informer's inactivity deadline).
   */
  private send<T>(
    method: string,
    path: string,
    opts: RequestOptions,
    onResponse: (res: http.IncomingMessage, settle: { resolve: (v: T) => void; reject: (e: unknown) => void; clearDeadline: () => void; req: http.ClientRequest }) => void,
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const what = `${method} ${path}`;
    return new Promise<T>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(transient(`${what}: aborted`, "Aborted"));
      let req: http.ClientRequest | undefined;
      let done = false;
      const cleanup = (): void => {
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const fail = (e: unknown): void => {
        if (done) return;
        cleanup();
        reject(e);
      };
      const ok = (v: T): void => {
        if (done) return;
        cleanup();
        resolve(v);
      };
      // Destroying the request (not just rejecting) frees the socket: a black-holed connection is
      // never handed to the next request.
      const onAbort = (): void => {
        const e = transient(`${what}: aborted`, "Aborted");
        fail(e);
        req?.destroy(e);
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => {
        const e = transient(`${what}: no answer within ${timeoutMs} ms`, "Timeout");
        fail(e);
        req?.destroy(e);
      }, timeoutMs);
      this.options(method, path, opts).then((o) => {
        if (done) return;
        const mod = o.url.protocol === "https:" ? https : nodeHttp;
        req = mod.request(o.url, o, (res) => onResponse(res, { resolve: ok, reject: fail, clearDeadline: () => clearTimeout(timer), req: req as http.ClientRequest }));
        // Node's agent turns TCP keepalive on only when a socket returns to the pool; a watch on a
        // fresh socket would go without it, so probe from the start.
        req.on("socket", (socket) => socket.setKeepAlive(true, this.agentOptions.keepAliveMsecs));
        req.on("error", (e) => fail(e instanceof KubeApiError ? e : transient(`${what}: ${String(e)}`)));
        if (opts.body !== undefined) req.write(JSON.stringify(opts.body));
        req.end();
      }, fail);
    });
  }

  /** One request; JSON in and out. Non-2xx → KubeApiError (typed); timeout or abort → transient. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    return this.send<unknown>(method, path, opts, (res, { resolve, reject }) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => reject(transient(`${method} ${path}: ${String(e)}`)));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = { message: text };
        }
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(body);
        else reject(withRequest(classifyStatus(code, body, res.headers["retry-after"] as string | undefined), method, path));
      });
    });
  }

  async get(rt: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<KubeObject> {
    return (await this.request("GET", resourcePath(rt, namespace, name), call(opts))) as KubeObject;
  }

  /** GET that answers null for 404. */
  async tryGet(rt: ResourceType, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<KubeObject | null> {
    try {
      return await this.get(rt, namespace, name, opts);
    } catch (e) {
      if (e instanceof KubeApiError && e.kind === "notFound") return null;
      throw e;
    }
  }

  /**
   * Lists all pages (limit/continue) and returns the list's resourceVersion for a following watch.
   * `each` maps every item as its page arrives (an informer's transform), so a large list never
   * holds every object in its full wire form at once.
   */
  async list(
    rt: ResourceType,
    namespace?: string,
    opts: { labelSelector?: string; fieldSelector?: string; pageSize?: number; each?: (item: KubeObject) => KubeObject } & CallOptions = {},
  ): Promise<ListResult> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      const page = (await this.request("GET", resourcePath(rt, namespace), {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.pageSize ?? 500, continue: cont },
        ...call(opts),
      })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const it of page.items ?? []) {
        // List items lack apiVersion/kind; restore them so downstream parsing sees whole objects.
        const whole = { ...it, apiVersion: apiVersionOf(rt), kind: rt.kind };
        items.push(opts.each ? opts.each(whole) : whole);
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  async create(rt: ResourceType, obj: KubeObject, opts: { dryRun?: boolean; fieldManager?: string } & CallOptions = {}): Promise<KubeObject> {
    return (await this.request("POST", resourcePath(rt, obj.metadata.namespace), {
      body: obj,
      query: { dryRun: opts.dryRun ? "All" : undefined, fieldManager: opts.fieldManager },
      ...call(opts),
    })) as KubeObject;
  }

  async replace(rt: ResourceType, obj: KubeObject, opts: { dryRun?: boolean; fieldManager?: string } & CallOptions = {}): Promise<KubeObject> {
    return (await this.request("PUT", resourcePath(rt, obj.metadata.namespace, obj.metadata.name), {
      body: obj,
      query: { dryRun: opts.dryRun ? "All" : undefined, fieldManager: opts.fieldManager },
      ...call(opts),
    })) as KubeObject;
  }

  /** JSON merge patch; include metadata.resourceVersion in the patch for optimistic concurrency. */
  async mergePatch(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    subresource?: string,
    fieldManager?: string,
    opts: CallOptions = {},
  ): Promise<KubeObject> {
    return (await this.request("PATCH", resourcePath(rt, namespace, name, subresource), {
      body: patch,
      contentType: "application/merge-patch+json",
      query: { fieldManager },
      ...call(opts),
    })) as KubeObject;
  }

  /** Server-side apply. */
  async apply(rt: ResourceType, obj: KubeObject, fieldManager: string, opts: { force?: boolean; subresource?: string } & CallOptions = {}): Promise<KubeObject> {
    return (await this.request("PATCH", resourcePath(rt, obj.metadata.namespace, obj.metadata.name, opts.subresource), {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager, force: opts.force ? true : undefined },
      ...call(opts),
    })) as KubeObject;
  }

  async delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { propagationPolicy?: "Foreground" | "Background" | "Orphan"; preconditionUid?: string } & CallOptions = {},
  ): Promise<void> {
    const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditionUid) body.preconditions = { uid: opts.preconditionUid };
    await this.request("DELETE", resourcePath(rt, namespace, name), { body, ...call(opts) });
  }

  /**
   * Opens a watch from resourceVersion and calls onEvent per line. Resolves when the server ends the
   * stream (normal timeout) and rejects on transport errors; abort with the signal. The request
   * timeout covers the wait for the response to start; the stream itself is guarded by the
   * informer's inactivity deadline (bookmarks arrive about once a minute).
   */
  async watch(
    rt: ResourceType,
    namespace: string | undefined,
    opts: { resourceVersion: string; labelSelector?: string; timeoutSeconds?: number; onOpen?: () => void } & CallOptions,
    onEvent: (e: WatchEvent) => void,
  ): Promise<void> {
    const path = resourcePath(rt, namespace);
    const query = {
      watch: true,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: true,
      labelSelector: opts.labelSelector,
      timeoutSeconds: opts.timeoutSeconds ?? 300,
    };
    await this.send<void>("GET", path, { query, ...call(opts) }, (res, { resolve, reject, clearDeadline, req }) => {
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            body = undefined;
          }
          reject(withRequest(classifyStatus(code, body), "WATCH", path));
        });
        return;
      }
      clearDeadline();
      opts.onOpen?.();
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(toWatchEvent(JSON.parse(line) as { type: string; object: KubeObject }, rt));
          } catch (e) {
            // The handler's error (e.g. a 410 ERROR event) is the watch's outcome.
            reject(e);
            req.destroy();
            return;
          }
        }
      });
      res.on("end", () => resolve());
      res.on("error", (e) => reject(transient(`watch ${rt.plural}: ${String(e)}`)));
      res.on("aborted", () => reject(transient(`watch ${rt.plural} aborted`)));
    });
  }
}

function call(opts: CallOptions): Pick<RequestOptions, "signal" | "timeoutMs"> {
  const out: Pick<RequestOptions, "signal" | "timeoutMs"> = {};
  if (opts.signal !== undefined) out.signal = opts.signal;
  if (opts.timeoutMs !== undefined) out.timeoutMs = opts.timeoutMs;
  return out;
}

function toWatchEvent(raw: { type: string; object: KubeObject }, rt: ResourceType): WatchEvent {
  switch (raw.type) {
    case "ADDED":
    case "MODIFIED":
    case "DELETED":
      return { type: raw.type, object: { ...raw.object, apiVersion: raw.object.apiVersion ?? apiVersionOf(rt), kind: raw.object.kind ?? rt.kind } };
    case "BOOKMARK":
      return { type: "BOOKMARK", resourceVersion: raw.object.metadata?.resourceVersion ?? "" };
    case "ERROR":
      return { type: "ERROR", status: raw.object as unknown as { code?: number; reason?: string; message?: string } };
    default:
      throw new Error(`unknown watch event type ${raw.type}`);
  }
}
