// Status writes: one per reconcile, skipped when nothing changed, guarded by resourceVersion so a
// write based on a stale read fails with a conflict (the reconcile is retried on fresh data)
// instead of overwriting someone else's update.
import { isDeepStrictEqual } from "node:util";
import type { CallOptions, KubeClient, KubeObject, ResourceType } from "./client.ts";
import { resourcePath } from "./client.ts";

export type StatusWrite = { kind: "unchanged" } | { kind: "written"; object: KubeObject };

export async function writeStatus(client: KubeClient, rt: ResourceType, current: KubeObject, status: unknown, fieldManager = "aksnap", opts: CallOptions = {}): Promise<StatusWrite> {
  if (isDeepStrictEqual(normalize(current.status), normalize(status))) return { kind: "unchanged" };
  const body = { apiVersion: current.apiVersion, kind: current.kind, metadata: current.metadata, status };
  const object = (await client.request("PUT", resourcePath(rt, current.metadata.namespace, current.metadata.name, "status"), {
    body,
    query: { fieldManager },
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  })) as KubeObject;
  return { kind: "written", object };
}

// JSON round-trip drops undefined members so `{a: undefined}` equals `{}` like on the wire.
function normalize(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}
