// Leader election against the real kube-apiserver: two managers, each with a real informer feeding
// its controller, compete for a coordination.k8s.io/v1 Lease through KubeLeaseStore over
// @kubernetes/client-node's CoordinationV1Api. Only the holder reconciles; a clean stop releases
// the lease and the standby takes over at once; a crashed leader is replaced only after the lease
// expires. Short timings (lease 4 s, renew deadline 3 s, retry 0.5 s) keep it quick.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, objectKey, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { Informer } from "../../src/kube/informer.ts";
import { SystemClock } from "../../src/runtime/clock.ts";
import { Controller } from "../../src/runtime/controller.ts";
import { KubeLeaseStore, recordFromLease } from "../../src/runtime/lease-store-kube.ts";
import { RestLeaseStore } from "../../src/runtime/lease-store-rest.ts";
import { LeaderElectionLostError, LeaderElector, type LeaseStore } from "../../src/runtime/leaderelection.ts";
import { createNoopLogger } from "../../src/runtime/logger.ts";
import { Manager } from "../../src/runtime/manager.ts";
import { done } from "../../src/runtime/result.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

const configMaps: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };
const LEASE_NAME = "aksnap-leader";
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Replica {
  identity: string;
  manager: Manager;
  reconciled: string[];
  lost: LeaderElectionLostError[];
  stop: AbortController;
  running: Promise<void>;
}

const replicas: Replica[] = [];

afterEach(async () => {
  for (const r of replicas.splice(0)) {
    r.stop.abort();
    await r.running.catch(() => {});
  }
});

function startReplica(kc: KubeConfig, namespace: string, identity: string, opts: { releaseOnCancel?: boolean; leaseDurationMs?: number } = {}): Replica {
  const clock = new SystemClock();
  const logger = createNoopLogger();
  const reconciled: string[] = [];
  const lost: LeaderElectionLostError[] = [];
  const informer = new Informer(new KubeClient(kc), configMaps, { namespace });
  const controller = new Controller({
    name: "configmaps",
    logger,
    clock,
    reconcile: async (key) => {
      reconciled.push(key);
      return done();
    },
  });
  const enqueue = (o: KubeObject): void => controller.enqueue(objectKey(o));
  informer.addHandler({ onAdd: enqueue, onUpdate: (_old, o) => enqueue(o), onDelete: enqueue });
  const elector = new LeaderElector({
    store: new KubeLeaseStore({ api: kc.makeApiClient(CoordinationV1Api), namespace, name: LEASE_NAME }),
    identity,
    clock,
    logger,
    leaseDurationMs: opts.leaseDurationMs ?? 4_000,
    renewDeadlineMs: 3_000,
    retryPeriodMs: 500,
  });
  const manager = new Manager({
    logger,
    clock,
    leaderElector: elector,
    healthAddress: { host: "127.0.0.1", port: 0 },
    gracefulShutdownTimeoutMs: 5_000,
    // The default exits the process; the test worker must survive to assert.
    onLeaderElectionLost: (e) => lost.push(e),
    ...(opts.releaseOnCancel === undefined ? {} : { releaseOnCancel: opts.releaseOnCancel }),
  });
  manager.addSource(informer);
  manager.addController(controller);
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  running.catch(() => {});
  const r = { identity, manager, reconciled, lost, stop, running };
  replicas.push(r);
  return r;
}

async function readLease(kc: KubeConfig, namespace: string): Promise<V1Lease> {
  return kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE_NAME, namespace });
}

async function readyz(r: Replica): Promise<number> {
  const port = r.manager.healthAddress()?.port;
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

async function createConfigMap(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.create(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { v: "1" } });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe("leader election on a real Lease", () => {
  it("only the holder reconciles; a clean stop releases the lease and the standby takes over at once", async () => {
    const kc = kubeConfig();
    const client = new KubeClient(kc);
    const ns = await createNamespace(kc, "leader-election");
    await createConfigMap(client, ns, "cm-1");

    // A long lease sets "at once" (a released lease) far apart from "after expiry", whatever the load.
    const lease15s = { leaseDurationMs: 15_000 };
    const a = startReplica(kc, ns, "replica-a", lease15s);
    await a.manager.elected();
    const b = startReplica(kc, ns, "replica-b", lease15s);
    await eventually(async () => (b.manager.phase() === "standby" ? true : undefined), "b standing by");

    const lease = await readLease(kc, ns);
    expect(lease.spec?.holderIdentity).toBe("replica-a");
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    // MicroTime as the apiserver stores it (the generated client hands it back as a string).
    expect(String(lease.spec?.renewTime)).toMatch(MICRO);

    await createConfigMap(client, ns, "cm-2");
    await eventually(async () => (a.reconciled.includes(`${ns}/cm-2`) ? true : undefined), "a reconciles cm-2");
    expect(a.reconciled).toContain(`${ns}/cm-1`);
    await sleep(1_500); // several renew periods: the standby must still not have reconciled anything
    expect(b.reconciled).toEqual([]);
    expect(await readyz(a)).toBe(200);
    expect(await readyz(b)).toBe(200); // standing by is ready

    // The leader renews every retry period (0.5 s): wait for a renewal instead of betting one lands in 1 s.
    const renewedBefore = recordFromLease(await readLease(kc, ns)).renewTimeMs;
    await eventually(async () => (recordFromLease(await readLease(kc, ns)).renewTimeMs > renewedBefore ? true : undefined), "a renewal", 10_000);

    a.stop.abort();
    await a.running;
    const stoppedAt = Date.now();
    await b.manager.elected();
    const takeoverMs = Date.now() - stoppedAt;
    expect(takeoverMs).toBeLessThan(7_500); // a retry period or two, not the 15 s lease expiry

    // The keys b's informer queued while standing by are reconciled once it leads.
    await eventually(async () => (b.reconciled.includes(`${ns}/cm-1`) && b.reconciled.includes(`${ns}/cm-2`) ? true : undefined), "b catches up");
    const aCount = a.reconciled.length;
    await createConfigMap(client, ns, "cm-3");
    await eventually(async () => (b.reconciled.includes(`${ns}/cm-3`) ? true : undefined), "b reconciles cm-3");
    expect(a.reconciled.length).toBe(aCount);

    const after = recordFromLease(await readLease(kc, ns));
    expect(after).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual([]);
  });

  it("a leader that dies without releasing is replaced only after the lease expires", async () => {
    const kc = kubeConfig();
    const ns = await createNamespace(kc, "leader-expiry");
    const a = startReplica(kc, ns, "replica-a", { releaseOnCancel: false });
    await a.manager.elected();
    const b = startReplica(kc, ns, "replica-b");
    await eventually(async () => (b.manager.phase() === "standby" ? true : undefined), "b standing by");

    a.stop.abort();
    await a.running;
    const lastRenew = recordFromLease(await readLease(kc, ns));
    expect(lastRenew.holderIdentity).toBe("replica-a"); // not released
    const diedAt = Date.now();
    await b.manager.elected();
    const waitedMs = Date.now() - diedAt;
    expect(waitedMs).toBeLessThan(4_000 + 2 * 1_100 + 1_000);
    const taken = recordFromLease(await readLease(kc, ns));
    expect(taken).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
    // b counts expiry from when it saw a's last renewal, which is after a stamped it: a whole lease
    // duration between the two stamps, however late this test saw a stop (a wall-clock wait from
    // `diedAt` shrinks by every slow step between a's last renewal and that line).
    expect(taken.acquireTimeMs - lastRenew.renewTimeMs).toBeGreaterThanOrEqual(4_000 - 5);
  });

  it("a leader whose lease is taken over stops its workers within the renew deadline and reports the loss", async () => {
    const kc = kubeConfig();
    const ns = await createNamespace(kc, "leader-lost");
    const a = startReplica(kc, ns, "replica-a");
    await a.manager.elected();
    // Someone else writes the Lease (a split brain seen from a's side): a's next renewal conflicts.
    const api = kc.makeApiClient(CoordinationV1Api);
    const current = await readLease(kc, ns);
    const spec = current.spec ?? {};
    await api.replaceNamespacedLease({
      name: LEASE_NAME,
      namespace: ns,
      body: { ...current, spec: { ...spec, holderIdentity: "intruder", leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } },
    });
    const takenAt = Date.now();
    await expect(a.running).rejects.toBeInstanceOf(LeaderElectionLostError);
    expect(a.lost).toHaveLength(1);
    expect(Date.now() - takenAt).toBeLessThan(500 + 3_000 + 2_000); // retryPeriod + renewDeadline + a loaded machine's slack
    expect(a.manager.isLeader()).toBe(false);
    expect((await readLease(kc, ns)).spec?.holderIdentity).toBe("intruder"); // not overwritten or released
  });

  it.each([
    ["KubeLeaseStore (client-node)", (kc: KubeConfig, ns: string): LeaseStore => new KubeLeaseStore({ api: kc.makeApiClient(CoordinationV1Api), namespace: ns, name: "l" })],
    ["RestLeaseStore (the operator's)", (kc: KubeConfig, ns: string): LeaseStore => new RestLeaseStore({ client: new KubeClient(kc), namespace: ns, name: "l" })],
  ])("%s: AlreadyExists and a stale resourceVersion are conflicts on the real apiserver; times round-trip", async (_n, make) => {
    const kc = kubeConfig();
    const ns = await createNamespace(kc, "lease-store");
    const store = make(kc, ns);
    const now = Date.now();
    const record = { holderIdentity: "x", leaseDurationSeconds: 15, acquireTimeMs: now, renewTimeMs: now, leaseTransitions: 0 };
    expect(await store.get()).toBeNull();
    const created = await store.create(record);
    expect(created.kind).toBe("ok");
    expect(await store.create(record)).toEqual({ kind: "conflict" });
    const rv = created.kind === "ok" ? created.resourceVersion : "";
    const renewed = await store.update({ ...record, renewTimeMs: now + 2_000 }, rv);
    expect(renewed.kind).toBe("ok");
    expect(await store.update({ ...record, renewTimeMs: now + 4_000 }, rv)).toEqual({ kind: "conflict" });
    const got = await store.get();
    expect(got?.record).toEqual({ ...record, renewTimeMs: now + 2_000 });
  });
});
