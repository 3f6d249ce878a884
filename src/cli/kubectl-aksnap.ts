#!/usr/bin/env node
// kubectl plugin entry: kubectl finds `kubectl-aksnap` on PATH and runs `kubectl aksnap ...` as
// `kubectl-aksnap ...`. Runs on Node >= 22.18 / 24 with type stripping (no build step).
import { main } from "./commands.ts";

const code = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  env: process.env,
});
process.exitCode = code;
