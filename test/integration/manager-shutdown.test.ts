// The manager as a real process: an operator-shaped child (pino logs, informer → controller, Lease
// leader election against the real apiserver, health server) receives real signals. The first
// SIGTERM stops new work, lets the in-flight reconcile finish, releases the lease and the process
// exits on its own (nothing left holding the event loop); a second signal exits at once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, inject, it } from "vitest";
import { KubeClient } from "../../src/kube/client.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const src = (p: string): string => pathToFileURL(resolve(repoRoot, "src", p)).href;

// The child program: what main.ts will do, cut down to the runtime and one informer.
const program = `
import { existsSync } from "node:fs";
import { pino } from "pino";
import { KubeConfig, CoordinationV1Api } from "@kubernetes/client-node";
import { KubeClient, objectKey } from "${src("kube/client.ts")}";
import { Informer } from "${src("kube/informer.ts")}";
import { Controller } from "${src("runtime/controller.ts")}";
import { Manager } from "${src("runtime/manager.ts")}";
import { LeaderElector } from "${src("runtime/leaderelection.ts")}";
import { KubeLeaseStore } from "${src("runtime/lease-store-kube.ts")}";
import { SystemClock } from "${src("runtime/clock.ts")}";
import { shutdownSignal } from "${src("runtime/signals.ts")}";
import { done } from "${src("runtime/result.ts")}";

const log = pino({ level: "info" });
const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG_PATH);
const namespace = process.env.NS;
const releaseFile = process.env.RELEASE_FILE;
const clock = new SystemClock();
const informer = new Informer(new KubeClient(kc), { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true }, { namespace, labelSelector: "aksnap.io/test=shutdown" });
const controller = new Controller({
  name: "configmaps",
  logger: log,
  clock,
  reconcile: async (key, ctx) => {
    ctx.log.info({ event: "reconcile-start" }, "start");
    // Deliberately ignores ctx.signal: a slow ARM call, which answers once the test creates the file.
    while (!existsSync(releaseFile)) await clock.sleep(50);
    ctx.log.info({ event: "reconcile-done" }, "done");
    return done();
  },
});
informer.addHandler({ onAdd: (o) => controller.enqueue(objectKey(o)) });
const manager = new Manager({
  logger: log,
  clock,
  healthAddress: { host: "127.0.0.1", port: 0 },
  gracefulShutdownTimeoutMs: 20_000,
  leaderElector: new LeaderElector({
    store: new KubeLeaseStore({ api: kc.makeApiClient(CoordinationV1Api), namespace, name: "aksnap-leader" }),
    identity: "child-" + process.pid,
    clock,
    logger: log,
    leaseDurationMs: 4_000,
    renewDeadlineMs: 3_000,
    retryPeriodMs: 500,
  }),
});
manager.addSource(informer);
manager.addController(controller);
const shutdown = shutdownSignal({ logger: log });
const running = manager.start(shutdown.signal);
await manager.elected();
log.info({ event: "elected", port: manager.healthAddress()?.port }, "elected");
await running;
shutdown.dispose();
log.info({ event: "stopped" }, "manager stopped");
`;

interface Child {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** `releaseFile`: the in-flight reconcile finishes once it exists (never, if the test never writes it). */
function startChild(ns: string, releaseFile: string): Child {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", program], {
    cwd: repoRoot,
    env: { ...process.env, KUBECONFIG_PATH: inject("kubeconfig"), NS: ns, RELEASE_FILE: releaseFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(proc);
  const lines: Record<string, unknown>[] = [];
  let buf = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    buf += chunk.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
  });
  let stderr = "";
  proc.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on("exit", (code, signal) => {
      if (code !== 0 && stderr !== "") console.error(`[child stderr] ${stderr}`);
      res({ code, signal });
    }),
  );
  return { proc, lines, exited };
}

function event(c: Child, name: string): Record<string, unknown> | undefined {
  return c.lines.find((l) => l["event"] === name);
}

async function waitFor(c: Child, name: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return eventually(async () => event(c, name), `child event ${name}`, timeoutMs, 25);
}

describe("manager process shutdown on signals", () => {
  it("SIGTERM: readiness fails, the in-flight reconcile finishes, the lease is released, the process exits by itself", async () => {
    const kc = kubeConfig();
    const ns = await createNamespace(kc, "manager-sigterm");
    // The reconcile lasts until the test has seen readiness fail: with a fixed 2 s, a slow machine
    // could finish it, release the lease and exit before the readyz request, which then is refused.
    const release = join(mkdtempSync(join(tmpdir(), "aksnap-shutdown-")), "release");
    const child = startChild(ns, release);
    const elected = await waitFor(child, "elected");
    await new KubeClient(kc).create(
      { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-1", namespace: ns, labels: { "aksnap.io/test": "shutdown" } } },
    );
    const started = await waitFor(child, "reconcile-start");
    expect(started).toMatchObject({ controller: "configmaps", key: `${ns}/cm-1` });
    expect(typeof started["reconcileId"]).toBe("string");

    child.proc.kill("SIGTERM");
    await eventually(async () => (child.lines.some((l) => l["msg"]?.toString().startsWith("Received termination signal")) ? true : undefined), "signal logged");
    const ready = await fetch(`http://127.0.0.1:${String(elected["port"])}/readyz?verbose`);
    expect(ready.status).toBe(500);
    expect(await ready.text()).toContain("[-]shutdown failed: shutting down");
    writeFileSync(release, "");

    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const order = child.lines.map((l) => (l["event"] as string | undefined) ?? (l["msg"] as string | undefined) ?? "");
    expect(order.indexOf("reconcile-done")).toBeGreaterThan(order.findIndex((m) => m.startsWith("Received termination signal")));
    expect(order.indexOf("Released leader lease")).toBeGreaterThan(order.indexOf("reconcile-done"));
    expect(event(child, "stopped")).toBeDefined();
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "aksnap-leader", namespace: ns });
    expect(lease.spec?.holderIdentity).toBe("");
  });

  it("a second signal during the drain exits immediately with status 1", async () => {
    const kc = kubeConfig();
    const ns = await createNamespace(kc, "manager-sigint");
    const child = startChild(ns, join(mkdtempSync(join(tmpdir(), "aksnap-shutdown-")), "never-written"));
    await waitFor(child, "elected");
    await new KubeClient(kc).create(
      { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-1", namespace: ns, labels: { "aksnap.io/test": "shutdown" } } },
    );
    await waitFor(child, "reconcile-start");
    child.proc.kill("SIGTERM");
    await eventually(async () => (child.lines.some((l) => l["msg"]?.toString().startsWith("Received termination signal")) ? true : undefined), "signal logged");
    const sentAt = Date.now();
    child.proc.kill("SIGINT");
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    expect(event(child, "reconcile-done")).toBeUndefined();
  });
});
