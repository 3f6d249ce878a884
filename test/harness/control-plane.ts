// A real Kubernetes control plane on loopback for tests and the demo: etcd + kube-apiserver
// (RBAC on) + kube-controller-manager, built from Go modules by hack/build-tools.sh into a per-user
// cache. envtest-style; see ../shared/control-plane.md for the verified flags.
import { execFileSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import https from "node:https";
import http from "node:http";
import { startProc, stopProc, type Proc } from "./procs.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface Tools {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  kstatus: string;
  snapshotCrds: string;
}

export function cacheDir(): string {
  return process.env.AKSNAP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "aksnap");
}

/** Builds (first time on a machine, ~15 min on 2 cores) or finds the binaries; returns their paths. */
export function ensureTools(what: "control-plane" | "kstatus" | "helm" | "csi" | "all" = "control-plane"): Tools {
  execFileSync("bash", [join(repoRoot, "hack/build-tools.sh"), what], { stdio: ["ignore", "inherit", "inherit"] });
  const env = Object.fromEntries(
    readFileSync(join(cacheDir(), "tools.env"), "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  const get = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`tools.env lacks ${k}`);
    return v;
  };
  return {
    kubeApiserver: get("KUBE_APISERVER"),
    kubeControllerManager: get("KUBE_CONTROLLER_MANAGER"),
    etcd: get("ETCD"),
    kstatus: get("KSTATUS"),
    snapshotCrds: get("SNAPSHOT_CRDS"),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** n distinct free ports: all held open until every one is known, so none is handed out twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((res, rej) => {
      const srv = createServer();
      srv.once("error", rej);
      srv.listen(0, "127.0.0.1", () => res(srv));
    })),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === "object" && a ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GETs url until it answers 200 (any TLS), or the deadline passes. */
async function waitHealthy(url: string, what: string, timeoutMs: number, proc: ChildProcess, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode} before becoming healthy`);
    try {
      const status = await new Promise<number>((res, rej) => {
        const mod = url.startsWith("https") ? https : http;
        const req = mod.get(url, { rejectUnauthorized: false, headers, timeout: 2000 }, (r) => {
          r.resume();
          res(r.statusCode ?? 0);
        });
        req.on("error", rej);
        req.on("timeout", () => req.destroy(new Error("timeout")));
      });
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (e) {
      last = String(e);
    }
    await sleep(100);
  }
  throw new Error(`${what} not healthy at ${url} after ${timeoutMs} ms: ${last}`);
}

export interface ControlPlaneOptions {
  /** Working directory (data, certs, logs). Default: a new temp dir, removed on stop. */
  dir?: string;
  /** Start kube-controller-manager (GC, namespace deletion, PV binding). Default true. */
  controllerManager?: boolean;
  tools?: Tools;
  /** Where process logs go. Default: files in dir. */
  logDir?: string;
  /**
   * Ready for a real kubelet (test/harness/node.ts, ../shared/real-node.md): Node,RBAC
   * authorization, a token user system:node:localhost, a client cert the apiserver shows the kubelet
   * (exec, logs), kubelets reached by Hostname and a loopback service range. Off by default: the rest
   * of the suite keeps the plain flags.
   */
  node?: boolean;
}

/** What a kubelet needs from a control plane started with `node: true`. */
export interface NodeAccess {
  nodeName: string;
  /** Bearer token of system:node:<nodeName> (group system:nodes). */
  kubeletToken: string;
  /** CA (PEM file) that signed the apiserver's kubelet client cert: the kubelet's x509 client CA. */
  clientCaFile: string;
  /** The apiserver's serving CA (PEM file). */
  serverCaFile: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** kubeconfig with an admin token (system:masters). */
  kubeconfigPath: string;
  adminToken: string;
  dir: string;
  /** Set when started with `node: true`. */
  node?: NodeAccess;
  pids(): number[];
  /** Stops kube-apiserver only and starts it again on the same port and etcd (watch-recovery tests). */
  restartApiServer(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}




export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const tools = opts.tools ?? ensureTools("control-plane");
  const ownDir = !opts.dir;
  const dir = opts.dir ?? join(tmpdir(), `aksnap-cp-${process.pid}-${randomBytes(3).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  const logDir = opts.logDir ?? dir;
  mkdirSync(logDir, { recursive: true });
  const certDir = join(dir, "certs");
  mkdirSync(certDir, { recursive: true });

  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }));
  const adminToken = randomBytes(16).toString("hex");
  const kubeletToken = randomBytes(16).toString("hex");
  const nodeName = "localhost";
  writeFileSync(
    join(dir, "tokens.csv"),
    `${adminToken},aksnap-admin,aksnap-admin,"system:masters"\n` +
      (opts.node ? `${kubeletToken},system:node:${nodeName},kubelet-${nodeName},"system:nodes"\n` : ""),
  );
  if (opts.node) kubeletClientCert(certDir);

  // Held together: a port freed by one freePort() call can be the next call's answer.
  const [etcdPort, peerPort, apiPort] = await freePorts(3);
  const procs: Proc[] = [];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = startProc("etcd", tools.etcd, [
    "--name", "aksnap-test",
    "--data-dir", join(dir, "etcd"),
    "--listen-client-urls", etcdUrl,
    "--advertise-client-urls", etcdUrl,
    "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-cluster", `aksnap-test=http://127.0.0.1:${peerPort}`,
    "--unsafe-no-fsync",
    "--log-level", "warn",
  ], logDir);
  procs.push(etcd);

  const server = `https://127.0.0.1:${apiPort}`;
  const apiArgs = [
    "--etcd-servers", etcdUrl,
    "--secure-port", String(apiPort),
    "--bind-address", "127.0.0.1",
    "--advertise-address", "127.0.0.1",
    "--endpoint-reconciler-type", "none",
    "--cert-dir", certDir,
    "--service-account-key-file", join(dir, "sa.pub"),
    "--service-account-signing-key-file", join(dir, "sa.key"),
    "--service-account-issuer", server,
    "--service-cluster-ip-range", opts.node ? "127.100.0.0/24" : "10.0.0.0/24",
    "--token-auth-file", join(dir, "tokens.csv"),
    "--authorization-mode", opts.node ? "Node,RBAC" : "RBAC",
    "--disable-admission-plugins", "ServiceAccount",
    "--allow-privileged=true",
    // A kubelet on loopback: reached as localhost:10250 (a loopback node IP is refused by the
    // kubelet), with a client cert it trusts through its x509 client CA.
    ...(opts.node
      ? [
          "--kubelet-preferred-address-types", "Hostname",
          "--kubelet-client-certificate", join(certDir, "kubelet-client.crt"),
          "--kubelet-client-key", join(certDir, "kubelet-client.key"),
        ]
      : []),
  ];
  let api: Proc | undefined;
  const startApi = async (): Promise<void> => {
    api = startProc("kube-apiserver", tools.kubeApiserver, apiArgs, logDir);
    await waitHealthy(`${server}/readyz`, "kube-apiserver", 90_000, api.child, { Authorization: `Bearer ${adminToken}` });
  };

  const kubeconfigPath = join(dir, "kubeconfig");
  let kcm: Proc | undefined;
  const stopAll = async (): Promise<void> => {
    for (const p of [kcm, api, etcd].filter((x): x is Proc => x !== undefined)) await stopProc(p);
  };
  try {
    await waitHealthy(`${etcdUrl}/health`, "etcd", 30_000, etcd.child);
    await startApi();
    // The serving cert the apiserver made for itself also carries its CA: trust exactly that.
    const ca = readFileSync(join(certDir, "apiserver.crt"));
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, ca.toString("base64"), adminToken));
    if (opts.controllerManager ?? true) {
      kcm = startProc("kube-controller-manager", tools.kubeControllerManager, [
        "--kubeconfig", kubeconfigPath,
        "--leader-elect=false",
        "--bind-address", "127.0.0.1",
        "--secure-port", "0",
        "--service-account-private-key-file", join(dir, "sa.key"),
        "--root-ca-file", join(certDir, "apiserver.crt"),
        "--controllers", "*,-nodeipam,-nodelifecycle",
      ], logDir);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  writeFileSync(join(dir, "pids"), [etcd, api, kcm].filter((p) => p).map((p) => `${p?.name} ${p?.child.pid}`).join("\n") + "\n");

  return {
    server,
    kubeconfigPath,
    adminToken,
    dir,
    ...(opts.node
      ? { node: { nodeName, kubeletToken, clientCaFile: join(certDir, "kubelet-client-ca.crt"), serverCaFile: join(certDir, "apiserver.crt") } }
      : {}),
    pids: () => [etcd, api, kcm].flatMap((p) => (p?.child.pid ? [p.child.pid] : [])),
    async restartApiServer(downMs = 1000) {
      if (api) await stopProc(api);
      await sleep(downMs);
      await startApi();
    },
    async stop() {
      await stopAll();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CA and a client cert in system:masters signed by it (openssl), for the apiserver → kubelet calls. */
function kubeletClientCert(certDir: string): void {
  const f = (n: string): string => join(certDir, n);
  const ssl = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=aksnap-kubelet-client-ca",
    "-keyout", f("kubelet-client-ca.key"), "-out", f("kubelet-client-ca.crt"));
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=kube-apiserver-kubelet-client",
    "-keyout", f("kubelet-client.key"), "-out", f("kubelet-client.csr"));
  ssl("x509", "-req", "-in", f("kubelet-client.csr"), "-CA", f("kubelet-client-ca.crt"), "-CAkey", f("kubelet-client-ca.key"),
    "-CAcreateserial", "-days", "2", "-out", f("kubelet-client.crt"));
}

export function kubeconfigYaml(server: string, caB64: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: aksnap-test
  cluster:
    server: ${server}
    certificate-authority-data: ${caB64}
users:
- name: admin
  user:
    token: ${token}
contexts:
- name: aksnap-test
  context:
    cluster: aksnap-test
    user: admin
current-context: aksnap-test
`;
}

/** Kills processes recorded in a control-plane dir's pid file (crash cleanup of a previous run). */
export function killRecorded(dir: string): void {
  const f = join(dir, "pids");
  if (!existsSync(f)) return;
  for (const line of readFileSync(f, "utf8").split("\n")) {
    const pid = Number(line.split(" ")[1]);
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
