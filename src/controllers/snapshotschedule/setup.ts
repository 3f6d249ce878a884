// Wires the SnapshotSchedule controller into a manager: its informers, its reconciler on the shared
// frame, its event handlers and metrics. operator.ts calls this and nothing else for the kind.
import type { Registry } from "prom-client";
import { LABEL_SCHEDULE } from "../../crds/names.ts";
import { NodePoolSnapshotKind } from "../../crds/nodepoolsnapshot.ts";
import { SnapshotScheduleKind } from "../../crds/snapshotschedule.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { ExecPort } from "../../kube/exec.ts";
import type { Controller } from "../../runtime/controller.ts";
import { enqueueOwnKey, watch, type SetupDeps, type SetupManager, newController } from "../common/setup.ts";
import { promScheduleMetrics } from "./metrics.ts";
import { createSnapshotScheduleReconciler, type ScheduleArm } from "./reconciler.ts";
import { sharedTagListing } from "./tag-listing.ts";

export const CONTROLLER_NAME = "snapshotschedule";

/** How long one listing of a snapshot resource group answers every schedule's retention. */
export const TAG_LISTING_MAX_AGE_MS = 5_000;

/** A child's schedule key from its label (names over 63 characters are hashed there: those are found by polling). */
export function parentKey(o: KubeObject): string | undefined {
  const name = o.metadata.labels?.[LABEL_SCHEDULE];
  return name && o.metadata.namespace ? `${o.metadata.namespace}/${name}` : undefined;
}

/** `registry`: where the schedule metrics register (the operator's); omitted, no metrics. */
export function setupSnapshotScheduleController(manager: SetupManager, deps: SetupDeps<ScheduleArm> & { registry?: Registry; exec?: ExecPort }): Controller {
  const cfg = deps.config;
  const { informers, cache } = watch(manager, deps, SnapshotScheduleKind.resource);
  // Child NodePoolSnapshots: read from this cache, and their changes wake the run at once.
  const children = watch(manager, deps, NodePoolSnapshotKind.resource);
  const reconcile = createSnapshotScheduleReconciler({
    client: deps.client,
    cache,
    nodePoolCache: children.cache,
    // Retention of many schedules sharing a snapshot resource group reads it once per few seconds.
    arm: { ...deps.arm, computeSnapshots: sharedTagListing(deps.arm.computeSnapshots, { now: () => performance.now(), maxAgeMs: TAG_LISTING_MAX_AGE_MS }) },
    events: deps.events,
    now: () => new Date(deps.clock.now()),
    defaultSubscriptionId: cfg.defaultSubscriptionId,
    allowedScopes: cfg.allowedScopes,
    ...(deps.registry ? { metrics: promScheduleMetrics(deps.registry) } : {}),
    ...(deps.exec ? { exec: deps.exec } : {}),
    log: deps.log,
  });
  const controller = newController(deps, CONTROLLER_NAME, reconcile, informers);
  enqueueOwnKey(informers, controller);
  const wake = (o: KubeObject): void => {
    const key = parentKey(o);
    if (key) controller.enqueue(key);
  };
  for (const inf of children.informers) inf.addHandler({ onAdd: wake, onUpdate: (_old, o) => wake(o), onDelete: wake });
  manager.addController(controller);
  return controller;
}
