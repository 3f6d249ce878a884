import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { DEFAULT_TRIM_POLICY, loadMallocTrim, memoryReleaser, shouldTrim } from "../../../src/runtime/malloc-trim.ts";
import { operatorEntry } from "../../harness/operator.ts";
import { recordingLogger } from "./support/recording-logger.ts";

const repo = join(import.meta.dirname, "../../..");

describe("shouldTrim", () => {
  const rows = [
    { name: "quiet after a burst", utilization: 0.05, activeMs: 4000, trim: true },
    { name: "in the middle of a burst", utilization: 0.6, activeMs: 3000, trim: false },
    { name: "quiet, and little ran since the last trim", utilization: 0.01, activeMs: 400, trim: false },
    { name: "just at the utilization limit", utilization: DEFAULT_TRIM_POLICY.maxUtilization, activeMs: 4000, trim: false },
    { name: "just enough work since the last trim", utilization: 0.1, activeMs: DEFAULT_TRIM_POLICY.minActiveMs, trim: true },
  ];
  it.each(rows)("$name → $trim", ({ utilization, activeMs, trim }) => {
    expect(shouldTrim(DEFAULT_TRIM_POLICY, utilization, activeMs)).toBe(trim);
  });
});

describe("memoryReleaser", () => {
  /** Runs the trimmer over intervals of 5 s, each with the given active ms; returns the intervals it trimmed after. */
  async function trimsAfter(activeMsPerInterval: number[]): Promise<number[]> {
    const clock = new ManualClock();
    const loop = { idle: 0, active: 0 };
    const trimmed: number[] = [];
    const calls: string[] = [];
    let interval = 0;
    const runnable = memoryReleaser({
      collect: () => calls.push("gc"),
      trim: () => (calls.push("trim"), trimmed.push(interval), true),
      clock,
      log: recordingLogger(),
      checkIntervalMs: 5_000,
      eventLoop: () => ({ ...loop }),
      rss: () => 0,
    });
    const stop = new AbortController();
    const done = runnable.start(stop.signal);
    for (const active of activeMsPerInterval) {
      interval++;
      loop.active += active;
      loop.idle += 5_000 - active;
      await clock.advance(5_000);
    }
    stop.abort();
    await done;
    // V8 first (a GC frees the native memory of dead buffers), then malloc.
    expect(calls).toEqual(trimmed.flatMap(() => ["gc", "trim"]));
    return trimmed;
  }

  const rows = [
    { name: "once after a burst, not again while idle", active: [4000, 4500, 100, 0, 0, 0], want: [3] },
    { name: "never while nothing runs", active: [0, 10, 0, 20, 0], want: [] },
    { name: "small work adds up to one trim", active: [400, 400, 400, 0], want: [3] },
    { name: "after each of two bursts", active: [4000, 50, 0, 4000, 50], want: [2, 5] },
  ];
  it.each(rows)("trims $name", async ({ active, want }) => {
    expect(await trimsAfter(active)).toEqual(want);
  });

  it("runs on every replica (a standby's informers allocate too)", () => {
    expect(memoryReleaser({ trim: () => true, clock: new ManualClock(), log: recordingLogger() }).needLeaderElection).toBe(false);
  });
});

describe("compactingGc", () => {
  it("releases old-space pages a regular GC keeps (needs --expose-gc, as NODE_FLAGS gives)", () => {
    const script = `
      const v8 = await import("node:v8");
      const { compactingGc } = await import(${JSON.stringify(join(repo, "src/runtime/malloc-trim.ts"))});
      const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space").space_size / 2 ** 20;
      let all = Array.from({ length: 300000 }, (_, i) => ({ i, s: "x" + i, o: { k: i } }));
      const kept = all.filter((_, i) => i % 7 === 0);
      all = null;
      globalThis.gc();
      const before = old();
      compactingGc()();
      console.log(JSON.stringify({ before, after: old(), kept: kept.length }));`;
    const run = (flags: string[]): string => execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const out = JSON.parse(run(["--expose-gc"])) as { before: number; after: number };
    expect(out.before - out.after).toBeGreaterThan(10);
    expect(() => run([])).toThrow(/gc is not a function|compactingGc\(\) is not a function/);
  });
});

describe("loadMallocTrim", () => {
  it("says why when the addon is not there", () => {
    expect(loadMallocTrim(pathToFileURL(join(repo, "no-such/malloc-trim.node")))).toMatch(/Cannot find module|no such file/);
  });

  it("the built addon returns freed malloc memory that free() left in the heap", () => {
    operatorEntry(); // hack/build.sh: dist/native/malloc-trim.node
    // A fresh process fragments its heap: 20,000 native 10 kB buffers, 9 in 10 freed. glibc keeps the
    // freed ones (holes between live chunks) until malloc_trim.
    const script = `
      const { loadMallocTrim } = await import(${JSON.stringify(join(repo, "src/runtime/malloc-trim.ts"))});
      const trim = loadMallocTrim(new URL(${JSON.stringify(pathToFileURL(join(repo, "dist/native/malloc-trim.node")).href)}));
      let all = Array.from({ length: 20000 }, () => Buffer.alloc(10000, 1));
      const kept = all.filter((_, i) => i % 10 === 0);
      all = null;
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); }
      const before = process.memoryUsage.rss();
      const released = trim();
      console.log(JSON.stringify({ released, mib: (before - process.memoryUsage.rss()) / 2 ** 20, kept: kept.length }));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], { encoding: "utf8" })) as { released: boolean; mib: number; kept: number };
    expect(out.released).toBe(true);
    expect(out.kept).toBe(2000);
    // ≈ 175 MiB freed; a trim that returned only the top of the heap would give back almost nothing.
    expect(out.mib).toBeGreaterThan(100);
  });
});
