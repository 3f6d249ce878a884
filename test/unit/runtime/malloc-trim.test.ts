import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { DEFAULT_RELEASE_POLICY, loadMallocTrim, memoryReleaser, shouldRelease } from "../../../src/runtime/malloc-trim.ts";
import { operatorEntry } from "../../harness/operator.ts";
import { recordingLogger } from "./support/recording-logger.ts";

const repo = join(import.meta.dirname, "../../..");

describe("shouldRelease", () => {
  const quiet = { utilization: 0.05, activeMs: 0, slackMiB: 0, sinceReleaseMs: 60_000 };
  const rows = [
    { name: "quiet after a burst", state: { ...quiet, activeMs: 4000 }, release: true },
    { name: "in the middle of a burst", state: { ...quiet, utilization: 0.6, activeMs: 3000, slackMiB: 20 }, release: false },
    { name: "just at the utilization limit", state: { ...quiet, utilization: DEFAULT_RELEASE_POLICY.maxUtilization, activeMs: 4000 }, release: false },
    { name: "quiet, and little ran since the last release", state: { ...quiet, activeMs: 400 }, release: false },
    { name: "just enough work since the last release", state: { ...quiet, activeMs: DEFAULT_RELEASE_POLICY.minActiveMs }, release: true },
    { name: "V8 grew its heap after the last release", state: { ...quiet, activeMs: 240, slackMiB: 10, sinceReleaseMs: 6000 }, release: true },
    { name: "V8 grew its heap, but the last release was just now", state: { ...quiet, activeMs: 240, slackMiB: 10, sinceReleaseMs: 2000 }, release: false },
    { name: "slack that nothing ran to create (a GC cannot shrink it)", state: { ...quiet, activeMs: 20, slackMiB: 10 }, release: false },
    { name: "slack below the limit", state: { ...quiet, activeMs: 240, slackMiB: 5 }, release: false },
  ];
  it.each(rows)("$name → $release", ({ state, release }) => {
    expect(shouldRelease(DEFAULT_RELEASE_POLICY, state)).toBe(release);
  });
});

describe("memoryReleaser", () => {
  /** One check interval (5 s): event-loop ms busy in it, and V8's unused heap at its end. */
  interface Interval {
    active: number;
    slackMiB?: number;
  }

  /** Runs the releaser over the intervals; returns the intervals (1-based) it released after. */
  async function releasesAfter(intervals: Interval[]): Promise<number[]> {
    const clock = new ManualClock();
    const loop = { idle: 0, active: 0 };
    const released: number[] = [];
    const calls: string[] = [];
    let n = 0;
    let slack = 0;
    const runnable = memoryReleaser({
      collect: () => calls.push("gc"),
      trim: () => (calls.push("trim"), released.push(n), true),
      clock,
      log: recordingLogger(),
      checkIntervalMs: 5_000,
      eventLoop: () => ({ ...loop }),
      heapSlack: () => slack * 2 ** 20,
      rss: () => 0,
    });
    const stop = new AbortController();
    const done = runnable.start(stop.signal);
    for (const { active, slackMiB } of intervals) {
      n++;
      loop.active += active;
      loop.idle += 5_000 - active;
      slack = slackMiB ?? 0;
      await clock.advance(5_000);
    }
    stop.abort();
    await done;
    // V8 first (a GC frees the native memory of dead buffers), then malloc.
    expect(calls).toEqual(released.flatMap(() => ["gc", "trim"]));
    return released;
  }

  const busy = (...active: number[]): Interval[] => active.map((a) => ({ active: a }));
  const rows = [
    { name: "once after a burst, not again while idle", intervals: busy(4000, 4500, 100, 0, 0, 0), want: [3] },
    { name: "never while nothing runs", intervals: busy(0, 10, 0, 20, 0), want: [] },
    { name: "when small work adds up", intervals: busy(400, 400, 400, 0), want: [3] },
    { name: "after each of two bursts", intervals: busy(4000, 50, 0, 4000, 50), want: [2, 5] },
    {
      name: "again when the work after a burst grew V8's heap, but not for slack alone",
      intervals: [{ active: 4000 }, { active: 50 }, { active: 240, slackMiB: 10 }, { active: 0, slackMiB: 10 }, { active: 0, slackMiB: 10 }],
      want: [2, 3],
    },
  ];
  it.each(rows)("releases $name", async ({ intervals, want }) => {
    expect(await releasesAfter(intervals)).toEqual(want);
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
