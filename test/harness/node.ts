// A real node for the tests that need one (../shared/real-node.md): containerd + runc (Debian
// packages, hack/node/install-deps.sh) and kubelet v1.37.2 (hack/build-tools.sh node) registered as
// node `localhost` with a control plane started with `node: true`, the locally built pause and tools
// images (hack/node/images.sh) imported. Everything stays on loopback: pods use hostNetwork, the CNI
// config holds only the loopback plugin, the kubelet and containerd listen on 127.0.0.1. Started per
// test file (beforeAll); stop() removes containers, stops the daemons by pid, unmounts what is left
// under the node's dir and removes it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { cacheDir, freePort, type ControlPlane, type NodeAccess } from "./control-plane.ts";
import { startProc, stopProc, type Proc } from "./procs.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface NodeImages {
  pause: string;
  tools: string;
  pauseTar: string;
  toolsTar: string;
}

export interface RealNode {
  nodeName: string;
  /** The kubelet's --root-dir: plugins register through `<rootDir>/plugins_registry/`. */
  rootDir: string;
  /** `<rootDir>/plugins_registry`: where a CSI driver's registration socket goes. */
  registrationDir: string;
  /** The kubelet's pluginregistration api.proto (Go module cache). */
  pluginProto: string;
  dir: string;
  images: NodeImages;
  /** Time from the first spawn to the Node being Ready, and of the whole start (images, build checks). */
  readyMs: number;
  startMs: number;
  pids(): number[];
  /** `ctr` against this node's containerd in the CRI namespace. */
  ctr(...args: string[]): string;
  stop(): Promise<void>;
}

function readEnv(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** Debian packages, the kubelet and the images: each step is skipped when already done. */
export function ensureNodeTools(): { kubelet: string; pluginProto: string; images: NodeImages } {
  const run = (script: string, ...args: string[]): string =>
    execFileSync("bash", [join(repoRoot, script), ...args], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" }).trim();
  run("hack/node/install-deps.sh");
  const tools = (): Record<string, string> => readEnv(join(cacheDir(), "tools.env"));
  const built = (): boolean => [tools()["KUBELET"], tools()["KUBELET_PLUGIN_PROTO"]].every((f) => f !== undefined && existsSync(f));
  // Checkouts share the cache and an older build-tools.sh rewrites tools.env without these keys.
  if (!built()) run("hack/build-tools.sh", "node");
  if (!built()) throw new Error("kubelet not built: bash hack/build-tools.sh node");
  const kubelet = tools()["KUBELET"] ?? "";
  const pluginProto = tools()["KUBELET_PLUGIN_PROTO"] ?? "";
  const manifest = readEnv(run("hack/node/images.sh").split("\n").pop() ?? "");
  const need = (k: string): string => {
    const v = manifest[k];
    if (!v) throw new Error(`node-images.env lacks ${k}`);
    return v;
  };
  return {
    kubelet,
    pluginProto,
    images: { pause: need("PAUSE_IMAGE"), tools: need("TOOLS_IMAGE"), pauseTar: need("PAUSE_TAR"), toolsTar: need("TOOLS_TAR") },
  };
}




const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function containerdConfig(dir: string, pauseImage: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${dir}/containerd/containerd.sock"
[ttrpc]
  address = "${dir}/containerd/containerd.sock.ttrpc"
[debug]
  level = "warn"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  disable_apparmor = true
  restrict_oom_score_adj = true
  tolerate_missing_hugetlb_controller = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${dir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/containerd/opt"
`;
}

function kubeletConfig(dir: string, access: NodeAccess, port: number): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: ${port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
resolvConf: ""
podLogsDir: ${dir}/pod-logs
containerRuntimeEndpoint: unix://${dir}/containerd/containerd.sock
imageServiceEndpoint: unix://${dir}/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${access.clientCaFile}}
authorization:
  mode: Webhook
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
syncFrequency: 5s
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 5s
`;
}

/** Mount points at or under `root`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(root: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (!mp) continue;
    const path = mp.replace(/\\040/g, " ");
    if (path === root || path.startsWith(root + "/")) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Pids whose command line names `path` (the containerd shims of this node only: they carry its socket path). */
function pidsNaming(path: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(path)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Fixed host paths the kubelet and containerd use whatever their root dirs: the device-plugin socket
 * dir, the shims' socket dir, the container log links. Removed at stop when the node created them.
 */
export const FIXED_HOST_PATHS = ["/var/lib/kubelet", "/run/containerd", "/var/log/containers"] as const;

/** Links in /var/log/containers that point into `dir` (the kubelet's per-container log links). */
export function logLinksInto(dir: string): string[] {
  const d = "/var/log/containers";
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .map((f) => join(d, f))
    .filter((f) => {
      try {
        return readlinkSync(f).startsWith(dir + "/");
      } catch {
        return false;
      }
    });
}

/** The cgroup dirs containerd's CRI plugin makes for pods with no QoS parent (one per hierarchy). */
export function criCgroups(): string[] {
  const root = "/sys/fs/cgroup";
  const out: string[] = [];
  for (const h of existsSync(root) ? readdirSync(root) : []) if (existsSync(join(root, h, "k8s.io"))) out.push(join(root, h, "k8s.io"));
  if (existsSync(join(root, "k8s.io"))) out.push(join(root, "k8s.io"));
  return out;
}

/** Containers the kubelet left (it does not remove pods on exit): killed and deleted through containerd. */
async function removeContainers(ctr: (...args: string[]) => string, socket: string): Promise<void> {
  if (!existsSync(socket)) return;
  const quiet = (...args: string[]): void => {
    try {
      ctr(...args);
    } catch {
      // no task, or gone
    }
  };
  let ids: string[];
  try {
    ids = ctr("containers", "list", "-q").split("\n").filter(Boolean);
  } catch {
    return; // containerd already down
  }
  for (const id of ids) quiet("tasks", "kill", "-a", "-s", "SIGKILL", id);
  if (ids.length) await sleep(500);
  for (const id of ids) {
    quiet("tasks", "delete", "-f", id);
    quiet("containers", "delete", id);
  }
}

/** By path: every process naming the dir (kubelet, containerd, shims), then its mounts and log links. */
function clearPaths(dir: string): void {
  for (const pid of pidsNaming(dir + "/")) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const mp of mountsUnder(dir)) {
    try {
      execFileSync("umount", ["-l", mp], { stdio: "ignore" });
    } catch {
      // already gone with its parent
    }
  }
  for (const link of logLinksInto(dir)) rmSync(link, { force: true });
}

const NODE_DIR_PREFIX = "aksnap-node-";

/** Node dirs whose owner process still lives (other than `except`). */
function liveNodeDirs(except?: string): string[] {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith(NODE_DIR_PREFIX))
    .map((n) => join(tmpdir(), n))
    .filter((d) => d !== except && existsSync(join(d, "owner")))
    .filter((d) => {
      const owner = Number(readFileSync(join(d, "owner"), "utf8").trim());
      return owner > 0 && existsSync(`/proc/${owner}`);
    });
}

interface HostBefore {
  hostPaths: string[];
  cgroups: string[];
}

/**
 * What a node found on the host before it started, written into its dir: what it created at fixed
 * places (host paths, cgroup parents) is removed when it stops — unless another live node uses them.
 */
function removeHostLeftovers(dir: string, before: HostBefore): void {
  if (liveNodeDirs(dir).length > 0) return;
  for (const p of FIXED_HOST_PATHS) if (!before.hostPaths.includes(p)) rmSync(p, { recursive: true, force: true });
  // Empty cgroup parents this node's containerd created (rmdir refuses a non-empty one).
  for (const cg of criCgroups().filter((c) => !before.cgroups.includes(c))) {
    try {
      rmdirSync(cg);
    } catch {
      // still in use
    }
  }
}

/**
 * Nodes left by a test process that died (SIGKILL, crash) before its stop(): their dir names the
 * owner pid. Containers go through their containerd if it still answers, then everything naming the
 * dir is killed, unmounted and removed. Called by startNode; safe while other nodes run.
 */
export async function reapOrphanNodes(): Promise<string[]> {
  const reaped: string[] = [];
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(NODE_DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, "owner");
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, "utf8").trim());
    if (owner > 0 && existsSync(`/proc/${owner}`)) continue;
    const socket = join(dir, "containerd/containerd.sock");
    const ctr = (...args: string[]): string =>
      execFileSync("ctr", ["--address", socket, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    await removeContainers(ctr, socket);
    clearPaths(dir);
    const beforeFile = join(dir, "host-before.json");
    if (existsSync(beforeFile)) removeHostLeftovers(dir, JSON.parse(readFileSync(beforeFile, "utf8")) as HostBefore);
    rmSync(dir, { recursive: true, force: true });
    reaped.push(dir);
  }
  return reaped;
}

export interface StartNodeOptions {
  dir?: string;
  /** Extra kubelet log verbosity. */
  verbosity?: number;
}

export async function startNode(cp: ControlPlane, opts: StartNodeOptions = {}): Promise<RealNode> {
  const access = cp.node;
  if (!access) throw new Error("startNode needs a control plane started with { node: true }");
  const t0 = Date.now();
  const { kubelet, images, pluginProto } = ensureNodeTools();
  // Short: unix socket paths are limited to 108 bytes.
  const reaped = await reapOrphanNodes();
  if (reaped.length) console.warn(`[node] removed nodes left by dead test processes: ${reaped.join(", ")}`);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), NODE_DIR_PREFIX));
  writeFileSync(join(dir, "owner"), `${process.pid}\n`);
  for (const d of ["containerd", "cni", "kubelet", "pod-logs", "certs"]) mkdirSync(join(dir, d), { recursive: true });
  const rootDir = join(dir, "kubelet");
  const socket = join(dir, "containerd/containerd.sock");
  // containerd wants a CNI config before it reports the network ready; loopback only: nothing on the host changes.
  writeFileSync(join(dir, "cni/10-loopback.conflist"), JSON.stringify({ cniVersion: "1.0.0", name: "aksnap-loopback", plugins: [{ type: "loopback" }] }));
  writeFileSync(join(dir, "containerd/config.toml"), containerdConfig(dir, images.pause));
  // A free port, not 10250: the apiserver reaches the kubelet at the port its Node status reports.
  writeFileSync(join(dir, "kubelet-config.yaml"), kubeletConfig(dir, access, await freePort()));
  const ca = readFileSync(access.serverCaFile).toString("base64");
  writeFileSync(
    join(dir, "kubelet.kubeconfig"),
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority-data: ${ca}}}]
users: [{name: kubelet, user: {token: ${access.kubeletToken}}}]
contexts: [{name: c, context: {cluster: c, user: kubelet}}]
current-context: c
`,
  );
  const procs: Proc[] = [];
  // Another live node may have made them: then they count as there before.
  const hostBefore: HostBefore = {
    hostPaths: FIXED_HOST_PATHS.filter((p) => existsSync(p)),
    cgroups: criCgroups(),
  };
  writeFileSync(join(dir, "host-before.json"), JSON.stringify(hostBefore));
  const ctr = (...args: string[]): string =>
    execFileSync("ctr", ["--address", socket, "-n", "k8s.io", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const kl = procs.find((p) => p.name === "kubelet");
    if (kl) await stopProc(kl, 10_000);
    await removeContainers(ctr, socket);
    const cd = procs.find((p) => p.name === "containerd");
    if (cd) await stopProc(cd, 10_000);
    clearPaths(dir);
    removeHostLeftovers(dir, hostBefore);
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };

  const tSpawn = Date.now();
  try {
    const cd = startProc("containerd", "containerd", ["--config", join(dir, "containerd/config.toml")], dir);
    procs.push(cd);
    for (let i = 0; ; i++) {
      if (cd.child.exitCode !== null) throw new Error(`containerd exited ${cd.child.exitCode}: ${readFileSync(join(dir, "containerd.log"), "utf8").slice(-2000)}`);
      if (existsSync(socket)) {
        try {
          ctr("version");
          break;
        } catch {
          // not serving yet
        }
      }
      if (i > 300) throw new Error("containerd did not serve within 30 s");
      await sleep(100);
    }
    ctr("images", "import", images.pauseTar);
    ctr("images", "import", images.toolsTar);
    const kl = startProc("kubelet", kubelet, [
      "--config", join(dir, "kubelet-config.yaml"),
      "--kubeconfig", join(dir, "kubelet.kubeconfig"),
      "--root-dir", rootDir,
      "--cert-dir", join(dir, "certs"),
      "--hostname-override", access.nodeName,
      `--v=${opts.verbosity ?? 1}`,
    ], dir);
    procs.push(kl);
    await waitNodeReady(cp, access.nodeName, kl, dir, 120_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const readyMs = Date.now() - tSpawn;
  writeFileSync(join(dir, "pids"), procs.map((p) => `${p.name} ${p.child.pid}`).join("\n") + "\n");
  return {
    nodeName: access.nodeName,
    rootDir,
    registrationDir: join(rootDir, "plugins_registry"),
    pluginProto,
    dir,
    images,
    readyMs,
    startMs: Date.now() - t0,
    pids: () => procs.flatMap((p) => (p.child.pid ? [p.child.pid] : [])),
    ctr,
    stop,
  };
}

async function waitNodeReady(cp: ControlPlane, name: string, kubelet: Proc, dir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const client = new KubeClient(kc);
  let last = "";
  while (Date.now() < deadline) {
    if (kubelet.child.exitCode !== null) throw new Error(`kubelet exited ${kubelet.child.exitCode}: ${readFileSync(join(dir, "kubelet.log"), "utf8").slice(-3000)}`);
    try {
      const n = (await client.request("GET", `/api/v1/nodes/${name}`)) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
      const ready = n.status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True") return;
      last = ready?.message ?? "no Ready condition";
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new Error(`node ${name} not Ready in ${timeoutMs} ms: ${last} (log: ${join(dir, "kubelet.log")})`);
}

// ---- pods on the node ----

export const podType: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };

export interface PodSpecInput {
  /** Shell script run by busybox sh in the tools image. */
  script: string;
  /** PVC mounted at /data. */
  claim?: string;
  readOnly?: boolean;
}

/** A pod of the tools image pinned to the node: hostNetwork (loopback only), never pulled. */
export function toolsPod(node: RealNode, ns: string, name: string, p: PodSpecInput): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: {
      nodeName: node.nodeName,
      hostNetwork: true,
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      tolerations: [{ operator: "Exists" }],
      containers: [
        {
          name: "main",
          image: node.images.tools,
          imagePullPolicy: "Never",
          command: ["/bin/sh", "-c", p.script],
          // The script's last words come back in status (no log scraping needed).
          terminationMessagePolicy: "FallbackToLogsOnError",
          ...(p.claim ? { volumeMounts: [{ name: "data", mountPath: "/data", readOnly: p.readOnly ?? false }] } : {}),
        },
      ],
      ...(p.claim ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: p.claim, readOnly: p.readOnly ?? false } }] } : {}),
    },
  };
}

interface PodStatus {
  status?: {
    phase?: string;
    containerStatuses?: Array<{ state?: { terminated?: { exitCode?: number; message?: string } } }>;
  };
}

/** Runs a tools pod to completion; its termination message (/dev/termination-log) and exit code. */
export async function runPod(
  client: KubeClient,
  node: RealNode,
  ns: string,
  name: string,
  p: PodSpecInput,
  timeoutMs = 120_000,
): Promise<{ phase: string; exitCode: number; message: string }> {
  await client.create(podType, toolsPod(node, ns, name, p));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = (await client.get(podType, ns, name)) as PodStatus;
    const phase = pod.status?.phase ?? "";
    if (phase === "Succeeded" || phase === "Failed") {
      const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
      return { phase, exitCode: t?.exitCode ?? -1, message: (t?.message ?? "").trim() };
    }
    if (Date.now() > deadline) throw new Error(`pod ${ns}/${name} still ${phase || "unscheduled"} after ${timeoutMs} ms`);
    await sleep(250);
  }
}
