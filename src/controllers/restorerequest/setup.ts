// Wires the RestoreRequest controller into a manager: its informers, its reconciler on the shared
// frame, its event handlers. operator.ts calls this and nothing else for the kind.
import { RestoreRequestKind } from "../../crds/restorerequest.ts";
import type { ExecPort } from "../../kube/exec.ts";
import type { Controller } from "../../runtime/controller.ts";
import { enqueueOwnKey, watch, type SetupDeps, type SetupManager, newController } from "../common/setup.ts";
import type { RestoreArm } from "./facts.ts";
import { BUSY_RECHECK_MS, createRestoreRequestReconciler } from "./reconciler.ts";

export const CONTROLLER_NAME = "restorerequest";

/** `exec`: pods/exec for spec.hooks (shared with the schedules' hooks). */
export function setupRestoreRequestController(manager: SetupManager, deps: SetupDeps<RestoreArm> & { exec?: ExecPort }): Controller {
  const cfg = deps.config;
  const { informers, cache } = watch(manager, deps, RestoreRequestKind.resource);
  const reconcile = createRestoreRequestReconciler({
    client: deps.client,
    cache,
    arm: deps.arm,
    events: deps.events,
    now: () => new Date(deps.clock.now()),
    defaultSubscriptionId: cfg.defaultSubscriptionId,
    allowedScopes: cfg.allowedScopes,
    allowedRegions: cfg.allowedRegions,
    // A NodePoolSnapshot is waited for as long as a snapshot may take to verify.
    snapshotWaitMs: cfg.verificationDeadlineMs,
    restoreDeadlineMs: cfg.restoreDeadlineMs,
    stalledRecheckMs: cfg.stalledRecheckMs,
    // A busy target is looked at again no later than a stalled object.
    busyRecheckMs: Math.min(cfg.stalledRecheckMs, BUSY_RECHECK_MS),
    ...(deps.exec ? { exec: deps.exec } : {}),
  });
  const controller = newController(deps, CONTROLLER_NAME, reconcile, informers);
  enqueueOwnKey(informers, controller);
  manager.addController(controller);
  return controller;
}
