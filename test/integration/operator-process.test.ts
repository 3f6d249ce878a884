// The operator as real processes (dist/src/main.js, as the image runs it): SIGKILL at random points of creation never
// yields a duplicate ARM snapshot and always converges; with two replicas only the lease holder acts.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import type { KubeClient, ResourceType } from "../../src/kube/client.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, type RunningEmulator } from "../emulator/index.ts";
import { freePorts } from "../harness/control-plane.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";
import { OPERATOR_NAMESPACE, spawnOperator, type OperatorEnv, type OperatorProcess, operatorWorld } from "../harness/operator.ts";

const nps = NodePoolSnapshotKind.resource;
const leases: ResourceType = { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true };
const poolId = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;

let emu: RunningEmulator;
let admin: KubeClient;
let env: OperatorEnv;
let dir: string;
const procs: OperatorProcess[] = [];

beforeAll(async () => {
  ({ emu, admin, env, dir } = await operatorWorld("proc", DEMO_SUBSCRIPTION_ID));
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await emu?.stop();
});

function start(extra: Record<string, string>): OperatorProcess {
  const p = spawnOperator(env, extra, dir);
  procs.push(p);
  return p;
}

async function readyCount(ns: string): Promise<number> {
  const list = await admin.list(nps, ns);
  return list.items.filter((o) => {
    const st = o.status as { conditions?: Array<{ type: string; status: string }>; observedGeneration?: number } | undefined;
    return st?.observedGeneration === o.metadata.generation && st?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
  }).length;
}

describe("operator process", () => {
  it("survives SIGKILL at random points of creation: no duplicate ARM snapshot, always converges", async () => {
    const ns = await createNamespace(kubeConfig(), "sigkill");
    const N = 8;
    for (let i = 0; i < N; i++) {
      await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: `k${i}`, namespace: ns }, spec: { source: { agentPoolId: poolId } } });
    }
    // Slow ARM writes widen the window between "PUT sent" and "status written".
    const slow = emu.control.addFault({ method: "PUT", path: `/snapshots/${ns}`, action: { kind: "delay", ms: 400 } });
    const kills: number[] = [];
    const readyAtKill: number[] = [];
    // Any call into the snapshots collection counts: once every object is Ready a new process only
    // LISTs the resource group to verify them, and never GETs or PUTs one of ours by name.
    const armCalls = (): number => emu.control.countRequests({ path: `ContainerService/snapshots($|/${ns})` });
    for (let round = 0; round < 4; round++) {
      const before = armCalls();
      const p = start({ "watch-namespaces": ns, workers: "2" });
      // Kill at a random point after this process started talking to ARM: mid-GET, mid-PUT, or
      // between the PUT and the status write.
      // All Ready already (earlier processes finished): there is nothing left to interrupt, and its
      // first call may be a verification LIST spread over minutes, so the kill goes ahead. (Not its
      // log: a process's "starting aksnap" line was seen missing from the file for a minute.)
      const firstCall = async (): Promise<true | undefined> => (armCalls() > before || (await readyCount(ns)) === N ? true : undefined);
      await eventually(firstCall, "the operator's first ARM call", 60_000, 20);
      const after = Math.floor(Math.random() * 900);
      kills.push(after);
      await new Promise((r) => setTimeout(r, after));
      p.child.kill("SIGKILL");
      await p.exited;
      readyAtKill.push(await readyCount(ns));
    }
    emu.control.removeFault(slow);
    const last = start({ "watch-namespaces": ns, workers: "2", "log-level": "info" });
    await eventually(async () => ((await readyCount(ns)) === N ? true : undefined), `all ${N} Ready after kills at ${kills.join(",")} ms`, 60_000);
    // A killed process may have finished every object already (one reconcile each): the SIGTERM
    // must reach a process that has started (its handler installed), not one still loading Node.
    await eventually(async () => (readFileSync(last.logFile, "utf8").includes("starting aksnap") ? true : undefined), "the last process started", 30_000);
    last.child.kill("SIGTERM");
    expect(await last.exited).toBe(0);

    const ours = emu.control.listResources("aksSnapshot").filter((r) => r.id.toLowerCase().includes(`/snapshots/${ns}`));
    expect(ours).toHaveLength(N);
    // At most one successful PUT per ARM snapshot name: GET-before-PUT found every earlier one.
    const created = emu.control.requests({ method: "PUT", path: `/snapshots/${ns}` }).filter((r) => r.status === 201);
    const perName = new Map<string, number>();
    for (const r of created) perName.set(r.path.toLowerCase(), (perName.get(r.path.toLowerCase()) ?? 0) + 1);
    expect([...perName.values()].every((n) => n === 1)).toBe(true);
    expect(perName.size).toBe(N);
    const events = await admin.list({ group: "", version: "v1", plural: "events", kind: "Event", namespaced: true }, ns);
    const found = events.items.filter((e) => e.reason === "SnapshotFound").length;
    console.log(`[sigkill] ${found} snapshot(s) created by a killed process were found and adopted by its successor; killed ${kills.join(", ")} ms after each process's first ARM call, with ${readyAtKill.join(", ")} of ${N} Ready; ${created.length} creating PUTs for ${N} snapshots`);
  });

  it("with two replicas only the lease holder reconciles; the standby takes over on shutdown", async () => {
    const ns = await createNamespace(kubeConfig(), "replicas");
    const leaseName = `aksnap-test-${ns}`;
    const [m0, m1, h0, h1] = await freePorts(4);
    const ports = [m0, m1];
    const health = [h0, h1];
    const common = { "watch-namespaces": ns, "leader-elect": "true", "leader-election-namespace": OPERATOR_NAMESPACE, "leader-election-id": leaseName };
    const a = start({ ...common, identity: "replica-a", "metrics-bind-address": `127.0.0.1:${ports[0]}`, "health-probe-bind-address": `127.0.0.1:${health[0]}` });
    const b = start({ ...common, identity: "replica-b", "metrics-bind-address": `127.0.0.1:${ports[1]}`, "health-probe-bind-address": `127.0.0.1:${health[1]}` });
    const holder = await eventually(async () => {
      const l = await admin.tryGet(leases, OPERATOR_NAMESPACE, leaseName);
      const h = (l?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
      return h ? h : undefined;
    }, "a lease holder", 30_000);
    for (let i = 0; i < 3; i++) {
      await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: `r${i}`, namespace: ns }, spec: { source: { agentPoolId: poolId } } });
    }
    await eventually(async () => ((await readyCount(ns)) === 3 ? true : undefined), "3 Ready", 30_000);
    // The standby may still be starting (a loaded machine): wait until both serve their endpoints.
    for (const port of [...ports, ...health]) {
      await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/${health.includes(port) ? "healthz" : "metrics"}`).catch(() => undefined))?.ok ? true : undefined), `127.0.0.1:${port} answering`, 30_000);
    }
    const reconciles = async (port: number | undefined): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text
        .split("\n")
        .filter((l) => l.startsWith("controller_runtime_reconcile_total{"))
        .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
    };
    const [leader, standby, leaderPort, standbyPort] = holder === "replica-a" ? [a, b, ports[0], ports[1]] : [b, a, ports[1], ports[0]];
    expect(await reconciles(leaderPort)).toBeGreaterThan(0);
    expect(await reconciles(standbyPort)).toBe(0);
    // aksnap_leader (the AksnapNoLeader alert): 1 on the lease holder only.
    const leaderGauge = async (port: number | undefined): Promise<string | undefined> =>
      (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split("\n").find((l) => l.startsWith("aksnap_leader "));
    expect(await leaderGauge(leaderPort)).toBe("aksnap_leader 1");
    expect(await leaderGauge(standbyPort)).toBe("aksnap_leader 0");
    // Both replicas are alive and ready: a standby with synced caches is ready (rolling updates).
    for (const port of health) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    }
    const metricsText = await (await fetch(`http://127.0.0.1:${leaderPort}/metrics`)).text();
    for (const name of ["controller_runtime_reconcile_time_seconds", "workqueue_depth", "workqueue_queue_duration_seconds", "aksnap_arm_requests_total", "aksnap_arm_request_duration_seconds"]) {
      expect(metricsText).toContain(name);
    }

    leader.child.kill("SIGTERM");
    expect(await leader.exited).toBe(0);
    const next = await eventually(async () => {
      const l = await admin.tryGet(leases, OPERATOR_NAMESPACE, leaseName);
      const h = (l?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
      return h && h !== holder ? h : undefined;
    }, "the standby to take the lease", 30_000);
    expect(next).toBe(holder === "replica-a" ? "replica-b" : "replica-a");
    await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: "after-failover", namespace: ns }, spec: { source: { agentPoolId: poolId } } });
    await eventually(async () => ((await readyCount(ns)) === 4 ? true : undefined), "4 Ready after failover", 30_000);
    expect(await reconciles(standbyPort)).toBeGreaterThan(0);
    expect(await leaderGauge(standbyPort)).toBe("aksnap_leader 1");
    standby.child.kill("SIGTERM");
    expect(await standby.exited).toBe(0);
    expect(readFileSync(leader.logFile, "utf8")).not.toMatch(/"level":50/);
  });
});
