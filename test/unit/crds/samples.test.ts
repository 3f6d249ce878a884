// Every sample is valid (strictly: no field the schema does not know), and the samples cover every
// kind and scenario that docs/api.md promises.
import { describe, expect, it } from "vitest";
import { KINDS, parseAksnapObject, parseNodePoolSnapshot, parseRestoreRequest, parseSnapshotSchedule, RESTORE_MODES, isAdopted } from "../../../src/crds/index.ts";
import { loadSamples } from "./cases.ts";

const samples = loadSamples();

describe("config/samples", () => {
  it.each(samples.map((s) => [`${s.file}: ${s.object.kind} ${s.object.metadata.name}`, s] as const))("%s is valid", (_n, s) => {
    const r = parseAksnapObject(s.object, { strict: true });
    expect(r.ok, r.ok ? "" : r.error).toBe(true);
  });

  it("live in the demo namespace and have unique names per kind", () => {
    const seen = new Set<string>();
    for (const s of samples) {
      expect(s.object.metadata.namespace).toBe("aksnap-demo");
      const key = `${s.object.kind}/${s.object.metadata.name}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });

  it("cover every kind", () => {
    for (const k of KINDS) expect(samples.some((s) => s.object.kind === k.kind), k.kind).toBe(true);
  });

  it("cover the NodePoolSnapshot scenarios", () => {
    const nps = samples.filter((s) => s.object.kind === "NodePoolSnapshot").map((s) => {
      const r = parseNodePoolSnapshot(s.object);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    });
    expect(nps.some((o) => o.spec.source?.agentPoolName !== undefined)).toBe(true);
    expect(nps.some((o) => o.spec.source?.agentPoolId !== undefined)).toBe(true);
    expect(nps.some((o) => isAdopted(o.spec) && o.spec.source === undefined)).toBe(true);
    expect(nps.some((o) => o.spec.snapshot?.location !== undefined && o.spec.snapshot.location !== "westeurope")).toBe(true);
    const envs = new Set(nps.map((o) => o.spec.tags?.environment).filter((e) => e !== undefined));
    expect([...envs].sort()).toEqual(["dev", "prod", "staging"]);
  });

  it("cover the SnapshotSchedule scenarios", () => {
    const ss = samples.filter((s) => s.object.kind === "SnapshotSchedule").map((s) => {
      const r = parseSnapshotSchedule(s.object);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    });
    expect(ss.some((o) => o.spec.template.nodePools !== undefined)).toBe(true);
    expect(ss.some((o) => o.spec.template.volumes !== undefined)).toBe(true);
    expect(ss.some((o) => o.spec.template.disks?.matchTags.aksSnapshotBackupEnabled === "true")).toBe(true);
    expect(ss.some((o) => o.spec.retention?.keep !== undefined)).toBe(true);
    expect(ss.some((o) => o.spec.schedule === undefined && o.metadata.annotations?.["aksnap.io/run-requested-at"] !== undefined)).toBe(true);
  });

  it("cover every restore mode and both volume sources", () => {
    const rr = samples.filter((s) => s.object.kind === "RestoreRequest").map((s) => {
      const r = parseRestoreRequest(s.object);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    });
    for (const mode of RESTORE_MODES) expect(rr.some((o) => o.spec.nodePool?.mode === mode), mode).toBe(true);
    expect(rr.some((o) => o.spec.volumes?.from.volumeSnapshotName !== undefined)).toBe(true);
    expect(rr.some((o) => o.spec.volumes?.from.schedule !== undefined)).toBe(true);
    expect(rr.some((o) => o.spec.volumes?.from.namespace !== undefined)).toBe(true);
    // A restore proven by a hook in the workload's pod (docs/restore.md).
    expect(rr.some((o) => (o.spec.hooks?.post.length ?? 0) > 0 && o.spec.volumes !== undefined)).toBe(true);
  });
});
