// Typed views of the CSI snapshot objects (snapshot.storage.k8s.io/v1) the verifier reads. Parsed at
// the boundary from `unknown`: foreign objects can hold anything, so a missing field is undefined,
// never a throw.
import type { KubeObject } from "../../kube/client.ts";

export const AZURE_DISK_DRIVER = "disk.csi.azure.com";

export interface SnapshotError {
  readonly message: string;
  readonly time?: string;
}

export interface VolumeSnapshotView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly createdAt?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly className?: string;
  readonly sourcePvc?: string;
  /** Pre-provisioned: the content named in spec.source. */
  readonly sourceContentName?: string;
  readonly boundContentName?: string;
  readonly readyToUse?: boolean;
  readonly error?: SnapshotError;
  readonly deleting: boolean;
}

export interface ContentView {
  readonly name: string;
  readonly driver: string;
  readonly snapshotHandle?: string;
  readonly readyToUse?: boolean;
  readonly error?: SnapshotError;
  readonly deletionPolicy?: string;
  /** namespace/name of the VolumeSnapshot it is bound to. */
  readonly snapshotRef?: string;
}

export interface ClassView {
  readonly name: string;
  readonly driver: string;
  readonly annotations: Readonly<Record<string, string>>;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Rec) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === "boolean" ? v : undefined);

function errorOf(v: unknown): SnapshotError | undefined {
  const e = rec(v);
  const message = str(e?.["message"]);
  if (e === undefined) return undefined;
  const time = str(e["time"]);
  return { message: message ?? "(no message)", ...(time ? { time } : {}) };
}

/** Adds only the members that are defined (exactOptionalPropertyTypes). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function volumeSnapshotView(o: KubeObject): VolumeSnapshotView {
  const spec = rec(o["spec"]);
  const source = rec(spec?.["source"]);
  const status = rec(o["status"]);
  return defined({
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name,
    uid: o.metadata.uid ?? "",
    createdAt: o.metadata.creationTimestamp,
    labels: { ...(o.metadata.labels ?? {}) },
    annotations: { ...(o.metadata.annotations ?? {}) },
    className: str(spec?.["volumeSnapshotClassName"]),
    sourcePvc: str(source?.["persistentVolumeClaimName"]),
    sourceContentName: str(source?.["volumeSnapshotContentName"]),
    boundContentName: str(status?.["boundVolumeSnapshotContentName"]),
    readyToUse: bool(status?.["readyToUse"]),
    error: errorOf(status?.["error"]),
    deleting: o.metadata.deletionTimestamp !== undefined,
  });
}

export function contentView(o: KubeObject): ContentView {
  const spec = rec(o["spec"]);
  const status = rec(o["status"]);
  const ref = rec(spec?.["volumeSnapshotRef"]);
  const refNs = str(ref?.["namespace"]);
  const refName = str(ref?.["name"]);
  return defined({
    name: o.metadata.name,
    driver: str(spec?.["driver"]) ?? "",
    snapshotHandle: str(status?.["snapshotHandle"]) ?? str(rec(spec?.["source"])?.["snapshotHandle"]),
    readyToUse: bool(status?.["readyToUse"]),
    error: errorOf(status?.["error"]),
    deletionPolicy: str(spec?.["deletionPolicy"]),
    snapshotRef: refNs && refName ? `${refNs}/${refName}` : undefined,
  });
}

export function classView(o: KubeObject): ClassView {
  return { name: o.metadata.name, driver: typeof o["driver"] === "string" ? o["driver"] : "", annotations: { ...(o.metadata.annotations ?? {}) } };
}
