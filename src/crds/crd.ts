// Turns a kind definition into its CustomResourceDefinition (apiextensions.k8s.io/v1). The schema is
// copied keyword by keyword through an allow-list, so nothing TypeBox-specific (hidden `~` keys,
// refinements, functions) or non-structural can leak into the CRD: an unknown keyword is an error.
import type { TSchema } from "typebox";
import { VALIDATIONS, type CelValidation } from "./schema.ts";
import type { KindDefinition } from "./kind.ts";

/** A JSON value as it appears in a CRD. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

// Emission order: what a reader looks for first, then value validations, then structure.
const SCALAR_KEYWORDS = [
  "description",
  "type",
  "format",
  "enum",
  "default",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "nullable",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
] as const;
const SCHEMA_KEYWORDS = ["items", "additionalProperties", "not"] as const;
const SCHEMA_LIST_KEYWORDS = ["allOf", "anyOf", "oneOf"] as const;

const ALLOWED = new Set<string>([...SCALAR_KEYWORDS, ...SCHEMA_KEYWORDS, ...SCHEMA_LIST_KEYWORDS, "properties", "required", VALIDATIONS]);

function isRecord(o: unknown): o is Record<string, unknown> {
  return o !== null && typeof o === "object" && !Array.isArray(o);
}

function plainJson(v: unknown, path: string): Json {
  if (v === null || typeof v === "boolean" || typeof v === "number" || typeof v === "string") return v;
  if (Array.isArray(v)) return v.map((x, i) => plainJson(x, `${path}[${i}]`));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x, `${path}.${k}`)]));
  throw new Error(`${path}: ${typeof v} is not JSON`);
}

/** The apiextensions view of a TypeBox schema (enumerable keywords only; hidden ones are TypeBox's). */
export function toCrdSchema(schema: TSchema, path = "<root>"): JsonObject {
  const s = schema as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (!ALLOWED.has(k)) throw new Error(`${path}: keyword ${JSON.stringify(k)} is not allowed in a structural CRD schema`);
  }
  const out: JsonObject = {};
  for (const k of SCALAR_KEYWORDS) if (s[k] !== undefined) out[k] = plainJson(s[k], `${path}.${k}`);
  if (s.properties !== undefined) {
    if (!isRecord(s.properties)) throw new Error(`${path}: properties must be an object`);
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toCrdSchema(v as TSchema, `${path}.${k}`)]));
  }
  if (Array.isArray(s.required) && s.required.length > 0) out.required = plainJson(s.required, `${path}.required`);
  for (const k of SCHEMA_KEYWORDS) {
    if (s[k] === undefined) continue;
    if (!isRecord(s[k])) throw new Error(`${path}: ${k} must be a schema object (booleans and tuples are not structural)`);
    out[k] = toCrdSchema(s[k] as TSchema, `${path}.${k === "items" ? "[]" : k}`);
  }
  for (const k of SCHEMA_LIST_KEYWORDS) {
    if (s[k] === undefined) continue;
    if (!Array.isArray(s[k])) throw new Error(`${path}: ${k} must be a list`);
    out[k] = (s[k] as TSchema[]).map((x, i) => toCrdSchema(x, `${path}.${k}[${i}]`));
  }
  const validations = s[VALIDATIONS] as CelValidation[] | undefined;
  if (validations !== undefined && validations.length > 0) {
    out[VALIDATIONS] = validations.map((v) => {
      const o: JsonObject = { rule: v.rule, message: v.message };
      if (v.fieldPath !== undefined) o.fieldPath = v.fieldPath;
      return o;
    });
  }
  return out;
}

export const CRD_API_VERSION = "apiextensions.k8s.io/v1";

/** The CustomResourceDefinition object for a kind. */
export function buildCrd<K extends string>(def: KindDefinition<K, TSchema, TSchema>): JsonObject {
  const openAPIV3Schema: JsonObject = {
    description: def.description,
    type: "object",
    properties: {
      apiVersion: {
        description: "APIVersion defines the versioned schema of this representation of an object.",
        type: "string",
      },
      kind: {
        description: "Kind is a string value representing the REST resource this object represents.",
        type: "string",
      },
      metadata: { type: "object" },
      spec: toCrdSchema(def.spec, "spec"),
      status: toCrdSchema(def.status, "status"),
    },
    required: ["spec"],
  };
  return {
    apiVersion: CRD_API_VERSION,
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${def.group}`,
      labels: { "app.kubernetes.io/name": "aksnap", "app.kubernetes.io/part-of": "aksnap" },
    },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [...def.categories],
      },
      scope: "Namespaced",
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => {
            const o: JsonObject = { name: c.name, type: c.type, jsonPath: c.jsonPath };
            if (c.description !== undefined) o.description = c.description;
            if (c.priority !== undefined && c.priority !== 0) o.priority = c.priority;
            return o;
          }),
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}
