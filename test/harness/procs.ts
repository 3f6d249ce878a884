// Child processes of the test harness (apiserver, etcd, CSI sidecars, kubelet, containerd): started
// with their output in a log file, stopped with SIGTERM and, after a grace period, SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";

export interface Proc {
  name: string;
  child: ChildProcess;
}

/** Spawns `bin` with stdout and stderr appended to `<logDir>/<name>.log`. */
export function startProc(name: string, bin: string, args: string[], logDir: string): Proc {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { name, child };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopProc(p: Proc, graceMs = 5000): Promise<void> {
  const { child } = p;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
