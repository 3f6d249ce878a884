// What every controller's `setup(manager, deps)` receives (controller-runtime's SetupWithManager):
// the shared clients and metric sinks are built once by the operator; each controller folder
// registers its own informers, handlers and controller, so operator.ts only composes.
import type { Logger } from "pino";
import type { Config } from "../../config.ts";
import { objectKey, type KubeClient, type KubeObject, type ResourceType } from "../../kube/client.ts";
import { asSink, BackgroundEventRecorder, type EventRecorder } from "../../kube/events.ts";
import { Informer } from "../../kube/informer.ts";
import { changedBeyondStatus, type ChangeFilter } from "../../kube/predicates.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ControllerMetrics, type ControllerOptions, type Reconciler } from "../../runtime/controller.ts";
import type { Runnable } from "../../runtime/manager.ts";
import type { WorkQueueMetricsProvider } from "../../runtime/workqueue.ts";

export interface SetupDeps<Arm> {
  client: KubeClient;
  config: Config;
  log: Logger;
  clock: Clock;
  events: EventRecorder;
  arm: Arm;
  queueMetrics: WorkQueueMetricsProvider;
  controllerMetrics: ControllerMetrics;
}

/** The manager surface a controller's setup uses. */
export interface SetupManager {
  addSource(source: Informer): void;
  addController(controller: Controller): void;
  addRunnable(runnable: Runnable): void;
}

/** A typed cache over one informer per watched namespace (or one cluster-wide). */
export interface WatchedKind {
  informers: Informer[];
  cache: { get(key: string): KubeObject | undefined };
}

/**
 * Informers already registered with a manager, by kind and namespace: controllers watching the same
 * kind share one cache and one list/watch (client-go's shared informers). Two NodePoolSnapshot caches
 * (its controller's and the schedules' children) held every object twice: ≈ 20 MiB per 10,000.
 */
const registered = new WeakMap<SetupManager, Map<string, Informer>>();

export function watch(
  manager: SetupManager,
  deps: Pick<SetupDeps<unknown>, "client" | "config" | "log">,
  rt: ResourceType,
  opts: { optional?: boolean } = {},
): WatchedKind {
  const nss = deps.config.watchNamespaces.length > 0 ? deps.config.watchNamespaces : [undefined];
  let known = registered.get(manager);
  if (!known) registered.set(manager, (known = new Map()));
  const informers = nss.map((ns) => {
    const id = `${rt.group}/${rt.version}/${rt.plural}@${ns ?? "*"}`;
    let inf = known.get(id);
    if (!inf) {
      inf = new Informer(deps.client, rt, {
        ...opts,
        ...(ns ? { namespace: ns } : {}),
        log: deps.log.child({ informer: rt.plural, namespace: ns ?? "*" }),
      });
      known.set(id, inf);
      manager.addSource(inf);
    }
    return inf;
  });
  return {
    informers,
    cache: {
      get(key: string): KubeObject | undefined {
        for (const inf of informers) {
          const o = inf.get(key);
          if (o) return o;
        }
        return undefined;
      },
    },
  };
}

/**
 * Enqueue the object's own key on add, delete, and updates beyond status (our own status writes do
 * not loop; with `filter.ownFinalizer`, neither does our own finalizer add).
 */
export function enqueueOwnKey(informers: readonly Informer[], controller: Controller, filter: ChangeFilter = {}): void {
  for (const inf of informers) {
    inf.addHandler({
      onAdd: (o) => controller.enqueue(objectKey(o)),
      onUpdate: (old, o) => {
        if (changedBeyondStatus(old, o, filter)) controller.enqueue(objectKey(o));
      },
      onDelete: (o) => controller.enqueue(objectKey(o)),
    });
  }
}

/**
 * The Controller every kind runs: the operator's workers, reconcile timeout and metrics, and a standby
 * that keeps its queue empty (the start enqueues every key cached by `informers`).
 */
export function newController(
  deps: Pick<SetupDeps<unknown>, "config" | "log" | "clock" | "queueMetrics" | "controllerMetrics">,
  name: string,
  reconcile: Reconciler,
  informers: readonly Informer[],
  extra: Pick<ControllerOptions, "rateLimiter"> = {},
): Controller {
  return new Controller({
    name,
    reconcile,
    logger: deps.log,
    clock: deps.clock,
    maxConcurrentReconciles: deps.config.workers,
    reconcileTimeoutMs: deps.config.reconcileTimeoutMs,
    queueMetrics: deps.queueMetrics,
    metrics: deps.controllerMetrics,
    initialKeys: () => informers.flatMap((i) => i.keys()),
    ...extra,
  });
}

/**
 * The controller's events off its reconciles' path (kube/events.ts BackgroundEventRecorder): a
 * worker is free once its status is written. Registered as a runnable, so a stop delivers them.
 */
export function backgroundEvents(manager: SetupManager, deps: Pick<SetupDeps<unknown>, "events" | "log">, name: string): EventRecorder {
  const log = deps.log.child({ controller: name });
  const events = new BackgroundEventRecorder(asSink(deps.events), {
    onDrop: (dropped) => log.warn({ dropped }, "event queue full: events dropped (the API server is not keeping up)"),
  });
  manager.addRunnable({ name: `${name}-events`, needLeaderElection: false, start: (signal) => events.start(signal) });
  return events;
}
