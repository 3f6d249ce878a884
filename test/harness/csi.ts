// The real CSI snapshot path beside a control plane: the upstream snapshot-controller,
// csi-snapshotter and csi-provisioner (built by hack/build-tools.sh csi) and the project's test CSI
// driver (test/csi-driver, as its own process) on a unix socket, backed by an ARM emulator. Started
// per test file that needs it (beforeAll), so the rest of the suite pays nothing; torn down by pid.
// See ../shared/control-plane.md ("The real CSI snapshot path").
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CsiCall } from "../csi-driver/driver.ts";
import type { CopyHold, CopyState } from "../csi-driver/data.ts";
import type { SnapshotBehaviour } from "../csi-driver/logic.ts";
import { setRemoteBehaviour } from "../csi-driver/control.ts";
import { cacheDir, freePorts } from "./control-plane.ts";
import { startProc, stopProc, type Proc } from "./procs.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface CsiTools {
  snapshotController: string;
  snapshotter: string;
  provisioner: string;
  sanity: string;
  /** csi.proto in the Go module cache. */
  proto: string;
}

function readCsiTools(): CsiTools | string {
  const env = readFileSync(join(cacheDir(), "tools.env"), "utf8");
  const keys = { snapshotController: "CSI_SNAPSHOT_CONTROLLER", snapshotter: "CSI_SNAPSHOTTER", provisioner: "CSI_PROVISIONER", sanity: "CSI_SANITY", proto: "CSI_PROTO" };
  const out: Partial<CsiTools> = {};
  for (const [field, key] of Object.entries(keys) as Array<[keyof CsiTools, string]>) {
    const v = new RegExp(`^${key}=(.*)$`, "m").exec(env)?.[1];
    if (!v || !existsSync(v)) return `${key} ${v ?? "(missing from tools.env)"} not built: run bash hack/build-tools.sh csi`;
    out[field] = v;
  }
  return out as CsiTools;
}

/**
 * Paths from tools.env. Checkouts share the cache and an older build-tools.sh rewrites tools.env
 * without the CSI keys, so a miss runs `build-tools.sh csi` once (seconds when the binaries exist).
 */
export function csiTools(): CsiTools {
  const first = readCsiTools();
  if (typeof first !== "string") return first;
  execFileSync("bash", [join(repoRoot, "hack/build-tools.sh"), "csi"], { stdio: ["ignore", "inherit", "inherit"] });
  const again = readCsiTools();
  if (typeof again === "string") throw new Error(again);
  return again;
}

export interface CsiPathOptions {
  kubeconfigPath: string;
  /** The ARM emulator the driver talks to. */
  arm: { url: string; ca: string };
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  behaviour?: SnapshotBehaviour;
  /**
   * Upper bound of the sidecars' retry backoff (their default is 5 min): csi-snapshotter re-calls
   * CreateSnapshot on that schedule while the driver answers not ready, so tests keep it short.
   */
  retryIntervalMax?: string;
  /** Working dir (socket, logs). Default: a new temp dir, removed on stop. */
  dir?: string;
  /** Where disk and snapshot content lives (default `<dir>/data`) and how fast copies go. */
  dataRoot?: string;
  copyBytesPerSecond?: number;
  /** Register the driver's Node service with a real kubelet (test/harness/node.ts). */
  node?: { nodeId: string; registrationDir: string; registrationProto: string };
}

export interface CsiPath {
  /** unix:///…/csi.sock */
  endpoint: string;
  controlUrl: string;
  /** Wall time from the first spawn until all four processes answered. */
  startMs: number;
  dir: string;
  setBehaviour(b: SnapshotBehaviour): Promise<void>;
  /** Holds every copy of a kind at a percentage (null releases). */
  setCopyHold(h: CopyHold | null): Promise<void>;
  copies(): Promise<CopyState[]>;
  /** What the kubelet answered to the driver's plugin registration (null before it called). */
  registration(): Promise<{ registered: boolean; error: string } | null>;
  dataRoot: string;
  /** The driver's gRPC call log (CreateSnapshot re-calls, what it answered). */
  calls(): Promise<CsiCall[]>;
  pids(): number[];
  stop(): Promise<void>;
}




async function until(what: string, p: Proc, timeoutMs: number, ok: () => Promise<boolean>, dir: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) {
      const log = existsSync(join(dir, `${p.name}.log`)) ? readFileSync(join(dir, `${p.name}.log`), "utf8").slice(-2000) : "";
      throw new Error(`${p.name} exited with ${p.child.exitCode} before ${what}:\n${log}`);
    }
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.name}: ${what} not reached in ${timeoutMs} ms (log: ${join(dir, `${p.name}.log`)})`);
}

const httpOk = (url: string) => async (): Promise<boolean> => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

export async function startCsiPath(opts: CsiPathOptions): Promise<CsiPath> {
  const tools = csiTools();
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "aksnap-csi-"));
  const t0 = Date.now();
  const socket = join(dir, "csi.sock");
  const endpoint = `unix://${socket}`;
  writeFileSync(join(dir, "arm-ca.pem"), opts.arm.ca);
  const readyFile = join(dir, "driver.json");
  const dataRoot = opts.dataRoot ?? join(dir, "data");
  const procs: Proc[] = [];
  const retryMax = opts.retryIntervalMax ?? "2s";
  const stopAll = async (): Promise<void> => {
    for (const p of procs.slice().reverse()) await stopProc(p);
  };
  let controlUrl = "";
  try {
    const driver = startProc("csi-driver", process.execPath, [
      join(repoRoot, "test/csi-driver/main.ts"),
      "--endpoint", endpoint,
      "--arm-endpoint", opts.arm.url,
      "--ca", join(dir, "arm-ca.pem"),
      "--subscription", opts.subscriptionId,
      "--resource-group", opts.resourceGroup,
      "--location", opts.location,
      "--behaviour", opts.behaviour ?? "wait-for-copy",
      "--proto", tools.proto,
      "--ready-file", readyFile,
      "--data-root", dataRoot,
      ...(opts.copyBytesPerSecond !== undefined ? ["--copy-rate", String(opts.copyBytesPerSecond)] : []),
      ...(opts.node
        ? ["--node-id", opts.node.nodeId, "--registration-dir", opts.node.registrationDir, "--registration-proto", opts.node.registrationProto]
        : []),
    ], dir);
    procs.push(driver);
    await until("its ready file", driver, 30_000, async () => existsSync(readyFile), dir);
    controlUrl = (JSON.parse(readFileSync(readyFile, "utf8")) as { control: string }).control;

    // Each serves metrics on a loopback port once it is up (the sidecars only after they reached
    // the driver over the socket): that is the readiness signal.
    const common = ["--kubeconfig", opts.kubeconfigPath, "--leader-election=false", `--retry-interval-start=500ms`, `--retry-interval-max=${retryMax}`];
    // Held together: a port freed by one freePort() call can be the next call's answer.
    const [sc0, snap0, prov0] = await freePorts(3);
    const ports = { sc: sc0, snap: snap0, prov: prov0 };
    const sc = startProc("snapshot-controller", tools.snapshotController, [...common, `--http-endpoint=127.0.0.1:${ports.sc}`], dir);
    procs.push(sc);
    const snap = startProc("csi-snapshotter", tools.snapshotter, [
      ...common,
      "--csi-address", socket,
      "--extra-create-metadata",
      "--timeout=60s",
      `--http-endpoint=127.0.0.1:${ports.snap}`,
    ], dir);
    procs.push(snap);
    const prov = startProc("csi-provisioner", tools.provisioner, [
      ...common,
      "--csi-address", socket,
      "--extra-create-metadata",
      // CreateVolume waits for ARM's long-running disk PUT; the default 10 s is tight on a loaded machine.
      "--timeout=60s",
      `--http-endpoint=127.0.0.1:${ports.prov}`,
    ], dir);
    procs.push(prov);
    await Promise.all([
      until("/metrics", sc, 60_000, httpOk(`http://127.0.0.1:${ports.sc}/metrics`), dir),
      until("/metrics", snap, 60_000, httpOk(`http://127.0.0.1:${ports.snap}/metrics`), dir),
      until("/metrics", prov, 60_000, httpOk(`http://127.0.0.1:${ports.prov}/metrics`), dir),
    ]);
  } catch (e) {
    await stopAll();
    throw e;
  }
  const startMs = Date.now() - t0;
  writeFileSync(join(dir, "pids"), procs.map((p) => `${p.name} ${p.child.pid}`).join("\n") + "\n");
  return {
    endpoint,
    controlUrl,
    startMs,
    dir,
    setBehaviour: (b) => setRemoteBehaviour(controlUrl, b),
    dataRoot,
    async setCopyHold(h) {
      const r = await fetch(`${controlUrl}/copy-hold`, h ? { method: "PUT", body: JSON.stringify(h) } : { method: "DELETE" });
      if (!r.ok) throw new Error(`csi-driver control: ${r.status} ${await r.text()}`);
    },
    copies: async () => (await (await fetch(`${controlUrl}/copies`)).json()) as CopyState[],
    registration: async () => (await (await fetch(`${controlUrl}/registration`)).json()) as { registered: boolean; error: string } | null,
    calls: async () => (await (await fetch(`${controlUrl}/calls`)).json()) as CsiCall[],
    pids: () => procs.flatMap((p) => (p.child.pid ? [p.child.pid] : [])),
    async stop() {
      await stopAll();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
