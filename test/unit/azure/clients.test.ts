import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createArmClients } from "../../../src/azure/clients.ts";
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
