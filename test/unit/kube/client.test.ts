// KubeClient's transport against a local HTTP server (through the black-hole proxy, which counts
// connections): kept-alive connections are reused, every request has a deadline, and every public
// method takes the caller's AbortSignal. The real apiserver path is covered in test/integration.
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type CallOptions, type ResourceType } from "../../../src/kube/client.ts";
import { KubeApiError } from "../../../src/kube/errors.ts";
import { BlackholeProxy } from "../../harness/blackhole-proxy.ts";

const cms: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };
const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" } };

function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "local", user: "u" }],
    currentContext: "c",
  });
  return kc;
}

let server: http.Server;
let proxy: BlackholeProxy;
let requests = 0;
const bodies: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    if (req.url?.includes("hang")) return; // never answers
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "DELETE") bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.url?.includes("watch=true") ? "" : { ...cm, items: [], metadata: { ...cm.metadata, resourceVersion: "1" } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy = await BlackholeProxy.start({ host: "127.0.0.1", port: (server.address() as AddressInfo).port });
});

afterAll(async () => {
  await proxy.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("KubeClient transport", () => {
  it("reuses one kept-alive connection for 100 sequential requests", async () => {
    const client = new KubeClient(kubeConfigFor(proxy.port));
    const before = proxy.accepted;
    for (let i = 0; i < 100; i++) await client.get(cms, "ns", "a");
    const used = proxy.accepted - before;
    console.log(`[kube client] connections for 100 requests: ${used}`);
    expect(used).toBe(1);
    client.close();
  });

  it("keeps a burst's connections for the next burst (16 workers at once: no TLS connection churn between bursts)", async () => {
    const client = new KubeClient(kubeConfigFor(proxy.port));
    const before = proxy.accepted;
    for (let burst = 0; burst < 3; burst++) await Promise.all(Array.from({ length: 16 }, () => client.get(cms, "ns", "a")));
    // Node's default would keep 8 idle and close the rest: 8 new connections (handshakes) per burst.
    expect(proxy.accepted - before).toBe(16);
    client.close();
  });

  it("a request with no answer fails with a transient Timeout after the deadline, freeing its socket", async () => {
    const client = new KubeClient(kubeConfigFor(proxy.port), { timeoutMs: 200 });
    const started = performance.now();
    const err = await client.get(cms, "ns", "hang").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ kind: "transient", reason: "Timeout" });
    expect(performance.now() - started).toBeLessThan(5_000);
    // The timed-out socket is not reused: the next request still works.
    await expect(client.get(cms, "ns", "a")).resolves.toMatchObject({ kind: "ConfigMap" });
    client.close();
  });

  it("a black-holed connection cannot hang a request past its deadline", async () => {
    const client = new KubeClient(kubeConfigFor(proxy.port), { timeoutMs: 300 });
    await client.get(cms, "ns", "a"); // a kept-alive connection now exists
    proxy.blackhole();
    try {
      await expect(client.get(cms, "ns", "a")).rejects.toMatchObject({ kind: "transient", reason: "Timeout" });
    } finally {
      proxy.heal();
    }
    await expect(client.get(cms, "ns", "a")).resolves.toMatchObject({ kind: "ConfigMap" });
    client.close();
  });

  it("DELETE sends its DeleteOptions framed, and the kept-alive connection stays usable", async () => {
    const client = new KubeClient(kubeConfigFor(proxy.port));
    const before = proxy.accepted;
    await client.delete(cms, "ns", "a", { preconditionUid: "u-1" });
    await client.get(cms, "ns", "a");
    expect(JSON.parse(bodies.at(-1) ?? "{}")).toMatchObject({ preconditions: { uid: "u-1" } });
    expect(proxy.accepted - before).toBe(1);
    client.close();
  });

  it("turns TCP keepalive on for a socket's first request (a long watch on a fresh connection)", async () => {
    const spy = vi.spyOn(net.Socket.prototype, "setKeepAlive");
    try {
      const client = new KubeClient(kubeConfigFor(proxy.port), { tcpKeepAliveMs: 12_345 });
      const ac = new AbortController();
      const seen = requests;
      const watching = client.watch(cms, "hang", { resourceVersion: "1", signal: ac.signal }, () => {}).catch(() => undefined);
      while (requests === seen) await new Promise((r) => setTimeout(r, 5));
      expect(spy).toHaveBeenCalledWith(true, 12_345);
      ac.abort();
      await watching;
      client.close();
    } finally {
      spy.mockRestore();
    }
  });

  type Call = (c: KubeClient, o: CallOptions) => Promise<unknown>;
  const calls: Array<[string, Call]> = [
    ["get", (c, o) => c.get(cms, "ns", "hang", o)],
    ["tryGet", (c, o) => c.tryGet(cms, "ns", "hang", o)],
    ["list", (c, o) => c.list(cms, "hang", o)],
    ["create", (c, o) => c.create(cms, { ...cm, metadata: { ...cm.metadata, namespace: "hang" } }, o)],
    ["replace", (c, o) => c.replace(cms, { ...cm, metadata: { ...cm.metadata, name: "hang" } }, o)],
    ["mergePatch", (c, o) => c.mergePatch(cms, "ns", "hang", {}, undefined, undefined, o)],
    ["apply", (c, o) => c.apply(cms, { ...cm, metadata: { ...cm.metadata, name: "hang" } }, "test", o)],
    ["delete", (c, o) => c.delete(cms, "ns", "hang", o)],
    ["watch", (c, o) => c.watch(cms, "hang", { resourceVersion: "1", ...o }, () => {})],
  ];

  it.each(calls)("%s takes the caller's signal: aborting it ends the request at once", async (_name, fn) => {
    const client = new KubeClient(kubeConfigFor(proxy.port), { timeoutMs: 60_000 });
    const ac = new AbortController();
    const seen = requests;
    const p = fn(client, { signal: ac.signal }).catch((e: unknown) => e);
    while (requests === seen) await new Promise((r) => setTimeout(r, 5)); // it reached the server
    ac.abort();
    expect(await p).toMatchObject({ kind: "transient", reason: "Aborted" });
    client.close();
  });

  it.each(calls)("%s takes a per-call timeout", async (_name, fn) => {
    const client = new KubeClient(kubeConfigFor(proxy.port), { timeoutMs: 60_000 });
    expect(await fn(client, { timeoutMs: 100 }).catch((e: unknown) => e)).toMatchObject({ kind: "transient", reason: "Timeout" });
    client.close();
  });
});
