#!/usr/bin/env node
// The aksnap operator process: configuration from flags/env (config.ts), the operator
// (operator.ts), and the process's life: JSON logs, graceful shutdown on SIGTERM/SIGINT.
import { ConfigError, loadConfig, usage } from "./config.ts";
import type { Logger } from "./runtime/logger.ts";
import { createHttpFacade } from "./runtime/http-facade.ts";
import { shutdownSignal } from "./runtime/signals.ts";

// Caught before the operator's modules load (the Azure and Kubernetes clients take a while on a busy
// node): a SIGTERM during start-up — a rollout, a scale-down — is a clean stop, not a kill by signal.
let log: Logger | undefined;
const stop = shutdownSignal({ logger: () => log });

async function main(): Promise<number> {
  let cfg;
  try {
    cfg = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`aksnap: ${e.message}\n\n${usage}`);
      return 2;
    }
    throw e;
  }
  if (cfg === "help") {
    process.stdout.write(usage);
    return 0;
  }
  await createHttpFacade();
  const { createLogger, createOperator, VERSION } = await import("./operator.ts");
  const root = createLogger(cfg.logLevel);
  log = root;
  if (stop.signal.aborted) {
    root.info("stopped before the operator started");
    return 0;
  }
  root.info(
    { version: VERSION, armEndpoint: cfg.armEndpoint, credential: cfg.credential, leaderElect: cfg.leaderElect, identity: cfg.identity, namespaces: cfg.watchNamespaces.length ? cfg.watchNamespaces : "all" },
    "starting aksnap",
  );
  const operator = createOperator(cfg, { log: root });
  try {
    await operator.run(stop.signal);
    root.info("stopped");
    return 0;
  } catch (e) {
    root.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, "operator failed");
    return 1;
  } finally {
    stop.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`aksnap: fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
