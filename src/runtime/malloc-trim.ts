// Gives memory the process holds but no longer uses back to the system once it has gone quiet
// after a burst of work: V8's heap compacted (a last-resort full GC), then glibc's malloc trimmed.
//
// Why: glibc returns only the top of a heap by itself. Memory freed between live chunks (holes left
// by the transient native allocations of a burst: V8's compiler zones on its worker threads, socket
// and TLS buffers) stays resident. Measured with gdb on an operator holding 10,000 Ready objects:
// ≈ 13 MB free but kept, and one malloc_trim(0) took RSS from 128 to 117.5 MiB. Node does not
// expose malloc_trim, so native/malloc-trim.c does (built by hack/build.sh into dist/native). V8
// keeps old-space pages it emptied (41 MiB committed for 32 in use after 10,000 objects were
// loaded) until its memory reducer runs, tens of seconds later; a last-resort GC (--expose-gc, in
// NODE_FLAGS) compacts and releases them at once.
//
// When: every checkIntervalMs, if the event loop was mostly idle over the interval and enough work
// ran since the last release. Once after every burst, not in the middle of one (pages it returns
// would be faulted straight back in), and never while nothing happens. For 10,000 objects the GC
// takes tens of milliseconds and the trim about one.
import { createRequire } from "node:module";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { Runnable } from "./manager.ts";

/** malloc_trim(0): true when memory was returned. */
export type MallocTrim = () => boolean;

/** Where hack/build.sh puts the addon, from dist/src/runtime/ (the compiled operator). */
export const ADDON_URL = new URL("../../native/malloc-trim.node", import.meta.url);

/** The addon, or why it could not load (not built, not glibc, not Linux). */
export function loadMallocTrim(url: URL = ADDON_URL): MallocTrim | string {
  try {
    const addon: unknown = createRequire(import.meta.url)(url.pathname);
    const fn = (addon as { mallocTrim?: unknown } | null)?.mallocTrim;
    if (typeof fn !== "function") return `${url.pathname} has no mallocTrim function`;
    return () => (fn as () => unknown)() === true;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] ?? e.message : String(e);
  }
}

export interface TrimPolicy {
  /** Trim only when the event loop was busy less than this share of the last interval. */
  maxUtilization: number;
  /** ...and at least this much event-loop time (ms) ran since the last trim. */
  minActiveMs: number;
}

export const DEFAULT_TRIM_POLICY: TrimPolicy = { maxUtilization: 0.2, minActiveMs: 1_000 };

/** A full, compacting GC that releases emptied pages (V8's last-resort flavor), if gc is exposed. */
export function compactingGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (options?: object) => void }).gc;
  if (typeof gc !== "function") return undefined;
  return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

/** Pure: trim now? `utilization` is the last interval's, `activeSinceTrimMs` includes it. */
export function shouldTrim(policy: TrimPolicy, utilization: number, activeSinceTrimMs: number): boolean {
  return utilization < policy.maxUtilization && activeSinceTrimMs >= policy.minActiveMs;
}

export interface MemoryReleaseOptions {
  /** Absent: malloc is left as it is. */
  trim?: MallocTrim;
  /** Absent: V8 compacts on its own schedule. */
  collect?: () => void;
  clock: Clock;
  log: Logger;
  checkIntervalMs?: number;
  policy?: TrimPolicy;
  /** Cumulative event-loop idle and active ms (perf_hooks); injectable for tests. */
  eventLoop?: () => Pick<EventLoopUtilization, "idle" | "active">;
  rss?: () => number;
}

/** A runnable (every replica: a standby's informers allocate too) that releases memory after bursts. */
export function memoryReleaser(opts: MemoryReleaseOptions): Runnable {
  const interval = opts.checkIntervalMs ?? 2_000;
  const policy = opts.policy ?? DEFAULT_TRIM_POLICY;
  const eventLoop = opts.eventLoop ?? (() => performance.eventLoopUtilization());
  const rss = opts.rss ?? (() => process.memoryUsage.rss());
  return {
    name: "memory-release",
    needLeaderElection: false,
    async start(signal) {
      let last = eventLoop();
      // The process's start (module loading, the informers' LISTs) counts as the first burst.
      let activeSinceTrim = last.active;
      while (!signal.aborted) {
        await opts.clock.sleep(interval, signal);
        if (signal.aborted) return;
        const now = eventLoop();
        const active = now.active - last.active;
        const total = active + now.idle - last.idle;
        last = now;
        activeSinceTrim += active;
        if (!shouldTrim(policy, total > 0 ? active / total : 0, activeSinceTrim)) continue;
        activeSinceTrim = 0;
        const before = rss();
        const t0 = performance.now();
        opts.collect?.();
        const t1 = performance.now();
        opts.trim?.();
        const t2 = performance.now();
        const fields = { releasedMiB: round((before - rss()) / 2 ** 20), gcMs: round(t1 - t0), trimMs: round(t2 - t1) };
        opts.log.debug(fields, "released memory after a burst");
      }
    },
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
