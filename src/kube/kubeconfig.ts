// The operator's own kubeconfig loader: in-cluster (ServiceAccount token, CA) or a kubeconfig file
// with a token, a token file, or a client certificate. @kubernetes/client-node's KubeConfig does
// the same but loading that package costs ≈ 80 MiB RSS (it pulls in every generated API), more
// than the rest of the operator together; the operator uses none of it beyond this (issue 8 §5).
// KubeClient takes anything with these two methods, so tests keep passing client-node's KubeConfig.
import { readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

/** What KubeClient needs from a kubeconfig (client-node's KubeConfig has the same two methods). */
export interface KubeAuth {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export const IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Bound ServiceAccount tokens rotate (about hourly); client-go re-reads the file once a minute. */
export const TOKEN_FILE_REREAD_MS = 60_000;

interface Resolved {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  tokenFile?: string;
  servername?: string;
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  "current-context"?: string;
  clusters?: Array<Named<{ cluster?: Record<string, unknown> }>>;
  users?: Array<Named<{ user?: Record<string, unknown> }>>;
  contexts?: Array<Named<{ context?: { cluster?: string; user?: string } }>>;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function fileOrData(base: string, record: Record<string, unknown>, fileKey: string, dataKey: string): Buffer | undefined {
  const data = str(record[dataKey]);
  if (data) return Buffer.from(data, "base64");
  const file = str(record[fileKey]);
  return file ? readFileSync(file.startsWith("/") ? file : join(base, file)) : undefined;
}

/** Parses a kubeconfig file's current context. Exec and auth-provider plugins are not supported. */
export function resolveKubeconfig(text: string, baseDir: string): Resolved {
  const doc = (parse(text) ?? {}) as KubeconfigFile;
  const ctxName = doc["current-context"];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context ?? (doc.contexts?.length === 1 ? doc.contexts[0]?.context : undefined);
  if (!ctx) throw new Error(`kubeconfig: no current context${ctxName ? ` "${ctxName}"` : ""}`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || !str(cluster.server)) throw new Error(`kubeconfig: cluster "${ctx.cluster ?? ""}" not found or has no server`);
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw new Error("kubeconfig: exec and auth-provider credentials are not supported by the operator; use a token, a token file or a client certificate");
  }
  const out: Resolved = { server: String(cluster.server), insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true };
  if (str(cluster["proxy-url"])) throw new Error("kubeconfig: proxy-url is not supported by the operator");
  const servername = str(cluster["tls-server-name"]);
  if (servername) out.servername = servername;
  const ca = fileOrData(baseDir, cluster, "certificate-authority", "certificate-authority-data");
  if (ca) out.ca = ca;
  const cert = fileOrData(baseDir, user, "client-certificate", "client-certificate-data");
  const key = fileOrData(baseDir, user, "client-key", "client-key-data");
  if (cert) out.cert = cert;
  if (key) out.key = key;
  const token = str(user.token);
  if (token) out.token = token;
  const tokenFile = str(user.tokenFile);
  if (tokenFile) out.tokenFile = tokenFile.startsWith("/") ? tokenFile : join(baseDir, tokenFile);
  return out;
}

function inCluster(env: NodeJS.ProcessEnv, dir: string): Resolved {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error("not running in a cluster (KUBERNETES_SERVICE_HOST unset) and no kubeconfig given (--kubeconfig or $KUBECONFIG)");
  const h = host.includes(":") ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca: readFileSync(join(dir, "ca.crt")), insecureSkipTlsVerify: false, tokenFile: join(dir, "token") };
}

export interface LoadOptions {
  /** --kubeconfig; else $KUBECONFIG (its first entry), else in-cluster, else ~/.kube/config. */
  path?: string | undefined;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  inClusterDir?: string;
}

/** client-go's order: explicit path, $KUBECONFIG, in-cluster, ~/.kube/config. */
export function loadKubeAuth(opts: LoadOptions = {}): KubeAuth {
  const env = opts.env ?? process.env;
  const fromFile = (p: string): Resolved => resolveKubeconfig(readFileSync(p, "utf8"), join(p, ".."));
  let r: Resolved;
  const explicit = opts.path ?? env.KUBECONFIG?.split(":").find((p) => p !== "");
  if (explicit) r = fromFile(explicit);
  else if (env.KUBERNETES_SERVICE_HOST) r = inCluster(env, opts.inClusterDir ?? IN_CLUSTER_DIR);
  else r = fromFile(join(homedir(), ".kube", "config"));
  return kubeAuthFrom(r, opts.now ?? Date.now);
}

export function kubeAuthFrom(r: Resolved, now: () => number): KubeAuth {
  let cached: { token: string; at: number } | undefined;
  const token = (): string | undefined => {
    if (!r.tokenFile) return r.token;
    if (!cached || now() - cached.at >= TOKEN_FILE_REREAD_MS) cached = { token: readFileSync(r.tokenFile, "utf8").trim(), at: now() };
    return cached.token;
  };
  return {
    getCurrentCluster: () => ({ server: r.server }),
    applyToHTTPSOptions(o: RequestOptions): Promise<void> {
      if (r.ca) o.ca = r.ca;
      if (r.cert) o.cert = r.cert;
      if (r.key) o.key = r.key;
      if (r.servername) o.servername = r.servername;
      if (r.insecureSkipTlsVerify) o.rejectUnauthorized = false;
      const t = token();
      if (t) o.headers = { ...(o.headers as Record<string, string> | undefined), Authorization: `Bearer ${t}` };
      return Promise.resolve();
    },
  };
}
