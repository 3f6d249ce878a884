// setup() is the kind's SetupWithManager: it registers one informer per watched namespace and one
// controller with the manager, so operator.ts only composes. The running operator is covered by
// test/integration/nodepoolsnapshot.test.ts.
import { describe, expect, it } from "vitest";
import { CONTROLLER_NAME, setupNodePoolSnapshotController } from "../../../../src/controllers/nodepoolsnapshot/setup.ts";
import { recordingManager, setupDeps } from "./support/setup.ts";

function setUp(argv: string[]) {
  const manager = recordingManager();
  const d = setupDeps(argv);
  const returned = setupNodePoolSnapshotController(manager, d);
  return { sources: manager.sources, controllers: manager.controllers, runnables: manager.runnables, returned };
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
