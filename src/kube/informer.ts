// A supervised informer: list, then watch from the list's resourceVersion, keeping a local cache.
// It never gives up, and it can neither hang nor spin (client-go's reflector rules):
// - A watch that ends is resumed from the last seen resourceVersion (bookmarks keep it fresh).
// - A watch with no event and no bookmark for `inactivityTimeoutMs` is torn down and re-opened: a
//   dead path without a reset (node loss, load-balancer failover) would otherwise freeze the cache.
// - Failures back off 800 ms → 30 s, doubling, with jitter (each delay in [d, 2d)); a watch that
//   ends within 1 s with no events counts as a failure, and so does a 410 Gone (re-list) — a server
//   that answers at once cannot turn the loop into a hot one.
// - The server-side watch timeout is random in [5, 10) minutes so replicas do not re-watch in step.
// - Objects pass a transform before they are stored (client-go's SetTransform; by default
//   managedFields and kubectl's last-applied annotation are dropped — most of an object's bytes)
//   and frozen in place (they were just parsed) with their repeated strings shared (StringTable): a caller
//   cannot change the cache by accident, and 10,000 objects do not hold 10,000 copies of a value.
// Handlers receive objects; controllers turn them into keys.
import type { KubeClient, KubeObject, ResourceType, WatchEvent } from "./client.ts";
import { objectKey } from "./client.ts";
import { KubeApiError } from "./errors.ts";

export interface InformerHandler {
  onAdd?(obj: KubeObject): void;
  onUpdate?(oldObj: KubeObject, newObj: KubeObject): void;
  onDelete?(obj: KubeObject): void;
}

export interface InformerLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  debug(o: object, msg: string): void;
}

/** The client calls an informer makes (a KubeClient, or a test double). */
export type InformerClient = Pick<KubeClient, "list" | "watch">;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Fixed server-side watch timeout; default random in [300, 600) s per watch. */
  watchTimeoutSeconds?: number;
  /** Failure backoff: initialMs doubling to maxMs, each delay jittered into [d, 2d). Default 800 ms → 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** No event or bookmark for this long → close the watch and re-watch. Default 150 s (DEFAULT_INACTIVITY_TIMEOUT_MS). */
  inactivityTimeoutMs?: number;
  /**
   * The kind comes from an add-on that a cluster may lack (the CSI snapshot CRDs): a 404 on LIST means
   * "not served", the informer counts as synced with an empty cache (the operator starts; controllers
   * that need the kind see none) and re-lists every backoff.maxMs until the API appears.
   */
  optional?: boolean;
  /** Objects per LIST page. Default LIST_PAGE_SIZE. */
  pageSize?: number;
  /** Applied to every object before it is stored; default stripManagedFields. Must not mutate its input. */
  transform?: (obj: KubeObject) => KubeObject;
  log?: InformerLogger;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
  /** Monotonic milliseconds (performance.now()). */
  monotonicMs?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  relistsOnGone: number;
  errors: number;
  /** Watches torn down because nothing arrived within the inactivity deadline. */
  inactivityTimeouts: number;
  /** Watches that ended within 1 s without events (counted as failures). */
  shortWatches: number;
}

export const DEFAULT_BACKOFF = { initialMs: 800, maxMs: 30_000 } as const;
/**
 * The apiserver sends a bookmark about once a minute (and 2 s before the watch's timeout); an idle
 * kube-apiserver 1.37 sent its first one after 120 s (measured), so the deadline leaves margin
 * above that. A healthy watch torn down by it only costs one re-watch from the same resourceVersion.
 */
export const DEFAULT_INACTIVITY_TIMEOUT_MS = 150_000;
/** A watch shorter than this with no events is a failure (client-go's "very short watch"). */
export const SHORT_WATCH_MS = 1_000;
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
/**
 * Objects per LIST page. Each page arrives as one response body, buffered and parsed whole; the
 * glibc heap those buffers grow stays with the process: pages of 100 instead of client-go's 500
 * took an operator with 10,000 objects from ≈ 17 to ≈ 13 MiB of malloc heap (−3.5 MiB RSS), at
 * 100 requests per relist of 10,000 instead of 20.
 */
export const LIST_PAGE_SIZE = 100;

const silent: InformerLogger = { info() {}, warn() {}, debug() {} };

/** The default transform: drops managedFields and the last-applied annotation (≈ 60 % of a typical object). */
export function stripManagedFields(obj: KubeObject): KubeObject {
  const { managedFields: _mf, ...metadata } = obj.metadata;
  if (metadata.annotations && LAST_APPLIED in metadata.annotations) {
    const { [LAST_APPLIED]: _la, ...annotations } = metadata.annotations;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...obj, metadata };
}

/**
 * Shares equal strings among cached objects. JSON.parse gives every object its own copy of each
 * value, so 10,000 NodePoolSnapshots held 10,000 copies of the same apiVersion, finalizer, region,
 * condition reason and — twice each — the source pool's ARM id (≈ 180 bytes). Bounded: the table is
 * emptied when full, so unique values (uids, names, resourceVersions) cannot grow it; a value seen
 * again afterwards is simply shared from then on.
 */
export class StringTable {
  private readonly table = new Map<string, string>();
  private readonly max: number;

  constructor(max = 4096) {
    this.max = max;
  }

  get size(): number {
    return this.table.size;
  }

  intern(s: string): string {
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const had = this.table.get(s);
    if (had !== undefined) return had;
    if (this.table.size >= this.max) this.table.clear();
    this.table.set(s, s);
    return s;
  }
}

/** Longer strings are rarely repeated (messages, annotations): left as they are. */
const MAX_INTERNED_LENGTH = 512;

/**
 * A deep-frozen copy of a JSON-shaped value whose strings come from `strings` (see StringTable).
 * Frozen so a caller's accidental write throws (strict mode) instead of corrupting the cache.
 */
export function frozenCopy<T>(value: T, strings: StringTable): T {
  if (typeof value === "string") return strings.intern(value) as T;
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return Object.freeze(value.map((v: unknown) => frozenCopy(v, strings))) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = frozenCopy(v, strings);
  return Object.freeze(out) as T;
}

/**
 * Freezes a JSON-shaped value in place, its strings taken from `strings`: what the cache does with
 * an object it has just parsed (no one else holds it). In place rather than copied, the objects
 * keep the compact layout JSON.parse gave them — a copy built key by key spilled four of each
 * NodePoolSnapshot's objects into separate property arrays (≈ 1.5 MiB with 10,000 objects) — and
 * nothing is allocated per watch event. Already frozen parts are left as they are.
 */
export function freezeInterned<T>(value: T, strings: StringTable): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v === "string") o[k] = strings.intern(v);
    else if (v !== null && typeof v === "object") freezeInterned(v, strings);
  }
  return Object.freeze(value);
}

/** Freezes an object graph so a caller's accidental write throws (strict mode) instead of corrupting the cache. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** client-go's jittered exponential backoff: d = initial·2^(n−1) capped at max, then [d, 2d) — never beyond 2·max. */
export function backoffDelay(failures: number, backoff: { initialMs: number; maxMs: number }, random: () => number): number {
  const d = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return d + d * random();
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

class InactivityError extends Error {}

export class Informer {
  readonly type: ResourceType;
  private readonly client: InformerClient;
  private readonly opts: InformerOptions;
  private readonly log: InformerLogger;
  private readonly transform: (obj: KubeObject) => KubeObject;
  private readonly random: () => number;
  private readonly monotonicMs: () => number;
  private readonly inactivityMs: number;
  private readonly store = new Map<string, KubeObject>();
  private readonly strings = new StringTable();
  private readonly handlers: InformerHandler[] = [];
  private synced = false;
  private absent = false;
  private syncWaiters: Array<() => void> = [];
  private running: Promise<void> | undefined;
  private lastResourceVersion = "";
  private heardAt: number | undefined;
  readonly stats: InformerStats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0, inactivityTimeouts: 0, shortWatches: 0 };

  constructor(client: InformerClient, type: ResourceType, opts: InformerOptions = {}) {
    this.client = client;
    this.type = type;
    this.opts = opts;
    this.log = opts.log ?? silent;
    this.transform = opts.transform ?? stripManagedFields;
    this.random = opts.random ?? Math.random;
    this.monotonicMs = opts.monotonicMs ?? (() => performance.now());
    this.inactivityMs = opts.inactivityTimeoutMs ?? DEFAULT_INACTIVITY_TIMEOUT_MS;
  }

  addHandler(h: InformerHandler): void {
    this.handlers.push(h);
  }

  get name(): string {
    return `${this.type.plural}.${this.type.group || "core"}`;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** True while an optional kind's API is not served (its last LIST answered 404). */
  notServed(): boolean {
    return this.absent;
  }

  /**
   * Monotonic time (see monotonicMs) the apiserver was last heard from: a list, a watch opening,
   * an event or a bookmark. undefined before the first. Readiness compares it with a limit.
   */
  lastHeardAt(): number | undefined {
    return this.heardAt;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      });
    });
  }

  /** Cached object by `namespace/name` (frozen). */
  get(key: string): KubeObject | undefined {
    return this.store.get(key);
  }

  list(): KubeObject[] {
    return [...this.store.values()];
  }

  /** Keys of every cached object (a controller enqueues them when it starts). */
  keys(): string[] {
    return [...this.store.keys()];
  }

  /** Starts the list/watch loop in the background; it runs until the signal aborts. */
  start(signal: AbortSignal): Promise<void> {
    this.running ??= this.run(signal);
    return Promise.resolve();
  }

  /** Resolves when the loop has stopped (after the start signal aborted). */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private heard(): void {
    this.heardAt = this.monotonicMs();
  }

  private async run(signal: AbortSignal): Promise<void> {
    const sleep = this.opts.sleep ?? abortableSleep;
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    let needList = true;
    let failures = 0;
    const fail = async (why: object, msg: string): Promise<void> => {
      failures++;
      const delay = backoffDelay(failures, backoff, this.random);
      this.log.warn({ informer: this.name, ...why, retryInMs: Math.round(delay), failures }, msg);
      await sleep(delay, signal);
    };
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
        }
        const started = this.monotonicMs();
        const events = await this.watchOnce(signal);
        if (signal.aborted) break;
        if (events === 0 && this.monotonicMs() - started < SHORT_WATCH_MS) {
          this.stats.shortWatches++;
          await fail({ resourceVersion: this.lastResourceVersion }, "watch ended within 1 s without events; backing off");
          continue;
        }
        failures = 0; // a watch that ran its course (server timeout): resume from lastResourceVersion
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof InactivityError) {
          // Not a server failure: re-watch at once (the next open has the same deadline, so this cannot spin).
          this.stats.inactivityTimeouts++;
          this.log.warn({ informer: this.name, resourceVersion: this.lastResourceVersion, inactivityMs: this.inactivityMs }, e.message);
          continue;
        }
        if (e instanceof KubeApiError && e.kind === "gone") {
          this.stats.relistsOnGone++;
          needList = true;
          await fail({ resourceVersion: this.lastResourceVersion }, "watch resourceVersion expired (410 Gone); re-listing");
          continue;
        }
        if (this.opts.optional === true && e instanceof KubeApiError && e.kind === "notFound") {
          needList = true; // a watch that 404s: the CRD was removed
          this.markAbsent();
          await sleep(backoff.maxMs, signal);
          continue;
        }
        this.stats.errors++;
        await fail({ err: String(e) }, "list/watch failed; retrying");
      }
    }
  }

  /** One watch; resolves with the number of events it delivered. Throws InactivityError on silence. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    this.stats.watches++;
    const watchCtl = new AbortController();
    const both = AbortSignal.any([signal, watchCtl.signal]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => watchCtl.abort(), this.inactivityMs);
    };
    let events = 0;
    arm(); // also bounds the wait for the watch to open
    try {
      await this.client.watch(
        this.type,
        this.opts.namespace,
        {
          resourceVersion: this.lastResourceVersion,
          labelSelector: this.opts.labelSelector,
          timeoutSeconds: this.opts.watchTimeoutSeconds ?? Math.floor(300 * (1 + this.random())),
          signal: both,
          onOpen: () => {
            this.heard();
            arm();
          },
        },
        (e) => {
          this.heard();
          arm();
          events++;
          this.apply(e);
        },
      );
    } catch (e) {
      if (watchCtl.signal.aborted && !signal.aborted) throw new InactivityError(`no watch event or bookmark for ${this.inactivityMs} ms; re-watching`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return events;
  }

  private apply(e: WatchEvent): void {
    switch (e.type) {
      case "ADDED":
      case "MODIFIED":
        this.upsert(e.object);
        break;
      case "DELETED":
        this.remove(e.object);
        break;
      case "BOOKMARK":
        if (e.resourceVersion) this.lastResourceVersion = e.resourceVersion;
        break;
      case "ERROR":
        throw new KubeApiError(e.status.code === 410 ? "gone" : "transient", e.status.code ?? 0, e.status.reason ?? "", e.status.message ?? "watch error");
    }
  }

  /** Lists and reconciles the cache with what the server has: emits adds, updates and deletes. */
  private async relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    // Transformed page by page: 10,000 objects are never all held with their managedFields.
    const res = await this.client.list(this.type, this.opts.namespace, {
      labelSelector: this.opts.labelSelector,
      pageSize: this.opts.pageSize ?? LIST_PAGE_SIZE,
      signal,
      each: (o) => this.transform(o),
    });
    this.heard();
    const seen = new Set<string>();
    for (const obj of res.items) {
      seen.add(objectKey(obj));
      this.upsert(obj, true);
    }
    for (const [key, obj] of [...this.store]) if (!seen.has(key)) this.remove(obj);
    this.lastResourceVersion = res.resourceVersion;
    if (this.absent) this.log.info({ informer: this.name }, "API is served now; watching it");
    this.absent = false;
    this.markSynced();
  }

  /** An optional kind's API is not served: nothing of it exists (objects cached before are gone). */
  private markAbsent(): void {
    if (!this.absent) this.log.warn({ informer: this.name }, "API not served by this cluster (404); features that need it stay idle until it is installed");
    this.absent = true;
    for (const obj of [...this.store.values()]) this.remove(obj);
    this.lastResourceVersion = "";
    this.markSynced();
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private upsert(raw: KubeObject, transformed = false): void {
    const key = objectKey(raw);
    const old = this.store.get(key);
    if (raw.metadata.resourceVersion) this.lastResourceVersion = raw.metadata.resourceVersion;
    if (old && old.metadata.resourceVersion === raw.metadata.resourceVersion) return; // re-list of an unchanged object
    const obj = freezeInterned(transformed ? raw : this.transform(raw), this.strings);
    this.store.set(key, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj);
    }
  }

  private remove(raw: KubeObject): void {
    const key = objectKey(raw);
    const old = this.store.get(key);
    if (raw.metadata.resourceVersion) this.lastResourceVersion = raw.metadata.resourceVersion;
    if (!this.store.delete(key)) return;
    const gone = old ?? deepFreeze(this.transform(raw));
    for (const h of this.handlers) h.onDelete?.(gone);
  }
}
