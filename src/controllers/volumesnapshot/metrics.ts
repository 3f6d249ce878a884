// Prometheus metrics of the verifier: how many VolumeSnapshots are in each state (for "backups not
// verified" alerts) and how long verification takes from the VolumeSnapshot's creation.
import { Gauge, Histogram, type Registry } from "prom-client";
import type { VerificationState } from "./reasons.ts";
import type { VerifierMetrics } from "./reconciler.ts";

const STATES: readonly VerificationState[] = ["Verified", "Waiting", "InstantAccess", "Failed", "NotVerifiable"];
// 5 s … 12 h: small disks verify in seconds, a first full copy of a large disk takes hours.
const LATENCY_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200];

export function promVerifierMetrics(registry: Registry): VerifierMetrics {
  const states = new Map<string, VerificationState>();
  new Gauge({
    name: "aksnap_volumesnapshots",
    help: "VolumeSnapshots the verifier tracks, by verification state",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const counts = new Map<VerificationState, number>(STATES.map((s) => [s, 0]));
      for (const s of states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  const latency = new Histogram({
    name: "aksnap_volumesnapshot_verification_seconds",
    help: "Time from a VolumeSnapshot's creation until aksnap verified it",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    state: (key, state) => {
      if (state === undefined) states.delete(key);
      else states.set(key, state);
    },
    verified: (seconds) => latency.observe(seconds),
  };
}
