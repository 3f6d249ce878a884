#!/usr/bin/env node
// The aksnap operator process: configuration from flags/env (config.ts), the operator
// (operator.ts), and the process's life: JSON logs, graceful shutdown on SIGTERM/SIGINT.
import { ConfigError, loadConfig, usage } from "./config.ts";
import { createLogger, createOperator, VERSION } from "./operator.ts";
import { shutdownSignal } from "./runtime/signals.ts";

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
  const log = createLogger(cfg.logLevel);
  log.info(
    { version: VERSION, armEndpoint: cfg.armEndpoint, credential: cfg.credential, leaderElect: cfg.leaderElect, identity: cfg.identity, namespaces: cfg.watchNamespaces.length ? cfg.watchNamespaces : "all" },
    "starting aksnap",
  );
  const operator = createOperator(cfg, { log });
  const stop = shutdownSignal({ logger: log });
  try {
    await operator.run(stop.signal);
    log.info("stopped");
    return 0;
  } catch (e) {
    log.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, "operator failed");
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
