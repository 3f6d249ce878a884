// Pure decisions of a volume restore: which VolumeSnapshots (only verified ones), whether another
// namespace granted the restore, what each new PVC is called under the conflict policy, and the
// objects the restore creates. No I/O; table-tested.
import { ANNOTATION_RESTORE_TO_NAMESPACES, ANNOTATION_VERIFIED, LABEL_RUN, LABEL_SCHEDULE } from "../../crds/names.ts";
import type { VolumeRestore } from "../../crds/restorerequest.ts";
import { ANNOTATION_REASON, ANNOTATION_STATE } from "../volumesnapshot/annotations.ts";
import type { ContentView, VolumeSnapshotView } from "../volumesnapshot/objects.ts";

/** Labels and annotations on what a restore creates (never ownerReferences: deleting the request keeps them). */
export const LABEL_RESTORED_BY = "aksnap.io/restored-by";
export const ANNOTATION_RESTORED_FROM = "aksnap.io/restored-from";
export const ANNOTATION_RESTORE_UID = "aksnap.io/restore-uid";

/** One source snapshot as the restore sees it. */
export interface SourceSnapshot {
  readonly vs: VolumeSnapshotView;
  readonly restoreSize?: string;
}

export type Usability = { readonly kind: "verified" } | { readonly kind: "waiting"; readonly message: string } | { readonly kind: "unusable"; readonly message: string };

/** Only `aksnap.io/verified: "true"` counts; a verdict of Failed/NotVerifiable is final, anything else is waited for. */
export function usability(vs: VolumeSnapshotView): Usability {
  const a = vs.annotations;
  const what = `VolumeSnapshot ${vs.namespace}/${vs.name}`;
  if (vs.deleting) return { kind: "unusable", message: `${what} is being deleted` };
  if (a[ANNOTATION_VERIFIED] === "true") return { kind: "verified" };
  const state = a[ANNOTATION_STATE];
  const reason = a[ANNOTATION_REASON] ? ` (${a[ANNOTATION_REASON]})` : "";
  if (state === "Failed" || state === "NotVerifiable") return { kind: "unusable", message: `${what} is ${state}${reason}: only verified snapshots are restored` };
  return { kind: "waiting", message: `${what} is not verified yet${state ? `: ${state}${reason}` : " (the verifier has not checked it)"}` };
}

/** Whether the source namespace's annotation lists the target namespace (comma-separated, `*` for any). */
export function granted(sourceNamespaceAnnotations: Readonly<Record<string, string>> | undefined, target: string): boolean {
  const raw = sourceNamespaceAnnotations?.[ANNOTATION_RESTORE_TO_NAMESPACES] ?? "";
  return raw
    .split(",")
    .map((s) => s.trim())
    .some((s) => s === target || s === "*");
}

export type Selection =
  | { readonly kind: "selected"; readonly runId?: string; readonly snapshots: readonly VolumeSnapshotView[] }
  | { readonly kind: "waiting"; readonly message: string }
  | { readonly kind: "failed"; readonly reason: "SnapshotNotFound" | "SnapshotNotVerified" | "NoVerifiedRun"; readonly message: string };

/**
 * The snapshots of a schedule run (listed by the schedule label), restricted to pvcNames. `latest`:
 * the newest run id whose selected snapshots are ALL verified; newer runs with an unverified one are
 * skipped (and named in no error: they are simply not restorable yet).
 */
export function selectRun(all: readonly VolumeSnapshotView[], schedule: string, run: string, pvcNames: readonly string[] | undefined): Selection {
  const ofSchedule = all.filter((v) => v.labels[LABEL_SCHEDULE] === schedule && v.labels[LABEL_RUN] !== undefined);
  const byRun = new Map<string, VolumeSnapshotView[]>();
  for (const v of ofSchedule) {
    const id = v.labels[LABEL_RUN] ?? "";
    byRun.set(id, [...(byRun.get(id) ?? []), v]);
  }
  const pick = (vs: VolumeSnapshotView[]): { chosen: VolumeSnapshotView[]; missing: string[] } => {
    if (!pvcNames || pvcNames.length === 0) return { chosen: vs, missing: [] };
    const chosen = vs.filter((v) => v.sourcePvc !== undefined && pvcNames.includes(v.sourcePvc));
    return { chosen, missing: pvcNames.filter((n) => !chosen.some((v) => v.sourcePvc === n)) };
  };
  if (run !== "latest") {
    const vs = byRun.get(run);
    if (!vs) return { kind: "failed", reason: "SnapshotNotFound", message: `schedule ${schedule} has no VolumeSnapshots of run ${run}` };
    const { chosen, missing } = pick(vs);
    if (missing.length > 0) return { kind: "failed", reason: "SnapshotNotFound", message: `run ${run} of schedule ${schedule} has no snapshot of PVC(s) ${missing.join(", ")}` };
    for (const v of chosen) {
      const u = usability(v);
      if (u.kind === "unusable") return { kind: "failed", reason: "SnapshotNotVerified", message: u.message };
      if (u.kind === "waiting") return { kind: "waiting", message: u.message };
    }
    return { kind: "selected", runId: run, snapshots: chosen };
  }
  // Run ids are YYYYMMDDHHmm: newest first is a descending string sort.
  for (const id of [...byRun.keys()].sort().reverse()) {
    const { chosen, missing } = pick(byRun.get(id) ?? []);
    if (chosen.length === 0 || missing.length > 0) continue;
    if (chosen.every((v) => usability(v).kind === "verified")) return { kind: "selected", runId: id, snapshots: chosen };
  }
  return {
    kind: "failed",
    reason: "NoVerifiedRun",
    message: `schedule ${schedule} has no run whose snapshots${pvcNames?.length ? ` of ${pvcNames.join(", ")}` : ""} are all verified (${byRun.size} run(s) found)`,
  };
}

export type ConflictPolicy = NonNullable<VolumeRestore["conflictPolicy"]>;

export type NameDecision =
  | { readonly kind: "create"; readonly pvc: string }
  | { readonly kind: "skip"; readonly message: string }
  | { readonly kind: "fail"; readonly message: string };

/** `<name>-restored`, then `-restored-2`, …, cut to a valid object name. */
export function renamed(name: string, attempt: number): string {
  const suffix = attempt <= 1 ? "-restored" : `-restored-${attempt}`;
  return `${name.slice(0, 253 - suffix.length).replace(/[-.]+$/, "")}${suffix}`;
}

/** The new PVC's name under the policy, given the names taken in the target namespace (and by earlier volumes of this restore). */
export function decideName(source: string, policy: ConflictPolicy, taken: ReadonlySet<string>): NameDecision {
  if (!taken.has(source)) return { kind: "create", pvc: source };
  switch (policy) {
    case "Fail":
      return { kind: "fail", message: `PVC ${source} already exists; it is never overwritten (conflictPolicy Fail: set Skip or Rename, or restore into another namespace)` };
    case "Skip":
      return { kind: "skip", message: `PVC ${source} already exists and is left as is (conflictPolicy Skip)` };
    case "Rename":
      for (let i = 1; i < 1000; i++) {
        const n = renamed(source, i);
        if (!taken.has(n)) return { kind: "create", pvc: n };
      }
      return { kind: "fail", message: `no free name for a renamed copy of ${source}` };
  }
}

/** A short, stable name for what a cross-namespace restore creates: `<prefix>-<uid8>-<index>`. */
export function tempName(prefix: string, uid: string, index: number): string {
  return `${prefix}-${uid.replace(/-/g, "").slice(0, 8)}-${index}`;
}

export interface PvcInput {
  readonly namespace: string;
  readonly name: string;
  readonly restoreName: string;
  readonly restoreUid: string;
  readonly from: string;
  readonly snapshotName: string;
  readonly size: string;
  readonly storageClassName?: string;
  readonly accessModes: readonly string[];
  readonly volumeMode?: string;
}

export function pvcBody(i: PvcInput): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: i.name,
      namespace: i.namespace,
      labels: { [LABEL_RESTORED_BY]: i.restoreName },
      annotations: { [ANNOTATION_RESTORED_FROM]: i.from, [ANNOTATION_RESTORE_UID]: i.restoreUid },
    },
    spec: {
      accessModes: [...i.accessModes],
      resources: { requests: { storage: i.size } },
      ...(i.storageClassName ? { storageClassName: i.storageClassName } : {}),
      ...(i.volumeMode ? { volumeMode: i.volumeMode } : {}),
      dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: i.snapshotName },
    },
  };
}

/**
 * A pre-provisioned content bound to a new VolumeSnapshot in the target namespace: the CSI snapshot
 * API's way to use a snapshot across namespaces. Retain: deleting it never deletes the Azure snapshot.
 */
export function boundContentBody(name: string, source: ContentView, target: { namespace: string; name: string }, restoreUid: string, className?: string): Record<string, unknown> {
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotContent",
    metadata: { name, annotations: { [ANNOTATION_RESTORE_UID]: restoreUid, [ANNOTATION_RESTORED_FROM]: source.name } },
    spec: {
      deletionPolicy: "Retain",
      driver: source.driver,
      source: { snapshotHandle: source.snapshotHandle ?? "" },
      volumeSnapshotRef: { namespace: target.namespace, name: target.name },
      ...(className ? { volumeSnapshotClassName: className } : {}),
    },
  };
}

export function boundSnapshotBody(namespace: string, name: string, contentName: string, restoreName: string, restoreUid: string, from: string): Record<string, unknown> {
  return {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace, labels: { [LABEL_RESTORED_BY]: restoreName }, annotations: { [ANNOTATION_RESTORE_UID]: restoreUid, [ANNOTATION_RESTORED_FROM]: from } },
    spec: { source: { volumeSnapshotContentName: contentName } },
  };
}
