// A small typed REST client over @kubernetes/client-node's KubeConfig (which owns auth: tokens,
// client certs, in-cluster config). We speak to the API directly so that resourceVersion, the status
// subresource, patch types and watch streams are explicit — exactly what an operator must get right.
import https from "node:https";
import http from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { classifyStatus, KubeApiError } from "./errors.ts";

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
}

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

export class KubeClient {
  private readonly kc: KubeConfig;
  readonly server: string;
  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/$/, "");
  }

  private async options(method: string, path: string, opts: RequestOptions): Promise<https.RequestOptions & { url: URL }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const o: https.RequestOptions = { method, headers: { Accept: "application/json" } };
    await this.kc.applyToHTTPSOptions(o);
    if (opts.body !== undefined) (o.headers as Record<string, string>)["Content-Type"] = opts.contentType ?? "application/json";
    return { ...o, url };
  }

  /** One request; JSON in and out. Non-2xx → KubeApiError (typed). */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const o = await this.options(method, path, opts);
    const mod = o.url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(o.url, { ...o, signal: opts.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new KubeApiError("transient", 0, "", String(e))));
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
          else reject(classifyStatus(code, body, res.headers["retry-after"] as string | undefined));
        });
      });
      req.on("error", (e) => reject(e instanceof KubeApiError ? e : new KubeApiError("transient", 0, "", `${method} ${path}: ${String(e)}`)));
      if (opts.body !== undefined) req.write(JSON.stringify(opts.body));
      req.end();
    });
  }

  async get(rt: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    return (await this.request("GET", resourcePath(rt, namespace, name))) as KubeObject;
  }

  /** GET that answers null for 404. */
  async tryGet(rt: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject | null> {
    try {
      return await this.get(rt, namespace, name);
    } catch (e) {
      if (e instanceof KubeApiError && e.kind === "notFound") return null;
      throw e;
    }
  }

  /** Lists all pages (limit/continue) and returns the list's resourceVersion for a following watch. */
  async list(rt: ResourceType, namespace?: string, opts: { labelSelector?: string; fieldSelector?: string; pageSize?: number; signal?: AbortSignal } = {}): Promise<ListResult> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = "";
    do {
      const page = (await this.request("GET", resourcePath(rt, namespace), {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.pageSize ?? 500, continue: cont },
        signal: opts.signal,
      })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const it of page.items ?? []) {
        // List items lack apiVersion/kind; restore them so downstream parsing sees whole objects.
        items.push({ ...it, apiVersion: apiVersionOf(rt), kind: rt.kind });
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  async create(rt: ResourceType, obj: KubeObject, opts: { dryRun?: boolean; fieldManager?: string } = {}): Promise<KubeObject> {
    return (await this.request("POST", resourcePath(rt, obj.metadata.namespace), {
      body: obj,
      query: { dryRun: opts.dryRun ? "All" : undefined, fieldManager: opts.fieldManager },
    })) as KubeObject;
  }

  async replace(rt: ResourceType, obj: KubeObject, opts: { dryRun?: boolean; fieldManager?: string } = {}): Promise<KubeObject> {
    return (await this.request("PUT", resourcePath(rt, obj.metadata.namespace, obj.metadata.name), {
      body: obj,
      query: { dryRun: opts.dryRun ? "All" : undefined, fieldManager: opts.fieldManager },
    })) as KubeObject;
  }

  /** JSON merge patch; include metadata.resourceVersion in the patch for optimistic concurrency. */
  async mergePatch(rt: ResourceType, namespace: string | undefined, name: string, patch: unknown, subresource?: string, fieldManager?: string): Promise<KubeObject> {
    return (await this.request("PATCH", resourcePath(rt, namespace, name, subresource), {
      body: patch,
      contentType: "application/merge-patch+json",
      query: { fieldManager },
    })) as KubeObject;
  }

  /** Server-side apply. */
  async apply(rt: ResourceType, obj: KubeObject, fieldManager: string, opts: { force?: boolean; subresource?: string } = {}): Promise<KubeObject> {
    return (await this.request("PATCH", resourcePath(rt, obj.metadata.namespace, obj.metadata.name, opts.subresource), {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager, force: opts.force ? true : undefined },
    })) as KubeObject;
  }

  async delete(rt: ResourceType, namespace: string | undefined, name: string, opts: { propagationPolicy?: "Foreground" | "Background" | "Orphan"; preconditionUid?: string } = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditionUid) body.preconditions = { uid: opts.preconditionUid };
    await this.request("DELETE", resourcePath(rt, namespace, name), { body });
  }

  /**
   * Opens a watch from resourceVersion and calls onEvent per line. Resolves when the server ends the
   * stream (normal timeout) and rejects on transport errors; abort with the signal.
   */
  async watch(
    rt: ResourceType,
    namespace: string | undefined,
    opts: { resourceVersion: string; labelSelector?: string; timeoutSeconds?: number; signal?: AbortSignal },
    onEvent: (e: WatchEvent) => void,
  ): Promise<void> {
    const o = await this.options("GET", resourcePath(rt, namespace), {
      query: {
        watch: true,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: opts.labelSelector,
        timeoutSeconds: opts.timeoutSeconds ?? 300,
      },
    });
    const mod = o.url.protocol === "https:" ? https : http;
    await new Promise<void>((resolve, reject) => {
      const req = mod.request(o.url, { ...o, signal: opts.signal }, (res) => {
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
            reject(classifyStatus(code, body));
          });
          return;
        }
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
              req.destroy(e instanceof Error ? e : new Error(String(e)));
              return;
            }
          }
        });
        res.on("end", () => resolve());
        res.on("error", (e) => reject(new KubeApiError("transient", 0, "", `watch ${rt.plural}: ${String(e)}`)));
        res.on("aborted", () => reject(new KubeApiError("transient", 0, "", `watch ${rt.plural} aborted`)));
      });
      req.on("error", (e) => reject(e instanceof KubeApiError ? e : new KubeApiError("transient", 0, "", `watch ${rt.plural}: ${String(e)}`)));
      req.end();
    });
  }
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
