// The committed generated files (CRDs in the chart, field reference in docs/api.md) must be exactly
// what the generator produces from src/crds today. On failure: node src/crds/generate.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { API_DOC, CRD_DIR, REPO_ROOT, drift, generatedFiles } from "../../../src/crds/generate.ts";
import { KINDS } from "../../../src/crds/index.ts";

describe("generated files", () => {
  const files = generatedFiles();

  it("include one CRD per kind, named <group>_<plural>.yaml, and the API doc", () => {
    const keys = [...files.keys()];
    expect(keys).toEqual(expect.arrayContaining([API_DOC, ...KINDS.map((k) => join(CRD_DIR, `${k.group}_${k.plural}.yaml`))]));
    expect(keys.filter((f) => f.startsWith(`${CRD_DIR}/`))).toHaveLength(KINDS.length);
  });

  it.each([...files.keys()])("%s is up to date (run: node src/crds/generate.ts)", (file) => {
    expect(readFileSync(join(REPO_ROOT, file), "utf8")).toBe(files.get(file));
  });

  it("drift() agrees", () => {
    expect(drift()).toEqual([]);
  });

  it("CRD YAML parses back to the CRD objects", () => {
    for (const k of KINDS) {
      const y = parse(files.get(join(CRD_DIR, `${k.group}_${k.plural}.yaml`))!) as { metadata: { name: string } };
      expect(y.metadata.name).toBe(`${k.plural}.${k.group}`);
    }
  });

  it("docs/api.md documents every spec field with its rules", () => {
    const doc = files.get(API_DOC)!;
    for (const f of ["spec.source.agentPoolId", "spec.snapshot.id", "spec.template.disks.matchTags", "spec.retention.keep.daily", "spec.nodePool.mode", "spec.volumes.from.run"]) {
      expect(doc).toContain(`\`${f}\``);
    }
    expect(doc).toContain("Rule: spec.source is immutable");
  });
});
