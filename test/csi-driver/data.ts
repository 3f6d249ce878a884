// Real content for the test driver's disks and snapshots: a directory per ARM disk or snapshot id
// under a data root. A snapshot (and a disk made from one) is filled by a copy that runs in the
// background, chunk by chunk at a limited rate, and reports its progress; the driver forwards it to
// the ARM emulator as that resource's completionPercent. So a snapshot that is "ready" while its
// copy is at 40 % really holds 40 % of the bytes. A hold (setHold) stops every copy of a kind at a
// percentage until it is lifted, so tests can show that state for as long as they need.
//
// A copy reads the source as it is while copying (not a point-in-time image): tests write nothing to
// a disk while a snapshot of it copies.
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

export type DataKind = "disks" | "snapshots";

export interface CopyState {
  /** ARM id of the target (snapshot or disk). */
  id: string;
  kind: DataKind;
  source: string;
  totalBytes: number;
  copiedBytes: number;
  percent: number;
  done: boolean;
  error?: string;
  startedAt: number;
  endedAt?: number;
}

export interface CopyHold {
  percent: number;
  kind: DataKind;
}

export interface DataStoreOptions {
  root: string;
  /** Copy rate limit; default 8 MiB/s. */
  bytesPerSecond?: number;
  chunkBytes?: number;
  /** Called (awaited, in order) whenever a copy's whole percentage changes, and at 100. */
  onProgress?: (c: CopyState) => Promise<void>;
}

const ID = /^\/?subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/(disks|snapshots)\/([^/]+)$/i;

/** `<root>/<kind>/<subscription>/<resource group>/<name>`, lowercased (ARM ids are case-insensitive). */
export function dataPath(root: string, armId: string): string {
  const m = ID.exec(armId);
  if (!m) throw new Error(`${armId} is not a Compute disk or snapshot id`);
  const [, sub = "", rg = "", kind = "", name = ""] = m;
  return join(root, kind.toLowerCase(), sub.toLowerCase(), rg.toLowerCase(), name.toLowerCase());
}

/** Regular files under dir, sorted, with sizes (the copy order). */
async function filesUnder(dir: string): Promise<Array<{ rel: string; size: number }>> {
  const out: Array<{ rel: string; size: number }> = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ rel: relative(dir, p), size: (await stat(p)).size });
    }
  };
  await walk(dir);
  return out;
}

/** Bytes a copy may have written under a hold: ceil so that its floor percentage reaches the hold exactly. */
export function heldBytes(total: number, holdPercent: number): number {
  return Math.ceil((total * holdPercent) / 100);
}

export const percentOf = (copied: number, total: number): number => (total === 0 ? 100 : Math.floor((copied * 100) / total));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class DataStore {
  readonly root: string;
  readonly #rate: number;
  readonly #chunk: number;
  readonly #onProgress: (c: CopyState) => Promise<void>;
  readonly #copies = new Map<string, { state: CopyState; done: Promise<void>; cancelled: boolean }>();
  #hold: CopyHold | null = null;

  constructor(opts: DataStoreOptions) {
    this.root = opts.root;
    this.#rate = opts.bytesPerSecond ?? 8 * 1024 * 1024;
    this.#chunk = opts.chunkBytes ?? 256 * 1024;
    this.#onProgress = opts.onProgress ?? (async () => undefined);
  }

  path(armId: string): string {
    return dataPath(this.root, armId);
  }

  /** The directory of a disk, created if it has none yet (every disk has content, maybe empty). */
  async ensure(armId: string): Promise<string> {
    const p = this.path(armId);
    await mkdir(p, { recursive: true });
    return p;
  }

  hold(): CopyHold | null {
    return this.#hold;
  }
  setHold(h: CopyHold | null): void {
    this.#hold = h;
  }

  copies(): CopyState[] {
    return [...this.#copies.values()].map((c) => ({ ...c.state }));
  }
  copy(armId: string): CopyState | undefined {
    const c = this.#copies.get(armId.toLowerCase());
    return c ? { ...c.state } : undefined;
  }
  /** Resolves when the copy into armId has finished (or at once when there is none). */
  async settled(armId: string): Promise<void> {
    await this.#copies.get(armId.toLowerCase())?.done;
  }

  /**
   * Starts copying the content of `sourceId` into `targetId` in the background (once per target:
   * a second call while it runs or after it finished is a no-op). `after` is awaited first (a
   * disk made from a snapshot whose own copy still runs).
   */
  async startCopy(sourceId: string, targetId: string, after?: Promise<void>): Promise<CopyState> {
    const key = targetId.toLowerCase();
    const existing = this.#copies.get(key);
    if (existing) return { ...existing.state };
    const kind: DataKind = /\/snapshots\//i.test(targetId) ? "snapshots" : "disks";
    const state: CopyState = { id: targetId, kind, source: sourceId, totalBytes: 0, copiedBytes: 0, percent: 0, done: false, startedAt: Date.now() };
    const entry = { state, done: Promise.resolve(), cancelled: false };
    let started: () => void = () => undefined;
    const startedP = new Promise<void>((r) => (started = r));
    entry.done = (async () => {
      try {
        await after;
        await this.#run(entry, this.path(sourceId), this.path(targetId), started);
      } catch (e) {
        state.error = e instanceof Error ? e.message : String(e);
      } finally {
        state.endedAt = Date.now();
        started();
      }
    })();
    this.#copies.set(key, entry);
    // Back once the size is known and 0 % reported: a caller can answer "not complete" truthfully.
    await startedP;
    return { ...state };
  }

  async #run(entry: { state: CopyState; cancelled: boolean }, from: string, to: string, started: () => void): Promise<void> {
    const { state } = entry;
    await mkdir(to, { recursive: true });
    const files = await filesUnder(from);
    state.totalBytes = files.reduce((n, f) => n + f.size, 0);
    await this.#onProgress({ ...state });
    started();
    const buf = Buffer.alloc(this.#chunk);
    for (const f of files) {
      await mkdir(dirname(join(to, f.rel)), { recursive: true });
      const src = await open(join(from, f.rel), "r");
      const dst = await open(join(to, f.rel), "w");
      try {
        let pos = 0;
        while (pos < f.size) {
          if (entry.cancelled) return;
          const allowed = this.#allowed(state);
          if (allowed <= 0) {
            await sleep(100);
            continue;
          }
          const want = Math.min(this.#chunk, f.size - pos, allowed);
          const { bytesRead } = await src.read(buf, 0, want, pos);
          if (bytesRead === 0) break; // the source shrank: copy what there is
          await dst.write(buf, 0, bytesRead, pos);
          pos += bytesRead;
          state.copiedBytes += bytesRead;
          const pct = percentOf(state.copiedBytes, state.totalBytes);
          if (pct !== state.percent && pct < 100) {
            state.percent = pct;
            await this.#onProgress({ ...state });
          }
          await sleep((bytesRead / this.#rate) * 1000);
        }
      } finally {
        await src.close();
        await dst.close();
      }
    }
    state.percent = 100;
    // Done only once ARM has been told: a caller that sees `done` must find completionPercent 100
    // (the contract test read 87 in between, once).
    await this.#onProgress({ ...state, done: true });
    state.done = true;
  }

  /** Bytes this copy may still write before the hold stops it (Infinity without a hold of its kind). */
  #allowed(s: CopyState): number {
    const h = this.#hold;
    if (!h || h.kind !== s.kind) return Number.POSITIVE_INFINITY;
    return heldBytes(s.totalBytes, h.percent) - s.copiedBytes;
  }

  /** Stops a running copy into armId and removes its content. */
  async remove(armId: string): Promise<void> {
    const c = this.#copies.get(armId.toLowerCase());
    if (c) {
      c.cancelled = true;
      await c.done;
      this.#copies.delete(armId.toLowerCase());
    }
    await rm(this.path(armId), { recursive: true, force: true });
  }

  /** Cancels every copy (driver shutdown). */
  async close(): Promise<void> {
    for (const c of this.#copies.values()) c.cancelled = true;
    await Promise.all([...this.#copies.values()].map((c) => c.done));
  }
}
