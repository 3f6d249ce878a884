// Throttling, retries and request metrics of src/azure through the real SDK clients against the ARM
// emulator: the client-side write bucket shapes a burst under ARM's limiter (zero 429s), Retry-After
// in all three header forms is honoured, and errors keep what a controller needs to requeue.

import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { agentPoolId, createAzure, fixedTokenCredential, type AzureOptions, type AzureLayer } from "../../src/azure/index.ts";
import { startEmulator, type RunningEmulator, type WorldFixture } from "../emulator/index.ts";

const SUB_STORM = "22222222-2222-2222-2222-222222222222";
const SUB_SHAPED = "33333333-3333-3333-3333-333333333333";
const SUB = "44444444-4444-4444-4444-444444444444";
const SUB_CUT = "55555555-5555-5555-5555-555555555555";
const RG = "rg";

function subscription(subscriptionId: string) {
  return {
    subscriptionId,
    resourceGroups: [
      {
        name: RG,
        location: "westeurope",
        managedClusters: [
          {
            name: "c1",
            location: "westeurope",
            kubernetesVersion: "1.33.3",
            agentPools: [{ name: "pool1", vmSize: "Standard_D4ds_v5", count: 1, mode: "System" as const, nodeImageVersion: "AKSUbuntu-2204gen2containerd-202510.03.0" }],
          },
        ],
      },
    ],
  };
}

const world: WorldFixture = { subscriptions: [subscription(SUB_STORM), subscription(SUB_SHAPED), subscription(SUB), subscription(SUB_CUT)] };
const source = (subscriptionId: string) => agentPoolId({ subscriptionId, resourceGroup: RG, clusterName: "c1", agentPoolName: "pool1" });
const snap = (subscriptionId: string, name: string) => ({ subscriptionId, resourceGroup: RG, name });

let emu: RunningEmulator;

function layer(over: Partial<AzureOptions> = {}): { az: AzureLayer; registry: Registry } {
  const registry = new Registry();
  const az = createAzure({
    endpoint: emu.url,
    credential: fixedTokenCredential("contract-test", Date.now),
    ca: emu.ca,
    registry,
    userAgent: "aksnap/contract-test",
    ...over,
  });
  return { az, registry };
}

beforeAll(async () => {
  // ARM's write limiter, scaled down: 5 writes at once, 5 more per second.
  emu = await startEmulator({ world, rateLimits: { writes: { capacity: 5, refillPerSecond: 5 } } });
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => {
  emu.control.clearFaults();
  emu.control.clearRequests();
});

const BURST = 15;

describe("a burst of writes against ARM's per-subscription write limiter", () => {
  it("without the client-side bucket: ARM answers 429s (the SDK waits them out via Retry-After)", async () => {
    const { az, registry } = layer({ writeRate: false });
    const results = await Promise.all(
      Array.from({ length: BURST }, (_, i) => az.nodePoolSnapshots.put(snap(SUB_STORM, `s${i}`), { location: "westeurope", sourceResourceId: source(SUB_STORM) })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const throttled = emu.control.countRequests({ method: "PUT", status: 429 });
    expect(throttled).toBeGreaterThan(0);
    expect(await registry.metrics()).toContain(`aksnap_arm_requests_total{resource_type="Microsoft.ContainerService/snapshots",method="PUT",code="429"} ${throttled}`);
  });

  it("with a bucket sized under ARM's: the same burst is shaped into waits and ARM sees zero 429s", async () => {
    // Well under the emulator's 5/s, burst 5: on a loaded machine requests sent apart can still
    // arrive together, so shaping needs headroom to guarantee zero 429s.
    const { az, registry } = layer({ writeRate: { ratePerSecond: 3, burst: 3 } });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: BURST }, (_, i) => az.nodePoolSnapshots.put(snap(SUB_SHAPED, `s${i}`), { location: "westeurope", sourceResourceId: source(SUB_SHAPED) })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emu.control.countRequests({ method: "PUT", status: 429 })).toBe(0);
    expect(emu.control.countRequests({ method: "PUT", status: 201 })).toBe(BURST);
    // 3 at once, then one every 333 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((BURST - 3) * 1000) / 3 - 50);
    const text = await registry.metrics();
    expect(text).toMatch(/aksnap_arm_write_rate_wait_seconds_count \d+/);
    expect(text).not.toContain('code="429"');
  });

  it("with a bucket larger than ARM's: ARM's first 429 halves our write rate (counted), and the burst still completes", async () => {
    const { az, registry } = layer({ writeRate: { ratePerSecond: 50, burst: 50 } });
    const results = await Promise.all(
      Array.from({ length: BURST }, (_, i) => az.nodePoolSnapshots.put(snap(SUB_CUT, `cut${i}`), { location: "westeurope", sourceResourceId: source(SUB_CUT) })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emu.control.countRequests({ method: "PUT", status: 429 })).toBeGreaterThan(0);
    expect(await registry.metrics()).toMatch(/aksnap_arm_write_rate_cuts_total [1-9]/);
  });

  it("a write that would wait past maxWaitMs is refused locally as throttled, never sent", async () => {
    const { az } = layer({ writeRate: { ratePerSecond: 0.5, burst: 1, maxWaitMs: 100 } });
    const [a, b] = await Promise.all([
      az.nodePoolSnapshots.put(snap(SUB, "w1"), { location: "westeurope", sourceResourceId: source(SUB) }),
      az.nodePoolSnapshots.put(snap(SUB, "w2"), { location: "westeurope", sourceResourceId: source(SUB) }),
    ]);
    expect(a?.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, error: { kind: "throttled", code: "ClientWriteRateLimited" } });
    // One token at 0.5/s: 2 s, less what refilled in the milliseconds between the two calls.
    const wait = b?.ok === false ? (b.error.retryAfterMs ?? 0) : 0;
    expect(wait).toBeGreaterThan(1900);
    expect(wait).toBeLessThanOrEqual(2000);
    expect(emu.control.countRequests({ method: "PUT" })).toBe(1);
  });
});

describe("Retry-After", () => {
  const path = "/snapshots/target$";

  beforeAll(async () => {
    const { az } = layer();
    expect((await az.nodePoolSnapshots.put(snap(SUB, "target"), { location: "westeurope", sourceResourceId: source(SUB) })).ok).toBe(true);
  });

  it("a 429 with Retry-After (seconds) is waited out by the SDK, once", async () => {
    emu.control.addFault({ method: "GET", path, times: 1, action: { kind: "throttle", retryAfterSeconds: 1 } });
    const { az } = layer();
    const started = Date.now();
    expect((await az.nodePoolSnapshots.get(snap(SUB, "target"))).ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emu.control.requests({ method: "GET", path }).map((r) => r.status)).toEqual([429, 200]);
  });

  it.each(["retry-after-ms", "x-ms-retry-after-ms"] as const)("%s is honoured in milliseconds", async (msHeader) => {
    emu.control.addFault({ method: "GET", path, times: 2, action: { kind: "throttle", retryAfterMs: 200, msHeader } });
    const { az } = layer();
    const started = Date.now();
    expect((await az.nodePoolSnapshots.get(snap(SUB, "target"))).ok).toBe(true);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(950); // milliseconds, not seconds
    expect(emu.control.requests({ method: "GET", path }).map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it("a 429 without any retry hint surfaces at once as throttled", async () => {
    emu.control.addFault({ method: "GET", path, times: 1, action: { kind: "throttle" } });
    const { az } = layer();
    const r = await az.nodePoolSnapshots.get(snap(SUB, "target"));
    expect(r).toMatchObject({ ok: false, error: { kind: "throttled", statusCode: 429 } });
    if (!r.ok) expect(r.error.retryAfterMs).toBeUndefined();
    expect(emu.control.countRequests({ method: "GET", path })).toBe(1);
  });

  it("every 429 is logged at warn with its Retry-After and request id", async () => {
    emu.control.addFault({ method: "GET", path, times: 1, action: { kind: "throttle", retryAfterMs: 50 } });
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (l: string) => void lines.push(l) });
    const { az } = layer({ logger });
    expect((await az.nodePoolSnapshots.get(snap(SUB, "target"))).ok).toBe(true);
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["level"] === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ component: "azure", method: "GET", resourceType: "Microsoft.ContainerService/snapshots", retryAfterMs: 50 });
    expect(warned[0]?.["requestId"]).toBeTruthy();
  });

  it("when the SDK may not retry, the ArmError carries Retry-After for the controller's requeue", async () => {
    emu.control.addFault({ method: "GET", path, times: 1, action: { kind: "throttle", retryAfterSeconds: 30 } });
    const { az } = layer({ retry: { maxRetries: 0 } });
    const started = Date.now();
    const r = await az.nodePoolSnapshots.get(snap(SUB, "target"));
    expect(r).toMatchObject({ ok: false, error: { kind: "throttled", statusCode: 429, retryAfterMs: 30_000 } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("server errors and broken connections", () => {
  const path = "/snapshots/target$";

  it("5xx is retried with backoff and then succeeds", async () => {
    emu.control.addFault({ method: "GET", path, times: 2, action: { kind: "serverError", status: 503, code: "ServiceUnavailable", message: "try later" } });
    const { az } = layer({ retry: { retryDelayInMs: 20, maxRetryDelayInMs: 50 } });
    expect((await az.nodePoolSnapshots.get(snap(SUB, "target"))).ok).toBe(true);
    expect(emu.control.requests({ method: "GET", path }).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("5xx past the retries is transient with ARM's code", async () => {
    emu.control.addFault({ method: "GET", path, action: { kind: "serverError", status: 500, code: "InternalServerError", message: "boom" } });
    const { az } = layer({ retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 10 } });
    expect(await az.nodePoolSnapshots.get(snap(SUB, "target"))).toMatchObject({
      ok: false,
      error: { kind: "transient", code: "InternalServerError", message: "boom", statusCode: 500 },
    });
  });

  it("a reset connection past the retries is transient NetworkError", async () => {
    emu.control.addFault({ method: "GET", path, action: { kind: "reset" } });
    const { az, registry } = layer({ retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 10 } });
    expect(await az.nodePoolSnapshots.get(snap(SUB, "target"))).toMatchObject({ ok: false, error: { kind: "transient", code: "NetworkError" } });
    expect(await registry.metrics()).toContain('aksnap_arm_requests_total{resource_type="Microsoft.ContainerService/snapshots",method="GET",code="error"} 2');
  });
});

describe("identity of our requests", () => {
  it("sends User-Agent aksnap/<version> and a bearer token", async () => {
    const { az, registry } = layer();
    expect((await az.nodePoolSnapshots.listByResourceGroup(SUB, RG)).ok).toBe(true);
    const [req] = emu.control.requests({ method: "GET" });
    expect(req?.requestHeaders["user-agent"]).toMatch(/^aksnap\/contract-test azsdk-js-arm-containerservice\//);
    expect(req?.requestHeaders["authorization"]).toBe("present");
    expect(await registry.metrics()).toMatch(/aksnap_arm_request_duration_seconds_count\{resource_type="Microsoft.ContainerService\/snapshots",method="GET"\} 1/);
  });
});
