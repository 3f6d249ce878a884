// Binds the runtime's metric interfaces to prom-client with controller-runtime's names, labels and
// buckets, so existing controller-runtime dashboards and alerts work unchanged. Metrics are
// registered on the registry passed in (never prom-client's global one).
import type { Registry } from "prom-client";
import { Counter, Gauge, Histogram } from "prom-client";
import type { ControllerMetrics } from "./controller.ts";
import type { ReconcileOutcomeLabel } from "./result.ts";
import type { QueueMetrics, UnfinishedWork, WorkQueueMetricsProvider } from "./workqueue.ts";

// controller-runtime pkg/metrics/workqueue.go: ExponentialBuckets(10e-9, 10, 12).
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
// controller-runtime pkg/internal/controller/metrics: reconcile_time_seconds buckets.
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const RESULTS: readonly ReconcileOutcomeLabel[] = ["success", "error", "requeue", "requeue_after"];

/** Workqueue metrics; `name` and `controller` labels both carry the queue name, as in controller-runtime. */
export function promWorkQueueMetrics(registry: Registry): WorkQueueMetricsProvider {
  const labelNames = ["name", "controller"] as const;
  const registers = [registry];
  const queues = new Map<string, UnfinishedWork>();
  const depth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames, registers });
  const adds = new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames, registers });
  const queueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames,
    buckets: QUEUE_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes.",
    labelNames,
    buckets: QUEUE_BUCKETS,
    registers,
  });
  const retries = new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames, registers });
  // Computed at scrape time instead of by a ticker (client-go updates these every 500ms).
  new Gauge({
    name: "workqueue_unfinished_work_seconds",
    help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads.",
    labelNames,
    registers,
    collect() {
      for (const [name, u] of queues) this.set({ name, controller: name }, u.unfinishedWorkSeconds());
    },
  });
  new Gauge({
    name: "workqueue_longest_running_processor_seconds",
    help: "How many seconds has the longest running processor for workqueue been running.",
    labelNames,
    registers,
    collect() {
      for (const [name, u] of queues) this.set({ name, controller: name }, u.longestRunningProcessorSeconds());
    },
  });

  return {
    forQueue(name: string, unfinished: UnfinishedWork): QueueMetrics {
      queues.set(name, unfinished);
      const labels = { name, controller: name };
      depth.set(labels, 0);
      adds.inc(labels, 0);
      retries.inc(labels, 0);
      return {
        depth: (n) => depth.set(labels, n),
        add: () => adds.inc(labels),
        queueDuration: (s) => queueDuration.observe(labels, s),
        workDuration: (s) => workDuration.observe(labels, s),
        retry: () => retries.inc(labels),
      };
    },
  };
}

export function promControllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  const total = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"] as const,
    registers,
  });
  const errors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"] as const,
    registers,
  });
  const terminal = new Counter({
    name: "controller_runtime_terminal_reconcile_errors_total",
    help: "Total number of terminal reconciliation errors per controller",
    labelNames: ["controller"] as const,
    registers,
  });
  const time = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: "controller_runtime_max_concurrent_reconciles",
    help: "Maximum number of concurrent reconciles per controller",
    labelNames: ["controller"] as const,
    registers,
  });
  const active = new Gauge({
    name: "controller_runtime_active_workers",
    help: "Number of currently used workers per controller",
    labelNames: ["controller"] as const,
    registers,
  });
  return {
    reconcileTotal: (controller, result) => total.inc({ controller, result }),
    reconcileError: (controller) => errors.inc({ controller }),
    terminalReconcileError: (controller) => terminal.inc({ controller }),
    reconcileTime: (controller, seconds) => time.observe({ controller }, seconds),
    activeWorkers: (controller, workers) => active.set({ controller }, workers),
    controllerStarted: (controller, workers) => {
      // Series exist from the start (as controller-runtime does) so rate() and absent() behave.
      for (const result of RESULTS) total.inc({ controller, result }, 0);
      errors.inc({ controller }, 0);
      terminal.inc({ controller }, 0);
      maxConcurrent.set({ controller }, workers);
    },
  };
}

/**
 * `aksnap_leader`: 1 on the replica doing leader-only work, 0 on standbys (and before the first
 * election). Read at scrape time, so it never lags the elector. Alerting on
 * `max(aksnap_leader) < 1` catches both "every replica is down" and "nobody holds the lease".
 */
export function promLeaderGauge(registry: Registry, isLeader: () => boolean): void {
  new Gauge({
    name: "aksnap_leader",
    help: "1 if this replica is the leader (runs the controllers), 0 if it is a standby",
    registers: [registry],
    collect() {
      this.set(isLeader() ? 1 : 0);
    },
  });
}
