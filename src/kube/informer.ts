// A supervised informer: list, then watch from the list's resourceVersion, keeping a local cache.
// It never gives up: a watch that ends is resumed from the last seen resourceVersion (bookmarks
// keep it fresh), a 410 Gone re-lists and emits the differences (so no update is ever missed), and
// any other error backs off exponentially and tries again. Handlers receive objects; controllers
// turn them into keys.
import type { KubeClient, KubeObject, ResourceType } from "./client.ts";
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

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Server-side watch timeout; the informer re-watches after it. */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
  log?: InformerLogger;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface InformerStats {
  lists: number;
  watches: number;
  relistsOnGone: number;
  errors: number;
}

const silent: InformerLogger = { info() {}, warn() {}, debug() {} };

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

export class Informer {
  readonly type: ResourceType;
  private readonly client: KubeClient;
  private readonly opts: InformerOptions;
  private readonly log: InformerLogger;
  private readonly store = new Map<string, KubeObject>();
  private readonly handlers: InformerHandler[] = [];
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private running: Promise<void> | undefined;
  private lastResourceVersion = "";
  readonly stats: InformerStats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0 };

  constructor(client: KubeClient, type: ResourceType, opts: InformerOptions = {}) {
    this.client = client;
    this.type = type;
    this.opts = opts;
    this.log = opts.log ?? silent;
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

  /** Cached object by `namespace/name`. */
  get(key: string): KubeObject | undefined {
    return this.store.get(key);
  }

  list(): KubeObject[] {
    return [...this.store.values()];
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

  private async run(signal: AbortSignal): Promise<void> {
    const sleep = this.opts.sleep ?? abortableSleep;
    const backoff = this.opts.backoff ?? { initialMs: 200, maxMs: 30_000 };
    let needList = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
        }
        this.stats.watches++;
        await this.client.watch(
          this.type,
          this.opts.namespace,
          { resourceVersion: this.lastResourceVersion, labelSelector: this.opts.labelSelector, timeoutSeconds: this.opts.watchTimeoutSeconds, signal },
          (e) => {
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
          },
        );
        failures = 0; // a watch that ended normally (server timeout): resume from lastResourceVersion
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof KubeApiError && e.kind === "gone") {
          this.stats.relistsOnGone++;
          this.log.info({ informer: this.name, resourceVersion: this.lastResourceVersion }, "watch resourceVersion expired (410 Gone); re-listing");
          needList = true;
          continue;
        }
        this.stats.errors++;
        failures++;
        const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 20));
        this.log.warn({ informer: this.name, err: String(e), retryInMs: delay, failures }, "list/watch failed; retrying");
        await sleep(delay, signal);
      }
    }
  }

  /** Lists and reconciles the cache with what the server has: emits adds, updates and deletes. */
  private async relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    const res = await this.client.list(this.type, this.opts.namespace, { labelSelector: this.opts.labelSelector, signal });
    const seen = new Set<string>();
    for (const obj of res.items) {
      seen.add(objectKey(obj));
      this.upsert(obj);
    }
    for (const [key, obj] of [...this.store]) if (!seen.has(key)) this.remove(obj);
    this.lastResourceVersion = res.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private upsert(obj: KubeObject): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (obj.metadata.resourceVersion) this.lastResourceVersion = obj.metadata.resourceVersion;
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return; // re-list of an unchanged object
    this.store.set(key, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj);
    }
  }

  private remove(obj: KubeObject): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (obj.metadata.resourceVersion) this.lastResourceVersion = obj.metadata.resourceVersion;
    if (!this.store.delete(key)) return;
    for (const h of this.handlers) h.onDelete?.(old ?? obj);
  }
}
