// LeaseStore over a coordination.k8s.io/v1 Lease through our own KubeClient (client-go's
// resourcelock.LeaseLock): what the operator runs. lease-store-kube.ts does the same through
// @kubernetes/client-node's CoordinationV1Api, whose package costs ≈ 80 MiB RSS to load — more
// than the rest of the operator (issue 8 §5). Optimistic concurrency is the apiserver's: a PUT
// with a stale metadata.resourceVersion answers 409, which is how a candidate learns it lost.
import type { KubeClient, KubeObject, ResourceType } from "../kube/client.ts";
import { isKubeError } from "../kube/errors.ts";
import type { LeaseRecord, LeaseStore, LeaseWriteResult, StoredLease } from "./leaderelection.ts";

export const leaseType: ResourceType = { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true };

/** MicroTime as the apiserver requires it: RFC 3339 with exactly six fractional digits. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function parseMicroTime(value: string | undefined): number {
  const ms = value === undefined ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface RestLeaseStoreOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

export class RestLeaseStore implements LeaseStore {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #labels: Record<string, string> | undefined;
  /** Last Lease read or written, so updates keep its metadata (labels, annotations, owners). */
  #last: KubeObject | undefined;

  constructor(options: RestLeaseStoreOptions) {
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#labels = options.labels;
  }

  describe(): string {
    return `lease ${this.#namespace}/${this.#name}`;
  }

  async get(signal?: AbortSignal): Promise<StoredLease | null> {
    try {
      return this.#remember(await this.#client.get(leaseType, this.#namespace, this.#name, signal ? { signal } : {}));
    } catch (error) {
      if (isKubeError(error, "notFound")) return null;
      throw error;
    }
  }

  async create(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseWriteResult> {
    const body: KubeObject = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.#name, namespace: this.#namespace, ...(this.#labels === undefined ? {} : { labels: this.#labels }) },
      spec: specOf(record),
    };
    try {
      return { kind: "ok", resourceVersion: this.#remember(await this.#client.create(leaseType, body, signal ? { signal } : {})).resourceVersion };
    } catch (error) {
      if (isKubeError(error, "alreadyExists") || isKubeError(error, "conflict")) return { kind: "conflict" };
      throw error;
    }
  }

  async update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<LeaseWriteResult> {
    const base = this.#last?.metadata.resourceVersion === resourceVersion ? this.#last : undefined;
    const body: KubeObject = {
      ...base,
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...base?.metadata, name: this.#name, namespace: this.#namespace, resourceVersion },
      spec: { ...(base?.spec as LeaseSpec | undefined), ...specOf(record) },
    };
    try {
      return { kind: "ok", resourceVersion: this.#remember(await this.#client.replace(leaseType, body, signal ? { signal } : {})).resourceVersion };
    } catch (error) {
      // 409: someone wrote since we read. 404: deleted meanwhile; also a lost race for this attempt.
      if (isKubeError(error, "conflict") || isKubeError(error, "notFound")) return { kind: "conflict" };
      throw error;
    }
  }

  #remember(lease: KubeObject): StoredLease {
    const resourceVersion = lease.metadata.resourceVersion;
    if (resourceVersion === undefined || resourceVersion === "") {
      throw new Error(`${this.describe()}: apiserver returned a Lease without metadata.resourceVersion`);
    }
    this.#last = lease;
    const spec = (lease.spec ?? {}) as LeaseSpec;
    return {
      record: {
        holderIdentity: spec.holderIdentity ?? "",
        leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
        acquireTimeMs: parseMicroTime(spec.acquireTime),
        renewTimeMs: parseMicroTime(spec.renewTime),
        leaseTransitions: spec.leaseTransitions ?? 0,
      },
      resourceVersion,
    };
  }
}

function specOf(record: LeaseRecord): LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: formatMicroTime(record.acquireTimeMs),
    renewTime: formatMicroTime(record.renewTimeMs),
    leaseTransitions: record.leaseTransitions,
  };
}
