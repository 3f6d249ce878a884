// The reference: hack/cronref (robfig/cron v3.0.1 as Kubernetes CronJob calls it), built through
// hack/build-tools.sh like the other real binaries, asked all questions in one process.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir } from "../../../harness/control-plane.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface NextQuery {
  spec: string;
  tz: string;
  after: string;
  n: number;
}
export interface MostRecentQuery {
  spec: string;
  tz: string;
  after: string;
  now: string;
  deadline?: number;
}
export interface RefAnswer {
  next?: string[];
  due?: string;
  missed?: number;
  many?: boolean;
  error?: string;
}

export function cronrefBinary(): string {
  execFileSync("bash", [join(repoRoot, "hack/build-tools.sh"), "cronref"], { stdio: ["ignore", "inherit", "inherit"] });
  const line = readFileSync(join(cacheDir(), "tools.env"), "utf8")
    .split("\n")
    .find((l) => l.startsWith("CRONREF="));
  if (!line) throw new Error("tools.env lacks CRONREF after hack/build-tools.sh cronref");
  return line.slice("CRONREF=".length);
}

export function askReference(bin: string, queries: readonly (NextQuery | MostRecentQuery)[]): RefAnswer[] {
  const r = spawnSync(bin, [], { input: queries.map((q) => JSON.stringify(q)).join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`cronref exited ${r.status}: ${r.stderr}`);
  const answers = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as RefAnswer);
  if (answers.length !== queries.length) throw new Error(`cronref answered ${answers.length} of ${queries.length}`);
  return answers;
}

/** mulberry32: a seeded generator so a failing random triple is the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
