// Finalizer helpers. Patches carry the resourceVersion they were computed from so two writers
// never silently drop each other's finalizers (merge patch replaces the whole list).
import type { CallOptions, KubeClient, KubeObject, ResourceType } from "./client.ts";

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export function isDeleting(obj: KubeObject): boolean {
  return typeof obj.metadata.deletionTimestamp === "string" && obj.metadata.deletionTimestamp !== "";
}

export async function addFinalizer(client: KubeClient, rt: ResourceType, obj: KubeObject, finalizer: string, opts: CallOptions = {}): Promise<KubeObject> {
  if (hasFinalizer(obj, finalizer)) return obj;
  const finalizers = [...(obj.metadata.finalizers ?? []), finalizer];
  return client.mergePatch(rt, obj.metadata.namespace, obj.metadata.name, { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } }, undefined, undefined, opts);
}

export async function removeFinalizer(client: KubeClient, rt: ResourceType, obj: KubeObject, finalizer: string, opts: CallOptions = {}): Promise<KubeObject> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return client.mergePatch(rt, obj.metadata.namespace, obj.metadata.name, { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } }, undefined, undefined, opts);
}
