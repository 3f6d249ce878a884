// Which watch events reach the verifier's queue, and under which key (the VolumeSnapshot's
// namespace/name). Our own annotation patches come back as watch events; they must not bring the
// key back (its next look is already scheduled), or each write would cost another reconcile.
import { isDeepStrictEqual } from "node:util";
import { objectKey, type KubeObject } from "../../kube/client.ts";
import type { InformerHandler } from "../../kube/informer.ts";
import { contentView, volumeSnapshotView } from "./objects.ts";

const OUR_PREFIXES = ["aksnap.io/verif", "aksnap.io/completion-percent", "aksnap.io/azure-checked-at"];

function foreignAnnotations(o: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.metadata.annotations ?? {})) if (!OUR_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  return out;
}

/** A VolumeSnapshot update the verifier acts on: anything but its own annotations (and resourceVersion). */
export function snapshotChanged(oldObj: KubeObject, newObj: KubeObject): boolean {
  const a = oldObj.metadata;
  const b = newObj.metadata;
  return (
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.labels ?? {}, b.labels ?? {}) ||
    !isDeepStrictEqual(oldObj["spec"], newObj["spec"]) ||
    !isDeepStrictEqual(oldObj["status"], newObj["status"]) ||
    !isDeepStrictEqual(foreignAnnotations(oldObj), foreignAnnotations(newObj))
  );
}

export interface VerifierHandlers {
  snapshots: InformerHandler;
  contents: InformerHandler;
  classes: InformerHandler;
}

/** Contents enqueue the VolumeSnapshot they are bound to; a class change enqueues its snapshots. */
export function verifierHandlers(enqueue: (key: string) => void, snapshots: () => readonly KubeObject[]): VerifierHandlers {
  const byContent = (o: KubeObject): void => {
    const ref = contentView(o).snapshotRef;
    if (ref !== undefined) enqueue(ref);
  };
  const byClass = (o: KubeObject): void => {
    for (const s of snapshots()) if (volumeSnapshotView(s).className === o.metadata.name) enqueue(objectKey(s));
  };
  return {
    snapshots: {
      onAdd: (o) => enqueue(objectKey(o)),
      onUpdate: (old, o) => {
        if (snapshotChanged(old, o)) enqueue(objectKey(o));
      },
      onDelete: (o) => enqueue(objectKey(o)),
    },
    contents: {
      onAdd: byContent,
      onUpdate: (old, o) => {
        if (!isDeepStrictEqual(old["status"], o["status"]) || !isDeepStrictEqual(old["spec"], o["spec"])) byContent(o);
      },
      onDelete: byContent,
    },
    classes: {
      onAdd: byClass,
      onUpdate: (old, o) => {
        if (!isDeepStrictEqual(old.metadata.annotations ?? {}, o.metadata.annotations ?? {}) || old["driver"] !== o["driver"]) byClass(o);
      },
      onDelete: byClass,
    },
  };
}
