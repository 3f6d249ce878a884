// The emulator as a program (the demo, operator-subprocess tests):
//   node test/emulator/main.ts --port 0 --world demo --write-ca <path> --ready-file <path>
// Prints the URL once listening; --ready-file gets {"url","ca","pid"} written atomically; stops
// cleanly on SIGTERM/SIGINT.

import { readFile, rename, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parseWorld } from "./control.ts";
import { startEmulator } from "./server.ts";
import type { Timing } from "./settings.ts";
import type { WorldFixture } from "./world.ts";

const USAGE = `usage: node test/emulator/main.ts [--host 127.0.0.1] [--port 0] [--world demo|empty|<fixture.json>]
  [--write-ca <path>] [--ready-file <path>] [--agent-pool-ms N] [--cluster-ms N] [--compute-ms N]
  [--copy-ms N] [--hydration-ms N] [--page-size N] [--no-rate-limit]`;

async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, path);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      world: { type: "string", default: "demo" },
      "write-ca": { type: "string" },
      "ready-file": { type: "string" },
      "agent-pool-ms": { type: "string" },
      "cluster-ms": { type: "string" },
      "compute-ms": { type: "string" },
      "copy-ms": { type: "string" },
      "hydration-ms": { type: "string" },
      "page-size": { type: "string" },
      "no-rate-limit": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  let world: WorldFixture;
  if (values.world === "demo" || values.world === "empty") world = parseWorld(values.world);
  else world = parseWorld(JSON.parse(await readFile(values.world, "utf8")));
  const timing: { -readonly [K in keyof Timing]?: number } = {};
  const set = (k: keyof Timing, v: number | undefined): void => {
    if (v !== undefined) timing[k] = v;
  };
  set("agentPoolOperationMs", int(values["agent-pool-ms"], "agent-pool-ms"));
  set("clusterOperationMs", int(values["cluster-ms"], "cluster-ms"));
  set("computeOperationMs", int(values["compute-ms"], "compute-ms"));
  set("copyDurationMs", int(values["copy-ms"], "copy-ms"));
  set("hydrationDurationMs", int(values["hydration-ms"], "hydration-ms"));
  const pageSize = int(values["page-size"], "page-size");

  const emu = await startEmulator({
    host: values.host,
    port: int(values.port, "port") ?? 0,
    world,
    timing,
    ...(pageSize !== undefined ? { behaviour: { pageSize } } : {}),
    ...(values["no-rate-limit"] ? { rateLimits: { enabled: false } } : {}),
  });
  if (values["write-ca"] !== undefined) await writeAtomic(values["write-ca"], emu.ca);
  if (values["ready-file"] !== undefined) await writeAtomic(values["ready-file"], JSON.stringify({ url: emu.url, ca: emu.ca, pid: process.pid }) + "\n");
  process.stdout.write(`${emu.url}\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`arm-emulator: ${signal}, stopping\n`);
    emu.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`arm-emulator: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`arm-emulator: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
});
