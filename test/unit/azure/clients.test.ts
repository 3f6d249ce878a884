import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { armAgent, createArmClients, THROTTLE_EPISODE_GAP_MS, throttleLogPolicy } from "../../../src/azure/clients.ts";
import { fixedTokenCredential } from "../../../src/azure/credential.ts";
import { createArmMetrics } from "../../../src/azure/metrics.ts";

function clients() {
  return createArmClients({
    endpoint: "https://management.example.invalid",
    credential: fixedTokenCredential("t", () => 0),
    userAgent: "aksnap/test",
    writeRate: { ratePerSecond: 10, burst: 200 },
    metrics: createArmMetrics(new Registry()),
    now: () => 0,
    sleep: async () => {},
    timeoutMs: 30_000,
  });
}

describe("armAgent: an extra CA without a per-request cost", () => {
  const ca = "-----BEGIN CERTIFICATE-----\nextra\n-----END CERTIFICATE-----\n";
  it("trusts Node's roots and the extra CA, keeps connections alive, and leaves the CA out of its pool key", () => {
    const agent = armAgent([ca]);
    const options = (agent as unknown as { options: { ca: string[]; keepAlive: boolean } }).options;
    expect(options.keepAlive).toBe(true);
    expect(options.ca).toContain(ca);
    expect(options.ca.length).toBeGreaterThan(100);
    // Node's https.Agent joins every option into the key (the whole bundle, on each request).
    const key = agent.getName({ host: "arm.local", port: 443, servername: "arm.local", ...options } as never);
    expect(key).toBe("arm.local:443:::arm.local");
    agent.destroy();
  });

  it("with a CA, every request of both clients goes through that one agent; without one, the SDK's", async () => {
    const c = createArmClients({
      endpoint: "https://management.example.invalid",
      credential: fixedTokenCredential("t", () => 0),
      userAgent: "aksnap/test",
      ca,
      writeRate: false,
      metrics: createArmMetrics(new Registry()),
      now: () => 0,
      sleep: async () => {},
      timeoutMs: 30_000,
    }).forSubscription("s");
    const seen: unknown[] = [];
    for (const pipeline of [c.containerService.pipeline, c.compute.pipeline]) {
      const req = createPipelineRequest({ url: "https://management.example.invalid/x" });
      await pipeline.sendRequest(
        { sendRequest: (r) => (seen.push(r.agent), Promise.resolve({ request: r, status: 200, headers: createHttpHeaders() })) },
        req,
      );
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeDefined();
    expect(seen[1]).toBe(seen[0]);
    expect(clients().forSubscription("s").containerService.pipeline.getOrderedPolicies().map((p) => p.name)).not.toContain("aksnapArmAgent");
  });
});

describe("createArmClients", () => {
  it("builds one client pair per subscription and caches it (subscription ids compared case-insensitively)", () => {
    const c = clients();
    const a = c.forSubscription("AAAA-1");
    expect(c.forSubscription("aaaa-1")).toBe(a);
    expect(c.forSubscription("bbbb-2")).not.toBe(a);
    expect(a.subscriptionId).toBe("AAAA-1");
  });

  it("puts the write bucket and metrics policies in both clients' pipelines, inside the retry loop", () => {
    const a = clients().forSubscription("s");
    for (const pipeline of [a.containerService.pipeline, a.compute.pipeline]) {
      const names = pipeline.getOrderedPolicies().map((p) => p.name);
      const retry = names.findIndex((n) => /retry/i.test(n));
      const bucket = names.indexOf("aksnapWriteRateLimit");
      const metrics = names.indexOf("aksnapArmMetrics");
      expect(retry).toBeGreaterThanOrEqual(0);
      // After the retry policy = applied to every attempt; bucket before metrics = latency excludes waits.
      expect(bucket).toBeGreaterThan(retry);
      expect(metrics).toBeGreaterThan(bucket);
    }
  });
});

describe("throttleLogPolicy", () => {
  const answer = (status: number) => async (): Promise<PipelineResponse> => ({
    status,
    headers: createHttpHeaders({ "retry-after": "1", "x-ms-request-id": "r" }),
    request: createPipelineRequest({ url: "https://x" }),
  });

  it("warns once per throttling episode, the rest at debug, and counts the previous episode", async () => {
    let t = 0;
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const policy = throttleLogPolicy(logger, () => t);
    const send = (status: number) =>
      policy.sendRequest(createPipelineRequest({ url: "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/x" }), answer(status));
    for (let i = 0; i < 5; i++) {
      await send(429);
      t += 1_000;
    }
    await send(200);
    t += THROTTLE_EPISODE_GAP_MS;
    await send(429);
    const levels = lines.map((l) => l["level"]);
    expect(levels).toEqual([40, 20, 20, 20, 20, 40]);
    expect(lines[5]).toMatchObject({ throttledInPreviousEpisode: 5, retryAfterMs: 1000 });
  });
});
