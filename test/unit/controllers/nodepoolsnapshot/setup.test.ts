// setup() is the kind's SetupWithManager: it registers one informer per watched namespace and one
// controller with the manager, so operator.ts only composes. The running operator is covered by
// test/integration/nodepoolsnapshot.test.ts.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../../../src/config.ts";
import { CONTROLLER_NAME, setupNodePoolSnapshotController } from "../../../../src/controllers/nodepoolsnapshot/setup.ts";
import type { Informer } from "../../../../src/kube/informer.ts";
import { ManualClock } from "../../../../src/runtime/clock.ts";
import { noopControllerMetrics, type Controller } from "../../../../src/runtime/controller.ts";
import type { Runnable } from "../../../../src/runtime/manager.ts";
import { noopQueueMetrics } from "../../../../src/runtime/workqueue.ts";
import { FakeArm, FakeKube, RecordingEvents } from "./support/fakes.ts";

function config(argv: string[]): Config {
  const c = loadConfig(["--credential=static-token", ...argv], { AKSNAP_STATIC_TOKEN: "t" });
  if (c === "help") throw new Error("unexpected help");
  return c;
}

function setUp(argv: string[]) {
  const sources: Informer[] = [];
  const controllers: Controller[] = [];
  const runnables: Runnable[] = [];
  const manager = { addSource: (s: Informer) => sources.push(s), addController: (c: Controller) => controllers.push(c), addRunnable: (r: Runnable) => runnables.push(r) };
  const client = new FakeKube({ apiVersion: "v1", kind: "X", metadata: { name: "x" } });
  const returned = setupNodePoolSnapshotController(manager, {
    client,
    config: config(argv),
    log: pino({ level: "silent" }),
    clock: new ManualClock(0),
    events: new RecordingEvents(),
    arm: new FakeArm(),
    queueMetrics: noopQueueMetrics,
    controllerMetrics: noopControllerMetrics,
  });
  return { sources, controllers, runnables, returned };
}

describe("setupNodePoolSnapshotController", () => {
  it.each<[string, string[], string[]]>([
    ["cluster-wide: one informer", [], ["*"]],
    ["two watched namespaces: one informer each", ["--watch-namespaces=a,b"], ["a", "b"]],
  ])("%s, one controller", (_n, argv, namespaces) => {
    const s = setUp(argv);
    expect(s.sources.map((i) => i.type.plural)).toEqual(namespaces.map(() => "nodepoolsnapshots"));
    expect(s.controllers).toEqual([s.returned]);
    expect(s.returned.name).toBe(CONTROLLER_NAME);
  });

  it("registers its background event recorder as a runnable on every replica, so a stop delivers queued events", () => {
    expect(setUp([]).runnables.map((r) => [r.name, r.needLeaderElection])).toEqual([[`${CONTROLLER_NAME}-events`, false]]);
  });

  it("uses --workers", () => {
    expect(setUp(["--workers=7"]).returned.maxConcurrentReconciles).toBe(7);
  });
});
