import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { Controller } from "../../../src/runtime/controller.ts";
import { promControllerMetrics, promLeaderGauge, promWorkQueueMetrics } from "../../../src/runtime/metrics-prom.ts";
import { done, retry } from "../../../src/runtime/result.ts";
import { createNoopLogger } from "../../../src/runtime/logger.ts";

describe("prom-client binding with controller-runtime names", () => {
  it("exports workqueue and reconcile metrics labelled by controller / queue name", async () => {
    const registry = new Registry();
    const clock = new ManualClock(0);
    let calls = 0;
    const controller = new Controller({
      name: "nodepoolsnapshot",
      logger: createNoopLogger(),
      clock,
      queueMetrics: promWorkQueueMetrics(registry),
      metrics: promControllerMetrics(registry),
      reconcile: async () => {
        await clock.sleep(200);
        return ++calls === 1 ? retry(new Error("throttled")) : done();
      },
    });
    const stop = new AbortController();
    const running = controller.run({ stop: stop.signal });
    controller.enqueue("ns/a");
    await clock.advance(1_000);
    stop.abort();
    await running;

    const text = await registry.metrics();
    const line = (prefix: string): string | undefined => text.split("\n").find((l) => l.startsWith(prefix));
    expect(line('controller_runtime_reconcile_total{controller="nodepoolsnapshot",result="success"}')).toMatch(/ 1$/);
    expect(line('controller_runtime_reconcile_total{controller="nodepoolsnapshot",result="error"}')).toMatch(/ 1$/);
    expect(line('controller_runtime_reconcile_total{controller="nodepoolsnapshot",result="requeue_after"}')).toMatch(/ 0$/);
    expect(line('controller_runtime_reconcile_errors_total{controller="nodepoolsnapshot"}')).toMatch(/ 1$/);
    expect(line('controller_runtime_terminal_reconcile_errors_total{controller="nodepoolsnapshot"}')).toMatch(/ 0$/);
    expect(line('controller_runtime_reconcile_time_seconds_count{controller="nodepoolsnapshot"}')).toMatch(/ 2$/);
    expect(line('controller_runtime_reconcile_time_seconds_sum{controller="nodepoolsnapshot"}')).toMatch(/ 0\.4$/);
    expect(line('controller_runtime_max_concurrent_reconciles{controller="nodepoolsnapshot"}')).toMatch(/ 1$/);
    expect(line('controller_runtime_active_workers{controller="nodepoolsnapshot"}')).toMatch(/ 0$/);
    expect(line('workqueue_adds_total{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 2$/);
    expect(line('workqueue_retries_total{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 1$/);
    expect(line('workqueue_depth{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 0$/);
    expect(line('workqueue_work_duration_seconds_count{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 2$/);
    expect(line('workqueue_queue_duration_seconds_count{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 2$/);
    expect(line('workqueue_unfinished_work_seconds{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 0$/);
    expect(line('workqueue_longest_running_processor_seconds{name="nodepoolsnapshot",controller="nodepoolsnapshot"}')).toMatch(/ 0$/);
  });

  it("unfinished work is computed at scrape time", async () => {
    const registry = new Registry();
    const clock = new ManualClock(0);
    const controller = new Controller({
      name: "slow",
      logger: createNoopLogger(),
      clock,
      queueMetrics: promWorkQueueMetrics(registry),
      reconcile: async () => {
        await clock.sleep(60_000);
        return done();
      },
    });
    const stop = new AbortController();
    const running = controller.run({ stop: stop.signal });
    controller.enqueue("a");
    await clock.advance(30_000);
    expect(await registry.metrics()).toContain('workqueue_longest_running_processor_seconds{name="slow",controller="slow"} 30');
    stop.abort();
    await clock.advance(30_000);
    await running;
  });
});

describe("aksnap_leader", () => {
  it("reports the elector's answer at scrape time, 1 on the leader and 0 on a standby", async () => {
    const registry = new Registry();
    let leading = false;
    promLeaderGauge(registry, () => leading);
    const value = async (): Promise<number | undefined> => (await registry.getSingleMetric("aksnap_leader")?.get())?.values[0]?.value;
    expect(await value()).toBe(0);
    leading = true;
    expect(await value()).toBe(1);
    leading = false;
    expect(await registry.metrics()).toContain("aksnap_leader 0");
  });
});
