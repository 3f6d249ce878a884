// Benchmark: the Kubernetes I/O loops that must not spin or churn, in one run, counts not timings.
// - Watch calls in one real second for a watch that the server closes at once (client-go's
//   "very short watch" rule plus jittered backoff bound it; the loop once made millions).
// - TCP connections opened for 100 sequential requests through a counting proxy (keep-alive).
//   node bench/kube-io.ts
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type ResourceType } from "../src/kube/client.ts";
import { Informer, type InformerClient } from "../src/kube/informer.ts";
import { BlackholeProxy } from "../test/harness/blackhole-proxy.ts";

const cms: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

async function closingWatch(ms: number): Promise<number> {
  const ac = new AbortController();
  let watches = 0;
  const client = {
    list: () => Promise.resolve({ items: [], resourceVersion: "1" }),
    watch: () => {
      watches++;
      return Promise.resolve();
    },
  } as unknown as InformerClient;
  const inf = new Informer(client, cms);
  await inf.start(ac.signal);
  await new Promise((r) => setTimeout(r, ms));
  ac.abort();
  await inf.stopped();
  return watches;
}

async function connectionsFor(requests: number): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const proxy = await BlackholeProxy.start({ host: "127.0.0.1", port: (server.address() as AddressInfo).port });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "l", server: `http://127.0.0.1:${proxy.port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "l", user: "u" }],
    currentContext: "c",
  });
  const client = new KubeClient(kc);
  for (let i = 0; i < requests; i++) await client.get(cms, "ns", "a");
  client.close();
  const used = proxy.accepted;
  await proxy.close();
  server.closeAllConnections();
  server.close();
  return used;
}

console.log(`watch calls in 1 s for a watch that closes at once: ${await closingWatch(1000)}`);
console.log(`TCP connections for 100 sequential requests: ${await connectionsFor(100)}`);
