// Local validation (the parse functions) against the shared admission table: every bad manifest is
// rejected with the message the apiserver gives (test/integration/crd-admission.test.ts checks the
// apiserver side with the very same table).
import { describe, expect, it } from "vitest";
import {
  KINDS,
  NodePoolSnapshotKind,
  RestoreRequestKind,
  effectiveDeletionPolicy,
  kindByName,
  parseAksnapObject,
  parseNodePoolSnapshot,
  parseRestoreRequest,
  parseSnapshotSchedule,
  type Issue,
} from "../../../src/crds/index.ts";
import { badCases, sample, updateCases } from "./cases.ts";

function messages(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

describe("bad manifests are rejected locally with the admission message", () => {
  it("has a table of at least 25 cases over every kind", () => {
    expect(badCases.length).toBeGreaterThanOrEqual(25);
    for (const k of KINDS) expect(badCases.some((c) => c.manifest.kind === k.kind)).toBe(true);
  });

  it.each(badCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = parseAksnapObject(c.manifest);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(messages(r.issues)).toContain(c.message);
    expect(r.error).toContain(c.message);
    expect(r.error).toContain(`${c.manifest.kind} ${c.manifest.metadata.namespace}/${c.manifest.metadata.name} is invalid`);
  });
});

describe("updates: transition rules", () => {
  it.each(updateCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const def = kindByName(c.original.kind);
    expect(def).toBeDefined();
    const next = structuredClone(c.original);
    c.edit(next.spec);
    const r = def!.validateUpdate(c.original, next);
    if (c.message === undefined) {
      expect(r.ok, r.ok ? "" : r.error).toBe(true);
    } else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(messages(r.issues)).toContain(c.message);
    }
  });

  it("does not apply transition rules on create (no old object)", () => {
    expect(parseNodePoolSnapshot(sample("userpool-backup")).ok).toBe(true);
  });

  it("an unchanged update is accepted", () => {
    const rr = sample("userpool-restore");
    expect(RestoreRequestKind.validateUpdate(rr, structuredClone(rr)).ok).toBe(true);
  });

  it("reports removing the source as a presence change", () => {
    const old = sample("golden-userpool");
    old.spec = { source: { agentPoolId: sample("systempool-snapshot").spec.source as never } } as never;
    const next = sample("golden-userpool");
    const r = NodePoolSnapshotKind.validateUpdate(old, next);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(messages(r.issues)).toContain("spec.source is immutable: it cannot be added or removed after creation");
  });
});

describe("parse at the boundary", () => {
  it("never throws, whatever it is given", () => {
    const junk: unknown[] = [undefined, null, 0, "x", [], {}, { kind: "NodePoolSnapshot" }, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", spec: 5 }, new Date()];
    for (const j of junk) {
      for (const k of KINDS) {
        const r = k.parse(j);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.length).toBeGreaterThan(0);
      }
      expect(parseAksnapObject(j).ok).toBe(false);
    }
  });

  it("refuses another kind or version with a readable error", () => {
    const nps = sample("userpool-backup");
    const r = parseSnapshotSchedule(nps);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("expected apiVersion aksnap.io/v1alpha1 and kind SnapshotSchedule, got aksnap.io/v1alpha1 NodePoolSnapshot");
    const v2 = { ...nps, apiVersion: "aksnap.io/v1beta1" };
    expect(parseNodePoolSnapshot(v2).ok).toBe(false);
    const other = parseAksnapObject({ ...nps, kind: "VolumeSnapshot" });
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.error).toContain("not an aksnap.io kind: VolumeSnapshot");
  });

  it("turns client-node's Date timestamps into the RFC 3339 strings the apiserver sent", () => {
    const nps = { ...sample("userpool-backup"), metadata: { name: "a", namespace: "ns", creationTimestamp: new Date("2026-11-23T01:02:03Z") } };
    const r = parseNodePoolSnapshot(nps);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.metadata.creationTimestamp).toBe("2026-11-23T01:02:03Z");
  });

  it("does not mutate its input and returns a copy", () => {
    const input = sample("volumes-6h");
    const before = structuredClone(input);
    const r = parseSnapshotSchedule(input);
    expect(input).toEqual(before);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).not.toBe(input);
  });

  it("applies the schema defaults, as the apiserver does", () => {
    const r = parseSnapshotSchedule(sample("tagged-disks-daily"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.suspend).toBe(false);
    expect(r.value.spec.concurrencyPolicy).toBe("Forbid");
    expect(r.value.spec.childDeletionPolicy).toBe("Retain");
    expect(r.value.spec.retention?.minVerified).toBe(1);
    expect(r.value.spec.retention?.failedHistoryLimit).toBe(1);
    const rr = parseRestoreRequest(sample("postgres-from-latest-run"));
    expect(rr.ok && rr.value.spec.volumes?.waitForHydration).toBe(true);
  });

  it("parses a status the operator wrote", () => {
    const nps = {
      ...sample("userpool-backup"),
      status: {
        observedGeneration: 1,
        conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "snapshot ready", lastTransitionTime: "2026-11-23T01:00:00Z", observedGeneration: 1 }],
        snapshotId: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/snapshots/aksnap-demo-userpool-backup",
        kubernetesVersion: "1.33.2",
        nodeImageVersion: "AKSUbuntu-2204gen2containerd-202611.10.0",
        vmSize: "Standard_D4s_v5",
        osType: "Linux",
        osSku: "Ubuntu",
        enableFips: false,
        createdAt: "2026-11-23T01:00:00Z",
      },
    };
    const r = parseNodePoolSnapshot(nps);
    expect(r.ok, r.ok ? "" : r.error).toBe(true);
    const bad = parseNodePoolSnapshot({ ...nps, status: { ...nps.status, conditions: [{ type: "Ready", status: "Maybe" }] } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(messages(bad.issues)).toMatch(/status.conditions\[0\].status: Unsupported value: "Maybe"|status.conditions\[0\].reason: Required value/);
  });

  it("strict mode reports fields the schema does not know, with their paths", () => {
    const m = sample("nodepools-nightly") as Record<string, unknown> & { spec: Record<string, unknown> };
    m.spec.schedul = "0 1 * * *";
    (m.spec.template as { nodePools: Record<string, unknown>[] }).nodePools[0]!.sorce = {};
    expect(parseSnapshotSchedule(m).ok).toBe(true);
    const r = parseSnapshotSchedule(m, { strict: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual(
      expect.arrayContaining([
        { path: "spec.schedul", message: 'unknown field "spec.schedul"' },
        { path: "spec.template.nodePools[0].sorce", message: 'unknown field "spec.template.nodePools[0].sorce"' },
      ]),
    );
  });

  it("reports OpenAPI errors in the apiserver's words", () => {
    const m = sample("nodepools-nightly");
    Object.assign(m.spec, { suspend: "yes", startingDeadlineSeconds: -1 });
    const r = parseSnapshotSchedule(m);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual(
      expect.arrayContaining([
        { path: "spec.suspend", message: 'Invalid value: "string": spec.suspend in body must be of type boolean: "string"' },
        { path: "spec.startingDeadlineSeconds", message: "Invalid value: -1: spec.startingDeadlineSeconds in body should be greater than or equal to 0" },
      ]),
    );
  });
});

describe("effective deletion policy", () => {
  it.each([
    ["userpool-backup", "Delete"],
    ["userpool-dr-northeurope", "Delete"],
    ["userpool-template-prod", "Retain"],
    ["golden-userpool", "Retain"],
  ] as const)("%s → %s", (name, want) => {
    const r = parseNodePoolSnapshot(sample(name));
    expect(r.ok).toBe(true);
    if (r.ok) expect(effectiveDeletionPolicy(r.value.spec)).toBe(want);
  });

  it("an explicit Delete wins over adoption", () => {
    const m = sample("golden-userpool");
    m.spec.deletionPolicy = "Delete";
    const r = parseNodePoolSnapshot(m);
    expect(r.ok && effectiveDeletionPolicy(r.value.spec)).toBe("Delete");
  });
});
