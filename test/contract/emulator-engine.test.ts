// The emulator's pure parts, without sockets or the SDK: token buckets, copy progress, id parsing,
// version and VM-family rules, fault rules, and the engine's decisions on a manual clock (LROs end
// exactly at their end time; throttling refills with time).

import { describe, expect, it } from "vitest";
import { ManualClock } from "../emulator/clock.ts";
import { compareNodeImages, parseVersion, vmFamily, type EmuRequest } from "../emulator/context.ts";
import { Engine, type Decision } from "../emulator/engine.ts";
import { FaultBook, parseFaultRule } from "../emulator/faults.ts";
import { parseResourceId } from "../emulator/ids.ts";
import { mergePatch, type JsonValue } from "../emulator/json.ts";
import { take } from "../emulator/ratelimit.ts";
import { copyErrorAt, percentAt, type CopyProgress } from "../emulator/state.ts";
import { demoWorld, DEMO_SUBSCRIPTION_ID } from "../emulator/world.ts";

describe("token bucket", () => {
  const settings = { capacity: 3, refillPerSecond: 2 };
  it.each([
    { tokens: 3, elapsed: 0, ok: true, remaining: 2 },
    { tokens: 1, elapsed: 0, ok: true, remaining: 0 },
    { tokens: 0, elapsed: 0, ok: false, retryAfterMs: 500 },
    { tokens: 0.5, elapsed: 0, ok: false, retryAfterMs: 250 },
    { tokens: 0, elapsed: 500, ok: true, remaining: 0 },
    { tokens: 0, elapsed: 60_000, ok: true, remaining: 2 },
  ])("tokens=$tokens after $elapsed ms → ok=$ok", ({ tokens, elapsed, ok, remaining, retryAfterMs }) => {
    const { result, state } = take({ tokens, updatedAt: 1000 }, settings, 1000 + elapsed);
    expect(result.ok).toBe(ok);
    if (result.ok) expect(result.remaining).toBe(remaining);
    else expect(result.retryAfterMs).toBe(retryAfterMs);
    expect(state.tokens).toBeLessThanOrEqual(settings.capacity);
  });
});

describe("copy progress", () => {
  const base: CopyProgress = { startedAt: 1000, durationMs: 1000 };
  it.each([
    { p: base, now: 500, percent: 0, error: false },
    { p: base, now: 1500, percent: 50, error: false },
    { p: base, now: 5000, percent: 100, error: false },
    { p: { ...base, durationMs: 0 }, now: 1000, percent: 100, error: false },
    { p: { ...base, frozenPercent: 37 }, now: 99_999, percent: 37, error: false },
    { p: { ...base, error: { errorCode: "CopySourceNotFound", errorMessage: "x", atPercent: 40 } }, now: 1300, percent: 30, error: false },
    { p: { ...base, error: { errorCode: "CopySourceNotFound", errorMessage: "x", atPercent: 40 } }, now: 9000, percent: 40, error: true },
    { p: { ...base, frozenPercent: 12, error: { errorCode: "CopySourceNotFound", errorMessage: "x", atPercent: 12 } }, now: 0, percent: 12, error: true },
  ])("percent $percent, error $error", ({ p, now, percent, error }) => {
    expect(percentAt(p, now)).toBe(percent);
    expect(copyErrorAt(p, now) !== undefined).toBe(error);
  });
});

describe("ids and rules", () => {
  it.each([
    ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p", { kind: "agentPool", cluster: "c", name: "p" }],
    ["subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/snapshots/n/", { kind: "aksSnapshot", name: "n" }],
    ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d", { kind: "disk", name: "d" }],
    ["/SUBSCRIPTIONS/s/RESOURCEGROUPS/rg/PROVIDERS/MICROSOFT.COMPUTE/SNAPSHOTS/x", { kind: "computeSnapshot", name: "x" }],
    ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v", undefined],
    ["/subscriptions/s/resourceGroups/rg", undefined],
    ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/maintenanceConfigurations/m", undefined],
  ])("%s", (id, want) => {
    const got = parseResourceId(id);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject({ subscriptionId: "s", ...want });
  });

  it.each([
    ["Standard_D8ds_v5", "D"],
    ["Standard_DS2_v2", "D"],
    ["Standard_NC6s_v3", "N"],
    ["standard_e4s_v5", "E"],
    ["Basic_A1", "A"],
  ])("VM family of %s is %s", (size, family) => expect(vmFamily(size)).toBe(family));

  it.each([
    ["AKSUbuntu-2204gen2containerd-202511.07.0", "AKSUbuntu-2204gen2containerd-202510.03.0", 1],
    ["AKSUbuntu:1604:2020.03.11", "AKSUbuntu:1604:2020.03.11", 0],
    ["AKSUbuntu-1804gen2containerd-2021.09.11", "AKSUbuntu-1804gen2containerd-2022.01.01", -1],
  ])("node image %s vs %s", (a, b, sign) => expect(Math.sign(compareNodeImages(a, b))).toBe(sign));

  it("parses Kubernetes versions", () => {
    expect(parseVersion("1.33.3")).toEqual([1, 33, 3]);
    expect(parseVersion("1.33")).toEqual([1, 33, 0]);
    expect(parseVersion("")).toBeUndefined();
  });

  it("merge-patches like RFC 7386", () => {
    const before: JsonValue = { a: 1, b: { c: 2, d: 3 }, e: [1] };
    expect(mergePatch(before, { b: { c: null, x: 1 }, e: [2], f: "g" })).toEqual({ a: 1, b: { d: 3, x: 1 }, e: [2], f: "g" });
    expect(before).toEqual({ a: 1, b: { c: 2, d: 3 }, e: [1] });
  });
});

describe("fault rules", () => {
  it("match method and path, run out after `times`, and honour probability", () => {
    const rolls = [0.3, 0.7];
    let i = 0;
    const book = new FaultBook(() => rolls[i++] ?? 1);
    const once = book.add({ method: "put", path: "/snapshots/", times: 1, action: { kind: "reset" } });
    expect(book.match("GET", "/x/snapshots/a")).toBeUndefined();
    expect(book.match("PUT", "/x/SNAPSHOTS/a")).toEqual({ id: once, action: { kind: "reset" } });
    expect(book.match("PUT", "/x/snapshots/a")).toBeUndefined();
    book.add({ path: "disks", probability: 0.5, action: { kind: "delay", ms: 5 } });
    expect(book.match("GET", "/disks/a")).toBeDefined();
    expect(book.match("GET", "/disks/a")).toBeUndefined();
    expect(book.list().map((r) => r.hits)).toEqual([1, 1]);
  });

  it("validates rules arriving as JSON", () => {
    expect(parseFaultRule({ path: "x", action: { kind: "throttle", retryAfterMs: 5, msHeader: "x-ms-retry-after-ms" } })).toEqual({ path: "x", action: { kind: "throttle", retryAfterMs: 5, msHeader: "x-ms-retry-after-ms" } });
    expect(() => parseFaultRule({ path: "x" })).toThrow();
    expect(() => parseFaultRule({ path: "x", action: { kind: "error", status: 400 } })).toThrow();
    expect(() => parseFaultRule({ path: "x", action: { kind: "throttle", msHeader: "nope" } })).toThrow();
  });
});

describe("engine decisions on a manual clock", () => {
  const SUB = DEMO_SUBSCRIPTION_ID;
  const POOL = `/subscriptions/${SUB}/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/agentPools/extra`;
  const BASE = "https://emulator.test";

  function req(method: string, path: string, body?: JsonValue, headers: Record<string, string> = {}): EmuRequest {
    const u = new URL(path, BASE);
    // Every ARM client sends a bearer token; the engine refuses requests without one.
    return { method, path: u.pathname, query: u.searchParams, headers: { authorization: "Bearer engine-test", ...headers }, body };
  }
  function answer(d: Decision) {
    if (d.type !== "respond") throw new Error(`expected an answer, got ${d.type}`);
    return d.response;
  }

  it("an agent-pool LRO is InProgress until exactly its end time, then Succeeded", () => {
    const clock = new ManualClock();
    const engine = new Engine({ world: demoWorld(), clock, timing: { agentPoolOperationMs: 1000 } });
    const put = answer(engine.decide(req("PUT", `${POOL}?api-version=2026-06-01`, { properties: { count: 1, vmSize: "Standard_D4ds_v5" } }), BASE));
    expect(put.status).toBe(201);
    const statusUrl = put.headers["Azure-AsyncOperation"] ?? "";
    expect(statusUrl.startsWith(`${BASE}/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operations/`)).toBe(true);
    clock.advance(999);
    expect(answer(engine.decide(req("GET", statusUrl), BASE)).body).toMatchObject({ status: "InProgress" });
    expect(answer(engine.decide(req("GET", `${POOL}?api-version=2026-06-01`), BASE)).body).toMatchObject({ properties: { provisioningState: "Creating" } });
    const conflict = answer(engine.decide(req("PUT", `${POOL}?api-version=2026-06-01`, { properties: { count: 2 } }), BASE));
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: "OperationNotAllowed" } } });
    clock.advance(1);
    expect(answer(engine.decide(req("GET", statusUrl), BASE)).body).toMatchObject({ status: "Succeeded", endTime: new Date(clock.now()).toISOString() });
    expect(answer(engine.decide(req("GET", `${POOL}?api-version=2026-06-01`), BASE)).body).toMatchObject({ properties: { provisioningState: "Succeeded", currentOrchestratorVersion: "1.33.3" } });
  });

  it("throttles writes per subscription and refills with time", () => {
    const clock = new ManualClock();
    const engine = new Engine({ world: demoWorld(), clock, rateLimits: { writes: { capacity: 2, refillPerSecond: 1 } } });
    const snap = (n: string) => req("PUT", `/subscriptions/${SUB}/resourceGroups/rg-aks-snapshots/providers/Microsoft.ContainerService/snapshots/${n}?api-version=2026-06-01`, { location: "westeurope", properties: { creationData: { sourceResourceId: POOL.replace("/extra", "/userpool") } } });
    expect(answer(engine.decide(snap("a"), BASE)).status).toBe(201);
    expect(answer(engine.decide(snap("b"), BASE)).status).toBe(201);
    const throttled = answer(engine.decide(snap("c"), BASE));
    expect(throttled.status).toBe(429);
    expect(throttled.headers["Retry-After"]).toBe("1");
    clock.advance(1000);
    expect(answer(engine.decide(snap("c"), BASE))).toMatchObject({ status: 201, headers: { "x-ms-ratelimit-remaining-subscription-writes": "0" } });
    // Another subscription has its own bucket (and answers 404: it does not exist).
    expect(answer(engine.decide(req("PUT", `/subscriptions/other/resourceGroups/rg/providers/Microsoft.ContainerService/snapshots/z?api-version=2026-06-01`, { location: "westeurope" }), BASE)).status).toBe(404);
  });

  it("faults come first and can be bypassed once waited out", () => {
    const engine = new Engine({ world: demoWorld(), clock: new ManualClock() });
    engine.faults.add({ path: "/agentPools/userpool$", times: 1, action: { kind: "delay", ms: 50 } });
    engine.faults.add({ path: "/agentPools/systempool$", times: 1, action: { kind: "reset" } });
    const get = (p: string) => req("GET", `${POOL.replace("/extra", `/${p}`)}?api-version=2026-06-01`);
    expect(engine.decide(get("userpool"), BASE)).toMatchObject({ type: "delay", ms: 50 });
    expect(answer(engine.decide(get("userpool"), BASE, true)).status).toBe(200);
    expect(engine.decide(get("systempool"), BASE)).toMatchObject({ type: "reset", route: "ContainerService.AgentPools_Get" });
    expect(answer(engine.decide(get("systempool"), BASE)).status).toBe(200);
  });

  it("reset restores the start-up world and settings", () => {
    const engine = new Engine({ world: demoWorld(), clock: new ManualClock(), timing: { agentPoolOperationMs: 42 } });
    engine.timing = { ...engine.timing, agentPoolOperationMs: 9 };
    engine.state.remove([...engine.state.resources.keys()][0] ?? "");
    engine.reset();
    expect(engine.timing.agentPoolOperationMs).toBe(42);
    // 2 clusters, 3 agent pools, 4 disks.
    expect(engine.state.resources.size).toBe(9);
  });
});
