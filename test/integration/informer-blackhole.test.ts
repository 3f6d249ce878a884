// Silent connection loss between the operator and the real kube-apiserver: a TCP proxy that
// black-holes traffic (no FIN, no RST, sockets stay open) sits in between. The informer must
// notice within its inactivity deadline, /readyz must turn false while nothing is heard, and once
// the path heals the cache must converge on every create, update and delete made meanwhile.
// The same proxy counts connections: requests share kept-alive TLS connections.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { createNoopLogger } from "../../src/runtime/logger.ts";
import { Manager } from "../../src/runtime/manager.ts";
import { BlackholeProxy } from "../harness/blackhole-proxy.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

const configMaps: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

function cm(ns: string, name: string, value: string): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: { app: "blackhole" } }, data: { value } };
}

/** The same kubeconfig (credentials, CA) with the server behind the proxy. */
function throughProxy(kc: KubeConfig, port: number): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("no cluster");
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ ...cluster, server: `https://127.0.0.1:${port}` }],
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return out;
}

async function readyz(m: Manager): Promise<{ status: number; body: string }> {
  const a = m.healthAddress();
  if (!a) throw new Error("no health server");
  const res = await fetch(`http://127.0.0.1:${a.port}/readyz?verbose`);
  return { status: res.status, body: await res.text() };
}

const valueOf = (o: KubeObject | undefined): string | undefined => (o?.data as Record<string, string> | undefined)?.value;

describe("informer behind a black-holing proxy (real kube-apiserver)", () => {
  let proxy: BlackholeProxy;
  let direct: KubeClient;
  let kc: KubeConfig;

  beforeAll(async () => {
    kc = kubeConfig();
    direct = new KubeClient(kc);
    const server = new URL(inject("kubeServer"));
    proxy = await BlackholeProxy.start({ host: server.hostname, port: Number(server.port) });
  });

  afterAll(async () => {
    direct?.close();
    await proxy?.close();
  });

  it("requests share kept-alive TLS connections", async () => {
    const client = new KubeClient(throughProxy(kc, proxy.port));
    const ns = await createNamespace(kc, "keepalive");
    const before = proxy.accepted;
    for (let i = 0; i < 100; i++) await client.list(configMaps, ns);
    const used = proxy.accepted - before;
    console.log(`[blackhole] TLS connections for 100 requests to kube-apiserver: ${used}`);
    expect(used).toBe(1);
    client.close();
  });

  it("notices the dead path within the inactivity deadline, is unready meanwhile, and misses no update", async () => {
    const ns = await createNamespace(kc, "blackhole");
    for (const n of ["a", "b", "c"]) await direct.create(configMaps, cm(ns, n, "v1"));

    const inactivityMs = 3_000;
    const client = new KubeClient(throughProxy(kc, proxy.port), { timeoutMs: inactivityMs });
    const inf = new Informer(client, configMaps, {
      namespace: ns,
      labelSelector: "app=blackhole",
      inactivityTimeoutMs: inactivityMs,
      backoff: { initialMs: 200, maxMs: 1_000 },
    });
    const updates: string[] = [];
    inf.addHandler({
      onAdd: (o) => updates.push(`add ${o.metadata.name}=${valueOf(o)}`),
      onUpdate: (_old, o) => updates.push(`update ${o.metadata.name}=${valueOf(o)}`),
      onDelete: (o) => updates.push(`delete ${o.metadata.name}`),
    });
    // A healthy idle watch is re-opened every inactivityMs (no bookmark that soon), and each opening
    // counts as hearing from the apiserver: a limit above it keeps a healthy replica ready.
    const manager = new Manager({ logger: createNoopLogger(), healthAddress: { host: "127.0.0.1", port: 0 }, sourceSilenceLimitMs: 2 * inactivityMs });
    manager.addSource(inf);
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    try {
      await manager.elected();
      await eventually(async () => (inf.stats.watches > 0 && inf.get(`${ns}/c`) ? true : undefined), "informer watching");
      expect((await readyz(manager)).status).toBe(200);

      proxy.blackhole();
      const holedAt = performance.now();
      const timeoutsBefore = inf.stats.inactivityTimeouts;
      // Changes the informer cannot see while the path is dead.
      await direct.mergePatch(configMaps, ns, "a", { data: { value: "v2" } });
      await direct.delete(configMaps, ns, "b");
      await direct.create(configMaps, cm(ns, "d", "v1"));
      await direct.create(configMaps, cm(ns, "e", "v1"));
      await direct.delete(configMaps, ns, "e");
      for (let i = 2; i <= 5; i++) await direct.mergePatch(configMaps, ns, "c", { data: { value: `v${i}` } });

      await eventually(async () => (inf.stats.inactivityTimeouts > timeoutsBefore ? true : undefined), "the informer to notice", 4 * inactivityMs, 50);
      const noticedMs = performance.now() - holedAt;
      const unready = await eventually(async () => {
        const r = await readyz(manager);
        return r.status === 500 ? r : undefined;
      }, "readiness to fail", 6 * inactivityMs);
      expect(unready.body).toContain("[-]sources-heard failed");
      expect(valueOf(inf.get(`${ns}/a`))).toBe("v1"); // really cut off: nothing got through
      console.log(`[blackhole] noticed after ${Math.round(noticedMs)} ms (deadline ${inactivityMs} ms); stats ${JSON.stringify(inf.stats)}`);
      expect(noticedMs).toBeLessThan(inactivityMs + 3_000);

      proxy.heal();
      const healedAt = performance.now();
      await eventually(
        async () => (valueOf(inf.get(`${ns}/a`)) === "v2" && valueOf(inf.get(`${ns}/c`)) === "v5" && inf.get(`${ns}/d`) && !inf.get(`${ns}/b`) ? true : undefined),
        "the cache to converge after the heal",
        30_000,
      );
      console.log(`[blackhole] converged ${Math.round(performance.now() - healedAt)} ms after the heal; stats ${JSON.stringify(inf.stats)}`);
      expect(inf.get(`${ns}/e`)).toBeUndefined();
      // The cache equals the server: same keys, same resourceVersions.
      const truth = await direct.list(configMaps, ns, { labelSelector: "app=blackhole" });
      const rvs = (objs: KubeObject[]): string[] => objs.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
      expect(rvs(inf.list())).toEqual(rvs(truth.items));
      expect(updates).toEqual(expect.arrayContaining(["update a=v2", "delete b", "add d=v1", "update c=v5"]));
      await eventually(async () => ((await readyz(manager)).status === 200 ? true : undefined), "readiness to recover", 15_000);
    } finally {
      proxy.heal();
      stop.abort();
      await running;
      client.close();
    }
  });
});
