// The Lease mapping and conflict handling of KubeLeaseStore, over an object with the three
// CoordinationV1Api calls that keeps what it is sent as JSON (the wire form). The real apiserver
// path is covered by test/integration/leader-election.test.ts.
import { ApiException, RequestContext, type V1Lease } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ManualClock, flushMicrotasks } from "../../../src/runtime/clock.ts";
import type { LeaseApi } from "../../../src/runtime/lease-store-kube.ts";
import { KubeLeaseStore, parseMicroTime, recordFromLease } from "../../../src/runtime/lease-store-kube.ts";
import { LeaderElector } from "../../../src/runtime/leaderelection.ts";
import { recordingLogger } from "./support/recording-logger.ts";

const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

class WireLeases {
  stored: Record<string, unknown> | undefined;
  rv = 100;
  signals: (AbortSignal | undefined)[] = [];

  api(): LeaseApi {
    const wire = (lease: V1Lease): Record<string, unknown> => JSON.parse(JSON.stringify(lease)) as Record<string, unknown>;
    const back = (o: Record<string, unknown>): V1Lease => JSON.parse(JSON.stringify(o)) as V1Lease;
    const capture = async (options: unknown): Promise<void> => {
      const mw = (options as { middleware?: { pre(c: RequestContext): { toPromise(): Promise<RequestContext> } }[] } | undefined)?.middleware?.[0];
      if (mw === undefined) return void this.signals.push(undefined);
      const ctx = await mw.pre(new RequestContext("https://x/apis", "GET")).toPromise();
      this.signals.push(ctx.getSignal());
    };
    return {
      readNamespacedLease: async (_p, options) => {
        await capture(options);
        if (this.stored === undefined) throw new ApiException(404, "NotFound", {}, {});
        return back(this.stored);
      },
      createNamespacedLease: async (p, options) => {
        await capture(options);
        if (this.stored !== undefined) throw new ApiException(409, "AlreadyExists", {}, {});
        const o = wire(p.body);
        (o["metadata"] as Record<string, unknown>)["resourceVersion"] = String(++this.rv);
        this.stored = o;
        return back(o);
      },
      replaceNamespacedLease: async (p, options) => {
        await capture(options);
        if (this.stored === undefined) throw new ApiException(404, "NotFound", {}, {});
        const current = (this.stored["metadata"] as Record<string, unknown>)["resourceVersion"];
        if (p.body.metadata?.resourceVersion !== current) throw new ApiException(409, "Conflict", {}, {});
        const o = wire(p.body);
        (o["metadata"] as Record<string, unknown>)["resourceVersion"] = String(++this.rv);
        this.stored = o;
        return back(o);
      },
    };
  }
}

const record = { holderIdentity: "a", leaseDurationSeconds: 15, acquireTimeMs: 1_795_392_000_123, renewTimeMs: 1_795_392_002_456, leaseTransitions: 3 };

describe("KubeLeaseStore", () => {
  it("creates a Lease with MicroTime timestamps and reads it back", async () => {
    const wire = new WireLeases();
    const store = new KubeLeaseStore({ api: wire.api(), namespace: "aksnap-system", name: "aksnap-leader", labels: { app: "aksnap" } });
    expect(store.describe()).toBe("lease aksnap-system/aksnap-leader");
    expect(await store.get()).toBeNull();
    expect(await store.create(record)).toEqual({ kind: "ok", resourceVersion: "101" });
    const spec = wire.stored?.["spec"] as Record<string, unknown>;
    expect(spec["renewTime"]).toMatch(MICRO);
    expect(spec["acquireTime"]).toBe("2026-11-23T00:00:00.123000Z");
    expect(wire.stored).toMatchObject({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { labels: { app: "aksnap" } } });
    expect(await store.get()).toEqual({ record, resourceVersion: "101" });
  });

  it("maps AlreadyExists and stale resourceVersion to conflict", async () => {
    const wire = new WireLeases();
    const store = new KubeLeaseStore({ api: wire.api(), namespace: "ns", name: "l" });
    await store.create(record);
    expect(await store.create(record)).toEqual({ kind: "conflict" });
    expect(await store.update({ ...record, renewTimeMs: record.renewTimeMs + 2000 }, "99")).toEqual({ kind: "conflict" });
    expect(await store.update({ ...record, renewTimeMs: record.renewTimeMs + 2000 }, "101")).toEqual({ kind: "ok", resourceVersion: "102" });
  });

  it("keeps metadata it read (labels, annotations) when updating", async () => {
    const wire = new WireLeases();
    const store = new KubeLeaseStore({ api: wire.api(), namespace: "ns", name: "l", labels: { keep: "me" } });
    await store.create(record);
    (wire.stored?.["metadata"] as Record<string, unknown>)["annotations"] = { note: "x" };
    const got = await store.get();
    await store.update({ ...record, holderIdentity: "" }, got?.resourceVersion ?? "");
    expect(wire.stored?.["metadata"]).toMatchObject({ labels: { keep: "me" }, annotations: { note: "x" } });
    expect((wire.stored?.["spec"] as Record<string, unknown>)["holderIdentity"]).toBe("");
  });

  it("rethrows other API errors", async () => {
    const api: LeaseApi = {
      readNamespacedLease: async () => {
        throw new ApiException(403, "Forbidden", {}, {});
      },
      createNamespacedLease: async () => {
        throw new ApiException(500, "boom", {}, {});
      },
      replaceNamespacedLease: async () => {
        throw new ApiException(500, "boom", {}, {});
      },
    };
    const store = new KubeLeaseStore({ api, namespace: "ns", name: "l" });
    await expect(store.get()).rejects.toBeInstanceOf(ApiException);
    await expect(store.create(record)).rejects.toBeInstanceOf(ApiException);
    await expect(store.update(record, "1")).rejects.toBeInstanceOf(ApiException);
  });

  it("passes the caller's AbortSignal to the request", async () => {
    const wire = new WireLeases();
    const store = new KubeLeaseStore({ api: wire.api(), namespace: "ns", name: "l" });
    const ac = new AbortController();
    await store.get(ac.signal);
    await store.get();
    expect(wire.signals).toEqual([ac.signal, undefined]);
  });

  it("drives a LeaderElector: acquire, standby, release, takeover", async () => {
    const wire = new WireLeases();
    const clock = new ManualClock(1_795_392_000_000);
    const mk = (identity: string): LeaderElector =>
      new LeaderElector({ store: new KubeLeaseStore({ api: wire.api(), namespace: "ns", name: "l" }), identity, clock, logger: recordingLogger(), random: () => 0 });
    const a = mk("a");
    const b = mk("b");
    expect(await a.acquire(new AbortController().signal)).toBe(true);
    const stopB = new AbortController();
    let bLeads = false;
    void b.acquire(stopB.signal).then((ok) => (bLeads = ok));
    await clock.advance(4_000);
    expect(bLeads).toBe(false);
    expect(await a.release()).toBe(true);
    await clock.advance(2_000);
    await flushMicrotasks();
    expect(bLeads).toBe(true);
    expect(recordFromLease(wire.stored as V1Lease)).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });
});

describe("parseMicroTime", () => {
  it.each<[unknown, number]>([
    ["2026-11-23T00:00:00.123456Z", 1_795_392_000_123],
    [new Date(5), 5],
    [undefined, 0],
    ["garbage", 0],
  ])("%o → %i", (input, ms) => {
    expect(parseMicroTime(input)).toBe(ms);
  });
});
