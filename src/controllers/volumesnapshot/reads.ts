// ARM reads of snapshot handles, shared across VolumeSnapshots and reconciles: at most one GET per
// handle per poll interval (two VolumeSnapshots bound to one handle — a cross-namespace restore's
// pre-provisioned content — share it), concurrent asks for one handle share the call in flight, and
// nothing here ever waits for time to pass: a caller that is early gets the last answer and the time
// it may ask again.
import type { ArmError } from "../../azure/errors.ts";
import { resourceIdKey } from "../../azure/ids.ts";
import type { CopyProgress } from "../../azure/provisioning.ts";
import type { ArmResult } from "../../azure/result.ts";
import type { Progress } from "./poll.ts";
import type { AzureObservation } from "./verify.ts";

export type ReadHandle = (handle: string, signal: AbortSignal) => Promise<ArmResult<CopyProgress>>;

export type HandleRead =
  /** Azure answered (now or earlier); `at` is when. */
  | { readonly kind: "observed"; readonly observation: AzureObservation; readonly at: number; readonly fresh: boolean }
  /** ARM could not answer (throttled, 5xx, timeout): keep the previous verdict, ask again later. */
  | { readonly kind: "error"; readonly error: ArmError; readonly at: number }
  /** Asked too early and nothing is known in this process: ask again at `notBefore`. */
  | { readonly kind: "early"; readonly notBefore: number };

interface Entry {
  at: number;
  observation?: AzureObservation;
  /** The copy progress seen by the last two reads, for predicting when it completes. */
  progress: Progress[];
  inFlight?: Promise<HandleRead>;
}

export class HandleReads {
  readonly #read: ReadHandle;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** GETs made, for tests and the bench. */
  reads = 0;

  constructor(read: ReadHandle, now: () => number) {
    this.#read = read;
    this.#now = now;
  }

  /**
   * Reads the handle unless it was read after `notBefore` (then the last observation is returned).
   * `notBefore` comes from the caller's poll schedule, so a restarted process that learned the last
   * check time from annotations does not read again early.
   */
  async observe(handle: string, notBefore: number, signal: AbortSignal): Promise<HandleRead> {
    const key = resourceIdKey(handle);
    const entry = this.#entries.get(key);
    if (entry?.inFlight) return entry.inFlight;
    const now = this.#now();
    if (now < notBefore || (entry !== undefined && entry.at >= notBefore)) {
      if (entry?.observation !== undefined) return { kind: "observed", observation: entry.observation, at: entry.at, fresh: false };
      return { kind: "early", notBefore };
    }
    const next: Entry = entry ?? { at: 0, progress: [] };
    this.#entries.set(key, next);
    next.inFlight = this.#readOnce(handle, next, signal).finally(() => {
      delete next.inFlight;
    });
    return next.inFlight;
  }

  /** The last observation of a handle in this process, without reading. */
  last(handle: string): { observation: AzureObservation; at: number } | undefined {
    const e = this.#entries.get(resourceIdKey(handle));
    return e?.observation === undefined ? undefined : { observation: e.observation, at: e.at };
  }

  /** The copy progress seen by the last two reads (older first). */
  progress(handle: string): { prev?: Progress; cur?: Progress } {
    const p = this.#entries.get(resourceIdKey(handle))?.progress ?? [];
    const prev = p.length > 1 ? p[0] : undefined;
    const cur = p.at(-1);
    return { ...(prev ? { prev } : {}), ...(cur ? { cur } : {}) };
  }

  /** Drop what is known of a handle (verified, or no VolumeSnapshot uses it any more). */
  forget(handle: string): void {
    this.#entries.delete(resourceIdKey(handle));
  }

  get size(): number {
    return this.#entries.size;
  }

  async #readOnce(handle: string, entry: Entry, signal: AbortSignal): Promise<HandleRead> {
    this.reads++;
    const r = await this.#read(handle, signal);
    const at = this.#now();
    entry.at = at;
    if (r.ok) {
      entry.observation = { kind: "found", snapshot: r.value };
      const percent = r.value.completionPercent;
      if (percent !== undefined) entry.progress = [...entry.progress, { percent, at }].slice(-2);
      return { kind: "observed", observation: entry.observation, at, fresh: true };
    }
    if (r.error.kind === "notFound") {
      entry.observation = { kind: "notFound", code: r.error.code, message: r.error.message };
      return { kind: "observed", observation: entry.observation, at, fresh: true };
    }
    return { kind: "error", error: r.error, at };
  }
}
