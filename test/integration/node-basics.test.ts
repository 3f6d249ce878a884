// The real node itself (test/harness/node.ts): containerd + runc + kubelet v1.37.2 registered with a
// control plane of its own, a pod of the locally built tools image running to completion, its log
// read through the apiserver (which reaches the kubelet with its client cert), and a teardown that
// leaves no process, mount or host network address behind.
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { Exec, KubeConfig, type V1Status } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.ts";
import { startControlPlane, type ControlPlane } from "../harness/control-plane.ts";
import { createNamespace } from "../harness/kube.ts";
import { killRecorded } from "../harness/control-plane.ts";
import { criCgroups, FIXED_HOST_PATHS, logLinksInto, mountsUnder, reapOrphanNodes, podType, runPod, startNode, toolsPod, type RealNode } from "../harness/node.ts";
import { eventually } from "../harness/kube.ts";

const addrs = (): string => execFileSync("ip", ["-o", "addr"], { encoding: "utf8" }).split("\n").map((l) => l.split(/\s+/).slice(1, 4).join(" ")).sort().join("\n");
const links = (): string => execFileSync("ip", ["-o", "link"], { encoding: "utf8" }).split("\n").map((l) => l.split(":")[1]?.trim() ?? "").sort().join("\n");

let cp: ControlPlane;
let node: RealNode;
let client: KubeClient;
let kc: KubeConfig;
const before = { addrs: "", links: "", cgroups: [] as string[], hostPaths: [] as string[] };
const hostPaths = (): string[] => FIXED_HOST_PATHS.filter((p) => existsSync(p));

beforeAll(async () => {
  before.addrs = addrs();
  before.links = links();
  before.cgroups = criCgroups();
  before.hostPaths = hostPaths();
  cp = await startControlPlane({ node: true });
  node = await startNode(cp);
  console.log(`[node] Ready ${node.readyMs} ms after the first spawn; whole start ${node.startMs} ms`);
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  client = new KubeClient(kc);
  // A fresh machine installs the Debian packages and builds the images here first.
}, 300_000);

afterAll(async () => {
  await node?.stop();
  await cp?.stop();
});

it("runs a pod of the local tools image on loopback and serves its log through the apiserver", async () => {
  const ns = await createNamespace(kc, "node-basics");
  const r = await runPod(client, node, ns, "hello", {
    script: "echo -n aksnap | sha256sum | cut -d' ' -f1 > /dev/termination-log; echo logged",
  });
  expect([r.phase, r.exitCode]).toEqual(["Succeeded", 0]);
  expect(r.message).toBe(execFileSync("sh", ["-c", "echo -n aksnap | sha256sum | cut -d' ' -f1"], { encoding: "utf8" }).trim());
  const log = (await client.request("GET", `/api/v1/namespaces/${ns}/pods/hello/log`)) as { message?: string };
  expect(log.message).toContain("logged");
});

it("execs a command in a running pod through the apiserver's pods/exec (what hooks use), with its exit code", async () => {
  const ns = await createNamespace(kc, "node-exec");
  await client.create(podType, toolsPod(node, ns, "app", { script: "sleep 3600" }));
  await eventually(async () => ((await client.get(podType, ns, "app")) as { status?: { phase?: string } }).status?.phase === "Running" || undefined, "pod Running", 60_000, 200);
  let out = "";
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc).exec(ns, "app", "main", ["/bin/sh", "-c", "echo flushed > /tmp/marker; cat /tmp/marker; exit 3"], stdout, null, null, false, resolve).catch(reject);
  });
  expect(out.trim()).toBe("flushed");
  expect(status.status).toBe("Failure");
  expect(status.details?.causes?.find((c) => c.reason === "ExitCode")?.message).toBe("3");
});

it("leaves no process, mount, address or interface behind", async () => {
  const pids = node.pids();
  const dir = node.dir;
  await node.stop();
  for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
  expect(mountsUnder(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
  expect(addrs()).toBe(before.addrs);
  expect(links()).toBe(before.links);
  expect(criCgroups()).toEqual(before.cgroups);
  expect(hostPaths()).toEqual(before.hostPaths);
  expect(logLinksInto(dir)).toEqual([]);
});

it("a node whose test process was SIGKILLed (pod running) is reaped by path: processes, mounts, dir", async () => {
  const child = spawn(process.execPath, ["test/harness/node-main.ts", "--pod"], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`node-main exited ${code}`)));
  });
  const started = JSON.parse(line) as { cpDir: string; nodeDir: string };
  const naming = (): string[] =>
    execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(started.nodeDir + "/"));
  expect(naming().length).toBeGreaterThan(2); // kubelet, containerd, a shim
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  expect(mountsUnder(started.nodeDir).length).toBeGreaterThan(0); // the pod's rootfs, the sandbox's shm
  const reaped = await reapOrphanNodes();
  killRecorded(started.cpDir);
  expect(reaped).toContain(started.nodeDir);
  expect(naming()).toEqual([]);
  // The pod's own process was killed through containerd, not left as an orphan.
  expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l === "sleep 3600")).toEqual([]);
  expect(mountsUnder(started.nodeDir)).toEqual([]);
  expect(existsSync(started.nodeDir)).toBe(false);
  expect(logLinksInto(started.nodeDir)).toEqual([]);
  execFileSync("rm", ["-rf", started.cpDir]);
  // What it made at fixed host places goes too (no other node lives: this file's was stopped above).
  expect(hostPaths()).toEqual(before.hostPaths);
  expect(criCgroups()).toEqual(before.cgroups);
}, 180_000);

