// Wires the VolumeSnapshot verifier into a manager: informers for VolumeSnapshots (per watched
// namespace), their contents and classes (cluster-scoped), the shared per-handle ARM reads, metrics.
import type { Registry } from "prom-client";
import { parseComputeSnapshotId } from "../../azure/ids.ts";
import type { ComputeSnapshotsPort } from "../../azure/ports/computeSnapshots.ts";
import { Informer } from "../../kube/informer.ts";
import type { Controller } from "../../runtime/controller.ts";
import { watch, type SetupDeps, type SetupManager, newController } from "../common/setup.ts";
import { promVerifierMetrics } from "./metrics.ts";
import { HandleReads, type ReadHandle } from "./reads.ts";
import { createVerifierReconciler } from "./reconciler.ts";
import { volumeSnapshotClassType, volumeSnapshotContentType, volumeSnapshotType } from "./types.ts";
import { verifierHandlers } from "./watch.ts";

export const VERIFIER_NAME = "volumesnapshot-verifier";

export interface VerifierArm {
  computeSnapshots: ComputeSnapshotsPort;
}

export function setupVerifier(manager: SetupManager, deps: SetupDeps<VerifierArm> & { registry?: Registry }): Controller {
  const cfg = deps.config;
  // The CSI snapshot CRDs are an add-on (AKS installs them; a bare cluster may not): without them
  // the operator still starts, node-pool snapshots work and the verifier idles until they appear.
  const snapshots = watch(manager, deps, volumeSnapshotType, { optional: true });
  const clusterScoped = (rt: typeof volumeSnapshotContentType): Informer => {
    const inf = new Informer(deps.client, rt, { optional: true, log: deps.log.child({ informer: rt.plural }) });
    manager.addSource(inf);
    return inf;
  };
  const contents = clusterScoped(volumeSnapshotContentType);
  const classes = clusterScoped(volumeSnapshotClassType);
  const read: ReadHandle = async (handle, signal) => {
    const ref = parseComputeSnapshotId(handle);
    if (ref === undefined) throw new Error(`not a Compute snapshot id: ${handle}`);
    return deps.arm.computeSnapshots.get(ref, { signal });
  };
  const reconcile = createVerifierReconciler({
    client: deps.client,
    snapshots: snapshots.cache,
    contents,
    classes,
    reads: new HandleReads(read, () => deps.clock.now()),
    events: deps.events,
    allowedScopes: cfg.allowedScopes,
    policy: { all: cfg.verifyAllVolumeSnapshots },
    pollIntervalMs: cfg.verificationPollIntervalMs,
    deadlineMs: cfg.verificationDeadlineMs,
    now: () => new Date(deps.clock.now()),
    random: Math.random,
    ...(deps.registry ? { metrics: promVerifierMetrics(deps.registry) } : {}),
  });
  const controller = newController(deps, VERIFIER_NAME, reconcile, snapshots.informers);
  const all = () => snapshots.informers.flatMap((i) => i.list());
  const h = verifierHandlers((k) => controller.enqueue(k), all);
  for (const inf of snapshots.informers) inf.addHandler(h.snapshots);
  contents.addHandler(h.contents);
  classes.addHandler(h.classes);
  manager.addController(controller);
  return controller;
}
