// Small in-memory stand-ins at the operator's two I/O boundaries, for table tests of the
// NodePoolSnapshot reconciler's decisions. The real behaviour of ARM and the apiserver is covered
// by the contract and integration tests; these only hold state and record calls.
import { KubeConfig } from "@kubernetes/client-node";
import type { CallOptions } from "../../../../../src/azure/deadline.ts";
import type { ArmError } from "../../../../../src/azure/errors.ts";
import { agentPoolId, managedClusterId, nodePoolSnapshotId, resourceIdKey, type AgentPoolRef, type GroupResourceRef, type ManagedClusterRef } from "../../../../../src/azure/ids.ts";
import type { AgentPool, AgentPoolsPort } from "../../../../../src/azure/ports/agentPools.ts";
import type { ManagedCluster, ManagedClustersPort } from "../../../../../src/azure/ports/managedClusters.ts";
import type { NodePoolSnapshot as ArmSnapshot, NodePoolSnapshotsPort } from "../../../../../src/azure/ports/nodePoolSnapshots.ts";
import { fail, ok, type ArmResult } from "../../../../../src/azure/result.ts";
import type { NodePoolSnapshotArm } from "../../../../../src/controllers/nodepoolsnapshot/reconciler.ts";
import { KubeClient, type KubeObject, type RequestOptions } from "../../../../../src/kube/client.ts";
import { classifyStatus } from "../../../../../src/kube/errors.ts";
import type { EventKind, EventRecorder } from "../../../../../src/kube/events.ts";

export type ArmOp = "snapshots.get" | "snapshots.put" | "snapshots.updateTags" | "snapshots.delete" | "clusters.get" | "pools.get";

const unused = (what: string) => (): never => {
  throw new Error(`${what} is not used by the NodePoolSnapshot reconciler`);
};

/** ARM as three maps; `failNext` makes the next call of an operation answer with an error. */
export class FakeArm implements NodePoolSnapshotArm {
  readonly snapshots = new Map<string, ArmSnapshot>();
  readonly clusters = new Map<string, ManagedCluster>();
  readonly pools = new Map<string, AgentPool>();
  readonly calls: Array<{ op: ArmOp; id: string }> = [];
  /** The signal each call was given (the reconcile's, or undefined). */
  readonly signals: Array<AbortSignal | undefined> = [];
  private readonly failures = new Map<ArmOp, ArmError[]>();
  private seq = 0;

  failNext(op: ArmOp, error: ArmError): this {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
    return this;
  }

  addCluster(ref: ManagedClusterRef, location: string): this {
    const id = managedClusterId(ref);
    this.clusters.set(resourceIdKey(id), { id, name: ref.clusterName, subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, location, tags: {}, provisioningState: "succeeded", agentPoolProfiles: [] });
    return this;
  }

  addPool(ref: AgentPoolRef, props: Partial<AgentPool> = {}): this {
    const id = agentPoolId(ref);
    this.pools.set(resourceIdKey(id), { id, name: ref.agentPoolName, subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, clusterName: ref.clusterName, provisioningState: "succeeded", ...props });
    return this;
  }

  addSnapshot(ref: GroupResourceRef, props: Omit<Partial<ArmSnapshot>, "id" | "name">): ArmSnapshot {
    const s: ArmSnapshot = { id: nodePoolSnapshotId(ref), name: ref.name, subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup, location: "westeurope", tags: {}, ...props };
    this.snapshots.set(resourceIdKey(s.id), s);
    return s;
  }

  count(op: ArmOp): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  private call<T>(op: ArmOp, id: string, opts: CallOptions | undefined, body: () => ArmResult<T>): Promise<ArmResult<T>> {
    this.calls.push({ op, id });
    this.signals.push(opts?.signal);
    const queued = this.failures.get(op);
    const err = queued?.shift();
    return Promise.resolve(err ? fail<T>(err) : body());
  }

  private static notFound(code: string, id: string): ArmError {
    return { kind: "notFound", code, message: `The resource '${id}' was not found.`, statusCode: 404 };
  }

  readonly nodePoolSnapshots: NodePoolSnapshotsPort = {
    get: (ref, opts) => {
      const id = nodePoolSnapshotId(ref);
      return this.call("snapshots.get", id, opts, () => {
        const s = this.snapshots.get(resourceIdKey(id));
        return s ? ok(s) : fail(FakeArm.notFound("ResourceNotFound", id));
      });
    },
    put: (ref, spec, opts) => {
      const id = nodePoolSnapshotId(ref);
      return this.call("snapshots.put", id, opts, () => {
        const pool = this.pools.get(resourceIdKey(spec.sourceResourceId));
        if (!pool) return fail(FakeArm.notFound("NotFound", spec.sourceResourceId));
        this.seq++;
        const s: ArmSnapshot = {
          id,
          name: ref.name,
          subscriptionId: ref.subscriptionId,
          resourceGroup: ref.resourceGroup,
          location: spec.location,
          tags: { ...(spec.tags ?? {}) },
          sourceResourceId: pool.id,
          snapshotType: "NodePool",
          ...(pool.currentOrchestratorVersion ? { kubernetesVersion: pool.currentOrchestratorVersion } : {}),
          ...(pool.nodeImageVersion ? { nodeImageVersion: pool.nodeImageVersion } : {}),
          ...(pool.vmSize ? { vmSize: pool.vmSize } : {}),
          createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, this.seq)).toISOString(),
        };
        this.snapshots.set(resourceIdKey(id), s);
        return ok(s);
      });
    },
    updateTags: (ref, tags, opts) => {
      const id = nodePoolSnapshotId(ref);
      return this.call("snapshots.updateTags", id, opts, () => {
        const s = this.snapshots.get(resourceIdKey(id));
        if (!s) return fail(FakeArm.notFound("ResourceNotFound", id));
        const next = { ...s, tags: { ...tags } };
        this.snapshots.set(resourceIdKey(id), next);
        return ok(next);
      });
    },
    delete: (ref, opts) => {
      const id = nodePoolSnapshotId(ref);
      return this.call("snapshots.delete", id, opts, () => {
        this.snapshots.delete(resourceIdKey(id));
        return ok(undefined);
      });
    },
    listByResourceGroup: unused("nodePoolSnapshots.listByResourceGroup"),
  };

  readonly managedClusters: ManagedClustersPort = {
    get: (ref, opts) => {
      const id = managedClusterId(ref);
      return this.call("clusters.get", id, opts, () => {
        const c = this.clusters.get(resourceIdKey(id));
        return c ? ok(c) : fail(FakeArm.notFound("ResourceNotFound", id));
      });
    },
    beginCreate: unused("managedClusters.beginCreate"),
    beginDelete: unused("managedClusters.beginDelete"),
    checkOperation: unused("managedClusters.checkOperation"),
  };

  readonly agentPools: AgentPoolsPort = {
    get: (ref, opts) => {
      const id = agentPoolId(ref);
      return this.call("pools.get", id, opts, () => {
        const p = this.pools.get(resourceIdKey(id));
        return p ? ok(p) : fail(FakeArm.notFound("NotFound", id));
      });
    },
    beginCreateOrUpdate: unused("agentPools.beginCreateOrUpdate"),
    beginUpgradeFromSnapshot: unused("agentPools.beginUpgradeFromSnapshot"),
    beginUpgradeNodeImage: unused("agentPools.beginUpgradeNodeImage"),
    beginDelete: unused("agentPools.beginDelete"),
    checkOperation: unused("agentPools.checkOperation"),
  };
}

/**
 * A KubeClient whose transport is one stored object: status PUTs and metadata merge patches (the
 * only writes the reconciler makes) update it and bump its resourceVersion. Every other request
 * fails the test. `cache` reads the stored object back, as an informer that has caught up would.
 */
export class FakeKube extends KubeClient {
  object: KubeObject;
  readonly writes: Array<{ method: string; path: string; body: unknown; signal?: AbortSignal | undefined; timeoutMs?: number | undefined }> = [];
  /** How many of the next status writes answer 409 Conflict (Infinity: all of them). */
  statusConflicts = 0;
  private rv: number;

  constructor(object: KubeObject) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: "https://fake.invalid", skipTLSVerify: false }],
      users: [{ name: "fake" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    super(kc);
    this.rv = Number(object.metadata.resourceVersion ?? "1");
    this.object = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv) } });
  }

  readonly cache = { get: (key: string): KubeObject | undefined => (key === `${this.object.metadata.namespace}/${this.object.metadata.name}` ? structuredClone(this.object) : undefined) };

  get status(): Record<string, unknown> | undefined {
    return this.object.status as Record<string, unknown> | undefined;
  }

  override request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    this.writes.push({ method, path, body: opts.body, signal: opts.signal, timeoutMs: opts.timeoutMs });
    const base = `/apis/aksnap.io/v1alpha1/namespaces/${this.object.metadata.namespace}/nodepoolsnapshots/${this.object.metadata.name}`;
    const body = opts.body as { status?: unknown; metadata?: { finalizers?: string[] } } | undefined;
    if (method === "PUT" && path === `${base}/status` && this.statusConflicts > 0) {
      this.statusConflicts--;
      return Promise.reject(classifyStatus(409, { kind: "Status", reason: "Conflict", message: "the object has been modified" }));
    } else if (method === "PUT" && path === `${base}/status`) {
      this.object = { ...this.object, status: structuredClone(body?.status) };
    } else if (method === "PATCH" && path === base && opts.contentType === "application/merge-patch+json" && body?.metadata?.finalizers) {
      this.object = { ...this.object, metadata: { ...this.object.metadata, finalizers: [...body.metadata.finalizers] } };
    } else {
      return Promise.reject(new Error(`FakeKube: unexpected ${method} ${path}`));
    }
    this.rv++;
    this.object.metadata = { ...this.object.metadata, resourceVersion: String(this.rv) };
    return Promise.resolve(structuredClone(this.object));
  }
}

export class RecordingEvents implements EventRecorder {
  readonly events: Array<{ type: EventKind; reason: string; message: string }> = [];
  record(_obj: KubeObject, type: EventKind, reason: string, message: string): Promise<void> {
    this.events.push({ type, reason, message });
    return Promise.resolve();
  }
}
