// The operator image for tests: built by hack/image/build.sh (installs buildah/podman/runc with
// apt-get when missing) and run with podman the way this machine allows: host networking (traffic
// stays on loopback, no bridge), runc (crun refuses hybrid cgroups), the cgroupfs manager, and
// explicit ulimits (the defaults need CAP_SYS_RESOURCE). See ../../../shared/real-node.md.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./operator.ts";

export interface BuiltImage {
  image: string;
  storageRoot: string;
  runRoot: string;
  sizeBytes: number;
  buildSeconds: number;
}

/** Builds the image (what `make image` does); throws with the script's own message when it cannot. */
export function buildImage(): BuiltImage {
  const r = spawnSync("bash", [join(repoRoot, "hack/image/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`hack/image/build.sh failed (exit ${r.status ?? r.signal}): buildah/podman are needed for the image test\n${r.stderr.slice(-4000)}`);
  }
  const kv = Object.fromEntries(r.stdout.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const need = (k: string): string => {
    const v = kv[k];
    if (!v) throw new Error(`hack/image/build.sh printed no ${k}`);
    return v;
  };
  return { image: need("IMAGE"), storageRoot: need("STORAGE_ROOT"), runRoot: need("RUN_ROOT"), sizeBytes: Number(need("SIZE_BYTES")), buildSeconds: Number(need("BUILD_SECONDS")) };
}

/** podman against the image's own storage, with the runtime settings this host needs. */
export function podman(img: BuiltImage, args: string[], timeoutMs = 120_000): string {
  const global = [
    "--root", img.storageRoot,
    "--runroot", img.runRoot,
    "--storage-driver", "vfs",
    "--cgroup-manager", "cgroupfs",
    "--runtime", "runc",
    "--events-backend", "file",
  ];
  return execFileSync("podman", [...global, ...args], { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The host's interfaces, addresses and routes: what a container runtime could add behind our back. */
export function hostNetwork(): string[] {
  const lines = (args: string[]): string[] =>
    execFileSync("ip", ["-o", ...args], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.replace(/\s+/g, " ").trim())
      .filter((l) => l !== "");
  // Interface names and addresses only: link counters and flags like NO-CARRIER move by themselves.
  const links = lines(["link", "show"]).map((l) => `link ${l.split(" ")[1]?.replace(/:$/, "")}`);
  const addrs = lines(["addr", "show"]).map((l) => {
    const f = l.split(" ");
    return `addr ${f[1]} ${f[3]}`;
  });
  return [...links, ...addrs, ...lines(["route", "show"]).map((l) => `route ${l}`)].sort();
}

/** Removes what podman's default network would have made on the host (only if the test did not find it there). */
export function removePodmanBridge(before: string[]): string[] {
  const removed: string[] = [];
  for (const l of hostNetwork()) {
    const name = /^link (cni-podman\d+|podman\d+)$/.exec(l)?.[1];
    if (name && !before.includes(l)) {
      execFileSync("ip", ["link", "delete", name]);
      removed.push(name);
    }
  }
  return removed;
}
