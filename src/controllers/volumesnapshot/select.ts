// Which VolumeSnapshots aksnap verifies: the ones it creates, always; others only by opt-in, so
// snapshots made by Velero, snapscheduler or the AKS backup extension can get real readiness too
// without aksnap writing to objects nobody asked it to touch.
import { LABEL_SCHEDULE } from "../../crds/names.ts";
import type { ClassView, VolumeSnapshotView } from "./objects.ts";

/** Opt in (or out, with "false") on a VolumeSnapshot (label) or its VolumeSnapshotClass (annotation). */
export const VERIFY_KEY = "aksnap.io/verify";
/** Set by aksnap on the VolumeSnapshots it creates (schedule runs, restores). */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_AKSNAP = "aksnap";

export type Selection = { readonly verify: true; readonly why: SelectedBy } | { readonly verify: false; readonly why: string };
export type SelectedBy = "created-by-aksnap" | "label" | "class-annotation" | "operator-flag";

export interface SelectionPolicy {
  /** --verify-all-volume-snapshots: every VolumeSnapshot not opted out. */
  readonly all: boolean;
}

export function selectForVerification(vs: VolumeSnapshotView, cls: ClassView | undefined, policy: SelectionPolicy): Selection {
  if (vs.labels[LABEL_MANAGED_BY] === MANAGED_BY_AKSNAP || vs.labels[LABEL_SCHEDULE] !== undefined) {
    return { verify: true, why: "created-by-aksnap" };
  }
  const label = vs.labels[VERIFY_KEY];
  if (label === "false") return { verify: false, why: `label ${VERIFY_KEY}=false` };
  if (label === "true") return { verify: true, why: "label" };
  const classAnnotation = cls?.annotations[VERIFY_KEY];
  if (classAnnotation === "false") return { verify: false, why: `VolumeSnapshotClass ${cls?.name} has ${VERIFY_KEY}=false` };
  if (classAnnotation === "true") return { verify: true, why: "class-annotation" };
  if (policy.all) return { verify: true, why: "operator-flag" };
  return { verify: false, why: "not created by aksnap and not opted in" };
}
