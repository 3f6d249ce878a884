// Builds the running operator from a Config: kube client, informers, ARM ports, controllers,
// manager, metrics. main.ts only parses config and handles the process; tests can build the same
// operator in-process.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { pino, type Logger } from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";
import { createAzure, createCredential, fixedTokenCredential, type AzureLayer } from "./azure/index.ts";
import { parseBindAddress, type Config } from "./config.ts";
import { setupVerifier } from "./controllers/volumesnapshot/setup.ts";
import { setupNodePoolSnapshotController } from "./controllers/nodepoolsnapshot/setup.ts";
import { setupSnapshotScheduleController } from "./controllers/snapshotschedule/setup.ts";
import { kubeExec } from "./kube/exec.ts";
import { setupRestoreRequestController } from "./controllers/restorerequest/setup.ts";
import { KubeClient } from "./kube/client.ts";
import { KubeEventRecorder } from "./kube/events.ts";
import { loadKubeAuth, type KubeAuth } from "./kube/kubeconfig.ts";
import { SystemClock } from "./runtime/clock.ts";
import { LeaderElector } from "./runtime/leaderelection.ts";
import { RestLeaseStore } from "./runtime/lease-store-rest.ts";
import { Manager } from "./runtime/manager.ts";
import { processMemoryReleaser } from "./runtime/malloc-trim.ts";
import { promControllerMetrics, promLeaderGauge, promWorkQueueMetrics } from "./runtime/metrics-prom.ts";
import { http } from "./runtime/node-http.ts";

export const VERSION = "0.1.0";

/**
 * Node flags the operator runs with (the image's ENTRYPOINT; test/harness spawns it the same way).
 * Both must be set at startup: v8.setFlagsFromString does not resize the heap of a running process.
 * - --max-semi-space-size=1: V8's young generation grows to 64 MiB on a burst of short-lived
 *   objects (a LIST of 10,000 objects, a relist) and keeps it: a 1 MiB semi-space took the operator
 *   with 10,000 Ready objects from 317 to 207 MiB RSS (heap used ≈ 56 MiB either way).
 * - --optimize-for-size: after the start-up LIST the old generation kept ≈ 30 MiB of free space
 *   (80 MiB committed for 50 MiB live with 10,000 objects) and never gave it back; V8's
 *   memory-saving heap policy grows it in smaller steps and compacts: 186 → 147 MiB RSS, with no
 *   measurable cost to apply→Ready (docs/operator.md, Scale and memory).
 * - --expose-gc: after a burst of work, when the process has gone quiet, a last-resort GC
 *   releases the old-space pages V8 emptied at once instead of tens of seconds later
 *   (runtime/malloc-trim.ts). Nothing else calls gc().
 */
export const NODE_FLAGS = ["--max-semi-space-size=1", "--optimize-for-size", "--expose-gc"] as const;

/**
 * Environment the operator runs with (the image's ENV; test/harness spawns it the same way).
 * glibc gives each thread that allocates (V8's GC and compiler workers) its own malloc arena of up
 * to 64 MiB, and freed memory stays in them: 2 arenas took 10,000 Ready objects from ≈ 138 to ≈ 128
 * MiB RSS.
 */
export const PROCESS_ENV = { MALLOC_ARENA_MAX: "2" } as const;

export interface Operator {
  manager: Manager;
  registry: Registry;
  log: Logger;
  /** Runs until the signal aborts; resolves after a graceful shutdown. */
  run(signal: AbortSignal): Promise<void>;
}

export function createLogger(level: Config["logLevel"]): Logger {
  return pino({
    level,
    base: { component: "aksnap" },
    redact: { paths: ["token", "*.token", "authorization", "*.authorization", "headers.authorization"], censor: "[redacted]" },
  });
}

/** --kubeconfig, else $KUBECONFIG, in-cluster, ~/.kube/config (client-go's order). */
export function loadKubeConfig(cfg: Config): KubeAuth {
  return loadKubeAuth({ path: cfg.kubeconfig });
}

function azureFrom(cfg: Config, registry: Registry, log: Logger): AzureLayer {
  const credential = (() => {
    switch (cfg.credential) {
      case "static-token":
        return createCredential({ mode: "static", credential: fixedTokenCredential(cfg.staticToken ?? "", Date.now) });
      case "default":
        return createCredential({
          mode: "default",
          ...(cfg.azure.clientId ? { managedIdentityClientId: cfg.azure.clientId } : {}),
          ...(cfg.azure.tenantId ? { tenantId: cfg.azure.tenantId } : {}),
          ...(cfg.azure.authorityHost ? { authorityHost: cfg.azure.authorityHost } : {}),
        });
      case "workload-identity":
        return createCredential({
          mode: "workload-identity",
          clientId: cfg.azure.clientId ?? "",
          tenantId: cfg.azure.tenantId ?? "",
          tokenFilePath: cfg.azure.federatedTokenFile ?? "",
          ...(cfg.azure.authorityHost ? { authorityHost: cfg.azure.authorityHost } : {}),
        });
    }
  })();
  return createAzure({
    endpoint: cfg.armEndpoint,
    credential,
    ...(cfg.armCaFile ? { ca: readFileSync(cfg.armCaFile, "utf8") } : {}),
    writeRate: { ratePerSecond: cfg.armWriteQps, burst: cfg.armWriteBurst },
    // The SDK would sleep through Retry-After inside a call, holding a worker; instead a failed
    // call returns at once and the controller requeues honouring retryAfterMs.
    retry: { maxRetries: 0 },
    registry,
    logger: log,
    userAgent: `aksnap/${VERSION}`,
  });
}

export function createOperator(cfg: Config, opts: { log?: Logger; kubeConfig?: KubeAuth } = {}): Operator {
  const log = opts.log ?? createLogger(cfg.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const kc = opts.kubeConfig ?? loadKubeConfig(cfg);
  const client = new KubeClient(kc);
  const clock = new SystemClock();
  const azure = azureFrom(cfg, registry, log);

  const events = new KubeEventRecorder(client, "aksnap", { onError: (e) => log.warn({ err: String(e) }, "could not record event") });
  const elector = cfg.leaderElect
    ? new LeaderElector({
        store: new RestLeaseStore({ client, namespace: cfg.leaderElectionNamespace, name: cfg.leaderElectionId }),
        identity: cfg.identity,
        clock,
        logger: log,
        onNewLeader: (id) => log.info({ leader: id }, "new leader observed"),
      })
    : undefined;
  const health = parseBindAddress(cfg.healthAddr);
  const manager = new Manager({
    logger: log,
    clock,
    ...(health ? { healthAddress: health } : {}),
    ...(elector ? { leaderElector: elector } : {}),
  });
  // Each controller registers its own informers, handlers and controller (SetupWithManager).
  const shared = {
    client,
    config: cfg,
    log,
    clock,
    events,
    arm: azure,
    queueMetrics: promWorkQueueMetrics(registry),
    controllerMetrics: promControllerMetrics(registry),
  };
  setupNodePoolSnapshotController(manager, shared);
  // Hooks (schedules' and restores') exec through the websocket client of @kubernetes/client-node, loaded on first use.
  const exec = kubeExec(async () => {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const k = new KubeConfig();
    if (cfg.kubeconfig) k.loadFromFile(cfg.kubeconfig);
    else k.loadFromDefault();
    return k;
  });
  setupSnapshotScheduleController(manager, { ...shared, registry, exec });
  setupVerifier(manager, { ...shared, registry });
  setupRestoreRequestController(manager, { ...shared, exec });
  promLeaderGauge(registry, () => manager.isLeader());
  const releaser = processMemoryReleaser({ clock, log });
  if (releaser) manager.addRunnable(releaser);

  const metricsAddr = parseBindAddress(cfg.metricsAddr);
  if (metricsAddr) {
    manager.addRunnable({
      name: "metrics-server",
      needLeaderElection: false,
      start: (signal) => serveMetrics(registry, metricsAddr, signal, log),
    });
  }
  return {
    manager,
    registry,
    log,
    run: (signal) => manager.start(signal),
  };
}

function serveMetrics(registry: Registry, addr: { host: string; port: number }, signal: AbortSignal, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const server: Server = http.createServer((req, res) => {
      if (req.url?.split("?")[0] !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      registry
        .metrics()
        .then((body) => res.writeHead(200, { "content-type": registry.contentType }).end(body))
        .catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      const a = server.address();
      log.info({ address: typeof a === "object" && a ? `${a.address}:${a.port}` : String(a) }, "serving metrics");
    });
    signal.addEventListener("abort", () => server.close(() => resolve()), { once: true });
  });
}
