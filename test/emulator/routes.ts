// The ARM route table: case-insensitive path templates → handlers, named like the swagger's
// operationIds (prefixed with the provider where AKS and Compute share a name) so the request log
// can be counted per route.

import * as aks from "./aks.ts";
import * as compute from "./compute.ts";
import type { Ctx, EmuResponse } from "./context.ts";

export type RouteProvider = "ContainerService" | "Compute";

export interface Route {
  readonly name: string;
  readonly method: "GET" | "PUT" | "PATCH" | "DELETE" | "POST";
  readonly provider: RouteProvider;
  /** Path segments; `:x` captures a parameter, anything else matches case-insensitively. */
  readonly segments: readonly string[];
  readonly handler: (ctx: Ctx) => EmuResponse;
  /** Policy name for Compute's x-ms-ratelimit-remaining-resource header. */
  readonly computePolicy?: string;
}

const SUB = "subscriptions/:sub";
const RG = `${SUB}/resourceGroups/:rg`;
const CS = "providers/Microsoft.ContainerService";
const CP = "providers/Microsoft.Compute";

function r(method: Route["method"], name: string, provider: RouteProvider, path: string, handler: (ctx: Ctx) => EmuResponse, computePolicy?: string): Route {
  return { method, name, provider, segments: path.split("/"), handler, ...(computePolicy !== undefined ? { computePolicy } : {}) };
}

export const ROUTES: readonly Route[] = [
  // Node-pool snapshots
  r("GET", "ContainerService.Snapshots_List", "ContainerService", `${SUB}/${CS}/snapshots`, aks.snapshotsList),
  r("GET", "ContainerService.Snapshots_ListByResourceGroup", "ContainerService", `${RG}/${CS}/snapshots`, aks.snapshotsList),
  r("GET", "ContainerService.Snapshots_Get", "ContainerService", `${RG}/${CS}/snapshots/:name`, aks.snapshotsGet),
  r("PUT", "ContainerService.Snapshots_CreateOrUpdate", "ContainerService", `${RG}/${CS}/snapshots/:name`, aks.snapshotsPut),
  r("PATCH", "ContainerService.Snapshots_UpdateTags", "ContainerService", `${RG}/${CS}/snapshots/:name`, aks.snapshotsPatch),
  r("DELETE", "ContainerService.Snapshots_Delete", "ContainerService", `${RG}/${CS}/snapshots/:name`, aks.snapshotsDelete),
  // Managed clusters
  r("GET", "ContainerService.ManagedClusters_List", "ContainerService", `${SUB}/${CS}/managedClusters`, aks.clustersList),
  r("GET", "ContainerService.ManagedClusters_ListByResourceGroup", "ContainerService", `${RG}/${CS}/managedClusters`, aks.clustersList),
  r("GET", "ContainerService.ManagedClusters_Get", "ContainerService", `${RG}/${CS}/managedClusters/:name`, aks.clustersGet),
  r("PUT", "ContainerService.ManagedClusters_CreateOrUpdate", "ContainerService", `${RG}/${CS}/managedClusters/:name`, aks.clustersPut),
  r("DELETE", "ContainerService.ManagedClusters_Delete", "ContainerService", `${RG}/${CS}/managedClusters/:name`, aks.clustersDelete),
  // Agent pools
  r("GET", "ContainerService.AgentPools_List", "ContainerService", `${RG}/${CS}/managedClusters/:cluster/agentPools`, aks.agentPoolsList),
  r("GET", "ContainerService.AgentPools_Get", "ContainerService", `${RG}/${CS}/managedClusters/:cluster/agentPools/:pool`, aks.agentPoolsGet),
  r("PUT", "ContainerService.AgentPools_CreateOrUpdate", "ContainerService", `${RG}/${CS}/managedClusters/:cluster/agentPools/:pool`, aks.agentPoolsPut),
  r("DELETE", "ContainerService.AgentPools_Delete", "ContainerService", `${RG}/${CS}/managedClusters/:cluster/agentPools/:pool`, aks.agentPoolsDelete),
  r(
    "POST",
    "ContainerService.AgentPools_UpgradeNodeImageVersion",
    "ContainerService",
    `${RG}/${CS}/managedClusters/:cluster/agentPools/:pool/upgradeNodeImageVersion`,
    aks.agentPoolsUpgradeNodeImageVersion,
  ),
  r(
    "GET",
    "ContainerService.OperationStatusResult_GetByAgentPool",
    "ContainerService",
    `${RG}/${CS}/managedClusters/:cluster/agentPools/:pool/operations/:opId`,
    aks.agentPoolOperationGet,
  ),
  // AKS long-running operation endpoints
  r("GET", "ContainerService.AsyncOperation", "ContainerService", `${SUB}/${CS}/locations/:loc/operations/:opId`, aks.aksOperationGet),
  r("GET", "ContainerService.AsyncOperation", "ContainerService", `${CS}/locations/:loc/operations/:opId`, aks.aksOperationGet),
  r("GET", "ContainerService.OperationResult", "ContainerService", `${SUB}/${CS}/locations/:loc/operationresults/:opId`, aks.aksOperationResultGet),
  // Disks
  r("GET", "Compute.Disks_List", "Compute", `${SUB}/${CP}/disks`, compute.disksList, "LowCostGet"),
  r("GET", "Compute.Disks_ListByResourceGroup", "Compute", `${RG}/${CP}/disks`, compute.disksList, "LowCostGet"),
  r("GET", "Compute.Disks_Get", "Compute", `${RG}/${CP}/disks/:name`, compute.disksGet, "LowCostGet"),
  r("PUT", "Compute.Disks_CreateOrUpdate", "Compute", `${RG}/${CP}/disks/:name`, compute.disksPut, "CreateUpdateDisks"),
  r("PATCH", "Compute.Disks_Update", "Compute", `${RG}/${CP}/disks/:name`, compute.disksPatch, "CreateUpdateDisks"),
  r("DELETE", "Compute.Disks_Delete", "Compute", `${RG}/${CP}/disks/:name`, compute.disksDelete, "DeleteDisks"),
  // Snapshots
  r("GET", "Compute.Snapshots_List", "Compute", `${SUB}/${CP}/snapshots`, compute.snapshotsList, "LowCostGet"),
  r("GET", "Compute.Snapshots_ListByResourceGroup", "Compute", `${RG}/${CP}/snapshots`, compute.snapshotsList, "LowCostGet"),
  r("GET", "Compute.Snapshots_Get", "Compute", `${RG}/${CP}/snapshots/:name`, compute.snapshotsGet, "LowCostGet"),
  r("PUT", "Compute.Snapshots_CreateOrUpdate", "Compute", `${RG}/${CP}/snapshots/:name`, compute.snapshotsPut, "HighCostSnapshotCreateHydrate"),
  r("PATCH", "Compute.Snapshots_Update", "Compute", `${RG}/${CP}/snapshots/:name`, compute.snapshotsPatch, "CreateUpdateDisks"),
  r("DELETE", "Compute.Snapshots_Delete", "Compute", `${RG}/${CP}/snapshots/:name`, compute.snapshotsDelete, "DeleteDisks"),
  // Compute long-running operation endpoint (Azure-AsyncOperation and, with monitor=true, Location)
  r("GET", "Compute.DiskOperation", "Compute", `${SUB}/${CP}/locations/:loc/DiskOperations/:opId`, compute.diskOperationGet, "GetOperation"),
];

export type RouteMatch =
  | { readonly type: "route"; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly type: "methodNotAllowed"; readonly allowed: readonly string[]; readonly params: Readonly<Record<string, string>> }
  | { readonly type: "none" };

function matchSegments(pattern: readonly string[], segs: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? "";
    const s = segs[i] ?? "";
    if (p.startsWith(":")) {
      if (s === "") return undefined;
      params[p.slice(1)] = s;
    } else if (p.toLowerCase() !== s.toLowerCase()) return undefined;
  }
  return params;
}

/** Splits a raw (percent-encoded) path into decoded segments, ignoring empty ones. */
export function pathSegments(rawPath: string): string[] {
  return rawPath
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

export function matchRoute(method: string, segs: readonly string[]): RouteMatch {
  const allowed: string[] = [];
  let params: Record<string, string> = {};
  for (const route of ROUTES) {
    const p = matchSegments(route.segments, segs);
    if (!p) continue;
    if (route.method === method.toUpperCase()) return { type: "route", route, params: p };
    allowed.push(route.method);
    params = p;
  }
  return allowed.length > 0 ? { type: "methodNotAllowed", allowed, params } : { type: "none" };
}
