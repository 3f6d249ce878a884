// Throttling, fault injection, the request log, the HTTP control API and the CLI, exercised the
// way the operator meets them: through the real SDK clients and their retry policies.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SNAPSHOT_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator } from "../emulator/index.ts";
import { computeClient, containerServiceClient, FAST_POLL } from "./helpers/arm-clients.ts";
import { rawRequest, useEmulator } from "./helpers/emulator-fixture.ts";

const t = useEmulator({ world: "demo", timing: { agentPoolOperationMs: 200, clusterOperationMs: 200, computeOperationMs: 100 } });

const SUB = DEMO_SUBSCRIPTION_ID;
const RG = DEMO_RESOURCE_GROUP;
const CL = DEMO_CLUSTER;
const SNAP_RG = DEMO_SNAPSHOT_RESOURCE_GROUP;
const POOL_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CL}/agentPools/userpool`;
const poolId = (p: string): string => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${CL}/agentPools/${p}`;

/** Retries on, with short backoff so 5xx/connection tests stay quick. */
function retrying() {
  return containerServiceClient(t.emu, SUB, { retryOptions: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 200 } });
}
function noRetry() {
  return containerServiceClient(t.emu, SUB, { retryOptions: { maxRetries: 0 } });
}
const snapshot = (name: string) => ({ location: "westeurope", creationData: { sourceResourceId: poolId("userpool") }, tags: { n: name } });

describe("ARM write throttling (token bucket per subscription)", () => {
  it("counts down x-ms-ratelimit-remaining-subscription-writes and answers 429 with Retry-After when empty", async () => {
    t.emu.control.setRateLimits({ writes: { capacity: 3, refillPerSecond: 0.5 } });
    const cs = noRetry();
    for (let i = 0; i < 3; i++) await cs.snapshots.createOrUpdate(SNAP_RG, `s${i}`, snapshot(`s${i}`));
    const remaining = t.emu.control.requests({ route: "ContainerService.Snapshots_CreateOrUpdate" }).map((e) => e.responseHeaders["x-ms-ratelimit-remaining-subscription-writes"]);
    expect(remaining).toEqual(["2", "1", "0"]);
    await expect(cs.snapshots.createOrUpdate(SNAP_RG, "s3", snapshot("s3"))).rejects.toMatchObject({ statusCode: 429, code: "SubscriptionRequestsThrottled" });
    const throttled = t.last("ContainerService.Snapshots_CreateOrUpdate");
    expect(throttled.status).toBe(429);
    expect(throttled.responseHeaders["retry-after"]).toBe("2");
    expect(throttled.responseBody).toMatchObject({ error: { code: "SubscriptionRequestsThrottled", message: expect.stringContaining("https://aka.ms/arm-throttling") } });
    // Reads have their own bucket and are unaffected.
    await cs.snapshots.get(SNAP_RG, "s0");
    expect(t.last("ContainerService.Snapshots_Get").responseHeaders["x-ms-ratelimit-remaining-subscription-reads"]).toMatch(/^\d+$/);
  });

  it("the SDK sleeps for Retry-After and the retry gets a refilled token", async () => {
    t.emu.control.setRateLimits({ writes: { capacity: 1, refillPerSecond: 2 } });
    const cs = retrying();
    await cs.snapshots.createOrUpdate(SNAP_RG, "first", snapshot("first"));
    const started = Date.now();
    await cs.snapshots.createOrUpdate(SNAP_RG, "second", snapshot("second"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(t.emu.control.requests({ route: "ContainerService.Snapshots_CreateOrUpdate" }).map((e) => e.status)).toEqual([201, 429, 201]);
  });

  it("deletes draw from the deletes bucket and report both deletes and writes", async () => {
    const cs = noRetry();
    await cs.snapshots.createOrUpdate(SNAP_RG, "gone", snapshot("gone"));
    await cs.snapshots.delete(SNAP_RG, "gone");
    const del = t.last("ContainerService.Snapshots_Delete");
    expect(del.responseHeaders["x-ms-ratelimit-remaining-subscription-deletes"]).toBe("199");
    expect(del.responseHeaders["x-ms-ratelimit-remaining-subscription-writes"]).toMatch(/^\d+$/);
  });
});

describe("fault injection", () => {
  it("429 with Retry-After: the SDK retries after the hint and succeeds", async () => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", times: 1, action: { kind: "throttle", retryAfterSeconds: 1 } });
    const started = Date.now();
    const pool = await retrying().agentPools.get(RG, CL, "userpool");
    expect(pool.name).toBe("userpool");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const calls = t.emu.control.requests({ route: "ContainerService.AgentPools_Get" });
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[0]?.fault).toMatch(/^fault-\d+$/);
    expect(calls[0]?.responseHeaders["retry-after"]).toBe("1");
  });

  it("429 with retry-after-ms and x-ms-retry-after-ms: retried after milliseconds", async () => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", times: 1, action: { kind: "throttle", retryAfterMs: 150 } });
    t.emu.control.addFault({ method: "GET", path: "/agentPools/systempool$", times: 1, action: { kind: "throttle", retryAfterMs: 150, msHeader: "x-ms-retry-after-ms" } });
    const cs = retrying();
    await cs.agentPools.get(RG, CL, "userpool");
    await cs.agentPools.get(RG, CL, "systempool");
    const calls = t.emu.control.requests({ route: "ContainerService.AgentPools_Get" });
    expect(calls.map((c) => c.status)).toEqual([429, 200, 429, 200]);
    expect(calls[0]?.responseHeaders["retry-after-ms"]).toBe("150");
    expect(calls[2]?.responseHeaders["x-ms-retry-after-ms"]).toBe("150");
  });

  it("429 without a retry hint surfaces at once", async () => {
    t.emu.control.addFault({ path: "/agentPools/userpool$", times: 1, action: { kind: "throttle" } });
    await expect(retrying().agentPools.get(RG, CL, "userpool")).rejects.toMatchObject({ statusCode: 429 });
    expect(t.emu.control.countRequests({ route: "ContainerService.AgentPools_Get" })).toBe(1);
  });

  it("5xx with an ARM error body: retried with backoff; surfaces with its code when it persists", async () => {
    t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", times: 2, action: { kind: "serverError", status: 503 } });
    expect((await retrying().agentPools.get(RG, CL, "userpool")).name).toBe("userpool");
    expect(t.emu.control.requests({ route: "ContainerService.AgentPools_Get" }).map((c) => c.status)).toEqual([503, 503, 200]);
    t.emu.control.addFault({ method: "GET", path: "/agentPools/systempool$", action: { kind: "serverError", code: "InternalOperationError", message: "boom" } });
    await expect(noRetry().agentPools.get(RG, CL, "systempool")).rejects.toMatchObject({ statusCode: 500, code: "InternalOperationError", message: "boom" });
  });

  it("connection reset: the SDK sees a network error and retries", async () => {
    t.emu.control.addFault({ method: "PUT", path: "/snapshots/reset-me$", times: 1, action: { kind: "reset" } });
    const snap = await retrying().snapshots.createOrUpdate(SNAP_RG, "reset-me", snapshot("reset-me"));
    expect(snap.name).toBe("reset-me");
    const calls = t.emu.control.requests({ route: "ContainerService.Snapshots_CreateOrUpdate" });
    expect(calls.map((c) => c.status)).toEqual([0, 201]);
    t.emu.control.addFault({ path: "/agentPools/userpool$", action: { kind: "reset" } });
    await expect(noRetry().agentPools.get(RG, CL, "userpool")).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|REQUEST_SEND_ERROR|socket hang up/) });
  });

  it("slow reply: waits, then answers normally", async () => {
    const id = t.emu.control.addFault({ method: "GET", path: "/agentPools/userpool$", action: { kind: "delay", ms: 300 } });
    const started = Date.now();
    await noRetry().agentPools.get(RG, CL, "userpool");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const call = t.last("ContainerService.AgentPools_Get");
    expect(call).toMatchObject({ status: 200, fault: id });
    expect(call.durationMs).toBeGreaterThanOrEqual(290);
    expect(t.emu.control.removeFault(id)).toBe(true);
    expect(t.emu.control.faults()).toEqual([]);
  });

  it("any ARM error, also unwrapped, on any route; faults match method and path and count hits", async () => {
    t.emu.control.addFault({ method: "PUT", path: "/agentPools/userpool$", times: 1, action: { kind: "error", status: 409, code: "OperationNotAllowed", message: "busy", unwrapped: true } });
    await expect(noRetry().agentPools.createOrUpdate(RG, CL, "userpool", { count: 4 }, FAST_POLL).pollUntilDone()).rejects.toMatchObject({ statusCode: 409, code: "OperationNotAllowed" });
    expect(t.last("ContainerService.AgentPools_CreateOrUpdate").responseBody).toEqual({ code: "OperationNotAllowed", message: "busy" });
    const faults = t.emu.control.faults();
    expect(faults[0]).toMatchObject({ hits: 1, times: 1, method: "PUT" });
    // A GET on the same path is not hit.
    await noRetry().agentPools.get(RG, CL, "userpool");
    expect(t.last("ContainerService.AgentPools_Get").fault).toBeUndefined();
  });

  it("probability picks requests with the injected randomness", async () => {
    const rolls = [0.1, 0.9, 0.2, 0.8];
    let i = 0;
    const emu = await startEmulator({ world: "demo", random: () => rolls[i++ % rolls.length] ?? 1 });
    try {
      emu.control.addFault({ path: "/agentPools/userpool$", probability: 0.5, action: { kind: "serverError", status: 500 } });
      const statuses: number[] = [];
      for (let k = 0; k < 4; k++) {
        const r = await rawRequest(emu, "GET", `${POOL_PATH}?api-version=2026-06-01`);
        statuses.push(r.status);
      }
      expect(statuses).toEqual([500, 200, 500, 200]);
    } finally {
      await emu.stop();
    }
  });
});

describe("request log", () => {
  it("records method, path, route, api-version, status, headers of interest and bodies; filters, counts, clears", async () => {
    const cs = noRetry();
    await cs.agentPools.get(RG, CL, "userpool");
    await cs.snapshots.createOrUpdate(SNAP_RG, "logged", snapshot("logged"));
    await computeClient(t.emu, SUB).disks.listByResourceGroup("MC_rg-aks-demo_aks-demo_westeurope").next();
    const all = t.emu.control.requests();
    expect(all.map((e) => `${e.method} ${e.route} ${e.status}`)).toEqual([
      "GET ContainerService.AgentPools_Get 200",
      "PUT ContainerService.Snapshots_CreateOrUpdate 201",
      "GET Compute.Disks_ListByResourceGroup 200",
    ]);
    const put = all[1];
    expect(put).toMatchObject({
      path: `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.ContainerService/snapshots/logged`,
      apiVersion: "2026-06-01",
      requestHeaders: { authorization: "present", "content-type": expect.stringContaining("application/json"), "user-agent": expect.stringContaining("azsdk-js-arm-containerservice") },
      requestBody: { location: "westeurope", tags: { n: "logged" }, properties: { creationData: { sourceResourceId: poolId("userpool") } } },
      responseBody: { name: "logged" },
    });
    expect(Date.parse(put?.time ?? "")).not.toBeNaN();
    expect(all[2]?.apiVersion).toBe("2026-03-02");
    expect(t.emu.control.countRequests({ method: "get" })).toBe(2);
    expect(t.emu.control.countRequests({ route: "containerservice.snapshots_createorupdate" })).toBe(1);
    expect(t.emu.control.countRequests({ path: "/providers/Microsoft\\.Compute/" })).toBe(1);
    expect(t.emu.control.countRequests({ status: 201 })).toBe(1);
    t.emu.control.clearRequests();
    expect(t.emu.control.requests()).toEqual([]);
  });

  it("answers unknown routes, missing api-version and wrong methods like ARM", async () => {
    const unknown = await rawRequest(t.emu, "GET", `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/fleets/f1?api-version=2026-06-01`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "InvalidResourceType" } } });
    const noVersion = await rawRequest(t.emu, "GET", POOL_PATH);
    expect(noVersion).toMatchObject({ status: 400, body: { error: { code: "MissingApiVersionParameter" } } });
    const wrong = await rawRequest(t.emu, "POST", `${POOL_PATH}?api-version=2026-06-01`);
    expect(wrong.status).toBe(405);
    const badJson = await rawRequest(t.emu, "PUT", `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.ContainerService/snapshots/x?api-version=2026-06-01`, undefined, { "content-type": "application/json" });
    expect(badJson.status).toBe(400);
    expect(t.emu.control.requests().map((e) => e.route)).toEqual(["unmatched", "ContainerService.AgentPools_Get", "unmatched", "ContainerService.Snapshots_CreateOrUpdate"]);
    expect(unknown.headers["x-ms-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("control API over HTTP", () => {
  it("scripts faults, timing, behaviour, rate limits and reads the log", async () => {
    const e = t.emu;
    expect(await rawRequest(e, "GET", "/_emulator/health")).toMatchObject({ status: 200, body: { ok: true, url: e.url } });
    const added = await rawRequest(e, "POST", "/_emulator/faults", { method: "GET", path: "/agentPools/userpool$", times: 1, action: { kind: "serverError", status: 502 } });
    expect(added).toMatchObject({ status: 200, body: { id: expect.stringMatching(/^fault-/) } });
    expect((await rawRequest(e, "GET", `${POOL_PATH}?api-version=2026-06-01`)).status).toBe(502);
    expect((await rawRequest(e, "GET", "/_emulator/faults")).body).toMatchObject([{ hits: 1 }]);
    expect((await rawRequest(e, "GET", "/_emulator/requests/count?route=ContainerService.AgentPools_Get&status=502")).body).toEqual({ count: 1 });
    expect((await rawRequest(e, "GET", "/_emulator/requests?method=GET")).body).toMatchObject([{ route: "ContainerService.AgentPools_Get", status: 502 }]);
    expect((await rawRequest(e, "DELETE", "/_emulator/requests")).status).toBe(200);
    expect(e.control.requests()).toEqual([]);
    expect((await rawRequest(e, "DELETE", "/_emulator/faults")).status).toBe(200);

    expect((await rawRequest(e, "PUT", "/_emulator/timing", { agentPoolOperationMs: 1234 })).body).toMatchObject({ agentPoolOperationMs: 1234, clusterOperationMs: 200 });
    expect((await rawRequest(e, "PUT", "/_emulator/behaviour", { conflictBody: "unwrapped", pageSize: 7 })).body).toMatchObject({ conflictBody: "unwrapped", pageSize: 7 });
    expect((await rawRequest(e, "PUT", "/_emulator/behaviour", { conflictBody: "sideways" })).status).toBe(400);
    expect((await rawRequest(e, "PUT", "/_emulator/rate-limits", { writes: { capacity: 5 } })).body).toMatchObject({ writes: { capacity: 5, refillPerSecond: 10 } });
    expect((await rawRequest(e, "POST", "/_emulator/faults", { path: "(", action: { kind: "reset" } })).status).toBe(400);
    expect((await rawRequest(e, "POST", "/_emulator/faults", { path: "x", action: { kind: "explode" } })).status).toBe(400);
    expect((await rawRequest(e, "GET", "/_emulator/nope")).status).toBe(404);
  });

  it("edits the world out of band: delete a snapshot behind the client's back, seed, patch, stall a copy", async () => {
    const e = t.emu;
    const cs = noRetry();
    const snap = await cs.snapshots.createOrUpdate(SNAP_RG, "oob", snapshot("oob"));
    expect((await rawRequest(e, "DELETE", `/_emulator/resources${snap.id ?? ""}`)).body).toEqual({ deleted: true });
    await expect(cs.snapshots.get(SNAP_RG, "oob")).rejects.toMatchObject({ statusCode: 404 });

    const seeded = await rawRequest(e, "PUT", `/_emulator/resources${snap.id ?? ""}`, {
      location: "westeurope",
      type: "Microsoft.ContainerService/snapshots",
      properties: { creationData: { sourceResourceId: poolId("userpool") }, snapshotType: "NodePool", kubernetesVersion: "1.32.6", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202505.01.0", osType: "Linux", osSku: "Ubuntu", vmSize: "Standard_D8ds_v5", enableFIPS: false },
    });
    expect(seeded.status).toBe(200);
    expect((await cs.snapshots.get(SNAP_RG, "oob")).kubernetesVersion).toBe("1.32.6");
    await rawRequest(e, "PATCH", `/_emulator/resources${poolId("userpool")}`, { properties: { provisioningState: "Failed", status: { provisioningError: { code: "VMExtensionProvisioningError", message: "boom" } } } });
    expect(await cs.agentPools.get(RG, CL, "userpool")).toMatchObject({ provisioningState: "Failed", status: { provisioningError: { code: "VMExtensionProvisioningError" } } });
    expect((await rawRequest(e, "GET", `/_emulator/resources${poolId("userpool")}`)).body).toMatchObject({ properties: { provisioningState: "Failed" } });
    expect((await rawRequest(e, "GET", "/_emulator/resources?kind=aksSnapshot")).body).toEqual([{ id: snap.id, kind: "aksSnapshot", provisioningState: "Succeeded" }]);

    const disk = `/subscriptions/${SUB}/resourceGroups/MC_rg-aks-demo_aks-demo_westeurope/providers/Microsoft.Compute/disks/pvc-analytics-0`;
    expect((await rawRequest(e, "PUT", `/_emulator/completion${disk}`, { percent: 12, frozen: true })).status).toBe(200);
    expect(await computeClient(e, SUB).disks.get("MC_rg-aks-demo_aks-demo_westeurope", "pvc-analytics-0")).toMatchObject({ completionPercent: 12 });
    // copyCompletionError is a snapshot property: refused on a disk, shown on a snapshot.
    expect((await rawRequest(e, "PUT", `/_emulator/copy-error${disk}`, { errorCode: "CopySourceNotFound", errorMessage: "gone" })).status).toBe(400);
    const c = computeClient(e, SUB);
    const p = c.snapshots.createOrUpdate(SNAP_RG, "copy", { location: "westeurope", incremental: true, creationData: { createOption: "Copy", sourceResourceId: disk } }, FAST_POLL);
    await p.pollUntilDone();
    const snapPath = `/subscriptions/${SUB}/resourceGroups/${SNAP_RG}/providers/Microsoft.Compute/snapshots/copy`;
    expect((await rawRequest(e, "PUT", `/_emulator/copy-error${snapPath}`, { errorCode: "CopySourceNotFound", errorMessage: "gone" })).status).toBe(200);
    expect((await c.snapshots.get(SNAP_RG, "copy")).copyCompletionError?.errorCode).toBe("CopySourceNotFound");
    expect((await rawRequest(e, "DELETE", `/_emulator/copy-error${snapPath}`)).status).toBe(200);
    expect((await c.snapshots.get(SNAP_RG, "copy")).copyCompletionError).toBeUndefined();
  });

  it("injects LRO outcomes, settles operations, loads worlds and resets", async () => {
    const e = t.emu;
    e.control.setTiming({ agentPoolOperationMs: 60_000 });
    expect((await rawRequest(e, "POST", "/_emulator/outcomes", { kind: "agentPool", operation: "create", outcome: { type: "failed", code: "QuotaExceeded", message: "no cores" } })).status).toBe(200);
    const poller = noRetry().agentPools.createOrUpdate(RG, CL, "quota", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL);
    await poller.submitted();
    // AKS ids spell `resourcegroups`: compared as ARM compares ids.
    const ops = (await rawRequest(e, "GET", "/_emulator/operations")).body;
    expect(ops).toMatchObject([{ kind: "create", status: "InProgress" }]);
    expect((ops as { resourceId: string }[])[0]?.resourceId.toLowerCase()).toBe(poolId("quota").toLowerCase());
    expect((await rawRequest(e, "POST", "/_emulator/settle")).status).toBe(200);
    await expect(poller.pollUntilDone()).rejects.toThrow();
    expect((await noRetry().agentPools.get(RG, CL, "quota")).status?.provisioningError?.code).toBe("QuotaExceeded");
    expect((await rawRequest(e, "POST", "/_emulator/outcomes", { outcome: { type: "weird" } })).status).toBe(400);

    expect((await rawRequest(e, "POST", "/_emulator/reset", { world: "empty" })).status).toBe(200);
    await expect(noRetry().agentPools.get(RG, CL, "userpool")).rejects.toMatchObject({ statusCode: 404, code: "SubscriptionNotFound" });
    const loaded = await rawRequest(e, "POST", "/_emulator/world", {
      subscriptions: [{ subscriptionId: SUB, resourceGroups: [{ name: "rg-x", location: "eastus", managedClusters: [{ name: "c1", location: "eastus", kubernetesVersion: "1.32.6", agentPools: [{ name: "sys", vmSize: "Standard_D2ds_v5", count: 1, mode: "System", nodeImageVersion: "AKSUbuntu-2204gen2containerd-202509.01.0" }] }] }] }],
    });
    expect(loaded.status).toBe(200);
    expect((await noRetry().agentPools.get("rg-x", "c1", "sys")).orchestratorVersion).toBe("1.32.6");
    expect((await rawRequest(e, "POST", "/_emulator/world", { subscriptions: [{ subscriptionId: SUB, resourceGroups: [{ name: "bad" }] }] })).status).toBe(400);
    expect((await rawRequest(e, "POST", "/_emulator/resource-groups", { subscriptionId: SUB, name: "rg-new", location: "westus" })).status).toBe(200);
    expect((await rawRequest(e, "POST", "/_emulator/reset", { world: "demo" })).status).toBe(200);
    expect((await noRetry().agentPools.get(RG, CL, "userpool")).name).toBe("userpool");
  });
});

describe("CLI", () => {
  it("runs as a program: prints the URL, writes CA and ready file, serves the demo world, stops on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-cli-"));
    try {
      const caPath = join(dir, "ca.pem");
      const readyPath = join(dir, "ready.json");
      const fixture = join(dir, "world.json");
      await writeFile(fixture, JSON.stringify({ subscriptions: [{ subscriptionId: SUB, resourceGroups: [{ name: "rg-file", location: "westus" }] }] }));
      const child = spawn(process.execPath, ["test/emulator/main.ts", "--port", "0", "--world", "demo", "--write-ca", caPath, "--ready-file", readyPath, "--agent-pool-ms", "100"], {
        cwd: process.cwd(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      let ready: { url: string; ca: string; pid: number } | undefined;
      while (!ready && Date.now() < deadline) {
        try {
          const parsed: unknown = JSON.parse(await readFile(readyPath, "utf8"));
          if (typeof parsed === "object" && parsed !== null && "url" in parsed && "ca" in parsed && "pid" in parsed) {
            const { url, ca, pid } = parsed;
            if (typeof url === "string" && typeof ca === "string" && typeof pid === "number") ready = { url, ca, pid };
          }
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!ready) throw new Error(`emulator did not become ready: ${stderr}`);
      expect(ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.pid).toBe(child.pid);
      expect(await readFile(caPath, "utf8")).toBe(ready.ca);
      expect(stdout.trim()).toBe(ready.url);
      const cs = containerServiceClient({ url: ready.url, ca: await readFile(caPath, "utf8") }, SUB);
      const pool = await cs.agentPools.createOrUpdate(RG, CL, "clipool", { count: 1, vmSize: "Standard_D4ds_v5" }, FAST_POLL).pollUntilDone();
      expect(pool.provisioningState).toBe("Succeeded");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stderr).toContain("SIGTERM");

      const bad = spawn(process.execPath, ["test/emulator/main.ts", "--world", join(dir, "missing.json")], { stdio: ["ignore", "ignore", "pipe"] });
      expect(await new Promise<number | null>((resolve) => bad.on("exit", (code) => resolve(code)))).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
