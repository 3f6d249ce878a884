// Wires the NodePoolSnapshot controller into a manager: its informers, its reconciler on the
// shared frame, its event handlers. operator.ts calls this and nothing else for the kind.
import { NodePoolSnapshotKind } from "../../crds/nodepoolsnapshot.ts";
import { Controller } from "../../runtime/controller.ts";
import { armControllerRateLimiter } from "../../runtime/ratelimiter.ts";
import { enqueueOwnKey, watch, type SetupDeps, type SetupManager } from "../common/setup.ts";
import { createNodePoolSnapshotReconciler, SOURCE_BUSY_RECHECK_MS, type NodePoolSnapshotArm } from "./reconciler.ts";

export const CONTROLLER_NAME = "nodepoolsnapshot";

export function setupNodePoolSnapshotController(manager: SetupManager, deps: SetupDeps<NodePoolSnapshotArm>): Controller {
  const cfg = deps.config;
  const { informers, cache } = watch(manager, deps, NodePoolSnapshotKind.resource);
  const reconcile = createNodePoolSnapshotReconciler({
    client: deps.client,
    cache,
    arm: deps.arm,
    events: deps.events,
    defaults: { defaultSubscriptionId: cfg.defaultSubscriptionId },
    allowedScopes: cfg.allowedScopes,
    resyncPeriodMs: cfg.resyncPeriodMs,
    stalledRecheckMs: cfg.stalledRecheckMs,
    now: () => new Date(deps.clock.now()),
    random: Math.random,
    // A busy pool is looked at again no later than a stalled one.
    sourceBusyRecheckMs: Math.min(cfg.stalledRecheckMs, SOURCE_BUSY_RECHECK_MS),
  });
  const controller = new Controller({
    name: CONTROLLER_NAME,
    reconcile,
    logger: deps.log,
    clock: deps.clock,
    maxConcurrentReconciles: cfg.workers,
    reconcileTimeoutMs: cfg.reconcileTimeoutMs,
    // Its retries are caused by ARM (5xx, throttling, conflicts): back off from ≈ 1 s, not 5 ms.
    rateLimiter: armControllerRateLimiter<string>(deps.clock),
    // A standby keeps its queue empty; the start enqueues every cached key.
    initialKeys: () => informers.flatMap((i) => i.keys()),
    queueMetrics: deps.queueMetrics,
    metrics: deps.controllerMetrics,
  });
  enqueueOwnKey(informers, controller);
  manager.addController(controller);
  return controller;
}
