// The volume side of a RestoreRequest: its preflight (the namespace grant, only verified snapshots,
// the PVC names under the conflict policy) and its steps (new PVCs with a VolumeSnapshot dataSource;
// across namespaces, a pre-provisioned Retain content bound to a new VolumeSnapshot here; then the
// new disk's hydration). An existing PVC is never deleted, patched or overwritten: only Create.
import type { CallOptions } from "../../azure/deadline.ts";
import { parseDiskId } from "../../azure/ids.ts";
import type { DisksPort } from "../../azure/ports/disks.ts";
import { diskHydration } from "../../azure/provisioning.ts";
import { scopeAllowed, type AllowedScopes } from "../../config.ts";
import type { PreflightCheck, RestoreRequest, VolumeRestore, VolumeRestoreStatus } from "../../crds/restorerequest.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../kube/client.ts";
import { isKubeError } from "../../kube/errors.ts";
import { AZURE_DISK_DRIVER, contentView, volumeSnapshotView, type VolumeSnapshotView } from "../volumesnapshot/objects.ts";
import { volumeSnapshotContentType, volumeSnapshotType } from "../volumesnapshot/types.ts";
import type { PreflightVerdict } from "./preflight.ts";
import { Reasons } from "./reasons.ts";
import { ANNOTATION_RESTORE_UID, boundContentBody, boundSnapshotBody, decideName, granted, pvcBody, renamed, selectRun, tempName, usability } from "./volumes-plan.ts";

export const pvcType: ResourceType = { group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true };
export const pvType: ResourceType = { group: "", version: "v1", plural: "persistentvolumes", kind: "PersistentVolume", namespaced: false };
export const namespaceType: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };

export interface VolumeDeps {
  client: KubeClient;
  disks: Pick<DisksPort, "get">;
  allowedScopes: AllowedScopes | undefined;
  snapshotWaitExpired: (rr: RestoreRequest) => boolean;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export interface VolumePreflight {
  readonly checks: PreflightCheck[];
  readonly verdict: PreflightVerdict;
  /** The planned volumes (phase Pending, Skipped) when the verdict passed. */
  readonly plan: VolumeRestoreStatus[];
}

const sourceNamespaceOf = (rr: RestoreRequest, vol: VolumeRestore): string => vol.from.namespace ?? rr.metadata.namespace ?? "";

/** Reads only: the grant, the source snapshots and their verification, the target's PVC names. */
export async function volumePreflight(rr: RestoreRequest, vol: VolumeRestore, deps: VolumeDeps, call: CallOptions): Promise<VolumePreflight> {
  const target = rr.metadata.namespace ?? "";
  const source = sourceNamespaceOf(rr, vol);
  const checks: PreflightCheck[] = [];
  const failed = (rule: string, reason: string, message: string): VolumePreflight => {
    checks.push({ name: rule, result: "Failed", message });
    return { checks, verdict: { kind: "failed", rule, reason, message: `preflight ${rule} failed: ${message}` }, plan: [] };
  };
  if (source !== target) {
    const ns = await deps.client.tryGet(namespaceType, undefined, source, { signal: call.signal });
    if (!ns || !granted(ns.metadata.annotations, target)) {
      return failed(
        "RestoreGranted",
        Reasons.RestoreNotGranted,
        `namespace ${source} does not grant restores into ${target}: its annotation aksnap.io/restore-to-namespaces must list ${target} ` +
          `(set by someone who may edit namespace ${source})`,
      );
    }
    checks.push({ name: "RestoreGranted", result: "Passed", message: `namespace ${source} lists ${target} in aksnap.io/restore-to-namespaces` });
  }

  let selected: VolumeSnapshotView[];
  if (vol.from.volumeSnapshotName !== undefined) {
    const raw = await deps.client.tryGet(volumeSnapshotType, source, vol.from.volumeSnapshotName, { signal: call.signal });
    if (!raw) return failed("SnapshotsVerified", Reasons.SnapshotNotFound, `VolumeSnapshot ${source}/${vol.from.volumeSnapshotName} not found`);
    const vs = volumeSnapshotView(raw);
    const u = usability(vs);
    if (u.kind === "unusable") return failed("SnapshotsVerified", Reasons.SnapshotNotVerified, u.message);
    if (u.kind === "waiting") {
      if (deps.snapshotWaitExpired(rr)) return failed("SnapshotsVerified", Reasons.SnapshotNotVerified, `${u.message}; gave up waiting`);
      checks.push({ name: "SnapshotsVerified", result: "Pending", message: u.message });
      return { checks, verdict: { kind: "pending", rule: "SnapshotsVerified", reason: Reasons.WaitingForSnapshot, message: u.message }, plan: [] };
    }
    selected = [vs];
  } else {
    const list = await deps.client.list(volumeSnapshotType, source, { signal: call.signal });
    const sel = selectRun(list.items.map(volumeSnapshotView), vol.from.schedule ?? "", vol.from.run ?? "latest", vol.pvcNames);
    if (sel.kind === "failed") return failed("SnapshotsVerified", sel.reason === "SnapshotNotFound" ? Reasons.SnapshotNotFound : Reasons.SnapshotNotVerified, sel.message);
    if (sel.kind === "waiting") {
      if (deps.snapshotWaitExpired(rr)) return failed("SnapshotsVerified", Reasons.SnapshotNotVerified, `${sel.message}; gave up waiting`);
      checks.push({ name: "SnapshotsVerified", result: "Pending", message: sel.message });
      return { checks, verdict: { kind: "pending", rule: "SnapshotsVerified", reason: Reasons.WaitingForSnapshot, message: sel.message }, plan: [] };
    }
    selected = [...sel.snapshots];
  }
  checks.push({ name: "SnapshotsVerified", result: "Passed", message: `${selected.map((v) => v.name).join(", ")} verified` });

  const existing = await deps.client.list(pvcType, target, { signal: call.signal });
  const taken = new Set(existing.items.map((p) => p.metadata.name));
  const policy = vol.conflictPolicy ?? "Fail";
  const plan: VolumeRestoreStatus[] = [];
  const notes: string[] = [];
  for (const vs of selected) {
    const want = vs.sourcePvc ?? vs.name;
    const d = decideName(want, policy, taken);
    if (d.kind === "fail") return failed("PVCNamesFree", Reasons.PVCAlreadyExists, d.message);
    if (d.kind === "skip") {
      plan.push({ pvc: want, sourcePvc: want, volumeSnapshot: vs.name, phase: "Skipped", message: d.message });
      notes.push(d.message);
      continue;
    }
    taken.add(d.pvc);
    plan.push({ pvc: d.pvc, sourcePvc: want, volumeSnapshot: vs.name, phase: "Pending" });
    if (d.pvc !== want) notes.push(`${want} → ${d.pvc}`);
  }
  checks.push({ name: "PVCNamesFree", result: "Passed", message: notes.length ? notes.join("; ") : `${plan.map((p) => p.pvc).join(", ")} are free` });
  return { checks, verdict: { kind: "passed" }, plan };
}

export type VolumeStep =
  | { readonly kind: "progress"; readonly volumes: VolumeRestoreStatus[]; readonly message: string }
  | { readonly kind: "done"; readonly volumes: VolumeRestoreStatus[]; readonly message: string }
  | { readonly kind: "failed"; readonly volumes: VolumeRestoreStatus[]; readonly reason: string; readonly message: string };

const isOurs = (o: KubeObject | null, uid: string): boolean => o?.metadata.annotations?.[ANNOTATION_RESTORE_UID] === uid;

/** Creates what is missing; AlreadyExists of our own object (a retry, a restart) is success. */
async function createOurs(client: KubeClient, rt: ResourceType, body: Rec, uid: string, call: CallOptions): Promise<"created" | "ours" | "theirs"> {
  const meta = rec(body["metadata"]) ?? {};
  try {
    await client.create(rt, body as unknown as KubeObject, { signal: call.signal });
    return "created";
  } catch (e) {
    if (!isKubeError(e, "alreadyExists")) throw e;
  }
  const existing = await client.tryGet(rt, str(meta["namespace"]), str(meta["name"]) ?? "", { signal: call.signal });
  return isOurs(existing, uid) ? "ours" : "theirs";
}

/** The source's snapshot restorable from the target namespace: itself, or a bound copy made here. */
async function snapshotForPvc(
  rr: RestoreRequest,
  vol: VolumeRestore,
  v: VolumeRestoreStatus,
  index: number,
  deps: VolumeDeps,
  call: CallOptions,
): Promise<string | { error: string }> {
  const target = rr.metadata.namespace ?? "";
  const source = sourceNamespaceOf(rr, vol);
  const name = v.volumeSnapshot ?? "";
  if (source === target) return name;
  const uid = rr.metadata.uid ?? "";
  const raw = await deps.client.tryGet(volumeSnapshotType, source, name, { signal: call.signal });
  const vs = raw ? volumeSnapshotView(raw) : undefined;
  if (!vs?.boundContentName) return { error: `VolumeSnapshot ${source}/${name} is gone or has no bound content` };
  const content = await deps.client.tryGet(volumeSnapshotContentType, undefined, vs.boundContentName, { signal: call.signal });
  const cv = content ? contentView(content) : undefined;
  if (!cv?.snapshotHandle) return { error: `VolumeSnapshotContent ${vs.boundContentName} has no snapshotHandle` };
  const contentName = tempName("aksnap-restore", uid, index);
  const vsName = tempName(`${rr.metadata.name}`.slice(0, 40), uid, index);
  const from = `${source}/${name}`;
  const made = await createOurs(deps.client, volumeSnapshotContentType, boundContentBody(contentName, cv, { namespace: target, name: vsName }, uid, vs.className), uid, call);
  if (made === "theirs") return { error: `VolumeSnapshotContent ${contentName} exists and is not this restore's` };
  const vsMade = await createOurs(deps.client, volumeSnapshotType, boundSnapshotBody(target, vsName, contentName, rr.metadata.name, uid, from), uid, call);
  if (vsMade === "theirs") return { error: `VolumeSnapshot ${target}/${vsName} exists and is not this restore's` };
  return vsName;
}

async function createPvc(rr: RestoreRequest, vol: VolumeRestore, v: VolumeRestoreStatus, index: number, deps: VolumeDeps, call: CallOptions): Promise<VolumeRestoreStatus> {
  const target = rr.metadata.namespace ?? "";
  const source = sourceNamespaceOf(rr, vol);
  const uid = rr.metadata.uid ?? "";
  const snap = await snapshotForPvc(rr, vol, v, index, deps, call);
  if (typeof snap !== "string") return { ...v, phase: "Failed", message: snap.error };
  // Size, class and modes from the source snapshot and PVC (the PVC may be gone: a disaster).
  const vsRaw = await deps.client.tryGet(volumeSnapshotType, source, v.volumeSnapshot ?? "", { signal: call.signal });
  const size = str(rec(vsRaw?.["status"])?.["restoreSize"]);
  const srcPvc = v.sourcePvc ? await deps.client.tryGet(pvcType, source, v.sourcePvc, { signal: call.signal }) : null;
  const srcSpec = rec(srcPvc?.["spec"]);
  const requested = str(rec(rec(srcSpec?.["resources"])?.["requests"])?.["storage"]);
  const storageClassName = vol.storageClassName ?? str(srcSpec?.["storageClassName"]);
  const accessModes = Array.isArray(srcSpec?.["accessModes"]) ? (srcSpec["accessModes"] as string[]) : ["ReadWriteOnce"];
  const volumeMode = str(srcSpec?.["volumeMode"]);
  const policy = vol.conflictPolicy ?? "Fail";
  let name = v.pvc;
  for (let attempt = 1; attempt < 20; attempt++) {
    const body = pvcBody({
      namespace: target,
      name,
      restoreName: rr.metadata.name,
      restoreUid: uid,
      from: `${source}/${v.volumeSnapshot ?? ""}`,
      snapshotName: snap,
      size: size ?? requested ?? "1Gi",
      accessModes,
      ...(storageClassName ? { storageClassName } : {}),
      ...(volumeMode ? { volumeMode } : {}),
    });
    const made = await createOurs(deps.client, pvcType, body, uid, call);
    if (made !== "theirs") return { ...v, pvc: name, phase: "Creating", message: `PVC ${target}/${name} from ${source}/${v.volumeSnapshot ?? ""}` };
    // Someone created a PVC of that name after the preflight: theirs is left exactly as it is.
    const theirs = `PVC ${target}/${name} was created by someone else after the preflight`;
    if (policy === "Fail") return { ...v, pvc: name, phase: "Failed", message: `${theirs}; it is left as is (conflictPolicy Fail)` };
    if (policy === "Skip") return { ...v, pvc: name, phase: "Skipped", message: `${theirs}; skipped (conflictPolicy Skip)` };
    // The next free-looking rename (the planned name may itself have been one: then it is skipped).
    let next = renamed(v.sourcePvc ?? v.pvc, attempt);
    for (let i = attempt + 1; next === name && i < 1000; i++) next = renamed(v.sourcePvc ?? v.pvc, i);
    name = next;
  }
  return { ...v, phase: "Failed", message: `no free name for a renamed copy of ${v.sourcePvc ?? v.pvc}` };
}

/** A created PVC: bound? hydrated? */
async function follow(rr: RestoreRequest, vol: VolumeRestore, v: VolumeRestoreStatus, deps: VolumeDeps, call: CallOptions): Promise<VolumeRestoreStatus> {
  const target = rr.metadata.namespace ?? "";
  const crossNamespace = sourceNamespaceOf(rr, vol) !== target;
  const wait = vol.waitForHydration ?? true;
  const pvc = await deps.client.tryGet(pvcType, target, v.pvc, { signal: call.signal });
  if (!pvc) return { ...v, phase: "Failed", message: `PVC ${target}/${v.pvc} was deleted during the restore` };
  const phase = str(rec(pvc["status"])?.["phase"]);
  const volumeName = str(rec(pvc["spec"])?.["volumeName"]);
  if (phase !== "Bound" || !volumeName) {
    // A bound copy of another namespace's snapshot must outlive provisioning, so wait for Bound there.
    if (!wait && !crossNamespace) return { ...v, phase: "Succeeded", message: `PVC ${target}/${v.pvc} created (waitForHydration false)` };
    return { ...v, phase: "Creating", message: `PVC ${target}/${v.pvc} is ${phase ?? "Pending"}; waiting for the provisioner` };
  }
  if (!wait) return { ...v, phase: "Succeeded", message: `PVC ${target}/${v.pvc} bound to ${volumeName}` };
  const pv = await deps.client.tryGet(pvType, undefined, volumeName, { signal: call.signal });
  const csi = rec(rec(pv?.["spec"])?.["csi"]);
  const driver = str(csi?.["driver"]);
  const handle = str(csi?.["volumeHandle"]);
  const disk = handle ? parseDiskId(handle) : undefined;
  if (driver !== AZURE_DISK_DRIVER || !disk || !handle) {
    const why = `driver ${driver ?? "none"}: hydration is not observable, bound counts as restored`;
    return { ...v, phase: "Succeeded", message: `PVC ${target}/${v.pvc} bound to ${volumeName} (${why})` };
  }
  if (!scopeAllowed(deps.allowedScopes, target, handle)) {
    return { ...v, phase: "Succeeded", message: `PVC ${target}/${v.pvc} bound; disk ${handle} is outside the namespace's --allowed-scopes, hydration not read` };
  }
  const got = await deps.disks.get(disk, call);
  if (!got.ok) {
    if (got.error.kind === "notFound") return { ...v, phase: "Failed", message: `disk ${handle} of PVC ${target}/${v.pvc} not found in ARM` };
    return { ...v, phase: "Hydrating", message: `reading disk ${handle}: ${got.error.code}; retrying` };
  }
  const h = diskHydration(got.value);
  switch (h.kind) {
    case "ready":
      return { ...v, phase: "Succeeded", completionPercent: 100, message: `disk ${handle} hydrated` };
    case "pending":
      return { ...v, phase: "Hydrating", ...(h.completionPercent !== undefined ? { completionPercent: h.completionPercent } : {}), message: `disk ${handle}: ${h.message}` };
    case "failed":
      return { ...v, phase: "Failed", message: `disk ${handle}: ${h.code}: ${h.message}` };
  }
}

/** Deletes the bound copies this restore made across namespaces: only ours (by uid), never the source. */
async function cleanUp(rr: RestoreRequest, vol: VolumeRestore, count: number, deps: VolumeDeps, call: CallOptions): Promise<void> {
  const target = rr.metadata.namespace ?? "";
  if (sourceNamespaceOf(rr, vol) === target) return;
  const uid = rr.metadata.uid ?? "";
  for (let i = 0; i < count; i++) {
    const vsName = tempName(`${rr.metadata.name}`.slice(0, 40), uid, i);
    const contentName = tempName("aksnap-restore", uid, i);
    const vs = await deps.client.tryGet(volumeSnapshotType, target, vsName, { signal: call.signal });
    if (vs && isOurs(vs, uid)) await deleteIgnoringGone(deps.client, volumeSnapshotType, target, vsName, vs.metadata.uid, call);
    const c = await deps.client.tryGet(volumeSnapshotContentType, undefined, contentName, { signal: call.signal });
    if (c && isOurs(c, uid)) await deleteIgnoringGone(deps.client, volumeSnapshotContentType, undefined, contentName, c.metadata.uid, call);
  }
}

async function deleteIgnoringGone(client: KubeClient, rt: ResourceType, ns: string | undefined, name: string, uid: string | undefined, call: CallOptions): Promise<void> {
  try {
    await client.delete(rt, ns, name, { ...(uid ? { preconditionUid: uid } : {}), signal: call.signal });
  } catch (e) {
    if (!isKubeError(e, "notFound")) throw e;
  }
}

/** One pass over the planned volumes; the restore's status.volumes is the plan and the progress. */
export async function stepVolumes(rr: RestoreRequest, vol: VolumeRestore, deps: VolumeDeps, call: CallOptions): Promise<VolumeStep> {
  const planned = rr.status?.volumes ?? [];
  const out: VolumeRestoreStatus[] = [];
  for (const [i, v] of planned.entries()) {
    if (v.phase === "Pending") out.push(await createPvc(rr, vol, v, i, deps, call));
    else if (v.phase === "Creating" || v.phase === "Hydrating") out.push(await follow(rr, vol, v, deps, call));
    else out.push(v);
  }
  const open = out.filter((v) => v.phase === "Pending" || v.phase === "Creating" || v.phase === "Hydrating");
  if (open.length > 0) {
    const pct = open.map((v) => `${v.pvc} ${v.phase}${v.completionPercent !== undefined ? ` ${v.completionPercent}%` : ""}`).join(", ");
    return { kind: "progress", volumes: out, message: `restoring volumes: ${pct}` };
  }
  await cleanUp(rr, vol, out.length, deps, call);
  const bad = out.filter((v) => v.phase === "Failed");
  if (bad.length > 0) {
    return { kind: "failed", volumes: out, reason: Reasons.VolumeRestoreFailed, message: bad.map((v) => `${v.pvc}: ${v.message ?? "failed"}`).join("; ") };
  }
  const made = out.filter((v) => v.phase === "Succeeded").map((v) => v.pvc);
  const skipped = out.filter((v) => v.phase === "Skipped").map((v) => v.pvc);
  return { kind: "done", volumes: out, message: `restored PVC(s) ${made.join(", ") || "none"}${skipped.length ? `; skipped ${skipped.join(", ")}` : ""}` };
}
