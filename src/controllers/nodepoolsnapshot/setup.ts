// Wires the NodePoolSnapshot controller into a manager: its informers, its reconciler on the
// shared frame, its event handlers. operator.ts calls this and nothing else for the kind.
import { NodePoolSnapshotKind } from "../../crds/nodepoolsnapshot.ts";
import type { Controller } from "../../runtime/controller.ts";
import { armControllerRateLimiter } from "../../runtime/ratelimiter.ts";
import { backgroundEvents, enqueueOwnKey, watch, type SetupDeps, type SetupManager, newController } from "../common/setup.ts";
import { createNodePoolSnapshotReconciler, FINALIZER, SOURCE_BUSY_RECHECK_MS, type NodePoolSnapshotArm } from "./reconciler.ts";

export const CONTROLLER_NAME = "nodepoolsnapshot";

export function setupNodePoolSnapshotController(manager: SetupManager, deps: SetupDeps<NodePoolSnapshotArm>): Controller {
  const cfg = deps.config;
  const { informers, cache } = watch(manager, deps, NodePoolSnapshotKind.resource);
  const reconcile = createNodePoolSnapshotReconciler({
    client: deps.client,
    cache,
    arm: deps.arm,
    // A batch of creates: the Created event must not hold the worker for another round trip.
    events: backgroundEvents(manager, deps, CONTROLLER_NAME),
    defaults: { defaultSubscriptionId: cfg.defaultSubscriptionId },
    allowedScopes: cfg.allowedScopes,
    resyncPeriodMs: cfg.resyncPeriodMs,
    stalledRecheckMs: cfg.stalledRecheckMs,
    now: () => new Date(deps.clock.now()),
    random: Math.random,
    // A busy pool is looked at again no later than a stalled one.
    sourceBusyRecheckMs: Math.min(cfg.stalledRecheckMs, SOURCE_BUSY_RECHECK_MS),
  });
  const controller = newController(deps, CONTROLLER_NAME, reconcile, informers, { rateLimiter: armControllerRateLimiter<string>(deps.clock) });
  // The finalizer is added in the reconcile that goes on to call ARM: its watch event must not
  // start another reconcile past that one's Retry-After.
  enqueueOwnKey(informers, controller, { ownFinalizer: FINALIZER });
  manager.addController(controller);
  return controller;
}
