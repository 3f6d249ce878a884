// The field reference in docs/api.md, rendered from the same CRD schemas the apiserver enforces, so
// the documentation cannot drift from admission. Hand-written prose lives outside the markers.
import type { Json, JsonObject } from "./crd.ts";

export const BEGIN = (kind: string, part: string) => `<!-- BEGIN GENERATED: ${kind} ${part} (node src/crds/generate.ts) -->`;
export const END = (kind: string, part: string) => `<!-- END GENERATED: ${kind} ${part} -->`;

function isObj(v: Json | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

function typeOf(s: JsonObject): string {
  if (s.type === "array" && isObj(s.items)) return `[]${typeOf(s.items)}`;
  if (s.type === "object" && isObj(s.additionalProperties)) return `map[string]${typeOf(s.additionalProperties)}`;
  return typeof s.type === "string" ? s.type : "any";
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function constraints(s: JsonObject, required: boolean): string[] {
  const c: string[] = [];
  if (required) c.push("**Required.**");
  if (Array.isArray(s.enum)) c.push(`One of ${s.enum.map((e) => `\`${String(e)}\``).join(", ")}.`);
  if (s.default !== undefined) c.push(`Default \`${JSON.stringify(s.default)}\`.`);
  const range = (lo: Json | undefined, hi: Json | undefined, unit: string) => {
    if (lo !== undefined && hi !== undefined) c.push(`${unit} ${String(lo)}–${String(hi)}.`);
    else if (lo !== undefined) c.push(`${unit} ≥ ${String(lo)}.`);
    else if (hi !== undefined) c.push(`${unit} ≤ ${String(hi)}.`);
  };
  range(s.minimum, s.maximum, "Value");
  range(s.minItems, s.maxItems, "Items");
  range(s.minProperties, s.maxProperties, "Entries");
  if (s.type === "string" && s.maxLength !== undefined && s.enum === undefined) c.push(`Max length ${String(s.maxLength)}.`);
  if (s["x-kubernetes-list-type"] === "map" && Array.isArray(s["x-kubernetes-list-map-keys"])) c.push(`List keyed by \`${s["x-kubernetes-list-map-keys"].join(", ")}\`.`);
  if (s["x-kubernetes-list-type"] === "set") c.push("Unique values.");
  const rules = s["x-kubernetes-validations"];
  if (Array.isArray(rules)) {
    for (const r of rules) if (isObj(r) && typeof r.message === "string") c.push(`Rule: ${r.message}${/\boldSelf\b/.test(String(r.rule)) ? " (on update)" : ""}.`.replace(/\.\.$/, "."));
  }
  return c;
}

function rows(s: JsonObject, path: string, required: boolean, out: string[]): void {
  const desc = typeof s.description === "string" ? s.description : "";
  out.push(`| \`${path}\` | ${cell(typeOf(s))} | ${cell([desc, ...constraints(s, required)].filter((x) => x !== "").join(" "))} |`);
  // Lists of scalars: their item rules (e.g. name shapes) get a row of their own.
  if (s.type === "array" && isObj(s.items) && s.items.type !== "object" && constraints(s.items, false).length > 0) rows(s.items, `${path}[]`, false, out);
  const obj = s.type === "array" && isObj(s.items) ? s.items : s;
  const prefix = s.type === "array" ? `${path}[]` : path;
  if (isObj(obj.properties)) {
    const req = Array.isArray(obj.required) ? obj.required : [];
    for (const [k, v] of Object.entries(obj.properties)) if (isObj(v)) rows(v, `${prefix}.${k}`, req.includes(k), out);
  }
}

/** A markdown table of every field under `schema` (a kind's spec or status), rooted at `root`. */
export function fieldTable(schema: JsonObject, root: string): string {
  const out = ["| Field | Type | Description |", "|---|---|---|"];
  rows(schema, root, false, out);
  return out.join("\n");
}

/** Replaces the text between a BEGIN/END marker pair; throws when the markers are missing. */
export function replaceBetween(doc: string, begin: string, end: string, body: string): string {
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs: markers not found: ${begin}`);
  return `${doc.slice(0, i + begin.length)}\n${body}\n${doc.slice(j)}`;
}
