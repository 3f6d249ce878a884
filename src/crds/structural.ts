// A checker for the structural-schema rules of apiextensions.k8s.io/v1 that our CRDs rely on, plus
// our own budget rules that keep CEL under the apiserver's cost limits. The generator refuses to
// write a CRD with violations, and the unit tests run it on every generated schema (and on bad
// schemas, to show it catches them). The apiserver remains the final judge (integration tests).
import type { Json, JsonObject } from "./crd.ts";

// Every field of apiextensions v1 JSONSchemaProps, in JSON spelling.
const JSON_SCHEMA_PROPS = new Set([
  "id",
  "$schema",
  "$ref",
  "description",
  "type",
  "format",
  "title",
  "default",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "enum",
  "maxProperties",
  "minProperties",
  "required",
  "items",
  "allOf",
  "oneOf",
  "anyOf",
  "not",
  "properties",
  "additionalProperties",
  "patternProperties",
  "dependencies",
  "additionalItems",
  "definitions",
  "externalDocs",
  "example",
  "nullable",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
]);
// Fields JSONSchemaProps has but a structural schema (or apiextensions v1 validation) forbids.
const FORBIDDEN = new Set(["id", "$schema", "$ref", "patternProperties", "dependencies", "additionalItems", "definitions", "uniqueItems"]);
// Inside allOf/anyOf/oneOf/not only value validations are allowed.
const FORBIDDEN_IN_JUNCTORS = new Set([
  "type",
  "description",
  "default",
  "additionalProperties",
  "nullable",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
]);
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

function isObj(v: Json | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

interface Ctx {
  out: string[];
  /** Below `items` of some list: transition rules there would need list-map pairing. */
  underList: boolean;
}

/** Violations in a CRD's openAPIV3Schema; empty when structural and within our CEL budget rules. */
export function structuralViolations(root: JsonObject): string[] {
  const ctx: Ctx = { out: [], underList: false };
  if (root.type !== "object") ctx.out.push("<root>: type must be object");
  const props = isObj(root.properties) ? root.properties : {};
  const meta = props.metadata;
  if (isObj(meta)) {
    const extra = Object.keys(isObj(meta.properties) ? meta.properties : {}).filter((k) => k !== "name" && k !== "generateName");
    if (extra.length > 0) ctx.out.push(`metadata: only name and generateName may be specified, not ${extra.join(", ")}`);
    if (meta.type !== "object") ctx.out.push("metadata: type must be object");
  }
  for (const k of ["apiVersion", "kind"]) {
    const p = props[k];
    if (isObj(p) && p.type !== "string") ctx.out.push(`${k}: type must be string`);
  }
  node(root, "<root>", ctx);
  return ctx.out;
}

function node(s: JsonObject, path: string, ctx: Ctx): void {
  const { out } = ctx;
  for (const k of Object.keys(s)) {
    if (!JSON_SCHEMA_PROPS.has(k)) out.push(`${path}: unknown keyword ${JSON.stringify(k)}`);
    else if (FORBIDDEN.has(k)) out.push(`${path}: keyword ${k} is not allowed`);
  }
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  const type = s.type;
  if (type === undefined || type === "") {
    if (!preserve && !intOrString) out.push(`${path}: type must be specified`);
  } else if (typeof type !== "string" || !TYPES.has(type)) {
    out.push(`${path}: unsupported type ${JSON.stringify(type)}`);
  }
  if (intOrString && type !== undefined) out.push(`${path}: x-kubernetes-int-or-string excludes type`);

  if (s.properties !== undefined && s.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties are mutually exclusive`);
  if (s.additionalProperties !== undefined && !isObj(s.additionalProperties)) out.push(`${path}: additionalProperties must be a schema, not a boolean`);
  if (s.items !== undefined && !isObj(s.items)) out.push(`${path}: items must be a single schema`);
  if (type === "object" && s.properties === undefined && s.additionalProperties === undefined && !preserve && path !== "<root>.metadata") {
    out.push(`${path}: an object needs properties, additionalProperties or x-kubernetes-preserve-unknown-fields (or everything is pruned)`);
  }
  if (type === "array" && s.items === undefined) out.push(`${path}: an array needs items`);
  if (s.properties !== undefined && type !== "object") out.push(`${path}: properties on a non-object`);
  if (s.items !== undefined && type !== "array") out.push(`${path}: items on a non-array`);

  if (Array.isArray(s.required)) {
    const known = isObj(s.properties) ? Object.keys(s.properties) : [];
    for (const r of s.required) if (typeof r !== "string" || !known.includes(r)) out.push(`${path}: required ${JSON.stringify(r)} is not a property`);
  }
  if (Array.isArray(s.enum) && typeof type === "string") {
    for (const e of s.enum) if (!matchesType(e, type)) out.push(`${path}: enum value ${JSON.stringify(e)} is not a ${type}`);
  }
  if (s.default !== undefined && typeof type === "string" && !matchesType(s.default, type)) out.push(`${path}: default is not a ${type}`);

  listType(s, path, out);
  validations(s, path, ctx);

  for (const j of ["allOf", "anyOf", "oneOf"] as const) {
    const list = s[j];
    if (list === undefined) continue;
    if (!Array.isArray(list)) out.push(`${path}.${j}: must be a list`);
    else list.forEach((x, i) => (isObj(x) ? junctor(x, `${path}.${j}[${i}]`, out) : out.push(`${path}.${j}[${i}]: must be a schema`)));
  }
  if (isObj(s.not)) junctor(s.not, `${path}.not`, out);

  if (isObj(s.properties)) {
    for (const [k, v] of Object.entries(s.properties)) {
      if (isObj(v)) node(v, `${path}.${k}`, ctx);
      else out.push(`${path}.${k}: must be a schema`);
    }
  }
  if (isObj(s.additionalProperties)) node(s.additionalProperties, `${path}[*]`, ctx);
  if (isObj(s.items)) node(s.items, `${path}[]`, { ...ctx, underList: true });
}

function matchesType(v: Json, type: string): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return isObj(v);
    default:
      return false;
  }
}

function junctor(s: JsonObject, path: string, out: string[]): void {
  for (const k of Object.keys(s)) if (FORBIDDEN_IN_JUNCTORS.has(k)) out.push(`${path}: ${k} is not allowed inside allOf/anyOf/oneOf/not`);
  if (isObj(s.properties)) for (const [k, v] of Object.entries(s.properties)) if (isObj(v)) junctor(v, `${path}.${k}`, out);
  if (isObj(s.items)) junctor(s.items, `${path}[]`, out);
}

function listType(s: JsonObject, path: string, out: string[]): void {
  const lt = s["x-kubernetes-list-type"];
  const keys = s["x-kubernetes-list-map-keys"];
  if (lt === undefined) {
    if (keys !== undefined) out.push(`${path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map`);
    return;
  }
  if (s.type !== "array") out.push(`${path}: x-kubernetes-list-type on a non-array`);
  if (lt !== "atomic" && lt !== "set" && lt !== "map") out.push(`${path}: unknown x-kubernetes-list-type ${JSON.stringify(lt)}`);
  const items = isObj(s.items) ? s.items : undefined;
  if (lt === "set" && items && (items.type === "object" || items.type === "array")) out.push(`${path}: a set holds scalars`);
  if (lt === "map") {
    if (!items || items.type !== "object") out.push(`${path}: a list-type map holds objects`);
    if (!Array.isArray(keys) || keys.length === 0) {
      out.push(`${path}: x-kubernetes-list-type: map needs x-kubernetes-list-map-keys`);
      return;
    }
    const props = items && isObj(items.properties) ? items.properties : {};
    const required = items && Array.isArray(items.required) ? items.required : [];
    for (const k of keys) {
      const p = typeof k === "string" ? props[k] : undefined;
      if (!isObj(p)) out.push(`${path}: list-map key ${JSON.stringify(k)} is not a property of the items`);
      else if (!required.includes(k as string) && p.default === undefined) out.push(`${path}: list-map key ${JSON.stringify(k)} must be required or defaulted`);
      else if (p.type !== "string" && p.type !== "integer" && p.type !== "boolean") out.push(`${path}: list-map key ${JSON.stringify(k)} must be a scalar`);
    }
  }
}

/** Does any rule live at or below this node? */
function hasRules(s: JsonObject): boolean {
  if (Array.isArray(s["x-kubernetes-validations"]) && s["x-kubernetes-validations"].length > 0) return true;
  if (isObj(s.properties)) for (const v of Object.values(s.properties)) if (isObj(v) && hasRules(v)) return true;
  if (isObj(s.items) && hasRules(s.items)) return true;
  if (isObj(s.additionalProperties) && hasRules(s.additionalProperties)) return true;
  return false;
}

function validations(s: JsonObject, path: string, ctx: Ctx): void {
  const { out } = ctx;
  const v = s["x-kubernetes-validations"];
  if (v !== undefined) {
    if (!Array.isArray(v)) out.push(`${path}: x-kubernetes-validations must be a list`);
    else
      for (const r of v) {
        if (!isObj(r) || typeof r.rule !== "string" || r.rule.trim() === "") {
          out.push(`${path}: a validation needs a non-empty rule`);
          continue;
        }
        if (typeof r.message !== "string" || r.message.trim() === "") out.push(`${path}: rule ${JSON.stringify(r.rule)} needs a message a person understands`);
        else if (/[\r\n]/.test(r.message) || r.message.length > 2048) out.push(`${path}: message must be one line of at most 2048 characters`);
        if (/\boldSelf\b/.test(r.rule) && ctx.underList) out.push(`${path}: transition rule ${JSON.stringify(r.rule)} below a list (needs list-map pairing; not supported locally)`);
      }
  }
  // CEL cost budget: anything a rule can iterate or scan must be bounded, or the apiserver's
  // estimate uses the request size limit and refuses the CRD.
  if (!hasRules(s)) return;
  if (s.type === "array" && s.maxItems === undefined) out.push(`${path}: an array with CEL rules at or below it needs maxItems`);
  if (s.type === "object" && isObj(s.additionalProperties) && s.maxProperties === undefined) out.push(`${path}: a map with CEL rules at or below it needs maxProperties`);
  if (s.type === "string" && s.maxLength === undefined && s.enum === undefined) out.push(`${path}: a string with CEL rules needs maxLength (or enum)`);
}
