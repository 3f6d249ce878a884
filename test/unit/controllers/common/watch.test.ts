// watch(): controllers that watch the same kind share one informer per namespace (one cache, one
// list/watch), as client-go's shared informers do. The NodePoolSnapshot controller and the schedule
// controller (which reads its child NodePoolSnapshots) used to hold every NodePoolSnapshot twice.
import { describe, expect, it } from "vitest";
import { watch } from "../../../../src/controllers/common/setup.ts";
import { setupNodePoolSnapshotController } from "../../../../src/controllers/nodepoolsnapshot/setup.ts";
import { setupSnapshotScheduleController } from "../../../../src/controllers/snapshotschedule/setup.ts";
import { NodePoolSnapshotKind } from "../../../../src/crds/nodepoolsnapshot.ts";
import { SnapshotScheduleKind } from "../../../../src/crds/snapshotschedule.ts";
import type { Informer } from "../../../../src/kube/informer.ts";
import { recordingManager, setupDeps as deps } from "../nodepoolsnapshot/support/setup.ts";

const names = (sources: Informer[]): string[] => sources.map((s) => `${s.type.plural}@${s.name}`).sort();

describe("watch", () => {
  it.each<[string, string[], number]>([
    ["cluster-wide", [], 1],
    ["two watched namespaces", ["--watch-namespaces=a,b"], 2],
  ])("%s: the same kind twice on one manager is one informer per namespace, registered once", (_n, argv, perKind) => {
    const m = recordingManager();
    const d = deps(argv);
    const first = watch(m, d, NodePoolSnapshotKind.resource);
    const second = watch(m, d, NodePoolSnapshotKind.resource);
    expect(second.informers).toEqual(first.informers);
    expect(second.informers.every((inf, i) => inf === first.informers[i])).toBe(true);
    expect(m.sources).toHaveLength(perKind);
    watch(m, d, SnapshotScheduleKind.resource);
    expect(m.sources).toHaveLength(2 * perKind);
  });

  it("another manager gets its own informers", () => {
    const d = deps([]);
    const a = recordingManager();
    const b = recordingManager();
    expect(watch(a, d, NodePoolSnapshotKind.resource).informers[0]).not.toBe(watch(b, d, NodePoolSnapshotKind.resource).informers[0]);
    expect(b.sources).toHaveLength(1);
  });

  it("the NodePoolSnapshot and schedule controllers share the NodePoolSnapshot cache", () => {
    const m = recordingManager();
    const d = deps([]);
    setupNodePoolSnapshotController(m, d);
    setupSnapshotScheduleController(m, { ...d, arm: { computeSnapshots: {}, disks: {} } as never });
    expect(names(m.sources)).toEqual(["nodepoolsnapshots@nodepoolsnapshots.aksnap.io", "snapshotschedules@snapshotschedules.aksnap.io"]);
    expect(m.controllers).toHaveLength(2);
  });
});
