// The project's own CSI driver for tests and the demo: `disk.csi.azure.com` with the Identity and
// Controller services, backed by ARM (the emulator) through the real @azure/arm-compute client, as
// the real azuredisk driver is. Volume handles are ARM disk ids, snapshot handles ARM snapshot ids,
// snapshots are incremental. What `ready_to_use` means is switchable at runtime (see logic.ts).
// Everything the driver does not advertise answers UNIMPLEMENTED (grpc-js does that for handlers
// that are absent).

import { ComputeManagementClient, type Disk, type Snapshot } from "@azure/arm-compute";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { isRestError } from "@azure/core-rest-pipeline";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { existsSync, rmSync } from "node:fs";
import {
  armName,
  DRIVER_NAME,
  GiB,
  paginate,
  sameArmId,
  sizeGiB,
  snapshotReadiness,
  splitParameters,
  type SnapshotBehaviour,
} from "./logic.ts";

export interface CsiDriverOptions {
  /** `unix:///abs/path.sock` (or a bare path). */
  endpoint: string;
  /** ARM endpoint (the emulator's URL) and the CA that signs its certificate. */
  armEndpoint: string;
  armCa: string;
  /** Bearer token sent to ARM (the emulator accepts any). */
  token?: string;
  /** csi.proto, from the CSI spec module in the Go module cache (tools.env CSI_PROTO). */
  protoPath: string;
  behaviour?: SnapshotBehaviour;
  /** Defaults when a class does not say: where new disks go and which resource group ListSnapshots lists. */
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** Instant-access window asked for in `instant-access` mode unless the class sets one. */
  instantAccessMinutes?: number;
  /** How often the SDK polls an ARM long-running operation. */
  pollIntervalMs?: number;
  /**
   * csi-sanity (its resource cleanup) calls NodeGetCapabilities and NodeUnpublishVolume on every
   * volume it made, even for Controller tests. This driver has no node side; with this on it answers
   * those two (no capabilities; NOT_FOUND: nothing is ever published) so the Controller specs can run.
   * Off for the sidecars, which never see a Node service.
   */
  sanityNodeStub?: boolean;
  vendorVersion?: string;
}

export interface CsiCall {
  method: string;
  /** The CSI request name or id the call was about. */
  subject: string;
  code: keyof typeof grpc.status | "OK";
  readyToUse?: boolean;
  message?: string;
  at: number;
}

export interface RunningCsiDriver {
  endpoint: string;
  behaviour(): SnapshotBehaviour;
  setBehaviour(b: SnapshotBehaviour): void;
  /** Every gRPC call answered, oldest first (tests assert re-calls, e.g. CreateSnapshot while copying). */
  calls(): CsiCall[];
  clearCalls(): void;
  stop(): Promise<void>;
}

const SNAPSHOT_PARAMS = ["resourceGroup", "subscriptionID", "incremental", "instantAccessDurationMinutes", "tags"] as const;
const VOLUME_PARAMS = ["resourceGroup", "subscriptionID", "location", "skuName", "tags"] as const;
const SINGLE_NODE_MODES = new Set(["SINGLE_NODE_WRITER", "SINGLE_NODE_READER_ONLY", "SINGLE_NODE_SINGLE_WRITER", "SINGLE_NODE_MULTI_WRITER"]);

// ---- wire types (proto-loader with keepCase, enums as strings, longs as numbers) ----

interface Timestamp {
  seconds: number;
  nanos: number;
}
interface CsiSnapshot {
  size_bytes: number;
  snapshot_id: string;
  source_volume_id: string;
  creation_time: Timestamp;
  ready_to_use: boolean;
}
interface VolumeCapability {
  mount?: object;
  block?: object;
  access_mode?: { mode?: string };
}
interface ContentSource {
  snapshot?: { snapshot_id?: string };
  volume?: { volume_id?: string };
}
interface CreateVolumeRequest {
  name: string;
  capacity_range?: { required_bytes?: number; limit_bytes?: number } | null;
  volume_capabilities: VolumeCapability[];
  parameters: Record<string, string>;
  volume_content_source?: ContentSource | null;
}
interface CreateSnapshotRequest {
  source_volume_id: string;
  name: string;
  parameters: Record<string, string>;
}
interface ListSnapshotsRequest {
  max_entries: number;
  starting_token: string;
  source_volume_id: string;
  snapshot_id: string;
}

class CsiError extends Error {
  readonly code: grpc.status;
  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}
const fail = (code: grpc.status, message: string): never => {
  throw new CsiError(code, message);
};

// ---- ARM ids (the real driver's handles) ----

interface ArmRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}
const ID = /^\/?subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/(disks|snapshots)\/([^/]+)$/i;

function parseArmId(id: string, kind: "disks" | "snapshots"): ArmRef | undefined {
  const m = ID.exec(id);
  if (!m || m[3]?.toLowerCase() !== kind) return undefined;
  return { subscriptionId: m[1] ?? "", resourceGroup: m[2] ?? "", name: m[4] ?? "" };
}
const formatId = (r: ArmRef, kind: "disks" | "snapshots"): string =>
  `/subscriptions/${r.subscriptionId}/resourceGroups/${r.resourceGroup}/providers/Microsoft.Compute/${kind}/${r.name}`;

function armStatus(e: unknown): { status: number; code: string; message: string } | undefined {
  if (!isRestError(e)) return undefined;
  return { status: e.statusCode ?? 0, code: e.code ?? "", message: e.message };
}

/** ARM error → gRPC: 404 NOT_FOUND, 400 INVALID_ARGUMENT, 409 (e.g. a snapshot still copying) and 429/5xx UNAVAILABLE (retry). */
function toCsiError(e: unknown, what: string): CsiError {
  if (e instanceof CsiError) return e;
  const a = armStatus(e);
  if (!a) return new CsiError(grpc.status.INTERNAL, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  const msg = `${what}: ARM ${a.status} ${a.code}: ${a.message}`;
  if (a.status === 404) return new CsiError(grpc.status.NOT_FOUND, msg);
  if (a.status === 400) return new CsiError(grpc.status.INVALID_ARGUMENT, msg);
  if (a.status === 409 || a.status === 429 || a.status >= 500) return new CsiError(grpc.status.UNAVAILABLE, msg);
  return new CsiError(grpc.status.INTERNAL, msg);
}

const isNotFound = (e: unknown): boolean => armStatus(e)?.status === 404;

function timestamp(iso: Date | string | undefined): Timestamp {
  const ms = iso === undefined ? Date.now() : new Date(iso).getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function socketPath(endpoint: string): string {
  return endpoint.replace(/^unix:\/\//, "");
}

export function loadCsiProto(protoPath: string): grpc.GrpcObject {
  const def = protoLoader.loadSync(protoPath, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

function service(pkg: grpc.GrpcObject, name: string): grpc.ServiceDefinition {
  const csi = (pkg["csi"] as grpc.GrpcObject)["v1"] as grpc.GrpcObject;
  const ctor = csi[name] as grpc.ServiceClientConstructor;
  return ctor.service;
}

export async function startCsiDriver(opts: CsiDriverOptions): Promise<RunningCsiDriver> {
  let behaviour: SnapshotBehaviour = opts.behaviour ?? "wait-for-copy";
  const pollMs = opts.pollIntervalMs ?? 100;
  const log: CsiCall[] = [];
  const credential: TokenCredential = {
    getToken: async (): Promise<AccessToken> => ({ token: opts.token ?? "aksnap-test", expiresOnTimestamp: Date.now() + 3600_000 }),
  };
  const clients = new Map<string, ComputeManagementClient>();
  const compute = (sub: string): ComputeManagementClient => {
    let c = clients.get(sub);
    if (!c) {
      c = new ComputeManagementClient(credential, sub, { endpoint: opts.armEndpoint, tlsOptions: { ca: opts.armCa } });
      clients.set(sub, c);
    }
    return c;
  };
  // One ARM create per resource at a time: csi-snapshotter and csi-provisioner retry while a
  // first call is still waiting on its long-running operation.
  const inflight = new Map<string, Promise<unknown>>();
  const once = async <T>(key: string, f: () => Promise<T>): Promise<T> => {
    const k = key.toLowerCase();
    const running = inflight.get(k);
    if (running) await running.catch(() => undefined);
    const p = f();
    inflight.set(k, p);
    try {
      return await p;
    } finally {
      if (inflight.get(k) === p) inflight.delete(k);
    }
  };

  async function getSnapshot(r: ArmRef): Promise<Snapshot | undefined> {
    try {
      return await compute(r.subscriptionId).snapshots.get(r.resourceGroup, r.name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw toCsiError(e, `GET snapshot ${r.name}`);
    }
  }
  async function getDisk(r: ArmRef): Promise<Disk | undefined> {
    try {
      return await compute(r.subscriptionId).disks.get(r.resourceGroup, r.name);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw toCsiError(e, `GET disk ${r.name}`);
    }
  }

  function csiSnapshot(s: Snapshot, sourceVolumeId: string): { snap: CsiSnapshot; failed?: string } {
    const r = snapshotReadiness(behaviour, {
      provisioningState: s.provisioningState,
      completionPercent: s.completionPercent,
      snapshotAccessState: s.snapshotAccessState,
      copyCompletionError: s.copyCompletionError,
    });
    const snap: CsiSnapshot = {
      snapshot_id: s.id ?? "",
      source_volume_id: sourceVolumeId,
      size_bytes: (s.diskSizeGB ?? 0) * GiB,
      creation_time: timestamp(s.timeCreated),
      ready_to_use: "ready" in r && r.ready,
    };
    return "failed" in r ? { snap, failed: r.failed } : { snap };
  }

  // ---- Controller ----

  async function createSnapshot(req: CreateSnapshotRequest): Promise<{ snapshot: CsiSnapshot }> {
    if (!req.name) fail(grpc.status.INVALID_ARGUMENT, "name is required");
    if (!req.source_volume_id) fail(grpc.status.INVALID_ARGUMENT, "source_volume_id is required");
    const params = splitParameters(req.parameters ?? {}, SNAPSHOT_PARAMS);
    if ("error" in params) return fail(grpc.status.INVALID_ARGUMENT, params.error);
    const disk = parseArmId(req.source_volume_id, "disks");
    if (!disk) return fail(grpc.status.NOT_FOUND, `source volume ${req.source_volume_id} is not an Azure disk id`);
    const target: ArmRef = {
      subscriptionId: params.known["subscriptionID"] ?? disk.subscriptionId,
      resourceGroup: params.known["resourceGroup"] ?? disk.resourceGroup,
      name: armName(req.name),
    };
    const incremental = (params.known["incremental"] ?? "true").toLowerCase() !== "false";
    const iaParam = params.known["instantAccessDurationMinutes"];
    const ia = iaParam !== undefined ? Number(iaParam) : behaviour === "instant-access" ? (opts.instantAccessMinutes ?? 60) : undefined;
    if (ia !== undefined && !(Number.isInteger(ia) && ia > 0)) fail(grpc.status.INVALID_ARGUMENT, `instantAccessDurationMinutes ${iaParam ?? ""} is not a positive integer`);

    const s = await once(formatId(target, "snapshots"), async () => {
      const existing = await getSnapshot(target);
      if (existing) {
        if (!sameArmId(existing.creationData?.sourceResourceId, req.source_volume_id)) {
          fail(grpc.status.ALREADY_EXISTS, `snapshot ${req.name} exists with source ${existing.creationData?.sourceResourceId ?? "?"}, not ${req.source_volume_id}`);
        }
        return existing.provisioningState === "Succeeded" || existing.provisioningState === "Failed" ? existing : await settle(target);
      }
      const source = await getDisk(disk);
      if (!source) return fail(grpc.status.NOT_FOUND, `source volume ${req.source_volume_id} not found`);
      try {
        await compute(target.subscriptionId).snapshots.createOrUpdate(
          target.resourceGroup,
          target.name,
          {
            location: source.location,
            tags: { ...params.tags, ...tagsParam(params.known["tags"]) },
            incremental,
            creationData: { createOption: "Copy", sourceResourceId: req.source_volume_id, ...(ia !== undefined ? { instantAccessDurationMinutes: ia } : {}) },
          },
          { updateIntervalInMs: pollMs },
        );
      } catch (e) {
        throw toCsiError(e, `PUT snapshot ${target.name}`);
      }
      // The LRO's final body is the state at provisioning; GET for the readiness fields as of now.
      return (await getSnapshot(target)) ?? fail(grpc.status.INTERNAL, `snapshot ${target.name} vanished after creation`);
    });
    const { snap, failed } = csiSnapshot(s, req.source_volume_id);
    if (failed) fail(grpc.status.INTERNAL, `${target.name}: ${failed}`);
    return { snapshot: snap };
  }

  /**
   * Waits a while for a snapshot someone else is creating (e.g. this driver before a restart) to
   * leave provisioningState Updating; still provisioning after that is answered as not ready.
   */
  async function settle(r: ArmRef, maxMs = 30_000): Promise<Snapshot> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const s = await getSnapshot(r);
      if (!s) return fail(grpc.status.ABORTED, `snapshot ${r.name} disappeared while being created`);
      const ps = s.provisioningState;
      if (ps === "Succeeded" || ps === "Failed" || ps === "Canceled" || Date.now() > deadline) return s;
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }

  async function deleteSnapshot(req: { snapshot_id: string }): Promise<object> {
    if (!req.snapshot_id) fail(grpc.status.INVALID_ARGUMENT, "snapshot_id is required");
    const r = parseArmId(req.snapshot_id, "snapshots");
    // CSI: deleting what does not exist (or never could) succeeds.
    if (!r) return {};
    try {
      await compute(r.subscriptionId).snapshots.delete(r.resourceGroup, r.name, { updateIntervalInMs: pollMs });
    } catch (e) {
      if (!isNotFound(e)) throw toCsiError(e, `DELETE snapshot ${r.name}`);
    }
    return {};
  }

  async function listSnapshots(req: ListSnapshotsRequest): Promise<{ entries: Array<{ snapshot: CsiSnapshot }>; next_token: string }> {
    let found: Snapshot[];
    if (req.snapshot_id) {
      const r = parseArmId(req.snapshot_id, "snapshots");
      const s = r ? await getSnapshot(r) : undefined;
      found = s ? [s] : [];
    } else {
      // The driver's own resource group (the real driver lists its configured one), plus the source
      // disk's when filtering by it.
      const scopes: ArmRef[] = [{ subscriptionId: opts.subscriptionId, resourceGroup: opts.resourceGroup, name: "" }];
      const src = req.source_volume_id ? parseArmId(req.source_volume_id, "disks") : undefined;
      if (src && !(sameArmId(src.subscriptionId, opts.subscriptionId) && sameArmId(src.resourceGroup, opts.resourceGroup))) scopes.push(src);
      found = [];
      for (const scope of scopes) {
        try {
          for await (const s of compute(scope.subscriptionId).snapshots.listByResourceGroup(scope.resourceGroup)) found.push(s);
        } catch (e) {
          if (!isNotFound(e)) throw toCsiError(e, `LIST snapshots in ${scope.resourceGroup}`);
        }
      }
    }
    if (req.source_volume_id) found = found.filter((s) => sameArmId(s.creationData?.sourceResourceId, req.source_volume_id));
    // Only snapshots of disks: that is what a CSI snapshot of this driver is.
    found = found.filter((s) => parseArmId(s.creationData?.sourceResourceId ?? "", "disks") !== undefined);
    found.sort((a, b) => ((a.id ?? "").toLowerCase() < (b.id ?? "").toLowerCase() ? -1 : 1));
    const page = paginate(found, req.max_entries ?? 0, req.starting_token ?? "");
    if ("error" in page) {
      return page.error === "invalid-max"
        ? fail(grpc.status.INVALID_ARGUMENT, "max_entries must not be negative")
        : fail(grpc.status.ABORTED, `invalid starting_token ${req.starting_token}`);
    }
    return {
      entries: page.entries.map((s) => ({ snapshot: csiSnapshot(s, s.creationData?.sourceResourceId ?? "").snap })),
      next_token: page.nextToken,
    };
  }

  function checkCapabilities(caps: VolumeCapability[] | undefined): string | undefined {
    if (!caps || caps.length === 0) return fail(grpc.status.INVALID_ARGUMENT, "volume_capabilities are required");
    for (const c of caps) {
      if (!c.mount && !c.block) return "an access type (mount or block) is required";
      const mode = c.access_mode?.mode ?? "UNKNOWN";
      if (!SINGLE_NODE_MODES.has(mode)) return `access mode ${mode} is not supported by Azure disks without maxShares`;
    }
    return undefined;
  }

  async function createVolume(req: CreateVolumeRequest): Promise<object> {
    if (!req.name) fail(grpc.status.INVALID_ARGUMENT, "name is required");
    const bad = checkCapabilities(req.volume_capabilities);
    if (bad) fail(grpc.status.INVALID_ARGUMENT, bad);
    const params = splitParameters(req.parameters ?? {}, VOLUME_PARAMS);
    if ("error" in params) return fail(grpc.status.INVALID_ARGUMENT, params.error);
    if (req.volume_content_source?.volume) fail(grpc.status.INVALID_ARGUMENT, "volume cloning is not supported (CLONE_VOLUME is not advertised)");
    const snapshotId = req.volume_content_source?.snapshot?.snapshot_id;
    let source: Snapshot | undefined;
    if (snapshotId !== undefined) {
      const r = parseArmId(snapshotId, "snapshots");
      source = r ? await getSnapshot(r) : undefined;
      if (!source) return fail(grpc.status.NOT_FOUND, `source snapshot ${snapshotId} not found`);
    }
    const size = sizeGiB(req.capacity_range?.required_bytes ?? 0, req.capacity_range?.limit_bytes ?? 0, source?.diskSizeGB ?? 1);
    if ("error" in size) return fail(grpc.status.OUT_OF_RANGE, size.error);
    const target: ArmRef = {
      subscriptionId: params.known["subscriptionID"] ?? opts.subscriptionId,
      resourceGroup: params.known["resourceGroup"] ?? opts.resourceGroup,
      name: armName(req.name),
    };
    const d = await once(formatId(target, "disks"), async () => {
      const existing = await getDisk(target);
      if (existing) {
        if (existing.diskSizeGB !== size.gib) fail(grpc.status.ALREADY_EXISTS, `volume ${req.name} exists with ${existing.diskSizeGB ?? "?"} GiB, not ${size.gib} GiB`);
        const was = existing.creationData?.sourceResourceId;
        if ((snapshotId ?? "") !== "" ? !sameArmId(was, snapshotId) : was !== undefined) {
          fail(grpc.status.ALREADY_EXISTS, `volume ${req.name} exists with another content source (${was ?? "none"})`);
        }
        return existing;
      }
      try {
        return await compute(target.subscriptionId).disks.createOrUpdate(
          target.resourceGroup,
          target.name,
          {
            location: params.known["location"] ?? source?.location ?? opts.location,
            sku: { name: (params.known["skuName"] ?? "StandardSSD_LRS") as NonNullable<Disk["sku"]>["name"] },
            tags: { ...params.tags, ...tagsParam(params.known["tags"]) },
            diskSizeGB: size.gib,
            creationData: snapshotId !== undefined ? { createOption: "Copy", sourceResourceId: snapshotId } : { createOption: "Empty" },
          },
          { updateIntervalInMs: pollMs },
        );
      } catch (e) {
        throw toCsiError(e, `PUT disk ${target.name}`);
      }
    });
    return {
      volume: {
        volume_id: d.id ?? formatId(target, "disks"),
        capacity_bytes: (d.diskSizeGB ?? size.gib) * GiB,
        volume_context: { skuName: d.sku?.name ?? "" },
        content_source: snapshotId !== undefined ? { snapshot: { snapshot_id: snapshotId } } : null,
      },
    };
  }

  async function deleteVolume(req: { volume_id: string }): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    const r = parseArmId(req.volume_id, "disks");
    if (!r) return {};
    try {
      await compute(r.subscriptionId).disks.delete(r.resourceGroup, r.name, { updateIntervalInMs: pollMs });
    } catch (e) {
      if (!isNotFound(e)) throw toCsiError(e, `DELETE disk ${r.name}`);
    }
    return {};
  }

  // Not advertised as a capability, but REQUIRED of every Controller service by the CSI spec (and
  // exercised by csi-sanity unconditionally).
  async function validateVolumeCapabilities(req: { volume_id: string; volume_capabilities: VolumeCapability[] }): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    const bad = checkCapabilities(req.volume_capabilities);
    const r = parseArmId(req.volume_id, "disks");
    if (!r || !(await getDisk(r))) return fail(grpc.status.NOT_FOUND, `volume ${req.volume_id} not found`);
    return bad ? { message: bad } : { confirmed: { volume_capabilities: req.volume_capabilities } };
  }

  // ---- gRPC plumbing ----

  type Handler<Req> = (req: Req) => Promise<object>;
  const subjectOf = (req: unknown): string => {
    const r = (req ?? {}) as Record<string, unknown>;
    for (const k of ["name", "snapshot_id", "volume_id", "source_volume_id"]) if (typeof r[k] === "string" && r[k] !== "") return r[k];
    return "";
  };
  function unary<Req>(method: string, h: Handler<Req>): grpc.handleUnaryCall<Req, object> {
    return (call, callback) => {
      const subject = subjectOf(call.request);
      h(call.request).then(
        (res) => {
          const snap = (res as { snapshot?: { ready_to_use?: boolean } }).snapshot;
          log.push({ method, subject, code: "OK", ...(snap ? { readyToUse: snap.ready_to_use === true } : {}), at: Date.now() });
          callback(null, res);
        },
        (e: unknown) => {
          const err = toCsiError(e, method);
          log.push({ method, subject, code: grpc.status[err.code] as keyof typeof grpc.status, message: err.message, at: Date.now() });
          callback({ code: err.code, details: err.message });
        },
      );
    };
  }

  const pkg = loadCsiProto(opts.protoPath);
  const server = new grpc.Server();
  server.addService(service(pkg, "Identity"), {
    GetPluginInfo: unary("GetPluginInfo", async () => ({ name: DRIVER_NAME, vendor_version: opts.vendorVersion ?? "aksnap-test" })),
    GetPluginCapabilities: unary("GetPluginCapabilities", async () => ({ capabilities: [{ service: { type: "CONTROLLER_SERVICE" } }] })),
    Probe: unary("Probe", async () => ({ ready: { value: true } })),
  });
  const rpc = (type: string): object => ({ rpc: { type } });
  server.addService(service(pkg, "Controller"), {
    ControllerGetCapabilities: unary("ControllerGetCapabilities", async () => ({
      capabilities: [rpc("CREATE_DELETE_VOLUME"), rpc("CREATE_DELETE_SNAPSHOT"), rpc("LIST_SNAPSHOTS")],
    })),
    CreateVolume: unary("CreateVolume", createVolume),
    DeleteVolume: unary("DeleteVolume", deleteVolume),
    ValidateVolumeCapabilities: unary("ValidateVolumeCapabilities", validateVolumeCapabilities),
    CreateSnapshot: unary("CreateSnapshot", createSnapshot),
    DeleteSnapshot: unary("DeleteSnapshot", deleteSnapshot),
    ListSnapshots: unary("ListSnapshots", listSnapshots),
  });
  if (opts.sanityNodeStub) {
    server.addService(service(pkg, "Node"), {
      NodeGetCapabilities: unary("NodeGetCapabilities", async () => ({ capabilities: [] })),
      NodeUnpublishVolume: unary("NodeUnpublishVolume", async (req: { volume_id: string }) =>
        fail(grpc.status.NOT_FOUND, `volume ${req.volume_id} is not published: this driver has no node side`),
      ),
    });
  }

  const path = socketPath(opts.endpoint);
  if (existsSync(path)) rmSync(path);
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));

  return {
    endpoint: `unix://${path}`,
    behaviour: () => behaviour,
    setBehaviour: (b) => {
      behaviour = b;
    },
    calls: () => log.slice(),
    clearCalls: () => {
      log.length = 0;
    },
    stop: async () => {
      await new Promise<void>((res) => server.tryShutdown(() => res()));
      if (existsSync(path)) rmSync(path);
    },
  };
}

/** The real driver's `tags` parameter: `key1=value1,key2=value2`. */
function tagsParam(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v) return out;
  for (const kv of v.split(",")) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
  }
  return out;
}
