// The real CSI snapshot path end to end: the upstream snapshot-controller, csi-snapshotter and
// csi-provisioner against the real kube-apiserver (+ kube-controller-manager binding PVs), the
// project's test CSI driver on a unix socket, and the ARM emulator behind it. It shows the gap aksnap
// exists for: Kubernetes saying readyToUse while the Azure snapshot still copies (Azure/AKS 4555).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.ts";
import { coreEventType as eventType, CSI_SUB as SUB, CSI_RG as RG, DRIVER, pvcType, pvType, startCsiWorld, type CsiWorld } from "../harness/csi-world.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

let w: CsiWorld;

beforeAll(async () => {
  w = await startCsiWorld();
}, 180_000);

afterAll(async () => {
  await w?.stop();
});

const boundClaim = (ns: string): Promise<{ diskId: string }> => w.boundClaim(ns);
const volumeSnapshot = (ns: string, name: string, claim = "data"): Promise<void> => w.volumeSnapshot(ns, name, { claim });
const getVs = (ns: string, name: string) => w.getVs(ns, name);
const contentWithHandle = (ns: string, name: string) => w.contentWithHandle(ns, name);
const armProps = (id: string): Record<string, unknown> => w.armProps(id);

describe("VolumeSnapshot through the real snapshot-controller and csi-snapshotter", () => {
  it("ready-on-provisioned (Azure/AKS 4555): Kubernetes says readyToUse while the Azure snapshot is still copying", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "csi-4555");
    const { diskId } = await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const vs = await eventually(async () => {
      const v = await getVs(ns, "nightly");
      return v.status?.readyToUse === true ? v : undefined;
    }, `${ns}/nightly readyToUse`, 60_000);
    const { content, handle } = await contentWithHandle(ns, "nightly");
    // Both at once: the Kubernetes objects say ready, ARM says the copy is not done.
    expect(vs.status?.readyToUse).toBe(true);
    expect(content.status?.readyToUse).toBe(true);
    expect(handle).toMatch(new RegExp(`^/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft\\.Compute/snapshots/snapshot-${vs.metadata.uid ?? "?"}$`, "i"));
    const az = armProps(handle);
    expect(az["provisioningState"]).toBe("Succeeded");
    expect(az["completionPercent"]).toBeLessThan(100);
    expect(az["snapshotAccessState"]).toBe("Pending");
    expect(az["incremental"]).toBe(true);
    expect((az["creationData"] as { sourceResourceId?: string }).sourceResourceId?.toLowerCase()).toBe(diskId.toLowerCase());
  });

  it("wait-for-copy: readyToUse stays false while the copy is held at 40 %, csi-snapshotter re-asks, and it turns true at 100 %", async () => {
    await w.csi.setBehaviour("wait-for-copy");
    const ns = await createNamespace(kubeConfig(), "csi-wait");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    w.emu.control.setCompletion(handle, { percent: 40, frozen: true });
    const uid = (await getVs(ns, "nightly")).metadata.uid ?? "";
    const asked = async (ready: boolean): Promise<number> =>
      (await w.csi.calls()).filter((c) => c.method === "CreateSnapshot" && c.subject === `snapshot-${uid}` && c.readyToUse === ready).length;
    // csi-snapshotter keeps re-calling CreateSnapshot (idempotent by name) while the driver says not ready.
    await eventually(async () => ((await asked(false)) >= 3 ? true : undefined), "three not-ready CreateSnapshot answers", 60_000);
    expect((await getVs(ns, "nightly")).status?.readyToUse).toBe(false);
    expect(armProps(handle)["completionPercent"]).toBe(40);

    w.emu.control.setCompletion(handle, { percent: 100 });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), `${ns}/nightly readyToUse after the copy`, 60_000);
    expect(await asked(true)).toBeGreaterThanOrEqual(1);
    // One Azure snapshot for all those calls.
    expect(w.emu.control.countRequests({ method: "PUT", path: `snapshots/snapshot-${uid}` })).toBe(1);
  });

  it("instant-access: readyToUse while the Azure snapshot is restorable through its instant-access window, not yet durable", async () => {
    await w.csi.setBehaviour("instant-access");
    const ns = await createNamespace(kubeConfig(), "csi-ia");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), `${ns}/nightly readyToUse`, 60_000);
    const { handle } = await contentWithHandle(ns, "nightly");
    const az = armProps(handle);
    expect(az["snapshotAccessState"]).toBe("InstantAccess");
    expect(az["completionPercent"]).toBeLessThan(100);
    expect((az["creationData"] as { instantAccessDurationMinutes?: number }).instantAccessDurationMinutes).toBe(60);
  });

  it("a VolumeSnapshot of a missing PVC gets SnapshotContentCreationFailed \"cannot get claim from snapshot\" (seed 003)", async () => {
    const ns = await createNamespace(kubeConfig(), "csi-noclaim");
    await volumeSnapshot(ns, "orphan", "does-not-exist");
    const ev = await eventually(async () => {
      const events = (await w.admin.list(eventType, ns)).items as Array<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>;
      return events.find((e) => e.involvedObject?.name === "orphan" && e.reason === "SnapshotContentCreationFailed");
    }, "SnapshotContentCreationFailed event", 60_000);
    expect(ev.message).toContain("cannot get claim from snapshot");
    const vs = await getVs(ns, "orphan");
    expect(vs.status?.readyToUse).not.toBe(true);
    expect(vs.status?.error?.message).toContain("cannot get claim from snapshot");
  });
});

describe("restore through the real csi-provisioner", () => {
  it("a PVC with dataSource VolumeSnapshot is provisioned by CreateVolume: an Azure disk with createOption Copy, hydrating, and the PVC Bound", async () => {
    await w.csi.setBehaviour("wait-for-copy");
    const ns = await createNamespace(kubeConfig(), "csi-restore");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    w.emu.control.setCompletion(handle, { percent: 100 });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), "snapshot ready", 60_000);

    await w.admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "restored", namespace: ns },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: w.storageClass,
        resources: { requests: { storage: "10Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "nightly" },
      },
    });
    const pvc = await eventually(async () => {
      const c = (await w.admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string }; spec: { volumeName?: string } };
      return c.status?.phase === "Bound" ? c : undefined;
    }, `${ns}/restored Bound`, 90_000);
    const pv = (await w.admin.get(pvType, undefined, pvc.spec.volumeName ?? "")) as KubeObject & { spec: { csi?: { driver?: string; volumeHandle?: string } } };
    await w.admin.delete(pvType, undefined, pv.metadata.name).catch(() => undefined);
    expect(pv.spec.csi?.driver).toBe(DRIVER);
    const diskId = pv.spec.csi?.volumeHandle ?? "";
    const disk = armProps(diskId);
    expect(disk["creationData"]).toMatchObject({ createOption: "Copy", sourceResourceId: handle });
    expect(disk["provisioningState"]).toBe("Succeeded");
    // Hydration from the snapshot runs on after the PVC is already Bound.
    expect(disk["completionPercent"]).toBeLessThan(100);
    expect((w.emu.control.getResource(diskId)?.["sku"] as { name?: string }).name).toBe("Premium_LRS");
  });

  it("4555 consequence: a restore from a snapshot Kubernetes calls ready is refused by Azure until the copy completes", async () => {
    await w.csi.setBehaviour("ready-on-provisioned");
    const ns = await createNamespace(kubeConfig(), "csi-early-restore");
    await boundClaim(ns);
    await volumeSnapshot(ns, "nightly");
    const { handle } = await contentWithHandle(ns, "nightly");
    w.emu.control.setCompletion(handle, { percent: 40, frozen: true });
    await eventually(async () => ((await getVs(ns, "nightly")).status?.readyToUse === true ? true : undefined), "snapshot 'ready'", 60_000);
    await w.admin.create(pvcType, {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "restored", namespace: ns },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: w.storageClass,
        resources: { requests: { storage: "10Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "nightly" },
      },
    });
    const refused = await eventually(async () => {
      const events = (await w.admin.list(eventType, ns)).items as Array<KubeObject & { message?: string; involvedObject?: { name?: string } }>;
      return events.find((e) => e.involvedObject?.name === "restored" && (e.message ?? "").includes("OperationNotAllowed"));
    }, "csi-provisioner reporting ARM's refusal", 60_000);
    expect(refused.message).toContain("background copy is at 40%");
    expect(((await w.admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string } }).status?.phase).toBe("Pending");

    w.emu.control.setCompletion(handle, { percent: 100 });
    const pvc = await eventually(async () => {
      const c = (await w.admin.get(pvcType, ns, "restored")) as KubeObject & { status?: { phase?: string }; spec: { volumeName?: string } };
      return c.status?.phase === "Bound" ? c : undefined;
    }, `${ns}/restored Bound once the copy is done`, 90_000);
    await w.admin.delete(pvType, undefined, pvc.spec.volumeName ?? "").catch(() => undefined);
  });
});
