// The generated CRDs are structural and within the CEL budget rules, and the checker really catches
// what it claims to (so a green run means something).
import { describe, expect, it } from "vitest";
import type { TSchema } from "typebox";
import Type from "typebox";
import { buildCrd, toCrdSchema, type JsonObject } from "../../../src/crds/crd.ts";
import { crds, openApiSchemaOf } from "../../../src/crds/generate.ts";
import { KINDS } from "../../../src/crds/index.ts";
import { stringMap, withRules } from "../../../src/crds/schema.ts";
import { structuralViolations } from "../../../src/crds/structural.ts";

function walk(s: JsonObject, visit: (s: JsonObject, path: string) => void, path = ""): void {
  visit(s, path);
  const props = s.properties as Record<string, JsonObject> | undefined;
  if (props) for (const [k, v] of Object.entries(props)) walk(v, visit, `${path}.${k}`);
  if (s.items) walk(s.items as JsonObject, visit, `${path}[]`);
  if (s.additionalProperties && typeof s.additionalProperties === "object") walk(s.additionalProperties as JsonObject, visit, `${path}[*]`);
}

describe("generated CRDs", () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))("%s is structural", (_n, k) => {
    expect(structuralViolations(openApiSchemaOf(buildCrd(k)))).toEqual([]);
  });

  it("carry names, category, short names, status subresource and printer columns", () => {
    const byKind = new Map(crds().map(({ crd }) => [((crd.spec as JsonObject).names as JsonObject).kind as string, crd]));
    const expectations = {
      NodePoolSnapshot: { shortNames: ["nps"], columns: ["Ready", "Kubernetes", "NodeImage", "VMSize", "Age"] },
      SnapshotSchedule: { shortNames: ["ssch"], columns: ["Schedule", "Suspend", "Ready", "LastRun", "LastSchedule", "NextSchedule", "Age"] },
      RestoreRequest: { shortNames: ["rr"], columns: ["Phase", "Mode", "Ready", "Age"] },
    };
    for (const [kind, want] of Object.entries(expectations)) {
      const crd = byKind.get(kind)!;
      const spec = crd.spec as JsonObject;
      const names = spec.names as JsonObject;
      expect(spec.group).toBe("aksnap.io");
      expect(spec.scope).toBe("Namespaced");
      expect(names.shortNames).toEqual(want.shortNames);
      expect(names.categories).toEqual(["aksnap"]);
      const v = (spec.versions as JsonObject[])[0]!;
      expect(v.name).toBe("v1alpha1");
      expect(v.subresources).toEqual({ status: {} });
      const cols = (v.additionalPrinterColumns as JsonObject[]).filter((c) => c.priority === undefined).map((c) => c.name);
      expect(cols).toEqual(want.columns);
    }
  });

  it("leak nothing TypeBox-specific: no ~ keys, $id, const, patternProperties or functions", () => {
    for (const { crd } of crds()) {
      const text = JSON.stringify(crd);
      expect(text).not.toMatch(/"~|"\$id"|"\$schema"|"const"|"patternProperties"|"additionalProperties":(true|false)/);
      expect(JSON.parse(text)).toEqual(crd);
    }
  });

  it("type conditions as a list-map keyed by type, with metav1.Condition's fields", () => {
    for (const k of KINDS) {
      const status = (openApiSchemaOf(buildCrd(k)).properties as Record<string, JsonObject>).status!;
      const conditions = (status.properties as Record<string, JsonObject>).conditions!;
      expect(conditions["x-kubernetes-list-type"]).toBe("map");
      expect(conditions["x-kubernetes-list-map-keys"]).toEqual(["type"]);
      const item = conditions.items as JsonObject;
      expect(Object.keys(item.properties as object).sort()).toEqual(["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"]);
      expect([...(item.required as string[])].sort()).toEqual(["lastTransitionTime", "message", "reason", "status", "type"]);
      expect(((status.properties as Record<string, JsonObject>).observedGeneration as JsonObject).type).toBe("integer");
    }
  });

  it("put every CEL rule on a bounded value, each with a message", () => {
    let rules = 0;
    for (const k of KINDS) {
      walk(openApiSchemaOf(buildCrd(k)), (s, path) => {
        const v = s["x-kubernetes-validations"] as JsonObject[] | undefined;
        if (!v) return;
        rules += v.length;
        for (const r of v) expect(typeof r.message === "string" && r.message.length > 10, `${path}: ${String(r.rule)}`).toBe(true);
        if (s.type === "string") expect(s.maxLength, path).toBeDefined();
      });
    }
    expect(rules).toBeGreaterThan(40);
  });

  it("make the immutable fields immutable with self == oldSelf", () => {
    const rulesAt = (kind: string, path: string[]) => {
      let s = openApiSchemaOf(buildCrd(KINDS.find((k) => k.kind === kind)!));
      for (const p of path) s = (s.properties as Record<string, JsonObject>)[p]!;
      return ((s["x-kubernetes-validations"] as JsonObject[] | undefined) ?? []).map((r) => r.rule);
    };
    expect(rulesAt("NodePoolSnapshot", ["spec", "source"])).toContain("self == oldSelf");
    expect(rulesAt("NodePoolSnapshot", ["spec", "snapshot"])).toContain("self == oldSelf");
    expect(rulesAt("RestoreRequest", ["spec"])).toContain("self == oldSelf");
    expect(rulesAt("NodePoolSnapshot", ["spec", "tags"])).not.toContain("self == oldSelf");
  });
});

describe("the structural checker", () => {
  const root = (spec: JsonObject): JsonObject => ({ type: "object", properties: { metadata: { type: "object" }, spec } });
  it.each([
    ["a node without type", root({ type: "object", properties: { a: { description: "x" } } }), "spec.a: type must be specified"],
    ["properties beside additionalProperties", root({ type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "string" } }), "mutually exclusive"],
    ["additionalProperties: false", root({ type: "object", properties: { a: { type: "string" } }, additionalProperties: false }), "mutually exclusive"],
    ["a $ref", root({ type: "object", properties: { a: { $ref: "#/x" } } }), "keyword $ref is not allowed"],
    ["const (not in JSONSchemaProps)", root({ type: "object", properties: { a: { type: "string", const: "x" } } }), 'unknown keyword "const"'],
    ["patternProperties", root({ type: "object", patternProperties: { "^.*$": { type: "string" } } }), "keyword patternProperties is not allowed"],
    ["type inside anyOf", root({ type: "object", properties: { a: { type: "string" } }, anyOf: [{ type: "string" }] }), "type is not allowed inside allOf/anyOf/oneOf/not"],
    ["a list-map without keys", root({ type: "object", properties: { l: { type: "array", "x-kubernetes-list-type": "map", items: { type: "object", properties: { n: { type: "string" } } } } } }), "needs x-kubernetes-list-map-keys"],
    ["an optional list-map key", root({ type: "object", properties: { l: { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["n"], items: { type: "object", properties: { n: { type: "string" } } } } } }), "must be required or defaulted"],
    ["metadata fields", { type: "object", properties: { metadata: { type: "object", properties: { labels: { type: "object", additionalProperties: { type: "string" } } } } } }, "only name and generateName"],
    ["an unbounded string with a rule", root({ type: "string", "x-kubernetes-validations": [{ rule: "self != ''", message: "must not be empty" }] }), "needs maxLength"],
    ["an unbounded list with rules inside", root({ type: "array", items: { type: "string", maxLength: 3, "x-kubernetes-validations": [{ rule: "self != ''", message: "must not be empty" }] } }), "needs maxItems"],
    ["a rule without message", root({ type: "string", maxLength: 3, "x-kubernetes-validations": [{ rule: "self != ''" }] }), "needs a message"],
    ["a transition rule below a list", root({ type: "array", maxItems: 2, items: { type: "string", maxLength: 3, "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "immutable" }] } }), "transition rule"],
    ["an enum value of the wrong type", root({ type: "string", enum: ["a", 1] }), "enum value 1 is not a string"],
    ["required that is not a property", root({ type: "object", properties: {}, required: ["x"] }), 'required "x" is not a property'],
    ["an object that prunes everything", root({ type: "object" }), "everything is pruned"],
  ] as const)("catches %s", (_n, schema, want) => {
    expect(structuralViolations(schema as JsonObject).join("\n")).toContain(want);
  });

  it("accepts a minimal structural schema", () => {
    expect(structuralViolations(root({ type: "object", properties: { a: { type: "string" } } }))).toEqual([]);
  });
});

describe("schema → CRD conversion", () => {
  it("refuses TypeBox constructs a CRD cannot express", () => {
    expect(() => toCrdSchema(Type.Object({ a: Type.Literal("x") }) as TSchema)).toThrow(/keyword "const" is not allowed/);
    expect(() => toCrdSchema(Type.Record(Type.String(), Type.String()) as TSchema)).toThrow(/patternProperties/);
    expect(() => toCrdSchema(Type.Object({}, { additionalProperties: false }) as TSchema)).toThrow(/additionalProperties must be a schema object/);
  });

  it("keeps CEL rule and message and drops the local twin", () => {
    const s = withRules(stringMap({ maxProperties: 2 }), [{ rule: "size(self) > 0", message: "needs an entry", check: (m) => Object.keys(m).length > 0 }]);
    expect(toCrdSchema(s)).toEqual({
      type: "object",
      maxProperties: 2,
      additionalProperties: { type: "string" },
      "x-kubernetes-validations": [{ rule: "size(self) > 0", message: "needs an entry" }],
    });
  });
});
