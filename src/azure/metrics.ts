// ARM request metrics, recorded by a pipeline policy on every attempt (retries included), into a
// registry the composition root passes in.

import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { Counter, Histogram, type Registry } from "prom-client";

export interface ArmMetrics {
  readonly requests: Counter<"resource_type" | "method" | "code">;
  readonly duration: Histogram<"resource_type" | "method">;
  /** Time writes spent waiting for the client-side token bucket. */
  readonly writeWait: Histogram<never>;
  /** Times a write's 429 halved a subscription's client-side write rate. */
  readonly writeRateCuts: Counter<never>;
}

/** Registers the ARM metrics, reusing them if this registry already has them (a second layer). */
export function createArmMetrics(registry: Registry): ArmMetrics {
  return {
    requests: existing(registry, "aksnap_arm_requests_total") ?? new Counter({
      name: "aksnap_arm_requests_total",
      help: "ARM HTTP requests sent, by resource type, method and response code (or 'error' when no response).",
      labelNames: ["resource_type", "method", "code"] as const,
      registers: [registry],
    }),
    duration: existing(registry, "aksnap_arm_request_duration_seconds") ?? new Histogram({
      name: "aksnap_arm_request_duration_seconds",
      help: "ARM HTTP request latency in seconds, by resource type and method.",
      labelNames: ["resource_type", "method"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    writeWait: existing(registry, "aksnap_arm_write_rate_wait_seconds") ?? new Histogram({
      name: "aksnap_arm_write_rate_wait_seconds",
      help: "Time ARM writes waited for the client-side per-subscription write token bucket.",
      buckets: [0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
    writeRateCuts: existing(registry, "aksnap_arm_write_rate_cuts_total") ?? new Counter({
      name: "aksnap_arm_write_rate_cuts_total",
      help: "Times ARM answered a write with 429 and the client-side write rate of its subscription was halved.",
      registers: [registry],
    }),
  };
}

function existing<M>(registry: Registry, name: string): M | undefined {
  // prom-client types getSingleMetric loosely; the names are ours, so the shape is known.
  return registry.getSingleMetric(name) as M | undefined;
}

// Canonical spelling of the types we talk to, so a status URL in another casing lands on one label.
const KNOWN_TYPES = [
  "Microsoft.ContainerService/snapshots",
  "Microsoft.ContainerService/managedClusters",
  "Microsoft.ContainerService/managedClusters/agentPools",
  "Microsoft.ContainerService/managedClusters/agentPools/upgradeNodeImageVersion",
  "Microsoft.ContainerService/locations/operations",
  "Microsoft.ContainerService/locations/operationresults",
  "Microsoft.Compute/snapshots",
  "Microsoft.Compute/disks",
  "Microsoft.Compute/locations/DiskOperations",
];
const CANONICAL = new Map(KNOWN_TYPES.map((t) => [t.toLowerCase(), t]));

/**
 * The ARM resource type a request URL addresses: the provider namespace and the type segments after
 * the last `/providers/`, dropping names (`…/managedClusters/c1/agentPools/p1` →
 * `Microsoft.ContainerService/managedClusters/agentPools`); a trailing action segment is kept.
 */
export function resourceTypeFromUrl(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return "unknown";
  }
  const parts = path.split("/").filter((p) => p !== "");
  let idx = -1;
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i]?.toLowerCase() === "providers") {
      idx = i;
      break;
    }
  }
  if (idx < 0 || idx + 1 >= parts.length) {
    const hasGroup = parts.some((p) => p.toLowerCase() === "resourcegroups");
    return hasGroup ? "resourceGroups" : parts.length > 0 ? "subscriptions" : "unknown";
  }
  const ns = parts[idx + 1] as string;
  const rest = parts.slice(idx + 2);
  const types = rest.filter((_, i) => i % 2 === 0);
  const joined = [ns, ...types].join("/");
  return CANONICAL.get(joined.toLowerCase()) ?? joined;
}

export const armMetricsPolicyName = "aksnapArmMetrics";

/** Pipeline policy recording one count and one latency sample per HTTP attempt. */
export function armMetricsPolicy(metrics: ArmMetrics, now: () => number): PipelinePolicy {
  return {
    name: armMetricsPolicyName,
    async sendRequest(request, next) {
      const labels = { resource_type: resourceTypeFromUrl(request.url), method: request.method.toUpperCase() };
      const start = now();
      let code = "error";
      try {
        const response = await next(request);
        code = String(response.status);
        return response;
      } catch (e) {
        const status = typeof e === "object" && e !== null && "statusCode" in e ? e.statusCode : undefined;
        if (typeof status === "number") code = String(status);
        throw e;
      } finally {
        metrics.requests.inc({ ...labels, code });
        metrics.duration.observe(labels, Math.max(0, now() - start) / 1000);
      }
    },
  };
}
