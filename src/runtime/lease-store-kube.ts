// LeaseStore over a coordination.k8s.io/v1 Lease via @kubernetes/client-node's CoordinationV1Api
// (client-go's resourcelock.LeaseLock). Optimistic concurrency is the apiserver's: a PUT carrying a
// stale metadata.resourceVersion answers 409, which is how a candidate learns it lost a race.
import type { ConfigurationOptions, CoordinationV1Api, ObservableMiddleware, RequestContext, ResponseContext, V1Lease } from "@kubernetes/client-node";
import { ApiException, Observable, V1MicroTime } from "@kubernetes/client-node";
import type { LeaseRecord, LeaseStore, LeaseWriteResult, StoredLease } from "./leaderelection.ts";

/** The calls used, so tests and callers can pass any object with these methods. */
export type LeaseApi = Pick<CoordinationV1Api, "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease">;

export interface KubeLeaseStoreOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** Labels set when the Lease is created. */
  labels?: Record<string, string>;
}

/** Passes an AbortSignal to the underlying fetch, so a hung request is cut at the renew deadline. */
function withSignal(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (signal === undefined) return undefined;
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" };
}

/**
 * MicroTime fields come back as strings at runtime (the generated deserializer has no MicroTime
 * type) although typed as Date subclasses; accept both.
 */
export function parseMicroTime(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? 0 : ms;
  }
  return 0;
}

export function recordFromLease(lease: V1Lease): LeaseRecord {
  const spec = lease.spec;
  return {
    holderIdentity: spec?.holderIdentity ?? "",
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTimeMs: parseMicroTime(spec?.acquireTime),
    renewTimeMs: parseMicroTime(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

export function leaseSpecFromRecord(record: LeaseRecord): NonNullable<V1Lease["spec"]> {
  // V1MicroTime serialises with the microsecond precision the apiserver requires for MicroTime.
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: new V1MicroTime(record.acquireTimeMs),
    renewTime: new V1MicroTime(record.renewTimeMs),
    leaseTransitions: record.leaseTransitions,
  };
}

function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export class KubeLeaseStore implements LeaseStore {
  readonly #api: LeaseApi;
  readonly #namespace: string;
  readonly #name: string;
  readonly #labels: Record<string, string> | undefined;
  /** Last Lease read or written, so updates keep its metadata (labels, annotations, owners). */
  #last: V1Lease | undefined;

  constructor(options: KubeLeaseStoreOptions) {
    this.#api = options.api;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#labels = options.labels;
  }

  describe(): string {
    return `lease ${this.#namespace}/${this.#name}`;
  }

  async get(signal?: AbortSignal): Promise<StoredLease | null> {
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#namespace }, withSignal(signal));
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
    return this.#remember(lease);
  }

  async create(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseWriteResult> {
    const body: V1Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.#name, namespace: this.#namespace, ...(this.#labels === undefined ? {} : { labels: this.#labels }) },
      spec: leaseSpecFromRecord(record),
    };
    try {
      const created = await this.#api.createNamespacedLease({ namespace: this.#namespace, body }, withSignal(signal));
      return { kind: "ok", resourceVersion: this.#remember(created).resourceVersion };
    } catch (error) {
      if (statusCode(error) === 409) return { kind: "conflict" };
      throw error;
    }
  }

  async update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<LeaseWriteResult> {
    const base = this.#last?.metadata?.resourceVersion === resourceVersion ? this.#last : undefined;
    const body: V1Lease = {
      ...base,
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...base?.metadata, name: this.#name, namespace: this.#namespace, resourceVersion },
      spec: { ...base?.spec, ...leaseSpecFromRecord(record) },
    };
    try {
      const replaced = await this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#namespace, body }, withSignal(signal));
      return { kind: "ok", resourceVersion: this.#remember(replaced).resourceVersion };
    } catch (error) {
      // 409: someone wrote since we read. 404: deleted meanwhile; also a lost race for this attempt.
      const code = statusCode(error);
      if (code === 409 || code === 404) return { kind: "conflict" };
      throw error;
    }
  }

  #remember(lease: V1Lease): StoredLease {
    const resourceVersion = lease.metadata?.resourceVersion;
    if (resourceVersion === undefined || resourceVersion === "") {
      throw new Error(`${this.describe()}: apiserver returned a Lease without metadata.resourceVersion`);
    }
    this.#last = lease;
    return { record: recordFromLease(lease), resourceVersion };
  }
}
