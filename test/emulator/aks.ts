// Microsoft.ContainerService: node-pool snapshots (synchronous), agent pools and managed clusters
// (long-running, Azure-AsyncOperation), the operation status endpoints, and AKS's documented rules
// (snapshot region, VM family, version skew, upgrade-to-snapshot ordering, one operation at a time).

import { randomUUID } from "node:crypto";
import {
  aksAsyncOperationUrl,
  aksOperationResultUrl,
  checkPreconditions,
  compareNodeImages,
  compareVersions,
  json,
  newETag,
  page,
  param,
  parseVersion,
  propsOf,
  requireBody,
  requireLocation,
  retryAfterHeader,
  systemData,
  tagsOf,
  vmFamily,
  type Ctx,
  type EmuResponse,
} from "./context.ts";
import {
  ArmHttpError,
  badRequest,
  errorToJson,
  invalidParameter,
  operationNotAllowed,
  parentResourceNotFound,
  propertyChangeNotAllowed,
  resourceNotFound,
} from "./errors.ts";
import { formatResourceId, KIND_INFO, normLocation, parseResourceId, type ResourceRef } from "./ids.ts";
import { bool, clone, num, obj, str, type JsonObject, type JsonValue } from "./json.ts";
import { operationOutcome, type ArmState, type OperationKind, type OperationRecord, type StoredResource } from "./state.ts";
import { DEFAULT_LATEST_NODE_IMAGES } from "./world.ts";

const SNAPSHOT_NAME = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;
const CLUSTER_NAME = SNAPSHOT_NAME;
const AGENT_POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;
export const DEFAULT_KUBERNETES_VERSION = "1.33.3";

/** Agent-pool properties ARM computes; whatever a client sends for them is ignored. */
const POOL_READ_ONLY = ["provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag", "status"];

function ref(ctx: Ctx, kind: ResourceRef["kind"], nameParam = "name"): ResourceRef {
  const base = { subscriptionId: param(ctx, "sub"), resourceGroup: param(ctx, "rg") };
  return kind === "agentPool"
    ? { ...base, kind, cluster: param(ctx, "cluster"), name: param(ctx, "pool") }
    : { ...base, kind, name: param(ctx, nameParam) };
}

function requireRg(ctx: Ctx, location?: string): void {
  ctx.state.requireResourceGroup(param(ctx, "sub"), param(ctx, "rg"), ctx.behaviour.autoCreateResourceGroups, location);
}

function latestImage(state: ArmState, osSku: string): string {
  return state.latestNodeImages[osSku] ?? DEFAULT_LATEST_NODE_IMAGES[osSku] ?? state.latestNodeImages["Ubuntu"] ?? DEFAULT_LATEST_NODE_IMAGES["Ubuntu"] ?? "AKSUbuntu-2204gen2containerd-202511.07.0";
}

function nonEmpty(v: JsonValue | undefined): string | undefined {
  const s = str(v);
  return s === undefined || s === "" ? undefined : s;
}

function busyMessage(what: string, op: OperationRecord): string {
  return `Operation is not allowed because there's an in progress ${op.kind} operation on ${what} (operation id '${op.id}'). Please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`;
}

function conflict(ctx: Ctx, what: string, op: OperationRecord): ArmHttpError {
  return operationNotAllowed(busyMessage(what, op), ctx.behaviour.conflictBody === "unwrapped");
}

function startLro(
  ctx: Ctx,
  primary: StoredResource,
  others: readonly StoredResource[],
  kind: OperationKind,
  location: string,
  durationMs: number,
  effect: OperationRecord["effect"] = kind === "delete" ? { type: "delete" } : { type: "provision" },
): OperationRecord {
  const injected = ctx.state.takeOutcome(primary.ref.kind, primary.id, kind, (o) => o.type !== "copyError");
  return ctx.state.startOperation({
    provider: "ContainerService",
    kind,
    subscriptionId: primary.ref.subscriptionId,
    location: normLocation(location),
    primaryId: primary.id,
    startedAt: ctx.now,
    endsAt: ctx.now + durationMs,
    effect,
    outcome: operationOutcome(injected),
    resources: [primary, ...others],
  });
}

// ---------------------------------------------------------------------------------------------
// Node-pool snapshots
// ---------------------------------------------------------------------------------------------

interface SnapshotView {
  readonly kubernetesVersion: string;
  readonly nodeImageVersion: string;
  readonly osType: string;
  readonly osSku: string;
  readonly vmSize: string;
  readonly enableFIPS: boolean;
  readonly location: string;
}

function snapshotView(res: StoredResource): SnapshotView {
  const p = propsOf(res.body);
  return {
    kubernetesVersion: str(p["kubernetesVersion"]) ?? "",
    nodeImageVersion: str(p["nodeImageVersion"]) ?? "",
    osType: str(p["osType"]) ?? "Linux",
    osSku: str(p["osSku"]) ?? "Ubuntu",
    vmSize: str(p["vmSize"]) ?? "",
    enableFIPS: bool(p["enableFIPS"]) ?? false,
    location: str(res.body["location"]) ?? "",
  };
}

/** A snapshot referenced by id (pool/cluster creation, node image upgrade); 404 NotFound if absent. */
function requireSnapshot(ctx: Ctx, id: string, target: string): StoredResource {
  const r = parseResourceId(id);
  if (!r || r.kind !== "aksSnapshot") {
    throw invalidParameter(`'${id}' is not a valid Microsoft.ContainerService/snapshots resource id.`, target);
  }
  const snap = ctx.state.get(r);
  if (!snap) {
    throw new ArmHttpError(404, { code: "NotFound", message: `Snapshot '${id}' was not found.`, target });
  }
  return snap;
}

export function snapshotBody(input: {
  id: string;
  name: string;
  location: string;
  tags: JsonObject | undefined;
  sourceResourceId: string;
  view: Omit<SnapshotView, "location">;
  systemData: JsonObject;
}): JsonObject {
  const body: JsonObject = {
    id: input.id,
    name: input.name,
    type: KIND_INFO.aksSnapshot.armType,
    location: input.location,
    properties: {
      creationData: { sourceResourceId: input.sourceResourceId },
      snapshotType: "NodePool",
      kubernetesVersion: input.view.kubernetesVersion,
      nodeImageVersion: input.view.nodeImageVersion,
      osType: input.view.osType,
      osSku: input.view.osSku,
      vmSize: input.view.vmSize,
      enableFIPS: input.view.enableFIPS,
    },
    systemData: input.systemData,
  };
  if (input.tags !== undefined) body["tags"] = clone(input.tags);
  return body;
}

export function snapshotsGet(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "aksSnapshot");
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  return json(200, clone(res.body));
}

export function snapshotsList(ctx: Ctx): EmuResponse {
  const rg = ctx.params["rg"];
  if (rg !== undefined) requireRg(ctx);
  else ctx.state.requireSubscription(param(ctx, "sub"), ctx.behaviour.autoCreateResourceGroups);
  return page(ctx, ctx.state.list("aksSnapshot", param(ctx, "sub"), rg).map((r) => clone(r.body)));
}

export function snapshotsPut(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "aksSnapshot");
  if (!SNAPSHOT_NAME.test(r.name)) {
    throw badRequest("InvalidResourceName", `Resource name '${r.name}' is invalid. It must match ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$.`, "resourceName");
  }
  const body = requireBody(ctx);
  const location = requireLocation(body);
  requireRg(ctx, location);
  const tags = tagsOf(body);
  const props = propsOf(body);
  const snapshotType = str(props["snapshotType"]);
  if (snapshotType !== undefined && snapshotType.toLowerCase() !== "nodepool") {
    throw invalidParameter(`Snapshot type '${snapshotType}' is not supported; only 'NodePool' is.`, "properties.snapshotType");
  }
  const sourceId = str(obj(props["creationData"])?.["sourceResourceId"]);
  if (sourceId === undefined || sourceId === "") {
    throw invalidParameter("properties.creationData.sourceResourceId is required: the id of the agent pool to snapshot.", "properties.creationData.sourceResourceId");
  }
  const existing = ctx.state.get(r);
  if (existing) {
    const prevSource = str(obj(propsOf(existing.body)["creationData"])?.["sourceResourceId"]) ?? "";
    if (prevSource.toLowerCase() !== sourceId.toLowerCase()) throw propertyChangeNotAllowed("properties.creationData.sourceResourceId");
    if (normLocation(str(existing.body["location"]) ?? "") !== normLocation(location)) throw propertyChangeNotAllowed("location");
    const next = clone(existing.body);
    if (tags !== undefined) next["tags"] = clone(tags);
    else delete next["tags"];
    next["systemData"] = systemData(ctx.now, existing.body["systemData"]);
    existing.body = next;
    return json(200, clone(next));
  }
  const srcRef = parseResourceId(sourceId);
  if (!srcRef || srcRef.kind !== "agentPool") {
    throw invalidParameter(`'${sourceId}' is not an agent pool resource id.`, "properties.creationData.sourceResourceId");
  }
  const pool = ctx.state.get(srcRef);
  if (!pool) {
    throw new ArmHttpError(404, {
      code: "NotFound",
      message: `Source agent pool '${sourceId}' was not found.`,
      target: "properties.creationData.sourceResourceId",
    });
  }
  const cluster = ctx.state.get({ ...srcRef, kind: "managedCluster", name: srcRef.cluster ?? "" });
  refuseSnapshotOfUnavailablePool(ctx, pool, cluster);
  const clusterLocation = str(cluster?.body["location"]) ?? "";
  if (normLocation(clusterLocation) !== normLocation(location)) {
    throw invalidParameter(
      `The snapshot must be created in the same region as its source agent pool: the location '${location}' differs from the source's location '${clusterLocation}'.`,
      "location",
    );
  }
  const pp = propsOf(pool.body);
  const id = formatResourceId(r);
  const created = snapshotBody({
    id,
    name: r.name,
    location,
    tags,
    sourceResourceId: pool.id,
    view: {
      kubernetesVersion: str(pp["currentOrchestratorVersion"]) ?? str(pp["orchestratorVersion"]) ?? "",
      nodeImageVersion: str(pp["nodeImageVersion"]) ?? "",
      osType: str(pp["osType"]) ?? "Linux",
      osSku: str(pp["osSKU"]) ?? "Ubuntu",
      vmSize: str(pp["vmSize"]) ?? "",
      enableFIPS: bool(pp["enableFIPS"]) ?? false,
    },
    systemData: systemData(ctx.now),
  });
  ctx.state.upsert(r, id, created);
  return json(201, clone(created));
}

/** Pool states in which AKS is working on the pool: no snapshot can be taken of it then. */
export const BUSY_POOL_STATES: readonly string[] = ["Creating", "Updating", "Upgrading", "Scaling", "UpgradingNodeImageVersion", "Deleting", "Starting", "Stopping", "Canceling"];

/**
 * AKS refuses to snapshot a pool while it or its cluster is being worked on, or while the cluster
 * (or the pool) is stopped: 409 OperationNotAllowed, like any write that meets a busy cluster.
 */
function refuseSnapshotOfUnavailablePool(ctx: Ctx, pool: StoredResource, cluster: StoredResource | undefined): void {
  const unwrapped = ctx.behaviour.conflictBody === "unwrapped";
  const op = ctx.state.activeOperation(pool) ?? (cluster !== undefined ? ctx.state.activeOperation(cluster) : undefined);
  if (op) throw conflict(ctx, `agent pool '${pool.ref.name}'`, op);
  const poolState = str(propsOf(pool.body)["provisioningState"]) ?? "Succeeded";
  const clusterState = cluster !== undefined ? (str(propsOf(cluster.body)["provisioningState"]) ?? "Succeeded") : "Succeeded";
  const busy = [poolState, clusterState].find((st) => BUSY_POOL_STATES.some((b) => b.toLowerCase() === st.toLowerCase()));
  if (busy !== undefined) {
    throw operationNotAllowed(
      `Operation is not allowed because there's an in progress ${busy} operation on agent pool '${pool.ref.name}' of managed cluster '${pool.ref.cluster ?? ""}'. Please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`,
      unwrapped,
    );
  }
  const stopped = [cluster, pool].find((r) => str(obj(r !== undefined ? propsOf(r.body)["powerState"] : undefined)?.["code"])?.toLowerCase() === "stopped");
  if (stopped !== undefined) {
    const what = stopped === pool ? `agent pool '${pool.ref.name}'` : `managed cluster '${pool.ref.cluster ?? ""}'`;
    throw operationNotAllowed(
      `Operation is not allowed because ${what} is stopped (powerState Stopped). Start it before taking a snapshot of agent pool '${pool.ref.name}'.`,
      unwrapped,
    );
  }
}

export function snapshotsPatch(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "aksSnapshot");
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  const tags = tagsOf(requireBody(ctx));
  const next = clone(res.body);
  if (tags !== undefined) next["tags"] = clone(tags);
  else delete next["tags"];
  next["systemData"] = systemData(ctx.now, res.body["systemData"]);
  res.body = next;
  return json(200, clone(next));
}

export function snapshotsDelete(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "aksSnapshot");
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) return json(204);
  ctx.state.remove(res.key);
  return json(200);
}

// ---------------------------------------------------------------------------------------------
// Agent pools
// ---------------------------------------------------------------------------------------------

function clusterOf(ctx: Ctx, r: ResourceRef): StoredResource | undefined {
  return ctx.state.get({ kind: "managedCluster", subscriptionId: r.subscriptionId, resourceGroup: r.resourceGroup, name: r.cluster ?? "" });
}

/** Pool as it appears under its own URL (no location: agent pools are proxy resources). */
export function renderPool(res: StoredResource): JsonObject {
  return clone(res.body);
}

/** The managed cluster with agentPoolProfiles composed from its pools, as AKS answers. */
export function renderCluster(state: ArmState, res: StoredResource): JsonObject {
  const body = clone(res.body);
  const props = obj(body["properties"]) ?? {};
  props["agentPoolProfiles"] = state.poolsOf(res).map((p) => ({ name: p.ref.name, ...clone(propsOf(p.body)) }));
  body["properties"] = props;
  return body;
}

function checkVersionSkew(poolVersion: string, clusterVersion: string, target: string): void {
  const pv = parseVersion(poolVersion);
  const cv = parseVersion(clusterVersion);
  if (!pv) throw invalidParameter(`Version '${poolVersion}' is not a valid Kubernetes version.`, target);
  if (!cv) return;
  const ok = pv[0] === cv[0] && compareVersions(pv, cv) <= 0 && cv[1] - pv[1] <= 2;
  if (!ok) {
    throw badRequest(
      "NodePoolMcVersionIncompatible",
      `Node pool version ${poolVersion} and control plane version ${clusterVersion} are incompatible. A node pool must have the control plane's major version, must not be newer than it, and may be at most 2 minor versions older.`,
      target,
    );
  }
}

function checkFamily(vmSize: string, snapshot: StoredResource, target: string): void {
  const snapSize = snapshotView(snapshot).vmSize;
  if (snapSize !== "" && vmFamily(vmSize) !== vmFamily(snapSize)) {
    throw invalidParameter(
      `The VM size '${vmSize}' (family ${vmFamily(vmSize)}) is not in the VM family of snapshot '${snapshot.id}' (size '${snapSize}', family ${vmFamily(snapSize)}); a node pool created from a snapshot must use the same VM family.`,
      target,
    );
  }
}

interface NewPoolInput {
  readonly state: ArmState;
  readonly requested: JsonObject;
  readonly clusterVersion: string;
  readonly snapshot: StoredResource | undefined;
  readonly targetPrefix: string;
}

/** Properties of a new agent pool: request, then snapshot, then AKS defaults; rules checked. */
export function newPoolProperties(input: NewPoolInput): JsonObject {
  const { requested, snapshot, targetPrefix } = input;
  const snap = snapshot ? snapshotView(snapshot) : undefined;
  const props = clone(requested);
  for (const k of POOL_READ_ONLY) delete props[k];
  delete props["name"];
  const osType = nonEmpty(requested["osType"]) ?? snap?.osType ?? "Linux";
  const osSKU = nonEmpty(requested["osSKU"]) ?? snap?.osSku ?? (osType === "Windows" ? "Windows2022" : "Ubuntu");
  const vmSize = nonEmpty(requested["vmSize"]) ?? (snap?.vmSize || undefined) ?? "Standard_D2ds_v5";
  const version = nonEmpty(requested["orchestratorVersion"]) ?? (snap?.kubernetesVersion || undefined) ?? input.clusterVersion;
  checkVersionSkew(version, input.clusterVersion, `${targetPrefix}orchestratorVersion`);
  if (snapshot) checkFamily(vmSize, snapshot, `${targetPrefix}vmSize`);
  const count = num(requested["count"]) ?? 1;
  const mode = nonEmpty(requested["mode"]) ?? "User";
  if (count < (mode === "System" ? 1 : 0) || count > 1000) {
    throw invalidParameter(`The count ${count} is out of range for a ${mode} pool (${mode === "System" ? 1 : 0}..1000).`, `${targetPrefix}count`);
  }
  Object.assign(props, {
    count,
    vmSize,
    osType,
    osSKU,
    mode,
    type: nonEmpty(requested["type"]) ?? "VirtualMachineScaleSets",
    maxPods: num(requested["maxPods"]) ?? 110,
    orchestratorVersion: version,
    currentOrchestratorVersion: version,
    nodeImageVersion: snap?.nodeImageVersion || nonEmpty(requested["nodeImageVersion"]) || latestImage(input.state, osSKU),
    enableFIPS: bool(requested["enableFIPS"]) ?? snap?.enableFIPS ?? false,
    powerState: obj(requested["powerState"]) ?? { code: "Running" },
    eTag: newETag(),
  });
  return props;
}

function poolBody(id: string, name: string, props: JsonObject): JsonObject {
  return { id, name, type: KIND_INFO.agentPool.armType, properties: props };
}

export function agentPoolsGet(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "agentPool");
  requireRg(ctx);
  const cluster = clusterOf(ctx, r);
  if (!cluster) throw resourceNotFound({ ...r, kind: "managedCluster", name: r.cluster ?? "" });
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  return json(200, renderPool(res));
}

export function agentPoolsList(ctx: Ctx): EmuResponse {
  requireRg(ctx);
  const cr: ResourceRef = { kind: "managedCluster", subscriptionId: param(ctx, "sub"), resourceGroup: param(ctx, "rg"), name: param(ctx, "cluster") };
  const cluster = ctx.state.get(cr);
  if (!cluster) throw resourceNotFound(cr);
  return page(ctx, ctx.state.poolsOf(cluster).map(renderPool));
}

export function agentPoolsPut(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "agentPool");
  requireRg(ctx);
  if (!AGENT_POOL_NAME.test(r.name)) {
    throw invalidParameter(`Agent pool name '${r.name}' is invalid: it must start with a lowercase letter and contain only lowercase letters and numbers, up to 12 characters (^[a-z][a-z0-9]{0,11}$).`, "agentPoolName");
  }
  const cluster = clusterOf(ctx, r);
  if (!cluster) throw parentResourceNotFound(r.cluster ?? "");
  const existing = ctx.state.get(r);
  checkPreconditions(ctx, existing);
  const clusterOp = ctx.state.activeOperation(cluster);
  if (clusterOp) throw conflict(ctx, `managed cluster '${cluster.ref.name}'`, clusterOp);
  if (existing) {
    const op = ctx.state.activeOperation(existing);
    if (op) throw conflict(ctx, `agent pool '${existing.ref.name}'`, op);
  }
  const body = requireBody(ctx);
  const requested = propsOf(body);
  // Agent pools carry their tags in properties.
  tagsOf(requested);
  const clusterProps = propsOf(cluster.body);
  const clusterVersion = str(clusterProps["currentKubernetesVersion"]) ?? str(clusterProps["kubernetesVersion"]) ?? DEFAULT_KUBERNETES_VERSION;
  const snapshotId = nonEmpty(obj(requested["creationData"])?.["sourceResourceId"]);
  const snapshot = snapshotId !== undefined ? requireSnapshot(ctx, snapshotId, "properties.creationData.sourceResourceId") : undefined;
  const location = str(cluster.body["location"]) ?? "";

  if (!existing) {
    const props = newPoolProperties({ state: ctx.state, requested, clusterVersion, snapshot, targetPrefix: "properties." });
    props["provisioningState"] = "Creating";
    const id = formatResourceId(r);
    const res = ctx.state.upsert(r, id, poolBody(id, r.name, props));
    const op = startLro(ctx, res, [], "create", location, ctx.timing.agentPoolOperationMs);
    return json(201, renderPool(res), { "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op), ...retryAfterHeader(ctx) });
  }

  // Update: the request replaces writable properties; immutable ones must not change.
  const prev = propsOf(existing.body);
  for (const k of ["vmSize", "osType", "enableFIPS"] as const) {
    const want = requested[k];
    if (want !== undefined && want !== "" && JSON.stringify(want) !== JSON.stringify(prev[k])) throw propertyChangeNotAllowed(`properties.${k}`);
  }
  // nodeImageVersion is writable since 2025 (a rollback to one of recentlyUsedVersions); the
  // emulator keeps no history, so only the current value is accepted.
  const wantImage = nonEmpty(requested["nodeImageVersion"]);
  if (wantImage !== undefined && wantImage !== str(prev["nodeImageVersion"])) {
    throw invalidParameter(`Node image version '${wantImage}' is not one of the agent pool's recentlyUsedVersions.`, "properties.nodeImageVersion");
  }
  const next = clone(prev);
  for (const [k, v] of Object.entries(requested)) {
    if (!POOL_READ_ONLY.includes(k)) next[k] = clone(v);
  }
  let effect: OperationRecord["effect"] = { type: "provision" };
  const currentVersion = str(prev["currentOrchestratorVersion"]) ?? str(prev["orchestratorVersion"]) ?? clusterVersion;
  let version = nonEmpty(requested["orchestratorVersion"]) ?? currentVersion;
  // Only a new snapshot id is an upgrade to it: a read-modify-write PUT of a pool created from a
  // snapshot sends back the same creationData and is an ordinary update.
  const prevSource = str(obj(prev["creationData"])?.["sourceResourceId"]);
  const isSnapshotUpgrade = snapshot !== undefined && (prevSource === undefined || prevSource.toLowerCase() !== snapshot.id.toLowerCase());
  if (snapshot && isSnapshotUpgrade) {
    const snap = snapshotView(snapshot);
    checkFamily(str(prev["vmSize"]) ?? "", snapshot, "properties.creationData.sourceResourceId");
    const sv = parseVersion(snap.kubernetesVersion);
    const pv = parseVersion(currentVersion);
    if (nonEmpty(requested["orchestratorVersion"]) === undefined) version = snap.kubernetesVersion;
    if (!sv || !pv || compareVersions(sv, pv) <= 0) {
      throw invalidParameter(
        `Cannot upgrade agent pool '${r.name}' to snapshot '${snapshot.id}': the snapshot's Kubernetes version ${snap.kubernetesVersion} must be newer than the pool's ${currentVersion}. To move only the node image to a snapshot with the same Kubernetes version, use upgradeNodeImageVersion with the AKSSnapshotId header.`,
        "properties.creationData.sourceResourceId",
      );
    }
    if (compareNodeImages(snap.nodeImageVersion, str(prev["nodeImageVersion"]) ?? "") < 0) {
      throw invalidParameter(
        `Cannot upgrade agent pool '${r.name}' to snapshot '${snapshot.id}': the snapshot's node image ${snap.nodeImageVersion} is older than the pool's ${str(prev["nodeImageVersion"]) ?? ""}.`,
        "properties.creationData.sourceResourceId",
      );
    }
    effect = { type: "nodeImage", nodeImageVersion: snap.nodeImageVersion };
  }
  const pv = parseVersion(version);
  const cv = parseVersion(currentVersion);
  if (pv && cv && compareVersions(pv, cv) < 0) {
    throw badRequest("NotAllowedDowngrade", `Downgrading agent pool '${r.name}' from ${currentVersion} to ${version} is not allowed.`, "properties.orchestratorVersion");
  }
  checkVersionSkew(version, clusterVersion, "properties.orchestratorVersion");
  next["orchestratorVersion"] = version;
  next["provisioningState"] = "Updating";
  next["eTag"] = newETag();
  existing.body = poolBody(existing.id, existing.ref.name, next);
  const op = startLro(ctx, existing, [], "update", location, ctx.timing.agentPoolOperationMs, effect);
  return json(200, renderPool(existing), { "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op), ...retryAfterHeader(ctx) });
}

export function agentPoolsDelete(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "agentPool");
  requireRg(ctx);
  const cluster = clusterOf(ctx, r);
  if (!cluster) throw resourceNotFound({ ...r, kind: "managedCluster", name: r.cluster ?? "" });
  const res = ctx.state.get(r);
  checkPreconditions(ctx, res);
  if (!res) return json(204);
  const clusterOp = ctx.state.activeOperation(cluster);
  if (clusterOp) throw conflict(ctx, `managed cluster '${cluster.ref.name}'`, clusterOp);
  const op0 = ctx.state.activeOperation(res);
  if (op0) throw conflict(ctx, `agent pool '${res.ref.name}'`, op0);
  const pools = ctx.state.poolsOf(cluster);
  const systemPools = pools.filter((p) => str(propsOf(p.body)["mode"]) === "System");
  if (str(propsOf(res.body)["mode"]) === "System" && systemPools.length === 1) {
    throw invalidParameter(`Cannot delete agent pool '${r.name}': it is the last System agent pool, and a managed cluster must have at least one.`, "agentPoolName");
  }
  propsOf(res.body)["provisioningState"] = "Deleting";
  const op = startLro(ctx, res, [], "delete", str(cluster.body["location"]) ?? "", ctx.timing.agentPoolOperationMs);
  return json(202, undefined, {
    "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op),
    Location: aksOperationResultUrl(ctx, op),
    ...retryAfterHeader(ctx),
  });
}

export function agentPoolsUpgradeNodeImageVersion(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "agentPool");
  requireRg(ctx);
  const cluster = clusterOf(ctx, r);
  if (!cluster) throw resourceNotFound({ ...r, kind: "managedCluster", name: r.cluster ?? "" });
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  const clusterOp = ctx.state.activeOperation(cluster);
  if (clusterOp) throw conflict(ctx, `managed cluster '${cluster.ref.name}'`, clusterOp);
  const op0 = ctx.state.activeOperation(res);
  if (op0) throw conflict(ctx, `agent pool '${res.ref.name}'`, op0);
  const props = propsOf(res.body);
  const snapshotId = nonEmpty(ctx.req.headers["akssnapshotid"]);
  let target: string;
  if (snapshotId !== undefined) {
    const snapshot = requireSnapshot(ctx, snapshotId, "AKSSnapshotId");
    const snap = snapshotView(snapshot);
    checkFamily(str(props["vmSize"]) ?? "", snapshot, "AKSSnapshotId");
    const current = str(props["currentOrchestratorVersion"]) ?? str(props["orchestratorVersion"]) ?? "";
    if (snap.kubernetesVersion !== current) {
      throw invalidParameter(
        `A node-image-only upgrade needs a snapshot with the pool's Kubernetes version: snapshot '${snapshot.id}' has ${snap.kubernetesVersion}, agent pool '${r.name}' runs ${current}.`,
        "AKSSnapshotId",
      );
    }
    if (compareNodeImages(snap.nodeImageVersion, str(props["nodeImageVersion"]) ?? "") < 0) {
      throw invalidParameter(
        `Snapshot '${snapshot.id}' has node image ${snap.nodeImageVersion}, older than agent pool '${r.name}''s ${str(props["nodeImageVersion"]) ?? ""}.`,
        "AKSSnapshotId",
      );
    }
    target = snap.nodeImageVersion;
    props["creationData"] = { sourceResourceId: snapshot.id };
  } else {
    target = latestImage(ctx.state, str(props["osSKU"]) ?? "Ubuntu");
  }
  props["provisioningState"] = "UpgradingNodeImageVersion";
  props["eTag"] = newETag();
  const op = startLro(ctx, res, [], "upgradeNodeImageVersion", str(cluster.body["location"]) ?? "", ctx.timing.agentPoolOperationMs, {
    type: "nodeImage",
    nodeImageVersion: target,
  });
  return json(202, renderPool(res), { "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op), ...retryAfterHeader(ctx) });
}

// ---------------------------------------------------------------------------------------------
// Managed clusters
// ---------------------------------------------------------------------------------------------

const SECRET_PATHS: readonly (readonly [string, string])[] = [
  ["servicePrincipalProfile", "secret"],
  ["windowsProfile", "adminPassword"],
];

function defaultNetworkProfile(requested: JsonObject | undefined): JsonObject {
  const lbRequested = obj(requested?.["loadBalancerProfile"]);
  const outboundCount = num(obj(lbRequested?.["managedOutboundIPs"])?.["count"]) ?? 1;
  const effective = Array.from({ length: outboundCount }, (_, i) => ({
    id: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MC_emulator/providers/Microsoft.Network/publicIPAddresses/mgdoutboundip${i + 1}`,
  }));
  const base: JsonObject = {
    networkPlugin: "azure",
    networkPluginMode: "overlay",
    podCidr: "10.244.0.0/16",
    serviceCidr: "10.0.0.0/16",
    dnsServiceIP: "10.0.0.10",
    outboundType: "loadBalancer",
    loadBalancerSku: "standard",
    podCidrs: ["10.244.0.0/16"],
    serviceCidrs: ["10.0.0.0/16"],
    ipFamilies: ["IPv4"],
  };
  const merged = { ...base, ...clone(requested ?? {}) };
  if (str(merged["outboundType"]) === "loadBalancer") {
    merged["loadBalancerProfile"] = {
      managedOutboundIPs: { count: outboundCount },
      effectiveOutboundIPs: effective,
      allocatedOutboundPorts: 0,
      idleTimeoutInMinutes: 30,
      ...clone(lbRequested ?? {}),
    };
  }
  return merged;
}

export function clustersGet(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "managedCluster");
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  return json(200, renderCluster(ctx.state, res));
}

export function clustersList(ctx: Ctx): EmuResponse {
  const rg = ctx.params["rg"];
  if (rg !== undefined) requireRg(ctx);
  else ctx.state.requireSubscription(param(ctx, "sub"), ctx.behaviour.autoCreateResourceGroups);
  return page(ctx, ctx.state.list("managedCluster", param(ctx, "sub"), rg).map((c) => renderCluster(ctx.state, c)));
}

function requestedProfiles(props: JsonObject): JsonObject[] {
  const raw = props["agentPoolProfiles"];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidParameter("properties.agentPoolProfiles must be an array.", "properties.agentPoolProfiles");
  return raw.map((p, i) => {
    const o = obj(p);
    if (!o) throw invalidParameter(`properties.agentPoolProfiles[${i}] must be an object.`, `properties.agentPoolProfiles[${i}]`);
    return o;
  });
}

export function clustersPut(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "managedCluster");
  if (!CLUSTER_NAME.test(r.name)) {
    throw badRequest("InvalidResourceName", `Resource name '${r.name}' is invalid.`, "resourceName");
  }
  const body = requireBody(ctx);
  const location = requireLocation(body);
  requireRg(ctx, location);
  const existing = ctx.state.get(r);
  checkPreconditions(ctx, existing);
  if (existing) {
    const busy = ctx.state.activeOperation(existing) ?? ctx.state.poolsOf(existing).map((p) => ctx.state.activeOperation(p)).find((o) => o !== undefined);
    if (busy) throw conflict(ctx, `managed cluster '${existing.ref.name}'`, busy);
    if (normLocation(str(existing.body["location"]) ?? "") !== normLocation(location)) throw propertyChangeNotAllowed("location");
  }
  const tags = tagsOf(body);
  const requested = clone(propsOf(body));
  for (const [a, b] of SECRET_PATHS) {
    const o = obj(requested[a]);
    if (o) delete o[b];
  }
  const profiles = requestedProfiles(requested);
  delete requested["agentPoolProfiles"];
  for (const k of ["provisioningState", "currentKubernetesVersion", "fqdn", "azurePortalFQDN", "maxAgentPools", "powerState"]) delete requested[k];

  // Snapshots the profiles refer to, resolved up front so a bad id fails before anything changes.
  const profileSnapshots = profiles.map((p, i) => {
    const sid = nonEmpty(obj(p["creationData"])?.["sourceResourceId"]);
    return sid !== undefined ? requireSnapshot(ctx, sid, `properties.agentPoolProfiles[${i}].creationData.sourceResourceId`) : undefined;
  });
  const prevProps = existing ? propsOf(existing.body) : undefined;
  const systemIndex = profiles.findIndex((p) => str(p["mode"]) === "System");
  const systemSnapshot = systemIndex >= 0 ? profileSnapshots[systemIndex] : undefined;
  const version =
    nonEmpty(requested["kubernetesVersion"]) ??
    (existing ? str(prevProps?.["kubernetesVersion"]) : undefined) ??
    (systemSnapshot ? snapshotView(systemSnapshot).kubernetesVersion : undefined) ??
    DEFAULT_KUBERNETES_VERSION;
  if (!parseVersion(version)) throw invalidParameter(`Version '${version}' is not a valid Kubernetes version.`, "properties.kubernetesVersion");
  if (existing) {
    const prevVersion = str(prevProps?.["currentKubernetesVersion"]) ?? version;
    const a = parseVersion(version);
    const b = parseVersion(prevVersion);
    if (a && b && compareVersions(a, b) < 0) {
      throw badRequest("NotAllowedDowngrade", `Downgrading managed cluster '${r.name}' from ${prevVersion} to ${version} is not allowed.`, "properties.kubernetesVersion");
    }
  } else {
    if (profiles.length === 0) throw invalidParameter("properties.agentPoolProfiles must hold at least one agent pool.", "properties.agentPoolProfiles");
    if (systemIndex < 0) throw badRequest("MustDefineAtLeastOneSystemPool", "Must define at least one system pool.", "properties.agentPoolProfiles");
  }

  const id = formatResourceId(r);
  const dnsPrefix = nonEmpty(requested["dnsPrefix"]) ?? str(prevProps?.["dnsPrefix"]) ?? `${r.name}-dns`;
  const loc = normLocation(location);
  const props: JsonObject = {
    ...(prevProps ? clone(prevProps) : {}),
    ...requested,
    kubernetesVersion: version,
    currentKubernetesVersion: existing ? (str(prevProps?.["currentKubernetesVersion"]) ?? version) : version,
    dnsPrefix,
    fqdn: str(prevProps?.["fqdn"]) ?? `${dnsPrefix}-${randomUUID().slice(0, 8)}.hcp.${loc}.azmk8s.io`,
    nodeResourceGroup: nonEmpty(requested["nodeResourceGroup"]) ?? str(prevProps?.["nodeResourceGroup"]) ?? `MC_${r.resourceGroup}_${r.name}_${loc}`,
    enableRBAC: bool(requested["enableRBAC"]) ?? bool(prevProps?.["enableRBAC"]) ?? true,
    maxAgentPools: 100,
    networkProfile: defaultNetworkProfile(obj(requested["networkProfile"]) ?? obj(prevProps?.["networkProfile"])),
    powerState: { code: "Running" },
    provisioningState: existing ? "Updating" : "Creating",
  };
  delete props["agentPoolProfiles"];
  const clusterBody: JsonObject = {
    ...(existing ? clone(existing.body) : {}),
    id,
    name: r.name,
    type: KIND_INFO.managedCluster.armType,
    location,
    properties: props,
    sku: obj(body["sku"]) ?? obj(existing?.body["sku"]) ?? { name: "Base", tier: "Free" },
    systemData: systemData(ctx.now, existing?.body["systemData"]),
    eTag: newETag(),
  };
  if (existing) clusterBody["id"] = existing.id;
  if (tags !== undefined) clusterBody["tags"] = clone(tags);
  else delete clusterBody["tags"];
  const identity = obj(body["identity"]);
  if (identity) clusterBody["identity"] = { ...clone(identity), principalId: randomUUID(), tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" };
  else if (!existing && !obj(requested["servicePrincipalProfile"])) {
    clusterBody["identity"] = { type: "SystemAssigned", principalId: randomUUID(), tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" };
  }

  // Validate and build every pool before touching state.
  const clusterRes = existing;
  const poolPlans = profiles.map((p, i) => {
    const name = str(p["name"]);
    if (name === undefined || !AGENT_POOL_NAME.test(name)) {
      throw invalidParameter(`Agent pool name '${String(name)}' is invalid (^[a-z][a-z0-9]{0,11}$).`, `properties.agentPoolProfiles[${i}].name`);
    }
    const pref: ResourceRef = { kind: "agentPool", subscriptionId: r.subscriptionId, resourceGroup: r.resourceGroup, cluster: r.name, name };
    const current = clusterRes ? ctx.state.get(pref) : undefined;
    if (!current) {
      const pp = newPoolProperties({ state: ctx.state, requested: p, clusterVersion: version, snapshot: profileSnapshots[i], targetPrefix: `properties.agentPoolProfiles[${i}].` });
      pp["provisioningState"] = "Creating";
      return { pref, props: pp, current };
    }
    const prev = propsOf(current.body);
    for (const k of ["vmSize", "osType"] as const) {
      const want = p[k];
      if (want !== undefined && want !== "" && want !== prev[k]) throw propertyChangeNotAllowed(`properties.agentPoolProfiles[${i}].${k}`);
    }
    const next = clone(prev);
    for (const [k, v] of Object.entries(p)) if (!POOL_READ_ONLY.includes(k) && k !== "name") next[k] = clone(v);
    if (nonEmpty(p["orchestratorVersion"]) === undefined) next["orchestratorVersion"] = str(prev["orchestratorVersion"]) ?? version;
    checkVersionSkew(str(next["orchestratorVersion"]) ?? version, version, `properties.agentPoolProfiles[${i}].orchestratorVersion`);
    next["provisioningState"] = "Updating";
    next["eTag"] = newETag();
    return { pref, props: next, current };
  });

  const cres = ctx.state.upsert(r, existing?.id ?? id, clusterBody);
  const pools = poolPlans.map(({ pref, props: pp, current }) => {
    const pid = current?.id ?? formatResourceId(pref);
    return ctx.state.upsert(pref, pid, poolBody(pid, pref.name, pp));
  });
  const op = startLro(ctx, cres, pools, existing ? "update" : "create", location, ctx.timing.clusterOperationMs);
  return json(existing ? 200 : 201, renderCluster(ctx.state, cres), {
    "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op),
    ...retryAfterHeader(ctx),
  });
}

export function clustersDelete(ctx: Ctx): EmuResponse {
  const r = ref(ctx, "managedCluster");
  requireRg(ctx);
  const res = ctx.state.get(r);
  checkPreconditions(ctx, res);
  if (!res) return json(204);
  const pools = ctx.state.poolsOf(res);
  const busy = ctx.state.activeOperation(res) ?? pools.map((p) => ctx.state.activeOperation(p)).find((o) => o !== undefined);
  if (busy) throw conflict(ctx, `managed cluster '${res.ref.name}'`, busy);
  propsOf(res.body)["provisioningState"] = "Deleting";
  for (const p of pools) propsOf(p.body)["provisioningState"] = "Deleting";
  const op = startLro(ctx, res, pools, "delete", str(res.body["location"]) ?? "", ctx.timing.clusterOperationMs);
  return json(202, undefined, {
    "Azure-AsyncOperation": aksAsyncOperationUrl(ctx, op),
    Location: aksOperationResultUrl(ctx, op),
    ...retryAfterHeader(ctx),
  });
}

// ---------------------------------------------------------------------------------------------
// Operation status
// ---------------------------------------------------------------------------------------------

function operationStatus(op: OperationRecord): "InProgress" | "Succeeded" | "Failed" | "Canceled" {
  if (!op.settled) return "InProgress";
  switch (op.outcome.type) {
    case "succeeded":
      return "Succeeded";
    case "failed":
      return "Failed";
    case "canceled":
      return "Canceled";
  }
}

function requireOperation(ctx: Ctx, provider: OperationRecord["provider"]): OperationRecord {
  const id = param(ctx, "opId");
  const op = ctx.state.getOperation(id);
  if (!op || op.provider !== provider) {
    throw new ArmHttpError(404, { code: "NotFound", message: `Operation '${id}' was not found.` });
  }
  return op;
}

/** The Azure-AsyncOperation status document: {name, status, startTime, endTime?, error?}. */
export function operationStatusBody(op: OperationRecord): JsonObject {
  const status = operationStatus(op);
  const body: JsonObject = { name: op.id, status, startTime: new Date(op.startedAt).toISOString() };
  if (status !== "InProgress") body["endTime"] = new Date(op.endsAt).toISOString();
  if (op.settled && op.outcome.type === "failed") body["error"] = errorToJson(op.outcome.error);
  if (op.settled && op.outcome.type === "canceled") body["error"] = { code: "Canceled", message: "The operation was canceled." };
  return body;
}

export function aksOperationGet(ctx: Ctx): EmuResponse {
  const op = requireOperation(ctx, "ContainerService");
  return json(200, operationStatusBody(op), op.settled ? {} : retryAfterHeader(ctx));
}

/** Location-header target of AKS deletes: 202 while running, 204 when done, the error when failed. */
export function aksOperationResultGet(ctx: Ctx): EmuResponse {
  const op = requireOperation(ctx, "ContainerService");
  if (!op.settled) return json(202, undefined, { Location: aksOperationResultUrl(ctx, op), ...retryAfterHeader(ctx) });
  switch (op.outcome.type) {
    case "succeeded":
      return json(204);
    case "failed":
      return json(400, { error: errorToJson(op.outcome.error) });
    case "canceled":
      return json(409, { error: { code: "Canceled", message: "The operation was canceled." } });
  }
}

/** Operation status scoped to an agent pool (`…/agentPools/{pool}/operations/{id}`). */
export function agentPoolOperationGet(ctx: Ctx): EmuResponse {
  const op = requireOperation(ctx, "ContainerService");
  const status = operationStatus(op);
  const body: JsonObject = {
    id: `${formatResourceId(ref(ctx, "agentPool"))}/operations/${op.id}`,
    name: op.id,
    status,
    percentComplete: op.settled ? 100 : Math.min(99, Math.floor(((ctx.now - op.startedAt) / Math.max(1, op.endsAt - op.startedAt)) * 100)),
    startTime: new Date(op.startedAt).toISOString(),
  };
  if (status !== "InProgress") body["endTime"] = new Date(op.endsAt).toISOString();
  if (op.settled && op.outcome.type === "failed") body["error"] = errorToJson(op.outcome.error);
  return json(200, body);
}
