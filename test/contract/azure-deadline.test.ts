// No port call can hang: a TCP listener that accepts and never answers (a half-open path to ARM,
// no reset), the emulator's delay fault on plain calls, LRO starts and LRO checks — each returns a
// transient RequestTimeout within the deadline; aborting the caller's signal returns Aborted at once.

import { createServer, type Server, type Socket } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzure, fixedTokenCredential, type AzureLayer } from "../../src/azure/index.ts";
import { startEmulator, type RunningEmulator, type WorldFixture } from "../emulator/index.ts";

const SUB = "11111111-1111-1111-1111-111111111111";
const RG = "rg-app";
const IMG = "AKSUbuntu-2204gen2containerd-202509.12.0";
const pool = { subscriptionId: SUB, resourceGroup: RG, clusterName: "c1", agentPoolName: "userpool" };
const snap = { subscriptionId: SUB, resourceGroup: RG, name: "s1" };

const world: WorldFixture = {
  subscriptions: [
    {
      subscriptionId: SUB,
      resourceGroups: [
        {
          name: RG,
          location: "westeurope",
          managedClusters: [
            {
              name: "c1",
              location: "westeurope",
              kubernetesVersion: "1.33.3",
              dnsPrefix: "c1",
              agentPools: [{ name: "userpool", vmSize: "Standard_D8ds_v5", count: 1, mode: "User", osType: "Linux", nodeImageVersion: IMG }],
            },
          ],
        },
      ],
    },
  ],
};

let emu: RunningEmulator;
let blackHole: Server;
let blackHoleUrl: string;
const held: Socket[] = [];

function layer(endpoint: string, requestTimeoutMs: number, ca?: string): AzureLayer {
  return createAzure({
    endpoint,
    credential: fixedTokenCredential("contract-test", Date.now),
    ...(ca !== undefined ? { ca } : {}),
    registry: new Registry(),
    requestTimeoutMs,
  });
}

beforeAll(async () => {
  emu = await startEmulator({ world, timing: { agentPoolOperationMs: 60_000 } });
  // Accepts, reads, never writes, never closes: what a dead load balancer looks like from here.
  blackHole = createServer((s) => {
    held.push(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
  const addr = blackHole.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  blackHoleUrl = `https://127.0.0.1:${addr.port}`;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  await emu?.stop();
});

/** Runs `fn`, returning its result and how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const t0 = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - t0 };
}

describe("a half-open path to ARM (accepts, never answers)", () => {
  it("a GET returns a transient RequestTimeout after the deadline", async () => {
    const az = layer(blackHoleUrl, 400);
    const { result, ms } = await timed(() => az.nodePoolSnapshots.get(snap));
    expect(result).toMatchObject({ ok: false, error: { kind: "transient", code: "RequestTimeout" } });
    // Generous: the machine is loaded; without the deadline this call never returns.
    expect(ms).toBeLessThan(10_000);
  });

  it("an LRO start returns failed RequestTimeout, not a pending promise", async () => {
    const az = layer(blackHoleUrl, 400);
    const started = await az.agentPools.beginDelete(pool);
    expect(started).toMatchObject({ kind: "failed", error: { kind: "transient", code: "RequestTimeout" } });
  });

  it("aborting the caller's signal returns Aborted at once, long before the deadline", async () => {
    const az = layer(blackHoleUrl, 120_000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const { result, ms } = await timed(() => az.nodePoolSnapshots.listByResourceGroup(SUB, RG, { signal: ac.signal }));
    expect(result).toMatchObject({ ok: false, error: { kind: "transient", code: "Aborted" } });
    expect(ms).toBeLessThan(10_000);
  });
});

describe("a slow ARM (the emulator's delay fault)", () => {
  it("a slow GET times out; the same GET without the fault answers", async () => {
    const az = layer(emu.url, 500, emu.ca);
    const fault = emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", action: { kind: "delay", ms: 20_000 } });
    const slow = await az.agentPools.get(pool);
    expect(slow).toMatchObject({ ok: false, error: { code: "RequestTimeout" } });
    emu.control.removeFault(fault);
    const fast = await az.agentPools.get(pool);
    expect(fast).toMatchObject({ ok: true, value: { name: "userpool" } });
  });

  it("a slow LRO status poll leaves the operation unknown (keep the token), not failed", async () => {
    const az = layer(emu.url, 1_000, emu.ca);
    const started = await az.agentPools.beginUpgradeNodeImage(pool);
    if (started.kind !== "submitted") throw new Error(`expected submitted, got ${JSON.stringify(started)}`);
    const fault = emu.control.addFault({ method: "GET", path: "operations|operationresults", action: { kind: "delay", ms: 20_000 } });
    const checked = await az.agentPools.checkOperation(started.resumeToken);
    emu.control.removeFault(fault);
    expect(checked).toMatchObject({ kind: "unknown", error: { code: "RequestTimeout" } });
    emu.control.settleOperations();
    expect(await az.agentPools.checkOperation(started.resumeToken)).toMatchObject({ kind: "succeeded" });
  });

  it("an already-aborted signal sends nothing", async () => {
    const az = layer(emu.url, 5_000, emu.ca);
    emu.control.clearRequests();
    const r = await az.nodePoolSnapshots.get(snap, { signal: AbortSignal.abort() });
    expect(r).toMatchObject({ ok: false, error: { code: "Aborted" } });
    expect(emu.control.requests({})).toHaveLength(0);
  });

  it("a write queued for the write budget longer than half the deadline is refused as throttled, not timed out", async () => {
    const az = createAzure({
      endpoint: emu.url,
      ca: emu.ca,
      credential: fixedTokenCredential("contract-test", Date.now),
      registry: new Registry(),
      requestTimeoutMs: 2_000,
      writeRate: { ratePerSecond: 0.5, burst: 1 },
    });
    expect((await az.nodePoolSnapshots.delete(snap)).ok).toBe(true);
    // The next slot is 2 s away: past the 1 s a write may queue under a 2 s deadline.
    const second = await az.nodePoolSnapshots.delete(snap);
    expect(second).toMatchObject({ ok: false, error: { kind: "throttled", code: "ClientWriteRateLimited" } });
  });
});
