// Microsoft.Compute disks and snapshots: long-running creates/deletes answered 202 with both
// Azure-AsyncOperation and Location (…/DiskOperations/{id}…&monitor=true), synchronous PATCH, and
// the readiness fields that lag provisioning: completionPercent rising 0→100 after
// provisioningState is already Succeeded (Premium SSD v2 / Ultra sources, CopyStart copies, and
// disks hydrating from such snapshots), snapshotAccessState, copyCompletionError.

import { randomUUID } from "node:crypto";
import {
  computeOperationUrl,
  json,
  page,
  param,
  propsOf,
  requireBody,
  requireLocation,
  retryAfterHeader,
  tagsOf,
  type Ctx,
  type EmuResponse,
} from "./context.ts";
import { ArmHttpError, errorToJson, invalidParameter, operationNotAllowed, propertyChangeNotAllowed, resourceNotFound } from "./errors.ts";
import { formatResourceId, KIND_INFO, normLocation, parseResourceId, type ResourceRef } from "./ids.ts";
import { bool, clone, num, obj, str, type JsonObject } from "./json.ts";
import { copyErrorAt, operationOutcome, percentAt, type CopyProgress, type OperationRecord, type StoredResource } from "./state.ts";

type ComputeKind = "disk" | "computeSnapshot";

const SLOW_SKUS = new Set(["premiumv2_lrs", "ultrassd_lrs"]);
const SKU_TIER: Readonly<Record<string, string>> = {
  standard_lrs: "Standard",
  standard_zrs: "Standard",
  premium_lrs: "Premium",
  premium_zrs: "Premium",
  standardssd_lrs: "Standard",
  standardssd_zrs: "Standard",
  ultrassd_lrs: "Ultra",
  premiumv2_lrs: "Premium",
};
const NAME = /^[a-zA-Z0-9_][-a-zA-Z0-9_.]{0,78}[a-zA-Z0-9_]$|^[a-zA-Z0-9_]$/;

function ref(ctx: Ctx, kind: ComputeKind): ResourceRef {
  return { kind, subscriptionId: param(ctx, "sub"), resourceGroup: param(ctx, "rg"), name: param(ctx, "name") };
}

function requireRg(ctx: Ctx, location?: string): void {
  ctx.state.requireResourceGroup(param(ctx, "sub"), param(ctx, "rg"), ctx.behaviour.autoCreateResourceGroups, location);
}

function skuOf(name: string): JsonObject {
  return { name, tier: SKU_TIER[name.toLowerCase()] ?? "Standard" };
}

function skuName(res: StoredResource): string {
  return str(obj(res.body["sku"])?.["name"]) ?? "Standard_LRS";
}

/** Disk or snapshot with its time-dependent readiness fields filled in for `now`. */
export function renderCompute(res: StoredResource, now: number): JsonObject {
  const body = clone(res.body);
  const props = obj(body["properties"]) ?? {};
  body["properties"] = props;
  const p = res.progress;
  if (p) {
    props["completionPercent"] = percentAt(p, now);
    const err = res.ref.kind === "computeSnapshot" ? copyErrorAt(p, now) : undefined;
    if (err) props["copyCompletionError"] = { errorCode: err.errorCode, errorMessage: err.errorMessage };
  }
  if (res.ref.kind === "computeSnapshot" && bool(props["incremental"]) === true) {
    props["snapshotAccessState"] = accessState(props, p, now);
  }
  return body;
}

function accessState(props: JsonObject, p: CopyProgress | undefined, now: number): string {
  if (str(props["provisioningState"]) !== "Succeeded") return "Pending";
  const ia = num(obj(props["creationData"])?.["instantAccessDurationMinutes"]);
  const created = Date.parse(str(props["timeCreated"]) ?? "");
  const iaLive = ia !== undefined && ia > 0 && Number.isFinite(created) && now < created + ia * 60_000;
  const copying = p !== undefined && (percentAt(p, now) < 100 || copyErrorAt(p, now) !== undefined);
  if (copying) return iaLive ? "InstantAccess" : "Pending";
  return iaLive ? "AvailableWithInstantAccess" : "Available";
}

/** True when a snapshot can be the source of a new disk now: copy done, or instant access. */
function snapshotUsable(res: StoredResource, now: number): { ok: true } | { ok: false; why: string } {
  const view = renderCompute(res, now);
  const props = propsOf(view);
  if (str(props["provisioningState"]) !== "Succeeded") return { ok: false, why: `its provisioningState is ${str(props["provisioningState"]) ?? "unknown"}` };
  const err = obj(props["copyCompletionError"]);
  if (err) return { ok: false, why: `its background copy failed (${str(err["errorCode"]) ?? ""})` };
  const access = str(props["snapshotAccessState"]);
  if (access === "InstantAccess" || access === "AvailableWithInstantAccess") return { ok: true };
  const pct = num(props["completionPercent"]);
  if (pct !== undefined && pct < 100) return { ok: false, why: `its background copy is at ${pct}%` };
  return { ok: true };
}

function lroHeaders(ctx: Ctx, op: OperationRecord): Record<string, string> {
  return {
    "Azure-AsyncOperation": computeOperationUrl(ctx, op, false),
    Location: computeOperationUrl(ctx, op, true),
    ...retryAfterHeader(ctx),
  };
}

function startOp(ctx: Ctx, res: StoredResource, kind: "create" | "delete", location: string, injectedCopyOk: boolean): { op: OperationRecord; copyError?: { errorCode: string; errorMessage: string; atPercent: number } } {
  const injected = ctx.state.takeOutcome(res.ref.kind, res.id, kind, (o) => injectedCopyOk || o.type !== "copyError");
  const op = ctx.state.startOperation({
    provider: "Compute",
    kind,
    subscriptionId: res.ref.subscriptionId,
    location: normLocation(location),
    primaryId: res.id,
    startedAt: ctx.now,
    endsAt: ctx.now + ctx.timing.computeOperationMs,
    effect: kind === "delete" ? { type: "delete" } : { type: "provision" },
    outcome: operationOutcome(injected),
    resources: [res],
  });
  if (injected?.type === "copyError") {
    return { op, copyError: { errorCode: injected.errorCode, errorMessage: injected.errorMessage, atPercent: injected.atPercent ?? 0 } };
  }
  return { op };
}

function sourceOf(ctx: Ctx, sourceId: string): StoredResource {
  const r = parseResourceId(sourceId);
  const res = r && (r.kind === "disk" || r.kind === "computeSnapshot") ? ctx.state.get(r) : undefined;
  if (!res) {
    throw new ArmHttpError(404, {
      code: "NotFound",
      message: `The source resource '${sourceId}' (creationData.sourceResourceId) was not found.`,
      target: "creationData.sourceResourceId",
    });
  }
  return res;
}

/** Whether a new snapshot's background copy is slow enough that ARM reports completionPercent. */
function slowCopy(ctx: Ctx, createOption: string, incremental: boolean, source: StoredResource | undefined): boolean {
  switch (ctx.behaviour.copyProgress) {
    case "never":
      return false;
    case "allIncremental":
      return incremental || createOption === "copystart";
    case "slowSources": {
      if (createOption === "copystart") return true;
      if (!incremental || !source) return false;
      if (source.ref.kind === "disk") return SLOW_SKUS.has(skuName(source).toLowerCase());
      return source.progress !== undefined;
    }
  }
}

function computeBody(kind: ComputeKind, id: string, name: string, location: string, tags: JsonObject | undefined, sku: JsonObject, zones: unknown, props: JsonObject): JsonObject {
  const body: JsonObject = { id, name, type: KIND_INFO[kind].armType, location, sku, properties: props };
  if (tags !== undefined) body["tags"] = clone(tags);
  if (Array.isArray(zones)) body["zones"] = zones.filter((z): z is string => typeof z === "string");
  return body;
}

function commonProps(now: number, sizeGB: number): JsonObject {
  return {
    diskSizeGB: sizeGB,
    diskSizeBytes: sizeGB * 1024 * 1024 * 1024,
    uniqueId: randomUUID(),
    timeCreated: new Date(now).toISOString(),
    encryption: { type: "EncryptionAtRestWithPlatformKey" },
    networkAccessPolicy: "AllowAll",
    publicNetworkAccess: "Enabled",
    diskState: "Unattached",
  };
}

// ---- shared PUT/PATCH/DELETE/GET/list ----

function getOne(ctx: Ctx, kind: ComputeKind): EmuResponse {
  const r = ref(ctx, kind);
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  return json(200, renderCompute(res, ctx.now));
}

function listAll(ctx: Ctx, kind: ComputeKind): EmuResponse {
  const rg = ctx.params["rg"];
  if (rg !== undefined) requireRg(ctx);
  else ctx.state.requireSubscription(param(ctx, "sub"), ctx.behaviour.autoCreateResourceGroups);
  return page(ctx, ctx.state.list(kind, param(ctx, "sub"), rg).map((r) => renderCompute(r, ctx.now)));
}

/** PUT on an existing disk/snapshot: tags and mutable properties, synchronously; creation data is immutable. */
function updateExisting(ctx: Ctx, res: StoredResource, body: JsonObject): EmuResponse {
  const props = propsOf(body);
  const prev = propsOf(res.body);
  const wantCreation = obj(props["creationData"]);
  const prevCreation = obj(prev["creationData"]) ?? {};
  if (wantCreation) {
    for (const k of ["createOption", "sourceResourceId"]) {
      const a = str(wantCreation[k]);
      const b = str(prevCreation[k]);
      if (a !== undefined && b !== undefined && a.replace(/^\/+/, "").toLowerCase() !== b.replace(/^\/+/, "").toLowerCase()) {
        throw propertyChangeNotAllowed(`creationData.${k}`);
      }
    }
  }
  if (props["incremental"] !== undefined && props["incremental"] !== (prev["incremental"] ?? false)) throw propertyChangeNotAllowed("incremental");
  return applyPatch(ctx, res, body);
}

function applyPatch(ctx: Ctx, res: StoredResource, body: JsonObject): EmuResponse {
  const tags = tagsOf(body);
  const props = propsOf(body);
  const next = clone(res.body);
  if (tags !== undefined) next["tags"] = clone(tags);
  const np = obj(next["properties"]) ?? {};
  const size = num(props["diskSizeGB"]);
  if (size !== undefined) {
    const cur = num(np["diskSizeGB"]) ?? 0;
    if (size < cur) throw invalidParameter(`Disk size ${size} GB is smaller than the current ${cur} GB; shrinking is not supported.`, "diskSizeGB");
    np["diskSizeGB"] = size;
    np["diskSizeBytes"] = size * 1024 * 1024 * 1024;
  }
  for (const k of ["networkAccessPolicy", "publicNetworkAccess", "supportsHibernation", "burstingEnabled", "diskIOPSReadWrite", "diskMBpsReadWrite"]) {
    if (props[k] !== undefined) np[k] = clone(props[k]);
  }
  const sku = obj(body["sku"]);
  if (sku && typeof sku["name"] === "string") next["sku"] = skuOf(sku["name"]);
  next["properties"] = np;
  res.body = next;
  return json(200, renderCompute(res, ctx.now), {});
}

function patchOne(ctx: Ctx, kind: ComputeKind): EmuResponse {
  const r = ref(ctx, kind);
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) throw resourceNotFound(r);
  return applyPatch(ctx, res, requireBody(ctx));
}

function deleteOne(ctx: Ctx, kind: ComputeKind): EmuResponse {
  const r = ref(ctx, kind);
  requireRg(ctx);
  const res = ctx.state.get(r);
  if (!res) return json(204);
  const busy = ctx.state.activeOperation(res);
  if (busy?.kind === "delete") return json(202, undefined, lroHeaders(ctx, busy));
  propsOf(res.body)["provisioningState"] = "Deleting";
  const { op } = startOp(ctx, res, "delete", str(res.body["location"]) ?? "", false);
  return json(202, undefined, lroHeaders(ctx, op));
}

function checkName(r: ResourceRef): void {
  if (!NAME.test(r.name)) {
    throw new ArmHttpError(400, { code: "InvalidResourceName", message: `The resource name '${r.name}' is invalid.`, target: "name" });
  }
}

// ---- disks ----

export const disksGet = (ctx: Ctx): EmuResponse => getOne(ctx, "disk");
export const disksList = (ctx: Ctx): EmuResponse => listAll(ctx, "disk");
export const disksPatch = (ctx: Ctx): EmuResponse => patchOne(ctx, "disk");
export const disksDelete = (ctx: Ctx): EmuResponse => deleteOne(ctx, "disk");

/**
 * What a disk or snapshot PUT starts with: the name, body, region and resource group checks; a PUT
 * on an existing resource is an update (answered here); otherwise the create's creationData.
 */
type CreatePrelude =
  | { kind: "updated"; response: EmuResponse }
  | { kind: "create"; r: ReturnType<typeof ref>; body: JsonObject; location: string; props: JsonObject; creation: JsonObject; opt: string };

function putPrelude(ctx: Ctx, kind: "disk" | "computeSnapshot"): CreatePrelude {
  const r = ref(ctx, kind);
  checkName(r);
  const body = requireBody(ctx);
  const location = requireLocation(body);
  requireRg(ctx, location);
  const existing = ctx.state.get(r);
  if (existing) return { kind: "updated", response: updateExisting(ctx, existing, body) };
  const props = propsOf(body);
  const creation = obj(props["creationData"]);
  const createOption = str(creation?.["createOption"]);
  if (!creation || createOption === undefined) throw invalidParameter("Required parameter 'creationData.createOption' is missing (null).", "creationData.createOption");
  return { kind: "create", r, body, location, props, creation, opt: createOption.toLowerCase() };
}

export function disksPut(ctx: Ctx): EmuResponse {
  const pre = putPrelude(ctx, "disk");
  if (pre.kind === "updated") return pre.response;
  const { r, body, location, props, creation, opt } = pre;
  const sku = str(obj(body["sku"])?.["name"]) ?? "Standard_LRS";
  let sizeGB = num(props["diskSizeGB"]);
  let source: StoredResource | undefined;
  const creationOut: JsonObject = clone(creation);
  if (opt === "copy" || opt === "restore" || opt === "copystart") {
    const sourceId = str(creation["sourceResourceId"]);
    if (sourceId === undefined) throw invalidParameter("Required parameter 'creationData.sourceResourceId' is missing (null).", "creationData.sourceResourceId");
    source = sourceOf(ctx, sourceId);
    if (opt !== "copystart" && normLocation(str(source.body["location"]) ?? "") !== normLocation(location)) {
      throw invalidParameter(`The source '${sourceId}' is in location '${str(source.body["location"]) ?? ""}', not '${location}'. A disk must be created in its source's region.`, "location");
    }
    if (source.ref.kind === "computeSnapshot") {
      const usable = snapshotUsable(source, ctx.now);
      if (!usable.ok) throw operationNotAllowed(`Cannot create a disk from snapshot '${source.id}': ${usable.why}. Wait until the snapshot's background copy completes.`, false);
    }
    const sp = propsOf(source.body);
    sizeGB = sizeGB ?? num(sp["diskSizeGB"]);
    const uid = str(sp["uniqueId"]);
    if (uid !== undefined) creationOut["sourceUniqueId"] = uid;
  } else if (opt === "empty" || opt === "upload") {
    if (sizeGB === undefined) throw invalidParameter("Required parameter 'diskSizeGB' is missing (null).", "diskSizeGB");
  }
  const out: JsonObject = { ...clone(props), ...commonProps(ctx.now, sizeGB ?? 128), creationData: creationOut, provisioningState: "Updating" };
  delete out["completionPercent"];
  if (source) {
    const sp = propsOf(source.body);
    for (const k of ["osType", "hyperVGeneration"]) if (sp[k] !== undefined && out[k] === undefined) out[k] = clone(sp[k]);
  }
  if (SLOW_SKUS.has(sku.toLowerCase()) || sku.toLowerCase().startsWith("premium")) {
    out["diskIOPSReadWrite"] = num(props["diskIOPSReadWrite"]) ?? 3000;
    out["diskMBpsReadWrite"] = num(props["diskMBpsReadWrite"]) ?? 125;
  }
  const id = formatResourceId(r);
  const res = ctx.state.upsert(r, id, computeBody("disk", id, r.name, location, tagsOf(body), skuOf(sku), body["zones"], out));
  // Copy errors are a snapshot property; a disk only hydrates.
  const { op } = startOp(ctx, res, "create", location, false);
  const hydrates =
    source?.ref.kind === "computeSnapshot" && ctx.behaviour.copyProgress !== "never" && (source.progress !== undefined || SLOW_SKUS.has(sku.toLowerCase()));
  if (hydrates) res.progress = { startedAt: op.endsAt, durationMs: ctx.timing.hydrationDurationMs };
  return json(202, renderCompute(res, ctx.now), lroHeaders(ctx, op));
}

// ---- snapshots ----

export const snapshotsGet = (ctx: Ctx): EmuResponse => getOne(ctx, "computeSnapshot");
export const snapshotsList = (ctx: Ctx): EmuResponse => listAll(ctx, "computeSnapshot");
export const snapshotsPatch = (ctx: Ctx): EmuResponse => patchOne(ctx, "computeSnapshot");
export const snapshotsDelete = (ctx: Ctx): EmuResponse => deleteOne(ctx, "computeSnapshot");

export function snapshotsPut(ctx: Ctx): EmuResponse {
  const pre = putPrelude(ctx, "computeSnapshot");
  if (pre.kind === "updated") return pre.response;
  const { r, body, location, props, creation, opt } = pre;
  const incremental = bool(props["incremental"]) ?? false;
  let sizeGB = num(props["diskSizeGB"]);
  let source: StoredResource | undefined;
  const creationOut: JsonObject = clone(creation);
  if (opt === "copy" || opt === "copystart") {
    const sourceId = str(creation["sourceResourceId"]);
    if (sourceId === undefined) throw invalidParameter("Required parameter 'creationData.sourceResourceId' is missing (null).", "creationData.sourceResourceId");
    source = sourceOf(ctx, sourceId);
    const srcLoc = normLocation(str(source.body["location"]) ?? "");
    if (opt === "copy" && srcLoc !== normLocation(location)) {
      throw invalidParameter(`The source '${sourceId}' is in location '${str(source.body["location"]) ?? ""}', not '${location}'. Use createOption CopyStart to copy a snapshot to another region.`, "location");
    }
    if (opt === "copystart" && source.ref.kind !== "computeSnapshot") {
      throw invalidParameter("CopyStart copies an existing incremental snapshot to another region; the source must be a snapshot.", "creationData.sourceResourceId");
    }
    const sp = propsOf(source.body);
    sizeGB = sizeGB ?? num(sp["diskSizeGB"]);
    const uid = str(sp["uniqueId"]);
    if (uid !== undefined) creationOut["sourceUniqueId"] = uid;
    if (source.ref.kind === "disk" && str(sp["provisioningState"]) !== "Succeeded") {
      throw operationNotAllowed(`Cannot snapshot disk '${source.id}' while its provisioningState is ${str(sp["provisioningState"]) ?? "unknown"}.`, false);
    }
  } else if (opt === "empty" || opt === "import" || opt === "upload") {
    if (sizeGB === undefined && opt !== "import") throw invalidParameter("Required parameter 'diskSizeGB' is missing (null).", "diskSizeGB");
  }
  const out: JsonObject = { ...clone(props), ...commonProps(ctx.now, sizeGB ?? 128), creationData: creationOut, provisioningState: "Updating" };
  for (const k of ["completionPercent", "snapshotAccessState", "copyCompletionError"]) delete out[k];
  out["incremental"] = incremental;
  if (source) {
    const sp = propsOf(source.body);
    for (const k of ["osType", "hyperVGeneration", "supportedCapabilities", "purchasePlan"]) if (sp[k] !== undefined && out[k] === undefined) out[k] = clone(sp[k]);
    if (incremental) {
      out["incrementalSnapshotFamilyId"] =
        source.ref.kind === "disk" ? familyId(source) : (str(sp["incrementalSnapshotFamilyId"]) ?? familyId(source));
    }
  }
  const sku = str(obj(body["sku"])?.["name"]) ?? (incremental ? "Standard_ZRS" : "Standard_LRS");
  const id = formatResourceId(r);
  const res = ctx.state.upsert(r, id, computeBody("computeSnapshot", id, r.name, location, tagsOf(body), skuOf(sku), undefined, out));
  const { op, copyError } = startOp(ctx, res, "create", location, true);
  if (slowCopy(ctx, opt, incremental, source) || copyError) {
    res.progress = { startedAt: op.endsAt, durationMs: ctx.timing.copyDurationMs, ...(copyError ? { error: copyError } : {}) };
  }
  return json(202, renderCompute(res, ctx.now), lroHeaders(ctx, op));
}

/** Stable incremental-snapshot family per source disk (ARM keys it by the disk's identity). */
function familyId(disk: StoredResource): string {
  const p = propsOf(disk.body);
  const existing = str(p["incrementalSnapshotFamilyId"]);
  if (existing) return existing;
  const fam = randomUUID();
  p["incrementalSnapshotFamilyId"] = fam;
  return fam;
}

// ---- operation status ----

/**
 * `…/DiskOperations/{id}`: the Azure-AsyncOperation document {name, status, startTime, endTime?,
 * properties.output?, error?}; with `monitor=true` (the Location URL) 202 while running, then 200
 * with the resource (or 200 empty for deletes).
 */
export function diskOperationGet(ctx: Ctx): EmuResponse {
  const state = ctx.state;
  const id = param(ctx, "opId");
  const op = state.getOperation(id);
  if (!op || op.provider !== "Compute") throw new ArmHttpError(404, { code: "NotFound", message: `Operation '${id}' was not found.` });
  const monitor = (ctx.req.query.get("monitor") ?? "").toLowerCase() === "true";
  const res = state.getById(op.primaryId);
  const status = !op.settled ? "InProgress" : op.outcome.type === "succeeded" ? "Succeeded" : op.outcome.type === "failed" ? "Failed" : "Canceled";
  if (monitor) {
    if (!op.settled) return json(202, undefined, { Location: computeOperationUrl(ctx, op, true), ...retryAfterHeader(ctx) });
    if (op.outcome.type === "failed") return json(400, { error: errorToJson(op.outcome.error) });
    if (op.outcome.type === "canceled") return json(409, { error: { code: "Canceled", message: "The operation was canceled." } });
    return op.kind === "delete" || !res ? json(200) : json(200, renderCompute(res, ctx.now));
  }
  const body: JsonObject = { name: op.id, status, startTime: new Date(op.startedAt).toISOString() };
  if (op.settled) body["endTime"] = new Date(op.endsAt).toISOString();
  if (op.settled && op.outcome.type === "failed") body["error"] = errorToJson(op.outcome.error);
  if (op.settled && op.outcome.type === "succeeded" && op.kind !== "delete" && res) {
    body["properties"] = { output: renderCompute(res, ctx.now) };
  }
  return json(200, body, op.settled ? {} : retryAfterHeader(ctx));
}

export function isCompute(kind: string): kind is ComputeKind {
  return kind === "disk" || kind === "computeSnapshot";
}
