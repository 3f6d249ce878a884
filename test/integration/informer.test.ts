// The supervised informer against the real kube-apiserver: it resumes after the server ends a
// watch, and after kube-apiserver itself is stopped and restarted mid-watch it converges on every
// change made meanwhile (creates, updates, deletes) — no missed update.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { startControlPlane, type ControlPlane } from "../harness/control-plane.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

const configMaps: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

function cm(ns: string, name: string, value: string): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: { app: "informer-test" } }, data: { value } };
}

interface Seen {
  adds: string[];
  updates: string[];
  deletes: string[];
}

function record(inf: Informer): Seen {
  const seen: Seen = { adds: [], updates: [], deletes: [] };
  const v = (o: KubeObject): string => `${o.metadata.name}=${(o.data as Record<string, string> | undefined)?.value}`;
  inf.addHandler({
    onAdd: (o) => seen.adds.push(v(o)),
    onUpdate: (_old, o) => seen.updates.push(v(o)),
    onDelete: (o) => seen.deletes.push(v(o)),
  });
  return seen;
}

describe("informer on the shared control plane", () => {
  it("lists, watches, and resumes after the server closes the watch", async () => {
    const kc = kubeConfig();
    const client = new KubeClient(kc);
    const ns = await createNamespace(kc, "informer");
    await client.create(configMaps, cm(ns, "a", "1"));
    const ac = new AbortController();
    // A 1 s server-side timeout forces several watch restarts during the test.
    const inf = new Informer(client, configMaps, { namespace: ns, labelSelector: "app=informer-test", watchTimeoutSeconds: 1 });
    const seen = record(inf);
    await inf.start(ac.signal);
    expect(await inf.waitForSync()).toBe(true);
    expect(seen.adds).toEqual(["a=1"]);
    // Outlive at least two server-side timeouts: counted, since on a loaded machine each re-watch
    // can take long enough that a fixed 2.5 s sees only one.
    await eventually(async () => (inf.stats.watches >= 3 ? true : undefined), "two watch restarts", 30_000, 50);
    await client.mergePatch(configMaps, ns, "a", { data: { value: "2" } });
    await client.create(configMaps, cm(ns, "b", "1"));
    await client.delete(configMaps, ns, "a");
    await eventually(async () => (seen.deletes.includes("a=2") && seen.adds.includes("b=1") ? true : undefined), "events after watch restarts");
    expect(seen.updates).toContain("a=2");
    expect(inf.stats.watches).toBeGreaterThanOrEqual(3);
    expect(inf.get(`${ns}/b`)).toBeDefined();
    expect(inf.get(`${ns}/a`)).toBeUndefined();
    ac.abort();
    await inf.stopped();
  });
});

describe("informer across a kube-apiserver restart", () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane({ controllerManager: false });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it("converges on every change made while its watch was down", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const client = new KubeClient(kc);
    const ns = await createNamespace(kc, "restart");
    await client.create(configMaps, cm(ns, "keep", "v1"));
    await client.create(configMaps, cm(ns, "doomed", "v1"));
    const ac = new AbortController();
    const inf = new Informer(client, configMaps, { namespace: ns, labelSelector: "app=informer-test", backoff: { initialMs: 1500, maxMs: 3000 } });
    const seen = record(inf);
    await inf.start(ac.signal);
    await inf.waitForSync();
    const watchesBefore = inf.stats.watches;

    await cp.restartApiServer(500);
    // The informer is backing off now; change everything before it reconnects.
    await client.mergePatch(configMaps, ns, "keep", { data: { value: "v2" } });
    await client.delete(configMaps, ns, "doomed");
    await client.create(configMaps, cm(ns, "born", "v1"));
    for (let i = 3; i <= 6; i++) await client.mergePatch(configMaps, ns, "keep", { data: { value: `v${i}` } });

    await eventually(
      async () => (inf.get(`${ns}/keep`)?.data as Record<string, string> | undefined)?.value === "v6" && inf.get(`${ns}/born`) && !inf.get(`${ns}/doomed`) ? true : undefined,
      "informer cache to converge after the restart",
      60_000,
    );
    expect(seen.adds).toContain("born=v1");
    expect(seen.deletes).toEqual(["doomed=v1"]);
    expect(seen.updates.at(-1)).toBe("keep=v6");
    expect(inf.stats.errors).toBeGreaterThan(0); // it really did lose the watch
    expect(inf.stats.watches).toBeGreaterThan(watchesBefore);
    console.log(`[informer restart] stats ${JSON.stringify(inf.stats)}; updates seen ${JSON.stringify(seen.updates)}`);
    ac.abort();
    await inf.stopped();
  });
});
