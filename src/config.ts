// The operator's configuration: the only reader of process.env and argv. Flags win over env;
// every value is validated here so a bad setting fails at start with a clear message, not later.
import { parseArgs } from "node:util";

export type CredentialMode = "workload-identity" | "default" | "static-token";

export interface AllowedScopes {
  /** namespace (or "*") → ARM scope prefixes (`/subscriptions/<id>` or `/subscriptions/<id>/resourceGroups/<rg>`). */
  byNamespace: Map<string, string[]>;
}

export interface Config {
  kubeconfig: string | undefined;
  defaultSubscriptionId: string | undefined;
  armEndpoint: string;
  armCaFile: string | undefined;
  credential: CredentialMode;
  staticToken: string | undefined;
  /** The variables the AKS workload-identity webhook injects (credential workload-identity). */
  azure: { clientId?: string; tenantId?: string; federatedTokenFile?: string; authorityHost?: string };
  watchNamespaces: string[]; // empty = all
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  metricsAddr: string; // host:port, "0" disables
  healthAddr: string;
  workers: number;
  armWriteQps: number;
  armWriteBurst: number;
  resyncPeriodMs: number;
  stalledRecheckMs: number;
  /** A reconcile running longer than this is aborted (its signal fires) and retried. */
  reconcileTimeoutMs: number;
  verificationDeadlineMs: number;
  /** How often a VolumeSnapshot waiting on its Azure copy is read again (one GET per handle). */
  verificationPollIntervalMs: number;
  /** Verify every VolumeSnapshot not opted out, not only aksnap's own and opted-in ones. */
  verifyAllVolumeSnapshots: boolean;
  allowedScopes: AllowedScopes | undefined; // undefined = single-tenant, all allowed
  /** How long a RestoreRequest may stay Running (ARM operation, provisioning, hydration) before it fails. */
  restoreDeadlineMs: number;
  /** Regions a RestoreRequest may create or upgrade in (canonical names); undefined = all. */
  allowedRegions: string[] | undefined;
  logLevel: "trace" | "debug" | "info" | "warn" | "error";
}

const options = {
  kubeconfig: { type: "string" },
  "default-subscription-id": { type: "string" },
  "arm-endpoint": { type: "string" },
  "arm-ca-file": { type: "string" },
  credential: { type: "string" },
  "watch-namespaces": { type: "string" },
  "leader-elect": { type: "string" },
  "leader-election-namespace": { type: "string" },
  "leader-election-id": { type: "string" },
  identity: { type: "string" },
  "metrics-bind-address": { type: "string" },
  "health-probe-bind-address": { type: "string" },
  workers: { type: "string" },
  "arm-write-qps": { type: "string" },
  "arm-write-burst": { type: "string" },
  "resync-period": { type: "string" },
  "stalled-recheck-period": { type: "string" },
  "reconcile-timeout": { type: "string" },
  "verification-deadline": { type: "string" },
  "verification-poll-interval": { type: "string" },
  "verify-all-volume-snapshots": { type: "string" },
  "allowed-scopes": { type: "string" },
  "allowed-regions": { type: "string" },
  "restore-deadline": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean" },
} as const;

/** Flag name → environment variable, documented in docs/operator.md. */
export const envNames: Record<Exclude<keyof typeof options, "help">, string> = {
  kubeconfig: "KUBECONFIG",
  "default-subscription-id": "AKSNAP_DEFAULT_SUBSCRIPTION_ID",
  "arm-endpoint": "AKSNAP_ARM_ENDPOINT",
  "arm-ca-file": "AKSNAP_ARM_CA_FILE",
  credential: "AKSNAP_CREDENTIAL",
  "watch-namespaces": "AKSNAP_WATCH_NAMESPACES",
  "leader-elect": "AKSNAP_LEADER_ELECT",
  "leader-election-namespace": "AKSNAP_LEADER_ELECTION_NAMESPACE",
  "leader-election-id": "AKSNAP_LEADER_ELECTION_ID",
  identity: "AKSNAP_IDENTITY",
  "metrics-bind-address": "AKSNAP_METRICS_BIND_ADDRESS",
  "health-probe-bind-address": "AKSNAP_HEALTH_PROBE_BIND_ADDRESS",
  workers: "AKSNAP_WORKERS",
  "arm-write-qps": "AKSNAP_ARM_WRITE_QPS",
  "arm-write-burst": "AKSNAP_ARM_WRITE_BURST",
  "resync-period": "AKSNAP_RESYNC_PERIOD",
  "stalled-recheck-period": "AKSNAP_STALLED_RECHECK_PERIOD",
  "reconcile-timeout": "AKSNAP_RECONCILE_TIMEOUT",
  "verification-deadline": "AKSNAP_VERIFICATION_DEADLINE",
  "verification-poll-interval": "AKSNAP_VERIFICATION_POLL_INTERVAL",
  "verify-all-volume-snapshots": "AKSNAP_VERIFY_ALL_VOLUME_SNAPSHOTS",
  "allowed-scopes": "AKSNAP_ALLOWED_SCOPES",
  "allowed-regions": "AKSNAP_ALLOWED_REGIONS",
  "restore-deadline": "AKSNAP_RESTORE_DEADLINE",
  "log-level": "AKSNAP_LOG_LEVEL",
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Parses `90s`, `5m`, `1h`, `2d`, `1h30m` into milliseconds. */
export function parseDuration(s: string, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * (unit[m[2] ?? "s"] ?? 0);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length) throw new ConfigError(`${what}: "${s}" is not a duration (use e.g. 90s, 5m, 1h, 1d)`);
  return total;
}

/** A period the operator waits on: zero would requeue at once, forever (a hot loop of ARM calls). */
function parsePositiveDuration(s: string, what: string): number {
  const ms = parseDuration(s, what);
  if (ms <= 0) throw new ConfigError(`${what}: "${s}" must be longer than 0`);
  return ms;
}

function parsePositiveInt(s: string, what: string): number {
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new ConfigError(`${what}: "${s}" must be a whole number ≥ 1`);
  return Number(s);
}

function parsePositive(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${what}: "${s}" must be a number > 0`);
  return n;
}

function parseBool(s: string, what: string): boolean {
  if (/^(true|1|yes)$/i.test(s)) return true;
  if (/^(false|0|no)$/i.test(s)) return false;
  throw new ConfigError(`${what}: "${s}" must be true or false`);
}

/** `ns-a=/subscriptions/<id>/resourceGroups/rg1,/subscriptions/<id2>;*=/subscriptions/<id>` */
export function parseAllowedScopes(s: string): AllowedScopes {
  const byNamespace = new Map<string, string[]>();
  for (const part of s.split(";").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ConfigError(`allowed-scopes: "${part}" must look like namespace=/subscriptions/<id>[/resourceGroups/<rg>][,...]`);
    const ns = part.slice(0, eq).trim();
    const scopes = part
      .slice(eq + 1)
      .split(",")
      .map((x) => x.trim().replace(/\/+$/, ""))
      .filter(Boolean);
    for (const sc of scopes) {
      if (!/^\/subscriptions\/[0-9a-fA-F-]{36}(\/resourceGroups\/[-\w._()]{1,90})?$/i.test(sc)) {
        throw new ConfigError(`allowed-scopes: "${sc}" is not /subscriptions/<guid> or /subscriptions/<guid>/resourceGroups/<name>`);
      }
    }
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), ...scopes]);
  }
  return { byNamespace };
}

/** `westeurope,northeurope`: canonical Azure region names (lower-case, no spaces). */
export function parseAllowedRegions(s: string): string[] {
  const regions = s.split(",").map((r) => r.trim()).filter(Boolean);
  for (const r of regions) {
    if (!/^[a-z][a-z0-9]{1,39}$/.test(r)) throw new ConfigError(`allowed-regions: "${r}" is not a canonical Azure region name such as westeurope`);
  }
  if (regions.length === 0) throw new ConfigError("allowed-regions: empty; omit the flag to allow every region");
  return regions;
}

/** Whether namespace may touch the ARM resource id (case-insensitive prefix match on scope). */
export function scopeAllowed(scopes: AllowedScopes | undefined, namespace: string, armId: string): boolean {
  if (!scopes) return true;
  const list = scopes.byNamespace.get(namespace) ?? scopes.byNamespace.get("*") ?? [];
  const id = armId.toLowerCase();
  return list.some((sc) => {
    const p = sc.toLowerCase();
    return id === p || id.startsWith(`${p}/`);
  });
}

export const usage = `aksnap — Kubernetes operator for AKS snapshots

Flags (each also settable by the environment variable shown):
${Object.entries(envNames)
  .map(([flag, env]) => `  --${flag.padEnd(28)} ${env}`)
  .join("\n")}
`;

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.values.help) return "help";
  const get = (flag: keyof typeof envNames): string | undefined => {
    const v = (parsed.values as Record<string, unknown>)[flag];
    if (typeof v === "string") return v;
    const e = env[envNames[flag]];
    return e === undefined || e === "" ? undefined : e;
  };

  const sub = get("default-subscription-id");
  if (sub !== undefined && !guid.test(sub)) throw new ConfigError(`default-subscription-id: "${sub}" is not a subscription GUID`);
  const endpoint = get("arm-endpoint") ?? "https://management.azure.com";
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`arm-endpoint: "${endpoint}" is not a URL`);
  }
  if (url.protocol !== "https:") throw new ConfigError(`arm-endpoint: "${endpoint}" must be https (the Azure SDK refuses bearer tokens over http)`);
  const credential = (get("credential") ?? "workload-identity") as CredentialMode;
  if (!["workload-identity", "default", "static-token"].includes(credential)) {
    throw new ConfigError(`credential: "${credential}" must be workload-identity, default or static-token`);
  }
  const staticToken = env.AKSNAP_STATIC_TOKEN;
  if (credential === "static-token" && !staticToken) throw new ConfigError("credential static-token needs AKSNAP_STATIC_TOKEN (only for the local ARM emulator)");
  const azure = {
    ...(env.AZURE_CLIENT_ID ? { clientId: env.AZURE_CLIENT_ID } : {}),
    ...(env.AZURE_TENANT_ID ? { tenantId: env.AZURE_TENANT_ID } : {}),
    ...(env.AZURE_FEDERATED_TOKEN_FILE ? { federatedTokenFile: env.AZURE_FEDERATED_TOKEN_FILE } : {}),
    ...(env.AZURE_AUTHORITY_HOST ? { authorityHost: env.AZURE_AUTHORITY_HOST } : {}),
  };
  if (credential === "workload-identity") {
    const missing = (["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] as const).filter((k) => !env[k]);
    if (missing.length > 0) {
      throw new ConfigError(
        `credential workload-identity needs ${missing.join(", ")} (injected by the AKS workload-identity webhook: label the pod azure.workload.identity/use: "true" and annotate its ServiceAccount with azure.workload.identity/client-id), or use --credential default`,
      );
    }
  }
  const level = get("log-level") ?? "info";
  if (!["trace", "debug", "info", "warn", "error"].includes(level)) throw new ConfigError(`log-level: "${level}" must be trace, debug, info, warn or error`);
  const scopes = get("allowed-scopes");
  const regions = get("allowed-regions");
  return {
    kubeconfig: get("kubeconfig"),
    defaultSubscriptionId: sub,
    armEndpoint: endpoint.replace(/\/+$/, ""),
    armCaFile: get("arm-ca-file"),
    credential,
    staticToken,
    azure,
    watchNamespaces: (get("watch-namespaces") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    leaderElect: parseBool(get("leader-elect") ?? "true", "leader-elect"),
    leaderElectionNamespace: get("leader-election-namespace") ?? env.POD_NAMESPACE ?? "aksnap-system",
    leaderElectionId: get("leader-election-id") ?? "aksnap-leader",
    identity: get("identity") ?? env.POD_NAME ?? `${env.HOSTNAME ?? "aksnap"}-${process.pid}`,
    metricsAddr: get("metrics-bind-address") ?? ":8080",
    healthAddr: get("health-probe-bind-address") ?? ":8081",
    // A reconcile mostly waits on round trips (a real ARM PUT takes seconds): 16 keep the default
    // ARM write budget (10/s) busy; on a 2-core test machine 8 and 16 both beat 4 (docs/operator.md).
    workers: parsePositiveInt(get("workers") ?? "16", "workers"),
    armWriteQps: parsePositive(get("arm-write-qps") ?? "10", "arm-write-qps"),
    armWriteBurst: parsePositiveInt(get("arm-write-burst") ?? "200", "arm-write-burst"),
    resyncPeriodMs: parsePositiveDuration(get("resync-period") ?? "1h", "resync-period"),
    stalledRecheckMs: parsePositiveDuration(get("stalled-recheck-period") ?? "10m", "stalled-recheck-period"),
    reconcileTimeoutMs: parsePositiveDuration(get("reconcile-timeout") ?? "60s", "reconcile-timeout"),
    verificationDeadlineMs: parsePositiveDuration(get("verification-deadline") ?? "2h", "verification-deadline"),
    verificationPollIntervalMs: parsePositiveDuration(get("verification-poll-interval") ?? "15s", "verification-poll-interval"),
    verifyAllVolumeSnapshots: parseBool(get("verify-all-volume-snapshots") ?? "false", "verify-all-volume-snapshots"),
    allowedScopes: scopes ? parseAllowedScopes(scopes) : undefined,
    allowedRegions: regions ? parseAllowedRegions(regions) : undefined,
    restoreDeadlineMs: parsePositiveDuration(get("restore-deadline") ?? "6h", "restore-deadline"),
    logLevel: level as Config["logLevel"],
  };
}

/** host:port → {host, port}; ":8080" binds all interfaces; "[::]:8080" is IPv6; "0" disables. */
export function parseBindAddress(addr: string): { host: string; port: number } | undefined {
  if (addr === "0") return undefined;
  const i = addr.lastIndexOf(":");
  // Go's bracketed IPv6 form (as controller-runtime takes it); Node's listen() wants the bare address.
  const host = i <= 0 ? "0.0.0.0" : addr.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const digits = addr.slice(i + 1);
  const port = Number(digits);
  // Number("") is 0: "host:" must not quietly mean "any free port".
  if (!/^\d+$/.test(digits) || port > 65535) throw new ConfigError(`bind address "${addr}" has no valid port`);
  return { host, port };
}
