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
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import https from "node:https";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DataStore, type CopyHold, type CopyState } from "./data.ts";
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
  vendorVersion?: string;
  /**
   * Where disk and snapshot content lives (a directory per ARM id, see data.ts). Default: a new temp
   * dir, removed on stop.
   */
  dataRoot?: string;
  /** Rate of the background copies (snapshots, disks from snapshots); default 8 MiB/s. */
  copyBytesPerSecond?: number;
  /** NodeGetInfo's node_id: the kubelet's node name. Default: the host name. */
  nodeId?: string;
  /**
   * A kubelet's plugin registration dir (`<root-dir>/plugins_registry`): the driver registers its
   * Node service there itself (GetInfo, NotifyRegistrationStatus), as node-driver-registrar would.
   */
  registrationDir?: string;
  /** pluginregistration api.proto (k8s.io/kubelet in the Go module cache); needed with registrationDir. */
  registrationProtoPath?: string;
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
  /** The background copies (snapshots, disks from snapshots) and their progress. */
  copies(): CopyState[];
  copyHold(): CopyHold | null;
  /** Holds every copy of a kind at a percentage (null: release). */
  setCopyHold(h: CopyHold | null): void;
  /** Where a disk's or snapshot's content lives. */
  dataPath(armId: string): string;
  /** What the kubelet answered to the plugin registration (undefined before it called). */
  registration(): { registered: boolean; error: string } | undefined;
  clearCalls(): void;
  stop(): Promise<void>;
}

const SNAPSHOT_PARAMS = ["resourceGroup", "subscriptionID", "incremental", "instantAccessDurationMinutes", "tags"] as const;
const VOLUME_PARAMS = ["resourceGroup", "subscriptionID", "location", "skuName", "tags"] as const;
const execFileP = promisify(execFile);
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

  // ---- content (data.ts): progress of a copy becomes the ARM resource's completionPercent ----

  const ownData = opts.dataRoot === undefined;
  const dataRoot = opts.dataRoot ?? mkdtempSync(join(tmpdir(), "aksnap-csi-data-"));
  mkdirSync(dataRoot, { recursive: true });
  const data = new DataStore({
    root: dataRoot,
    ...(opts.copyBytesPerSecond !== undefined ? { bytesPerSecond: opts.copyBytesPerSecond } : {}),
    onProgress: async (c) => {
      // An empty source copies in no time: the emulator's own copy timing stands in for it.
      if (c.totalBytes === 0) return;
      // A snapshot deleted mid-copy has nothing to update; anything else is worth a line in the log.
      await setArmCompletion(c.id, c.percent).catch((e: unknown) => {
        process.stderr.write(`csi-driver: completionPercent ${c.percent} for ${c.id} not forwarded: ${String(e)}\n`);
      });
    },
  });
  /** The emulator's control API (same server as ARM): hold completionPercent where the real copy is. */
  function setArmCompletion(id: string, percent: number): Promise<void> {
    const url = new URL(`/_emulator/completion${id.startsWith("/") ? "" : "/"}${id}`, opts.armEndpoint);
    const body = JSON.stringify({ percent, frozen: true });
    return new Promise((res, rej) => {
      const req = https.request(url, { method: "PUT", ca: opts.armCa, headers: { "content-type": "application/json" }, timeout: 10_000 }, (r) => {
        r.resume();
        r.on("end", () => ((r.statusCode ?? 0) < 300 ? res() : rej(new Error(`HTTP ${r.statusCode ?? 0} for ${id}`))));
      });
      req.on("error", rej);
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end(body);
    });
  }

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
      // The content copies in the background; back once 0 % is in ARM, so the GET below is truthful.
      await data.startCopy(req.source_volume_id, formatId(target, "snapshots"));
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
    await data.remove(formatId(r, "snapshots"));
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
    const diskId = formatId(target, "disks");
    const d = await once(diskId, async () => {
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
    if (snapshotId !== undefined && source?.id) {
      // Hydration: the snapshot's content (once its own copy is complete) copies into the new disk.
      void data.startCopy(source.id, d.id ?? diskId, data.settled(source.id));
    } else await data.ensure(d.id ?? diskId);
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
    await data.remove(formatId(r, "disks"));
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

  // ---- Node: the disk's directory bind-mounted at the staging path, the staging path at the target ----

  interface NodeStageRequest {
    volume_id: string;
    staging_target_path: string;
    volume_capability?: VolumeCapability | null;
  }
  interface NodePublishRequest extends NodeStageRequest {
    target_path: string;
    readonly: boolean;
  }
  const isMounted = (path: string): boolean =>
    readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((l) => l.split(" ")[4]?.replace(/\\040/g, " ") === path);
  const mount = async (...args: string[]): Promise<void> => {
    await execFileP("mount", args).catch((e: unknown) => fail(grpc.status.INTERNAL, `mount ${args.join(" ")}: ${String(e)}`));
  };
  const umount = async (path: string): Promise<void> => {
    if (!isMounted(path)) return;
    await execFileP("umount", [path]).catch((e: unknown) => fail(grpc.status.INTERNAL, `umount ${path}: ${String(e)}`));
  };
  function checkNodeCapability(c: VolumeCapability | null | undefined): void {
    if (!c) return fail(grpc.status.INVALID_ARGUMENT, "volume_capability is required");
    if (c.block) return fail(grpc.status.INVALID_ARGUMENT, "block volumes are not supported by this driver's node service");
    if (!c.mount) return fail(grpc.status.INVALID_ARGUMENT, "an access type (mount) is required");
    const mode = c.access_mode?.mode ?? "UNKNOWN";
    if (!SINGLE_NODE_MODES.has(mode)) fail(grpc.status.INVALID_ARGUMENT, `access mode ${mode} is not supported by Azure disks without maxShares`);
  }
  async function diskRef(volumeId: string): Promise<ArmRef> {
    const r = parseArmId(volumeId, "disks");
    if (!r || !(await getDisk(r))) return fail(grpc.status.NOT_FOUND, `volume ${volumeId} not found`);
    return r;
  }

  async function nodeStage(req: NodeStageRequest): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    if (!req.staging_target_path) fail(grpc.status.INVALID_ARGUMENT, "staging_target_path is required");
    checkNodeCapability(req.volume_capability);
    const r = await diskRef(req.volume_id);
    const id = formatId(r, "disks");
    // A disk still hydrating is served whole (Azure reads through to the source): wait for the copy.
    const copying = data.copy(id);
    if (copying && !copying.done) {
      const waited = await Promise.race([data.settled(id).then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 30_000))]);
      if (!waited) fail(grpc.status.UNAVAILABLE, `volume ${req.volume_id} is still hydrating (${data.copy(id)?.percent ?? "?"} %)`);
    }
    const src = await data.ensure(id);
    mkdirSync(req.staging_target_path, { recursive: true });
    if (!isMounted(req.staging_target_path)) await mount("--bind", src, req.staging_target_path);
    return {};
  }
  async function nodeUnstage(req: { volume_id: string; staging_target_path: string }): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    if (!req.staging_target_path) fail(grpc.status.INVALID_ARGUMENT, "staging_target_path is required");
    await umount(req.staging_target_path);
    return {};
  }
  async function nodePublish(req: NodePublishRequest): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    if (!req.staging_target_path) fail(grpc.status.INVALID_ARGUMENT, "staging_target_path is required (STAGE_UNSTAGE_VOLUME)");
    if (!req.target_path) fail(grpc.status.INVALID_ARGUMENT, "target_path is required");
    checkNodeCapability(req.volume_capability);
    await diskRef(req.volume_id);
    if (!isMounted(req.staging_target_path)) fail(grpc.status.FAILED_PRECONDITION, `volume ${req.volume_id} is not staged at ${req.staging_target_path}`);
    mkdirSync(req.target_path, { recursive: true });
    if (isMounted(req.target_path)) return {};
    await mount("--bind", req.staging_target_path, req.target_path);
    if (req.readonly) await mount("-o", "remount,bind,ro", req.target_path);
    return {};
  }
  async function nodeUnpublish(req: { volume_id: string; target_path: string }): Promise<object> {
    if (!req.volume_id) fail(grpc.status.INVALID_ARGUMENT, "volume_id is required");
    if (!req.target_path) fail(grpc.status.INVALID_ARGUMENT, "target_path is required");
    await umount(req.target_path);
    // The SP removes the target it created (CSI spec); the CO removes its parent.
    await rmdir(req.target_path).catch(() => undefined);
    return {};
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
  server.addService(service(pkg, "Node"), {
    NodeGetInfo: unary("NodeGetInfo", async () => ({ node_id: opts.nodeId ?? hostname(), max_volumes_per_node: 0 })),
    NodeGetCapabilities: unary("NodeGetCapabilities", async () => ({ capabilities: [rpc("STAGE_UNSTAGE_VOLUME")] })),
    NodeStageVolume: unary("NodeStageVolume", nodeStage),
    NodeUnstageVolume: unary("NodeUnstageVolume", nodeUnstage),
    NodePublishVolume: unary("NodePublishVolume", nodePublish),
    NodeUnpublishVolume: unary("NodeUnpublishVolume", nodeUnpublish),
  });

  const path = socketPath(opts.endpoint);
  if (existsSync(path)) rmSync(path);
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));

  // Plugin registration with a kubelet: it watches the dir, calls GetInfo, then tells the outcome.
  let registration: { registered: boolean; error: string } | undefined;
  let regServer: grpc.Server | undefined;
  let regPath: string | undefined;
  if (opts.registrationDir) {
    if (!opts.registrationProtoPath) throw new Error("registrationDir needs registrationProtoPath (k8s.io/kubelet pluginregistration api.proto)");
    const def = protoLoader.loadSync(opts.registrationProtoPath, { keepCase: true, defaults: true });
    const reg = (grpc.loadPackageDefinition(def)["pluginregistration"] as grpc.GrpcObject)["Registration"] as grpc.ServiceClientConstructor;
    regServer = new grpc.Server();
    regServer.addService(reg.service, {
      GetInfo: unary("Registration.GetInfo", async () => ({ type: "CSIPlugin", name: DRIVER_NAME, endpoint: path, supported_versions: ["1.0.0"] })),
      NotifyRegistrationStatus: unary("Registration.NotifyRegistrationStatus", async (req: { plugin_registered: boolean; error: string }) => {
        registration = { registered: req.plugin_registered, error: req.error };
        return {};
      }),
    });
    mkdirSync(opts.registrationDir, { recursive: true });
    regPath = join(opts.registrationDir, `${DRIVER_NAME}-reg.sock`);
    if (existsSync(regPath)) rmSync(regPath);
    const rs = regServer;
    await new Promise<void>((res, rej) => rs.bindAsync(`unix://${regPath ?? ""}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  }

  return {
    endpoint: `unix://${path}`,
    behaviour: () => behaviour,
    setBehaviour: (b) => {
      behaviour = b;
    },
    calls: () => log.slice(),
    copies: () => data.copies(),
    copyHold: () => data.hold(),
    setCopyHold: (h) => data.setHold(h),
    dataPath: (id) => data.path(id),
    registration: () => registration,
    clearCalls: () => {
      log.length = 0;
    },
    stop: async () => {
      // The registration socket goes first: the kubelet then deregisters the plugin.
      if (regServer) {
        const rs = regServer;
        await new Promise<void>((res) => rs.tryShutdown(() => res()));
        if (regPath && existsSync(regPath)) rmSync(regPath);
      }
      await new Promise<void>((res) => server.tryShutdown(() => res()));
      if (existsSync(path)) rmSync(path);
      await data.close();
      if (ownData) rmSync(dataRoot, { recursive: true, force: true });
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
