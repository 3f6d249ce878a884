// Kubernetes Events (core/v1, what `kubectl describe` shows) for each lifecycle step and failure.
// Repeats of the same event on the same object are aggregated by bumping `count`, like client-go's
// recorder, so a retry loop does not flood etcd. Recording never fails a reconcile.
import { randomBytes } from "node:crypto";
import type { CallOptions, KubeClient, KubeObject, ResourceType } from "./client.ts";
import { isKubeError } from "./errors.ts";

export const eventType: ResourceType = { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true };

export type EventKind = "Normal" | "Warning";

export interface EventRecorder {
  /** `opts` bounds the write (the reconcile's signal); recording never fails the caller. */
  record(obj: KubeObject, type: EventKind, reason: string, message: string, opts?: CallOptions): Promise<void>;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly now: () => Date;
  private readonly seen = new Map<string, Seen>();
  private readonly onError: (e: unknown) => void;

  constructor(client: KubeClient, component: string, opts: { now?: () => Date; onError?: (e: unknown) => void } = {}) {
    this.client = client;
    this.component = component;
    this.now = opts.now ?? (() => new Date());
    this.onError = opts.onError ?? (() => {});
  }

  async record(obj: KubeObject, type: EventKind, reason: string, message: string, opts: CallOptions = {}): Promise<void> {
    const namespace = obj.metadata.namespace ?? "default";
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const ts = this.now().toISOString().replace(/\.\d{3}Z$/, "Z");
    try {
      const prev = this.seen.get(key);
      if (prev) {
        prev.count++;
        try {
          await this.client.mergePatch(eventType, prev.namespace, prev.name, { count: prev.count, lastTimestamp: ts }, undefined, undefined, opts);
          return;
        } catch (e) {
          if (!isKubeError(e, "notFound")) throw e;
          this.seen.delete(key); // expired by the apiserver's event TTL: start a new one
        }
      }
      const name = `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString("hex")}`;
      await this.client.create(eventType, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      }, opts);
      if (this.seen.size > 4096) this.seen.clear();
      this.seen.set(key, { name, namespace, count: 1, firstTimestamp: ts });
    } catch (e) {
      this.onError(e);
    }
  }
}
