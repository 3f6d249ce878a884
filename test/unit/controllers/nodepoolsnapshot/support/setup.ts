// What a controller's setup(manager, deps) needs in a unit test: a manager that records what is
// registered, and the shared deps over the fakes (a config parsed from flags, as the operator's).
import { pino } from "pino";
import { loadConfig, type Config } from "../../../../../src/config.ts";
import type { Informer } from "../../../../../src/kube/informer.ts";
import { ManualClock } from "../../../../../src/runtime/clock.ts";
import { noopControllerMetrics, type Controller } from "../../../../../src/runtime/controller.ts";
import type { Runnable } from "../../../../../src/runtime/manager.ts";
import { noopQueueMetrics } from "../../../../../src/runtime/workqueue.ts";
import { FakeArm, FakeKube, RecordingEvents } from "./fakes.ts";

export function testConfig(argv: string[]): Config {
  const c = loadConfig(["--credential=static-token", ...argv], { AKSNAP_STATIC_TOKEN: "t" });
  if (c === "help") throw new Error("unexpected help");
  return c;
}

export function recordingManager() {
  const sources: Informer[] = [];
  const controllers: Controller[] = [];
  const runnables: Runnable[] = [];
  return {
    sources,
    controllers,
    runnables,
    addSource: (s: Informer) => void sources.push(s),
    addController: (c: Controller) => void controllers.push(c),
    addRunnable: (r: Runnable) => void runnables.push(r),
  };
}

export function setupDeps(argv: string[]) {
  return {
    client: new FakeKube({ apiVersion: "v1", kind: "X", metadata: { name: "x" } }),
    config: testConfig(argv),
    log: pino({ level: "silent" }),
    clock: new ManualClock(0),
    events: new RecordingEvents(),
    arm: new FakeArm(),
    queueMetrics: noopQueueMetrics,
    controllerMetrics: noopControllerMetrics,
  };
}
