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
// ran since the last release, or V8 has grown its heap well beyond what it uses (shouldRelease).
// Once after every burst, not in the middle of one (pages it returns would be faulted straight back
// in), and never while nothing runs. For 10,000 objects the GC takes tens of milliseconds and the
// trim about one.
import { createRequire } from "node:module";
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { Runnable } from "./manager.ts";

/** malloc_trim(0): true when memory was returned. */
export type MallocTrim = () => boolean;

/** Where hack/build.sh puts the addon, from dist/src/runtime/ (the compiled operator). */
export const ADDON_URL = new URL("../../native/malloc-trim.node", import.meta.url);

/** The addon, or why it could not load (not built, not glibc, not Linux). */
export function loadMallocTrim(url: URL = ADDON_URL): MallocTrim | string {
  const path = fileURLToPath(url);
  try {
    const addon: unknown = createRequire(import.meta.url)(path);
    const fn = (addon as { mallocTrim?: unknown } | null)?.mallocTrim;
    if (typeof fn !== "function") return `${path} has no mallocTrim function`;
    return () => (fn as () => unknown)() === true;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] ?? e.message : String(e);
  }
}

/** A full, compacting GC that releases emptied pages (V8's last-resort flavor), if gc is exposed. */
export function compactingGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: (options?: object) => void }).gc;
  if (typeof gc !== "function") return undefined;
  return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
}

export interface ReleasePolicy {
  /** Release only when the event loop was busy less than this share of the last interval. */
  maxUtilization: number;
  /** ...and at least this much event-loop time (ms) ran since the last release... */
  minActiveMs: number;
  /**
   * ...or V8 holds at least this much heap (MiB) it does not use (committed − used), the last
   * release is minSpacingMs old and a tenth of minActiveMs ran since: the work right after a burst
   * (the first verifications' ARM listing, with 10,000 objects) can grow the heap by ≈ 10 MiB
   * without adding up to minActiveMs.
   */
  minSlackMiB: number;
  minSpacingMs: number;
}

export const DEFAULT_RELEASE_POLICY: ReleasePolicy = { maxUtilization: 0.2, minActiveMs: 1_000, minSlackMiB: 8, minSpacingMs: 5_000 };

/** What the releaser saw over the last interval. */
export interface ReleaseState {
  utilization: number;
  /** Event-loop ms since the last release (or the start), the last interval included. */
  activeMs: number;
  /** V8 heap committed − used, MiB. */
  slackMiB: number;
  /** Since the last release (or the start). */
  sinceReleaseMs: number;
}

/** Pure: release now? */
export function shouldRelease(policy: ReleasePolicy, s: ReleaseState): boolean {
  if (s.utilization >= policy.maxUtilization) return false;
  if (s.activeMs >= policy.minActiveMs) return true;
  return s.slackMiB >= policy.minSlackMiB && s.sinceReleaseMs >= policy.minSpacingMs && s.activeMs >= policy.minActiveMs / 10;
}

export interface MemoryReleaseOptions {
  /** Absent: malloc is left as it is. */
  trim?: MallocTrim;
  /** Absent: V8 compacts on its own schedule. */
  collect?: () => void;
  clock: Clock;
  log: Logger;
  checkIntervalMs?: number;
  policy?: ReleasePolicy;
  /** Cumulative event-loop idle and active ms (perf_hooks); injectable for tests. */
  eventLoop?: () => Pick<EventLoopUtilization, "idle" | "active">;
  /** V8 heap committed − used, bytes. */
  heapSlack?: () => number;
  rss?: () => number;
}

function v8HeapSlack(): number {
  const h = getHeapStatistics();
  return h.total_heap_size - h.used_heap_size;
}

/**
 * The releaser with what this process has (the addon, gc), each missing half logged; undefined when
 * it has neither. Both are there in the image and the compiled operator (make build);
 * `node src/main.ts` runs without.
 */
export function processMemoryReleaser(opts: Pick<MemoryReleaseOptions, "clock" | "log">): Runnable | undefined {
  const trim = loadMallocTrim();
  const collect = compactingGc();
  if (typeof trim === "string") opts.log.info({ reason: trim }, "running without malloc_trim: glibc keeps freed memory it cannot return by itself");
  if (!collect) opts.log.info("running without --expose-gc: V8 compacts its heap on its own schedule");
  if (typeof trim === "string" && !collect) return undefined;
  return memoryReleaser({ ...opts, collect, ...(typeof trim === "string" ? {} : { trim }) });
}

/** A runnable (every replica: a standby's informers allocate too) that releases memory after bursts. */
export function memoryReleaser(opts: MemoryReleaseOptions): Runnable {
  const interval = opts.checkIntervalMs ?? 2_000;
  const policy = opts.policy ?? DEFAULT_RELEASE_POLICY;
  const eventLoop = opts.eventLoop ?? (() => performance.eventLoopUtilization());
  const heapSlack = opts.heapSlack ?? v8HeapSlack;
  const rss = opts.rss ?? (() => process.memoryUsage.rss());
  return {
    name: "memory-release",
    needLeaderElection: false,
    async start(signal) {
      let last = eventLoop();
      // The process's start (module loading, the informers' LISTs) counts as the first burst.
      let activeMs = last.active;
      let releasedAt = opts.clock.monotonicMs();
      while (!signal.aborted) {
        await opts.clock.sleep(interval, signal);
        if (signal.aborted) return;
        const now = eventLoop();
        const active = now.active - last.active;
        const total = active + now.idle - last.idle;
        last = now;
        activeMs += active;
        const state: ReleaseState = {
          utilization: total > 0 ? active / total : 0,
          activeMs,
          slackMiB: heapSlack() / 2 ** 20,
          sinceReleaseMs: opts.clock.monotonicMs() - releasedAt,
        };
        if (!shouldRelease(policy, state)) continue;
        const before = rss();
        const t0 = performance.now();
        opts.collect?.();
        const t1 = performance.now();
        opts.trim?.();
        const t2 = performance.now();
        const fields = { releasedMiB: round((before - rss()) / 2 ** 20), gcMs: round(t1 - t0), trimMs: round(t2 - t1), activeMs: round(activeMs), slackMiB: round(state.slackMiB) };
        opts.log.debug(fields, "released memory after a burst");
        activeMs = 0;
        releasedAt = opts.clock.monotonicMs();
      }
    },
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
