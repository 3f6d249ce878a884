// Prometheus metrics of schedules: when each last succeeded and runs next (for a "no verified
// backup in 2× the interval" alert), runs by phase, and the snapshots retention keeps, by state.
import { Counter, Gauge, type Registry } from "prom-client";
import type { ScheduleMetrics } from "./reconciler.ts";
import type { Fields } from "./status.ts";

const seconds = (t: string | undefined): number | undefined => (t === undefined ? undefined : Date.parse(t) / 1000);

export function promScheduleMetrics(registry: Registry): ScheduleMetrics {
  const perKey = new Map<string, Fields>();
  const labelsOf = (key: string): { namespace: string; name: string } => {
    const i = key.indexOf("/");
    return { namespace: key.slice(0, i), name: key.slice(i + 1) };
  };
  new Gauge({
    name: "aksnap_schedule_last_success_timestamp_seconds",
    help: "When the schedule's last successful run completed (Unix seconds)",
    labelNames: ["namespace", "name"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, f] of perKey) {
        const v = seconds(f.lastSuccessfulTime);
        if (v !== undefined) this.set(labelsOf(k), v);
      }
    },
  });
  new Gauge({
    name: "aksnap_schedule_next_run_timestamp_seconds",
    help: "The schedule's next scheduled run (Unix seconds); absent for on-demand-only or suspended schedules",
    labelNames: ["namespace", "name"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, f] of perKey) {
        const v = seconds(f.nextScheduleTime);
        if (v !== undefined) this.set(labelsOf(k), v);
      }
    },
  });
  new Gauge({
    name: "aksnap_schedule_snapshots",
    help: "Snapshots retention kept after the schedule's last completed run, by state",
    labelNames: ["namespace", "name", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, f] of perKey) {
        const c = f.counts;
        if (!c) continue;
        const l = labelsOf(k);
        this.set({ ...l, state: "Verified" }, c.verified);
        this.set({ ...l, state: "Failed" }, c.failed);
        this.set({ ...l, state: "Pending" }, Math.max(0, c.total - c.verified - c.failed));
      }
    },
  });
  // Per schedule, so the AksnapScheduleRunFailed alert names the schedule that failed.
  const runs = new Counter({
    name: "aksnap_schedule_runs_total",
    help: "Completed schedule runs, by schedule and phase",
    labelNames: ["namespace", "name", "phase"] as const,
    registers: [registry],
  });
  return {
    observe: (key, status) => perKey.set(key, status),
    runCompleted: (key, phase) => runs.inc({ ...labelsOf(key), phase }),
    forget: (key) => perKey.delete(key),
  };
}
