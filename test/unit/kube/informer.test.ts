// The informer's loop rules with a scripted client (the real apiserver path is in
// test/integration/informer*.test.ts): a watch that closes at once or a 410 loop cannot spin,
// backoff follows client-go (800 ms → 30 s, jittered into [d, 2d)), a silent watch is torn down at
// the inactivity deadline, and cached objects are transformed and frozen.
import { describe, expect, it } from "vitest";
import type { KubeObject, ListResult, ResourceType, WatchEvent } from "../../../src/kube/client.ts";
import { KubeApiError } from "../../../src/kube/errors.ts";
import { backoffDelay, freezeInterned, frozenCopy, Informer, LIST_PAGE_SIZE, StringTable, stripManagedFields, type InformerClient } from "../../../src/kube/informer.ts";

const cms: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

function cm(name: string, rv: string, extra: Partial<KubeObject["metadata"]> & Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion: rv, ...extra }, data: { v: rv } };
}

type WatchScript = (opts: { signal?: AbortSignal; timeoutSeconds?: number; onOpen?: () => void }, onEvent: (e: WatchEvent) => void) => Promise<void>;

/** A client whose list answers items and whose watch runs a script; counts calls and guards against spinning. */
function scripted(watch: WatchScript, items: KubeObject[] = [], guard?: AbortController): InformerClient & { lists: number; watches: number; timeouts: number[]; pageSizes: Array<number | undefined> } {
  const c = {
    lists: 0,
    watches: 0,
    timeouts: [] as number[],
    pageSizes: [] as Array<number | undefined>,
    // As KubeClient.list: `each` maps every item as its page arrives.
    list: (_rt: ResourceType, _ns: string | undefined, opts: { each?: (o: KubeObject) => KubeObject; pageSize?: number } = {}): Promise<ListResult> => {
      c.lists++;
      c.pageSizes.push(opts.pageSize);
      const all = structuredClone(items);
      return Promise.resolve({ items: opts.each ? all.map(opts.each) : all, resourceVersion: "10" });
    },
    watch: (_rt: ResourceType, _ns: string | undefined, opts: { signal?: AbortSignal; timeoutSeconds?: number; onOpen?: () => void }, onEvent: (e: WatchEvent) => void) => {
      c.watches++;
      c.timeouts.push(opts.timeoutSeconds ?? -1);
      if (c.watches > 100_000) guard?.abort(); // without backoff the loop never yields: stop it so the test fails instead of hanging
      return watch(opts, onEvent);
    },
  };
  return c as unknown as InformerClient & { lists: number; watches: number; timeouts: number[]; pageSizes: Array<number | undefined> };
}

/** Virtual time: sleep records the delay, advances the monotonic clock and returns at once. */
function virtualTime(stopAfterMs: number, ac: AbortController): { sleep: (ms: number) => Promise<void>; monotonicMs: () => number; delays: number[] } {
  let now = 0;
  const delays: number[] = [];
  return {
    delays,
    monotonicMs: () => now,
    sleep: (ms: number) => {
      delays.push(ms);
      now += ms;
      if (now >= stopAfterMs) ac.abort();
      return new Promise((r) => setImmediate(r));
    },
  };
}

describe("informer backoff (client-go rules)", () => {
  it.each([
    ["first failure", 1, 0, 800],
    ["first failure, full jitter", 1, 0.999, 1599.2],
    ["second", 2, 0, 1600],
    ["sixth", 6, 0, 25_600],
    ["capped", 7, 0, 30_000],
    ["capped, jittered below 2 × max", 50, 0.5, 45_000],
  ])("%s: failures %d random %d → %d ms", (_n, failures, random, expected) => {
    expect(backoffDelay(failures, { initialMs: 800, maxMs: 30_000 }, () => random)).toBeCloseTo(expected, 5);
  });

  it("a watch that closes at once is a failure: ≤ 8 watch calls per minute, delays 800 ms doubling to 30 s", async () => {
    const ac = new AbortController();
    const t = virtualTime(60_000, ac);
    const client = scripted(() => Promise.resolve(), [], ac);
    const inf = new Informer(client, cms, { sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0 });
    await inf.start(ac.signal);
    await inf.stopped();
    console.log(`[informer] closing watch: ${client.watches} watch calls in one (virtual) minute; delays ${t.delays.join(", ")}`);
    expect(client.watches).toBeLessThanOrEqual(8);
    expect(t.delays).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000]);
    expect(inf.stats.shortWatches).toBe(client.watches);
    expect(client.lists).toBe(1);
  });

  it("jitter spreads the delays into [d, 2d)", async () => {
    const ac = new AbortController();
    const t = virtualTime(60_000, ac);
    const inf = new Informer(scripted(() => Promise.resolve(), [], ac), cms, { sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0.5 });
    await inf.start(ac.signal);
    await inf.stopped();
    expect(t.delays.slice(0, 3)).toEqual([1200, 2400, 4800]);
  });

  it("a watch that delivered events resumes at once, with no backoff", async () => {
    const ac = new AbortController();
    const t = virtualTime(1, ac);
    let n = 0;
    const client = scripted((_o, onEvent) => {
      n++;
      if (n >= 5) ac.abort();
      onEvent({ type: "BOOKMARK", resourceVersion: String(10 + n) });
      return Promise.resolve();
    });
    const inf = new Informer(client, cms, { sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0 });
    await inf.start(ac.signal);
    await inf.stopped();
    expect(t.delays).toEqual([]);
    expect(client.watches).toBe(5);
  });

  it("410 Gone re-lists through the backoff, so a server that always answers 410 cannot spin", async () => {
    const ac = new AbortController();
    const t = virtualTime(60_000, ac);
    const client = scripted(() => Promise.reject(new KubeApiError("gone", 410, "Expired", "too old")), [], ac);
    const inf = new Informer(client, cms, { sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0 });
    await inf.start(ac.signal);
    await inf.stopped();
    expect(client.lists).toBeLessThanOrEqual(8);
    expect(inf.stats.relistsOnGone).toBe(client.watches);
    expect(t.delays[0]).toBe(800);
  });

  it("each watch asks for a random server timeout in [5, 10) minutes", async () => {
    const ac = new AbortController();
    const t = virtualTime(10_000, ac);
    const randoms = [0, 0.5, 0.9999];
    let i = 0;
    const client = scripted(() => Promise.resolve(), [], ac);
    const inf = new Informer(client, cms, { sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => randoms[i++ % randoms.length] ?? 0 });
    await inf.start(ac.signal);
    await inf.stopped();
    for (const s of client.timeouts) {
      expect(s).toBeGreaterThanOrEqual(300);
      expect(s).toBeLessThan(600);
    }
    expect(new Set(client.timeouts).size).toBeGreaterThan(1);
  });
});

describe("informer of an optional kind (an add-on's CRD a cluster may lack)", () => {
  /** A LIST that answers 404 (the API is not served) `missing` times, then items. */
  function appearsAfter(missing: number, items: KubeObject[], ac: AbortController): InformerClient & { lists: number } {
    const c = scripted(() => new Promise<void>((r) => ac.signal.addEventListener("abort", () => r(), { once: true })), items, ac);
    const list = c.list.bind(c);
    c.list = ((...args: Parameters<typeof c.list>) =>
      c.lists < missing ? (c.lists++, Promise.reject(new KubeApiError("notFound", 404, "", "404 page not found"))) : list(...args)) as typeof c.list;
    return c;
  }

  it.each([
    ["optional: synced and empty at once, re-listed every backoff max, filled when served", true, 3, 1],
    ["required: not synced while the API is missing (the operator's start waits)", false, Infinity, 0],
  ])("%s", async (_n, optional, missing, adds) => {
    const ac = new AbortController();
    const t = virtualTime(10 * 60_000, ac);
    const client = appearsAfter(missing, [cm("a", "11")], ac);
    const inf = new Informer(client, cms, { optional, sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0 });
    const added: string[] = [];
    inf.addHandler({ onAdd: (o) => added.push(o.metadata.name) });
    await inf.start(ac.signal);
    await new Promise((r) => setImmediate(r));
    expect(inf.hasSynced()).toBe(optional);
    expect(inf.notServed()).toBe(optional);
    if (optional) {
      while (added.length === 0) await new Promise((r) => setImmediate(r));
      expect(t.delays.slice(0, 3)).toEqual([30_000, 30_000, 30_000]);
      expect(inf.notServed()).toBe(false);
    }
    ac.abort();
    await inf.stopped();
    expect(added).toHaveLength(adds);
  });

  it("a watch that 404s (the CRD removed) empties the cache with deletes", async () => {
    const ac = new AbortController();
    const t = virtualTime(10 * 60_000, ac);
    const client = scripted(() => Promise.reject(new KubeApiError("notFound", 404, "", "404 page not found")), [cm("a", "11")], ac);
    const list = client.list.bind(client);
    client.list = ((...args: Parameters<typeof client.list>) =>
      client.lists >= 1 ? (client.lists++, Promise.reject(new KubeApiError("notFound", 404, "", "404 page not found"))) : list(...args)) as typeof client.list;
    const inf = new Informer(client, cms, { optional: true, sleep: t.sleep, monotonicMs: t.monotonicMs, random: () => 0 });
    const deleted: string[] = [];
    inf.addHandler({ onDelete: (o) => deleted.push(o.metadata.name) });
    await inf.start(ac.signal);
    await inf.stopped();
    expect(deleted).toEqual(["a"]);
    expect(inf.list()).toEqual([]);
    expect(inf.notServed()).toBe(true);
  });
});

describe("informer inactivity deadline", () => {
  it("a watch that goes silent is torn down and re-opened from the last resourceVersion", async () => {
    const ac = new AbortController();
    const seenRvs: string[] = [];
    const client = scripted((opts, onEvent) => {
      opts.onOpen?.();
      onEvent({ type: "BOOKMARK", resourceVersion: "42" });
      // Then silence: only the caller's signal ends it (a black-holed connection).
      return new Promise((_res, rej) => opts.signal?.addEventListener("abort", () => rej(new KubeApiError("transient", 0, "Aborted", "aborted")), { once: true }));
    });
    const origWatch = client.watch.bind(client);
    client.watch = ((rt, ns, opts, onEvent) => {
      seenRvs.push(opts.resourceVersion);
      return origWatch(rt, ns, opts, onEvent);
    }) as typeof client.watch;
    const inf = new Informer(client, cms, { inactivityTimeoutMs: 50 });
    await inf.start(ac.signal);
    while (inf.stats.inactivityTimeouts < 2) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await inf.stopped();
    expect(seenRvs.slice(0, 3)).toEqual(["10", "42", "42"]);
    expect(inf.stats.errors).toBe(0);
  });

  it("lastHeardAt moves with the list, the watch opening and every event", async () => {
    const ac = new AbortController();
    let now = 1000;
    const client = scripted((opts, onEvent) => {
      now = 2000;
      opts.onOpen?.();
      now = 3000;
      onEvent({ type: "ADDED", object: cm("a", "11") });
      now = 4000;
      ac.abort();
      return Promise.resolve();
    });
    const heard: Array<number | undefined> = [];
    const inf = new Informer(client, cms, { monotonicMs: () => now });
    inf.addHandler({ onAdd: () => heard.push(inf.lastHeardAt()) });
    expect(inf.lastHeardAt()).toBeUndefined();
    await inf.start(ac.signal);
    await inf.waitForSync();
    await inf.stopped();
    expect(heard).toEqual([3000]);
    expect(inf.lastHeardAt()).toBe(3000);
  });
});

describe("informer cache objects", () => {
  const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";
  const fat = cm("a", "11", { managedFields: [{ manager: "kubectl", fieldsV1: { "f:data": {} } }], annotations: { [lastApplied]: "{...}", keep: "me" } });

  it("drops managedFields and the last-applied annotation by default, keeping everything else", async () => {
    const ac = new AbortController();
    const inf = new Informer(scripted(() => new Promise(() => {}), [fat]), cms);
    await inf.start(ac.signal);
    await inf.waitForSync();
    const got = inf.get("ns/a");
    expect(got?.metadata).toEqual({ name: "a", namespace: "ns", resourceVersion: "11", annotations: { keep: "me" } });
    expect(got?.data).toEqual({ v: "11" });
    ac.abort();
  });

  it("stripManagedFields does not touch its input and removes an annotations map left empty", () => {
    const only = cm("b", "1", { annotations: { [lastApplied]: "{}" }, managedFields: [] });
    const copy = structuredClone(only);
    expect(stripManagedFields(only).metadata).toEqual({ name: "b", namespace: "ns", resourceVersion: "1" });
    expect(only).toEqual(copy);
  });

  it("hands out frozen objects: a caller's write throws instead of changing the cache", async () => {
    const ac = new AbortController();
    const inf = new Informer(scripted(() => new Promise(() => {}), [fat]), cms);
    let fromHandler: KubeObject | undefined;
    inf.addHandler({ onAdd: (o) => (fromHandler = o) });
    await inf.start(ac.signal);
    await inf.waitForSync();
    const got = inf.get("ns/a") as KubeObject;
    expect(() => {
      (got.metadata as { name: string }).name = "x";
    }).toThrow(TypeError);
    expect(() => (got.data as Record<string, string>)["v"] = "changed").toThrow(TypeError);
    expect(() => got.metadata.annotations && (got.metadata.annotations["new"] = "1")).toThrow(TypeError);
    expect(Object.isFrozen(fromHandler)).toBe(true);
    expect(inf.get("ns/a")?.data).toEqual({ v: "11" });
    ac.abort();
  });

  it.each<[string, number | undefined, number]>([
    ["pages of LIST_PAGE_SIZE (100: smaller response bodies than client-go's 500)", undefined, LIST_PAGE_SIZE],
    ["pages of the size asked for", 7, 7],
  ])("lists in %s", async (_n, pageSize, want) => {
    const ac = new AbortController();
    const client = scripted(() => new Promise(() => {}), [fat]);
    const inf = new Informer(client, cms, pageSize === undefined ? {} : { pageSize });
    await inf.start(ac.signal);
    await inf.waitForSync();
    expect(client.pageSizes).toEqual([want]);
    expect(LIST_PAGE_SIZE).toBe(100);
    ac.abort();
  });

  it("uses a custom transform (client-go SetTransform)", async () => {
    const ac = new AbortController();
    const inf = new Informer(scripted(() => new Promise(() => {}), [fat]), cms, { transform: (o) => ({ ...o, data: {} }) });
    await inf.start(ac.signal);
    await inf.waitForSync();
    expect(inf.get("ns/a")?.data).toEqual({});
    expect(inf.keys()).toEqual(["ns/a"]);
    ac.abort();
  });
});

describe("StringTable and frozenCopy (the cache shares repeated strings)", () => {
  it("keeps at most max strings: full, it starts over, so unique values cannot grow it", () => {
    const t = new StringTable(3);
    for (const s of ["a", "b", "c"]) t.intern(s);
    expect(t.size).toBe(3);
    expect(t.intern("b")).toBe("b");
    expect(t.size).toBe(3);
    t.intern("d");
    expect(t.size).toBe(1);
    for (let i = 0; i < 100; i++) t.intern(`uid-${i}`);
    expect(t.size).toBeLessThanOrEqual(3);
  });

  it("leaves long strings out of the table", () => {
    const t = new StringTable();
    expect(t.intern("x".repeat(513))).toBe("x".repeat(513));
    expect(t.size).toBe(0);
  });

  it("copies deeply and freezes the copy, not its input", () => {
    const t = new StringTable();
    const input = { a: "x", list: [{ b: "y", n: 1, ok: true, none: null }], nested: { c: "x" } };
    const before = structuredClone(input);
    const copy = frozenCopy(input, t);
    expect(copy).toEqual(before);
    expect(input).toEqual(before);
    expect(Object.isFrozen(input) || Object.isFrozen(input.list) || Object.isFrozen(input.nested)).toBe(false);
    expect([copy, copy.list, copy.list[0], copy.nested].every((o) => Object.isFrozen(o))).toBe(true);
    expect(t.size).toBe(2); // "x" once for both fields, and "y"
  });

  it("freezeInterned freezes what the cache just parsed in place, sharing its strings through the table", () => {
    const t = new StringTable();
    const shared = t.intern("westeurope");
    const parsed = JSON.parse('{"a":"westeurope","list":[{"b":"y","n":1,"none":null}],"nested":{"c":"westeurope"},"done":{"d":"z"}}') as {
      a: string;
      list: Array<Record<string, unknown>>;
      nested: { c: string };
      done: { d: string };
    };
    Object.freeze(parsed.done);
    const out = freezeInterned(parsed, t);
    expect(out).toBe(parsed);
    expect([out, out.list, out.list[0], out.nested, out.done].every((o) => Object.isFrozen(o))).toBe(true);
    expect(out).toEqual({ a: "westeurope", list: [{ b: "y", n: 1, none: null }], nested: { c: "westeurope" }, done: { d: "z" } });
    expect(out.a).toBe(shared);
    expect(t.size).toBe(2); // "westeurope" (already there) and "y"; the frozen part is left alone
    expect(() => {
      "use strict";
      (out.nested as { c: string }).c = "changed";
    }).toThrow(TypeError);
  });
});
