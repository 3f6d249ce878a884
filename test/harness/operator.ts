// Runs the operator for integration tests and the demo: with the chart's real RBAC (a
// ServiceAccount token bound to the generated ClusterRole), against the ARM emulator, either
// in-process (fast, inspectable) or as a child process (SIGKILL, leader election across replicas).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { loadConfig, type Config } from "../../src/config.ts";
import { createOperator, NODE_FLAGS, PROCESS_ENV, type Operator } from "../../src/operator.ts";
import type { KubeClient} from "../../src/kube/client.ts";
import { type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { cacheDir, kubeconfigYaml } from "./control-plane.ts";
import { kubeClient, kubeConfig } from "./kube.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const OPERATOR_NAMESPACE = "aksnap-system";

function helmBin(): string {
  const env = readFileSync(join(cacheDir(), "tools.env"), "utf8");
  const m = /^HELM=(.*)$/m.exec(env);
  if (!m?.[1]) throw new Error("helm not built: run hack/build-tools.sh helm");
  return m[1];
}

/** `helm template` of the chart: the objects exactly as a user's install would create them. */
export function renderChart(namespace: string, showOnly: string[] = [], set: string[] = [], release = "aksnap"): KubeObject[] {
  const args = ["template", release, join(repoRoot, "deploy/helm/aksnap"), "--namespace", namespace, "--kube-version", "1.37.2"];
  for (const s of showOnly) args.push("--show-only", s);
  for (const s of set) args.push("--set", s);
  const out = execFileSync(helmBin(), args, { encoding: "utf8" });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object" && "kind" in o);
}

/** Where the kinds the chart renders (and a Namespace) live in the API. */
export const chartKinds: Record<string, ResourceType> = {
  Namespace: { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  Service: { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  Deployment: { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true },
  ServiceAccount: { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
  ClusterRole: { group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", kind: "ClusterRole", namespaced: false },
  ClusterRoleBinding: { group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  Role: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true },
  RoleBinding: { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true },
};

/**
 * Installs the chart's ServiceAccount and RBAC and returns a kubeconfig that authenticates as that
 * ServiceAccount, so the operator under test has exactly the permissions a real install grants.
 */
export async function operatorKubeconfig(admin: KubeClient, adminKc: KubeConfig, dir: string, namespace = OPERATOR_NAMESPACE, set: string[] = []): Promise<string> {
  try {
    await admin.create(chartKinds.Namespace as ResourceType, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  } catch (e) {
    if (!isKubeError(e, "alreadyExists")) throw e;
  }
  const objs = renderChart(namespace, ["templates/serviceaccount.yaml", "templates/rbac.yaml", "templates/clusterrolebinding.yaml"], set);
  for (const o of objs) {
    const t = chartKinds[o.kind];
    if (!t) throw new Error(`unexpected kind ${o.kind} in chart RBAC`);
    await admin.apply(t, o, "aksnap-test-harness", { force: true });
  }
  const sa = objs.find((o) => o.kind === "ServiceAccount")?.metadata.name ?? "aksnap";
  const tr = (await admin.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 7200 } },
  })) as { status?: { token?: string } };
  const token = tr.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  const cluster = adminKc.getCurrentCluster();
  if (!cluster?.caData) throw new Error("admin kubeconfig has no inline CA");
  const path = join(dir, "operator.kubeconfig");
  writeFileSync(path, kubeconfigYaml(cluster.server, cluster.caData, token));
  return path;
}

export interface OperatorEnv {
  kubeconfig: string;
  armEndpoint: string;
  armCaFile: string;
  subscriptionId: string;
}

export function operatorArgs(env: OperatorEnv, extra: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    kubeconfig: env.kubeconfig,
    "arm-endpoint": env.armEndpoint,
    "arm-ca-file": env.armCaFile,
    credential: "static-token",
    "default-subscription-id": env.subscriptionId,
    "metrics-bind-address": "127.0.0.1:0",
    "health-probe-bind-address": "127.0.0.1:0",
    "leader-elect": "false",
    "log-level": "warn",
    ...extra,
  };
  return Object.entries(flags).map(([k, v]) => `--${k}=${v}`);
}

export const STATIC_TOKEN = "emulator-accepts-any-token";

export interface InProcessOperator {
  operator: Operator;
  config: Config;
  stop(): Promise<void>;
  /** Sum of a counter/gauge in the operator's registry, optionally filtered by labels. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function startInProcess(env: OperatorEnv, extra: Record<string, string> = {}): Promise<InProcessOperator> {
  const cfg = loadConfig(operatorArgs(env, extra), { AKSNAP_STATIC_TOKEN: STATIC_TOKEN });
  if (cfg === "help") throw new Error("unexpected help");
  const operator = createOperator(cfg);
  const ac = new AbortController();
  const running = operator.run(ac.signal);
  running.catch(() => {});
  await Promise.race([operator.manager.elected(), running]);
  return {
    operator,
    config: cfg,
    async stop() {
      ac.abort();
      await running;
    },
    async metric(name, labels = {}) {
      const m = await operator.registry.getSingleMetric(name)?.get();
      if (!m) return 0;
      return m.values.filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val)).reduce((a, v) => a + v.value, 0);
    },
  };
}

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal). */
  exited: Promise<number | string>;
}

/**
 * The compiled operator the image runs (dist/src/main.js), built by hack/build.sh when a source is
 * newer than the last build (a no-op otherwise): a process under test is what ships.
 */
export function operatorEntry(): string {
  execFileSync("bash", [join(repoRoot, "hack/build.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  return join(repoRoot, "dist/src/main.js");
}

/** The image's Node flags, or AKSNAP_NODE_FLAGS (space-separated; benches compare V8 settings with it). */
function nodeFlags(): readonly string[] {
  const set = process.env.AKSNAP_NODE_FLAGS;
  return set === undefined ? NODE_FLAGS : set.split(" ").filter((f) => f !== "");
}

/** The operator as its own process, as the image runs it (compiled, the image's Node flags), logs to a file. */
export function spawnOperator(env: OperatorEnv, extra: Record<string, string> = {}, logDir = mkdtempSync(join(tmpdir(), "aksnap-op-"))): OperatorProcess {
  const logFile = join(logDir, `operator-${Date.now()}-${Math.random().toString(16).slice(2, 6)}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [...nodeFlags(), operatorEntry(), ...operatorArgs(env, extra)], {
    env: { ...process.env, ...PROCESS_ENV, AKSNAP_STATIC_TOKEN: STATIC_TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | string>((r) => child.once("exit", (code, sig) => r(code ?? sig ?? "unknown")));
  return { child, logFile, exited };
}

/**
 * The operator's environment against an emulator: a kubeconfig with the chart's RBAC (a
 * ServiceAccount token; `set` adds chart values such as hooks.enabled=true) and the emulator's CA,
 * in a fresh temp dir `aksnap-<prefix>-…` (where spawned operators also log).
 */
export async function operatorEnv(
  admin: KubeClient,
  adminKc: KubeConfig,
  emu: { url: string; ca: string },
  subscriptionId: string,
  opts: { prefix: string; set?: string[] },
): Promise<{ env: OperatorEnv; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `aksnap-${opts.prefix}-`));
  writeFileSync(join(dir, "ca.pem"), emu.ca);
  const kubeconfig = await operatorKubeconfig(admin, adminKc, dir, undefined, opts.set ?? []);
  return { env: { kubeconfig, armEndpoint: emu.url, armCaFile: join(dir, "ca.pem"), subscriptionId }, dir };
}

/** An ARM emulator with the demo world and the operator's environment for it (operatorEnv). */
export async function operatorWorld(prefix: string, subscriptionId: string): Promise<{ emu: RunningEmulator; admin: KubeClient; env: OperatorEnv; dir: string }> {
  const emu = await startEmulator({ world: "demo" });
  const kc = kubeConfig();
  const admin = kubeClient(kc);
  return { emu, admin, ...(await operatorEnv(admin, kc, emu, subscriptionId, { prefix })) };
}
