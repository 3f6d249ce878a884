import { describe, expect, it } from "vitest";
import type { ClassView, VolumeSnapshotView } from "../../../../src/controllers/volumesnapshot/objects.ts";
import { selectForVerification } from "../../../../src/controllers/volumesnapshot/select.ts";

const vs = (labels: Record<string, string>): VolumeSnapshotView => ({ namespace: "a", name: "s", uid: "u", labels, annotations: {}, deleting: false });
const cls = (annotations: Record<string, string>): ClassView => ({ name: "csi-azuredisk-vsc", driver: "disk.csi.azure.com", annotations });

describe("selectForVerification", () => {
  it.each<{ name: string; labels: Record<string, string>; cls?: ClassView; all?: boolean; verify: boolean; why?: string }>([
    { name: "made by a schedule run", labels: { "aksnap.io/schedule": "nightly" }, verify: true, why: "created-by-aksnap" },
    { name: "managed-by aksnap", labels: { "app.kubernetes.io/managed-by": "aksnap" }, verify: true, why: "created-by-aksnap" },
    { name: "made by aksnap even when opted out by label", labels: { "aksnap.io/schedule": "n", "aksnap.io/verify": "false" }, verify: true },
    { name: "a Velero snapshot, unlabelled: left alone", labels: { "velero.io/backup-name": "b" }, verify: false },
    { name: "opt in by label", labels: { "aksnap.io/verify": "true" }, verify: true, why: "label" },
    { name: "opt in by class annotation", labels: {}, cls: cls({ "aksnap.io/verify": "true" }), verify: true, why: "class-annotation" },
    { name: "label opt-out beats class opt-in", labels: { "aksnap.io/verify": "false" }, cls: cls({ "aksnap.io/verify": "true" }), verify: false },
    { name: "label opt-in beats class opt-out", labels: { "aksnap.io/verify": "true" }, cls: cls({ "aksnap.io/verify": "false" }), verify: true },
    { name: "operator flag: everything", labels: {}, all: true, verify: true, why: "operator-flag" },
    { name: "operator flag, class opt-out", labels: {}, cls: cls({ "aksnap.io/verify": "false" }), all: true, verify: false },
    { name: "a label value other than true/false is no opt-in", labels: { "aksnap.io/verify": "yes" }, verify: false },
  ])("$name", (row) => {
    const got = selectForVerification(vs(row.labels), row.cls, { all: row.all ?? false });
    expect(got.verify).toBe(row.verify);
    if (row.why) expect(got.why).toBe(row.why);
  });
});
