// A cluster without the CSI snapshot CRDs (an add-on: AKS installs them, a bare cluster may not).
// Before, the operator waited for its VolumeSnapshot informers to sync, timed out after 2 min and
// exited: a crash loop that also stopped node-pool snapshots. Now it starts, NodePoolSnapshots go
// Ready, a schedule with volume targets is Stalled APINotServed with a message naming the API, and
// installing the CRDs later lets the schedule go on. Its own control plane: the shared one has them.
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import { SnapshotScheduleKind } from "../../src/crds/snapshotschedule.ts";
import { KubeClient, type KubeObject } from "../../src/kube/client.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { ensureTools, startControlPlane, type ControlPlane } from "../harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../harness/crds.ts";
import { eventually } from "../harness/kube.ts";
import { type InProcessOperator, operatorEnv, repoRoot, startInProcess } from "../harness/operator.ts";

const POOL = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
const NS = "bare";
type Cond = { type: string; status: string; reason?: string; message?: string };
const condition = (o: KubeObject, type: string): Cond | undefined => ((o.status as { conditions?: Cond[] } | undefined)?.conditions ?? []).find((c) => c.type === type);

let cp: ControlPlane;
let emu: RunningEmulator;
let admin: KubeClient;
let op: InProcessOperator | undefined;

beforeAll(async () => {
  const tools = ensureTools("control-plane");
  [cp, emu] = await Promise.all([startControlPlane({ tools }), startEmulator({ world: "demo" })]);
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  admin = new KubeClient(kc);
  await installCrds(admin, crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")));
  await admin.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  const { env } = await operatorEnv(admin, kc, emu, DEMO_SUBSCRIPTION_ID, { prefix: "bare" });
  op = await startInProcess(env, { "watch-namespaces": NS });
});

afterAll(async () => {
  await op?.stop();
  await emu?.stop();
  await cp?.stop();
});

describe("a cluster without the CSI snapshot CRDs", () => {
  it("the operator starts and snapshots node pools; a volume schedule is Stalled APINotServed until the CRDs are installed", async () => {
    await admin.create(NodePoolSnapshotKind.resource, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "NodePoolSnapshot",
      metadata: { name: "pool", namespace: NS },
      spec: { source: { agentPoolId: POOL } },
    });
    await eventually(async () => (condition(await admin.get(NodePoolSnapshotKind.resource, NS, "pool"), "Ready")?.status === "True" ? true : undefined), "NodePoolSnapshot Ready", 60_000);

    const ssch = SnapshotScheduleKind.resource;
    await admin.create(ssch, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "SnapshotSchedule",
      metadata: { name: "vols", namespace: NS, annotations: { "aksnap.io/run-requested-at": "first" } },
      spec: { template: { volumes: { pvcSelector: { matchLabels: { app: "db" } }, volumeSnapshotClassName: "csi" } } },
    });
    const stalled = await eventually(async () => {
      const c = condition(await admin.get(ssch, NS, "vols"), "Stalled");
      return c?.status === "True" ? c : undefined;
    }, "schedule Stalled", 60_000);
    expect(stalled.reason).toBe("APINotServed");
    expect(stalled.message).toContain("/apis/snapshot.storage.k8s.io/v1/volumesnapshots");
    expect(stalled.message).toContain("not served by this cluster");

    // The add-on arrives; the next reconcile (here a new run request) goes past the missing API.
    const tools = ensureTools("control-plane");
    await installCrds(admin, crdFilesIn(tools.snapshotCrds));
    await eventually(async () => {
      await admin.mergePatch(ssch, NS, "vols", { metadata: { annotations: { "aksnap.io/run-requested-at": `again-${Date.now()}` } } });
      const c = condition(await admin.get(ssch, NS, "vols"), "Stalled");
      return c?.status !== "True" ? true : undefined;
    }, "schedule no longer Stalled once the CRDs exist", 60_000, 2000);
    expect(await op?.metric("aksnap_leader")).toBe(1);
  });
});
