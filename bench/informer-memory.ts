// Benchmark: informer cache memory for N objects shaped like kubectl-applied NodePoolSnapshots
// with a status written by the operator, stored as they come (identity transform) against the
// default transform (managedFields and last-applied annotation dropped) and the cache's shared strings
// (StringTable). Heap after a full GC.
//   node --expose-gc bench/informer-memory.ts [--objects 10000]
import { parseArgs } from "node:util";
import type { KubeObject, ListResult } from "../src/kube/client.ts";
import { Informer, type InformerClient } from "../src/kube/informer.ts";

const { values } = parseArgs({ options: { objects: { type: "string" } } });
const N = Number(values.objects ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function object(i: number): KubeObject {
  const name = `snapshot-${i}`;
  const spec = {
    source: { subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroup: "rg-aks-prod", clusterName: "aks-prod-westeurope", agentPoolName: "system" },
    snapshot: { name: `${name}-golden`, resourceGroup: "rg-snapshots", tags: { team: "platform", env: "prod" } },
    deletionPolicy: "Delete",
  };
  const lastApplied = JSON.stringify({ apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name, namespace: "team-a" }, spec });
  const t = "2026-11-28T12:00:00Z";
  return {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "NodePoolSnapshot",
    metadata: {
      name,
      namespace: "team-a",
      uid: `0c6f3d2a-1b7e-4c55-9a0e-${String(i).padStart(12, "0")}`,
      resourceVersion: String(1000 + i),
      generation: 1,
      creationTimestamp: t,
      finalizers: ["aksnap.io/snapshot-cleanup"],
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied },
      managedFields: [
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          apiVersion: "aksnap.io/v1alpha1",
          time: t,
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": { "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} } },
            "f:spec": { ".": {}, "f:deletionPolicy": {}, "f:snapshot": { ".": {}, "f:name": {}, "f:resourceGroup": {}, "f:tags": { ".": {}, "f:env": {}, "f:team": {} } }, "f:source": { ".": {}, "f:agentPoolName": {}, "f:clusterName": {}, "f:resourceGroup": {}, "f:subscriptionId": {} } },
          },
        },
        { manager: "aksnap", operation: "Update", apiVersion: "aksnap.io/v1alpha1", time: t, fieldsType: "FieldsV1", fieldsV1: { "f:metadata": { "f:finalizers": { ".": {}, 'v:"aksnap.io/snapshot-cleanup"': {} } } } },
        {
          manager: "aksnap",
          operation: "Update",
          apiVersion: "aksnap.io/v1alpha1",
          time: t,
          fieldsType: "FieldsV1",
          subresource: "status",
          fieldsV1: { "f:status": { ".": {}, "f:conditions": { ".": {}, 'k:{"type":"Ready"}': { ".": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:observedGeneration": {}, "f:reason": {}, "f:status": {}, "f:type": {} } }, "f:observedGeneration": {}, "f:snapshotId": {}, "f:kubernetesVersion": {}, "f:nodeImageVersion": {} } },
        },
      ],
    },
    spec,
    status: {
      observedGeneration: 1,
      snapshotId: `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-snapshots/providers/Microsoft.ContainerService/snapshots/${name}-golden`,
      kubernetesVersion: "1.33.2",
      nodeImageVersion: "AKSUbuntu-2204gen2containerd-202611.10.0",
      conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "snapshot is ready", observedGeneration: 1, lastTransitionTime: t }],
    },
  };
}

async function heapWith(transform: ((o: KubeObject) => KubeObject) | undefined): Promise<number> {
  const client = {
    list: (_rt: unknown, _ns: unknown, opts: { each?: (o: KubeObject) => KubeObject } = {}): Promise<ListResult> =>
      Promise.resolve({ items: Array.from({ length: N }, (_, i) => (opts.each ? opts.each(object(i)) : object(i))), resourceVersion: "1" }),
    watch: (_rt: unknown, _ns: unknown, opts: { signal?: AbortSignal }) => new Promise<void>((r) => opts.signal?.addEventListener("abort", () => r())),
  } as unknown as InformerClient;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const ac = new AbortController();
  const inf = new Informer(client, { group: "aksnap.io", version: "v1alpha1", plural: "nodepoolsnapshots", kind: "NodePoolSnapshot", namespaced: true }, transform ? { transform } : {});
  await inf.start(ac.signal);
  await inf.waitForSync();
  gc?.();
  const used = process.memoryUsage().heapUsed - before;
  if (inf.list().length !== N) throw new Error("not all stored");
  ac.abort();
  await inf.stopped();
  return used;
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const asIs = await heapWith((o) => o);
const stripped = await heapWith(undefined);
console.log(`informer cache, ${N} objects: as stored ${mb(asIs)}, default transform ${mb(stripped)} (${((stripped / asIs) * 100).toFixed(0)} %)`);
