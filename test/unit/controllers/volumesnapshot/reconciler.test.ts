// The verifier's decisions over in-memory caches and a counted ARM read: when it reads Azure, what
// it records, and when it looks again. The real controllers and ARM are in the integration tests.
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { CopyProgress } from "../../../../src/azure/provisioning.ts";
import type { ArmResult } from "../../../../src/azure/result.ts";
import { HandleReads } from "../../../../src/controllers/volumesnapshot/reads.ts";
import { createVerifierReconciler } from "../../../../src/controllers/volumesnapshot/reconciler.ts";
import { KubeClient, type KubeObject, type RequestOptions } from "../../../../src/kube/client.ts";
import type { EventKind, EventRecorder } from "../../../../src/kube/events.ts";
import type { ReconcileContext } from "../../../../src/runtime/controller.ts";
import { createNoopLogger } from "../../../../src/runtime/logger.ts";

const H = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snapshot-u1";
const T0 = Date.parse("2026-11-28T12:00:00Z");

/** The VolumeSnapshot as stored; annotation merge patches (the only write) apply to it. */
class VsKube extends KubeClient {
  vs: KubeObject;
  patches: Array<Record<string, string | null>> = [];
  constructor(vs: KubeObject) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "f", server: "https://fake.invalid" }],
      users: [{ name: "f" }],
      contexts: [{ name: "f", cluster: "f", user: "f" }],
      currentContext: "f",
    });
    super(kc);
    this.vs = vs;
  }
  override request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    if (method !== "PATCH" || !path.endsWith("/namespaces/app/volumesnapshots/data-1")) return Promise.reject(new Error(`unexpected ${method} ${path}`));
    const patch = (opts.body as { metadata: { annotations: Record<string, string | null> } }).metadata.annotations;
    this.patches.push(patch);
    const annotations: Record<string, string> = { ...(this.vs.metadata.annotations ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    }
    this.vs = { ...this.vs, metadata: { ...this.vs.metadata, annotations } };
    return Promise.resolve(this.vs);
  }
}

class Events implements EventRecorder {
  reasons: string[] = [];
  record(_o: KubeObject, _t: EventKind, reason: string): Promise<void> {
    this.reasons.push(reason);
    return Promise.resolve();
  }
}

function world(opts: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  let t = T0;
  const azure: { pct: number; reads: number } = { pct: 40, reads: 0 };
  const vs: KubeObject = {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: {
      namespace: "app",
      name: "data-1",
      uid: "u1",
      creationTimestamp: new Date(T0 - 60_000).toISOString(),
      labels: opts.labels ?? { "aksnap.io/verify": "true" },
      annotations: opts.annotations ?? {},
    },
    spec: { source: { persistentVolumeClaimName: "data" }, volumeSnapshotClassName: "csi-azuredisk-vsc" },
    status: { boundVolumeSnapshotContentName: "snapcontent-u1", readyToUse: true },
  };
  const content: KubeObject = {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotContent",
    metadata: { name: "snapcontent-u1" },
    spec: { driver: "disk.csi.azure.com", volumeSnapshotRef: { namespace: "app", name: "data-1" } },
    status: { snapshotHandle: H, readyToUse: true },
  };
  const kube = new VsKube(vs);
  const events = new Events();
  const now = (): number => t;
  const read = (): Promise<ArmResult<CopyProgress>> => {
    azure.reads++;
    return Promise.resolve({ ok: true, value: { provisioningState: "succeeded", completionPercent: azure.pct } });
  };
  const build = () =>
    createVerifierReconciler({
      client: kube,
      snapshots: { get: (k) => (k === "app/data-1" ? kube.vs : undefined) },
      contents: { get: (n) => (n === "snapcontent-u1" ? content : undefined) },
      classes: { get: () => undefined },
      reads: new HandleReads(read, now),
      events,
      allowedScopes: undefined,
      policy: { all: false },
      pollIntervalMs: 15_000,
      deadlineMs: 30 * 60_000,
      now: () => new Date(t),
      random: () => 0,
    });
  return { kube, events, azure, build, advance: (ms: number) => (t += ms) };
}

const ctx: ReconcileContext = { signal: new AbortController().signal, log: createNoopLogger(), reconcileId: "r" };

describe("verifier reconciler", () => {
  it("4555: Kubernetes ready at 40 % → Waiting with the percent; at 100 % → Verified, then no more ARM reads", async () => {
    const w = world();
    const reconcile = w.build();
    expect(await reconcile("app/data-1", ctx)).toEqual({ kind: "requeueAfter", afterMs: 15_000 });
    expect(w.kube.vs.metadata.annotations).toMatchObject({ "aksnap.io/verified": "false", "aksnap.io/completion-percent": "40", "aksnap.io/verification": "Waiting" });
    // The watch event of our own patch brings the key back early: no second read.
    w.advance(1_000);
    expect(await reconcile("app/data-1", ctx)).toEqual({ kind: "requeueAfter", afterMs: 14_000 });
    expect(w.azure.reads).toBe(1);
    w.azure.pct = 100;
    w.advance(14_000);
    expect(await reconcile("app/data-1", ctx)).toEqual({ kind: "done" });
    expect(w.kube.vs.metadata.annotations).toMatchObject({ "aksnap.io/verified": "true", "aksnap.io/completion-percent": "100", "aksnap.io/verified-handle": H });
    expect(w.events.reasons).toEqual(["VerificationWaiting", "SnapshotVerified"]);
    w.advance(3_600_000);
    expect(await reconcile("app/data-1", ctx)).toEqual({ kind: "done" });
    expect(w.azure.reads).toBe(2);
  });

  it("a restarted process resumes the cadence from the annotations: no read before the interval", async () => {
    const w = world();
    await w.build()("app/data-1", ctx);
    w.advance(5_000);
    const restarted = w.build();
    expect(await restarted("app/data-1", ctx)).toEqual({ kind: "requeueAfter", afterMs: 10_000 });
    expect(w.azure.reads).toBe(1);
    w.advance(10_000);
    await restarted("app/data-1", ctx);
    expect(w.azure.reads).toBe(2);
  });

  it("an unlabelled foreign snapshot is left alone: no read, no write", async () => {
    const w = world({ labels: { "velero.io/backup-name": "b" } });
    expect(await w.build()("app/data-1", ctx)).toEqual({ kind: "done" });
    expect(w.azure.reads).toBe(0);
    expect(w.kube.patches).toEqual([]);
  });

  it("progress without a transition writes the percent but no Event", async () => {
    const w = world();
    const reconcile = w.build();
    await reconcile("app/data-1", ctx);
    w.azure.pct = 70;
    w.advance(15_000);
    await reconcile("app/data-1", ctx);
    expect(w.kube.vs.metadata.annotations?.["aksnap.io/completion-percent"]).toBe("70");
    expect(w.events.reasons).toEqual(["VerificationWaiting"]);
  });
});
