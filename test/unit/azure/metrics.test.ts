import { createHttpHeaders, createPipelineRequest, RestError, type PipelineResponse } from "@azure/core-rest-pipeline";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { armMetricsPolicy, createArmMetrics, resourceTypeFromUrl } from "../../../src/azure/metrics.ts";

const BASE = "https://management.azure.com/subscriptions/s1/resourceGroups/rg1/providers";

describe("resourceTypeFromUrl", () => {
  it.each([
    [`${BASE}/Microsoft.ContainerService/snapshots/snap1?api-version=2026-06-01`, "Microsoft.ContainerService/snapshots"],
    [`${BASE}/Microsoft.ContainerService/snapshots?api-version=x`, "Microsoft.ContainerService/snapshots"],
    [`${BASE}/Microsoft.ContainerService/managedClusters/c1`, "Microsoft.ContainerService/managedClusters"],
    [`${BASE}/Microsoft.ContainerService/managedClusters/c1/agentPools/p1`, "Microsoft.ContainerService/managedClusters/agentPools"],
    [
      `${BASE}/Microsoft.ContainerService/managedClusters/c1/agentPools/p1/upgradeNodeImageVersion`,
      "Microsoft.ContainerService/managedClusters/agentPools/upgradeNodeImageVersion",
    ],
    [`${BASE}/Microsoft.Compute/disks/d1`, "Microsoft.Compute/disks"],
    [`${BASE}/microsoft.compute/SNAPSHOTS/s1`, "Microsoft.Compute/snapshots"],
    [
      "https://management.azure.com/subscriptions/s1/providers/Microsoft.ContainerService/locations/eastus/operations/abc?api-version=2017-08-31",
      "Microsoft.ContainerService/locations/operations",
    ],
    [
      "https://management.azure.com/subscriptions/s1/providers/Microsoft.Compute/locations/westeurope/DiskOperations/op1?monitor=true",
      "Microsoft.Compute/locations/DiskOperations",
    ],
    ["https://management.azure.com/subscriptions/s1/resourcegroups/rg1", "resourceGroups"],
    ["https://management.azure.com/subscriptions/s1", "subscriptions"],
    ["not a url", "unknown"],
  ])("%s → %s", (url, type) => {
    expect(resourceTypeFromUrl(url)).toBe(type);
  });
});

describe("armMetricsPolicy", () => {
  function setup() {
    const registry = new Registry();
    const metrics = createArmMetrics(registry);
    let t = 1000;
    const policy = armMetricsPolicy(metrics, () => t);
    return { registry, policy, advance: (ms: number) => (t += ms) };
  }

  it("counts by resource type, method and status code and observes latency", async () => {
    const { registry, policy, advance } = setup();
    const request = createPipelineRequest({ url: `${BASE}/Microsoft.Compute/disks/d1`, method: "PUT" });
    const next = async (): Promise<PipelineResponse> => {
      advance(250);
      return { status: 202, headers: createHttpHeaders(), request };
    };
    await policy.sendRequest(request, next);
    await policy.sendRequest(request, next);
    const text = await registry.metrics();
    expect(text).toContain('aksnap_arm_requests_total{resource_type="Microsoft.Compute/disks",method="PUT",code="202"} 2');
    expect(text).toContain('aksnap_arm_request_duration_seconds_sum{resource_type="Microsoft.Compute/disks",method="PUT"} 0.5');
  });

  it("labels a thrown RestError by its status, a network failure as 'error'", async () => {
    const { registry, policy } = setup();
    const request = createPipelineRequest({ url: `${BASE}/Microsoft.ContainerService/snapshots/s`, method: "GET" });
    await expect(
      policy.sendRequest(request, async () => {
        throw new RestError("nope", { statusCode: 404 });
      }),
    ).rejects.toThrow("nope");
    await expect(
      policy.sendRequest(request, async () => {
        throw new RestError("reset", { code: "REQUEST_SEND_ERROR" });
      }),
    ).rejects.toThrow("reset");
    const text = await registry.metrics();
    expect(text).toContain('resource_type="Microsoft.ContainerService/snapshots",method="GET",code="404"} 1');
    expect(text).toContain('resource_type="Microsoft.ContainerService/snapshots",method="GET",code="error"} 1');
  });

  it("a second layer on the same registry reuses the metrics instead of throwing", () => {
    const registry = new Registry();
    const a = createArmMetrics(registry);
    const b = createArmMetrics(registry);
    expect(b.requests).toBe(a.requests);
  });
});
