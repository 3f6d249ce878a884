// One definition per kind: names, schema, printer columns. From it come the TypeScript type of the
// object, a parser for objects read at the boundary (never throws), update validation (transition
// rules), the CRD (crd.ts) and the field reference in docs/api.md (docs.ts).
import Type, { type Static, type TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { API_VERSION, GROUP, ObjectMetaSchema, VERSION, type ObjectMeta } from "./common.ts";
import { stringEnum, transitionsOf } from "./schema.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  /** 0 = shown by `kubectl get`; 1 = only with `-o wide`. */
  priority?: number;
}

/** Where a kind lives in the API; structurally the same as src/kube's ResourceType. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** An object of one of our kinds, as stored by the apiserver. */
export interface Resource<K extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export interface Issue {
  /** Field path in the apiserver's notation: `spec.template.nodePools[0].source`. */
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; issues: readonly Issue[] };

export interface ParseOptions {
  /**
   * Report fields the schema does not know (the apiserver's `fieldValidation=Strict`). Off by
   * default: objects read from the API are already pruned, and a newer CRD may add fields.
   */
  strict?: boolean;
}

export interface KindSpec<K extends string, Spec extends TSchema, Status extends TSchema> {
  kind: K;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  description: string;
  spec: Spec;
  status: Status;
  printerColumns: readonly PrinterColumn[];
}

export interface KindDefinition<K extends string, Spec extends TSchema, Status extends TSchema> extends KindSpec<K, Spec, Status> {
  group: typeof GROUP;
  version: typeof VERSION;
  apiVersion: typeof API_VERSION;
  listKind: string;
  categories: readonly string[];
  resource: ResourceType;
  /** The whole object as the runtime validates it (typed metadata; not the CRD's view). */
  objectSchema: TSchema;
  /** Parses an object read from the API (or a manifest). Applies schema defaults; never throws. */
  parse(u: unknown, opts?: ParseOptions): ParseResult<Resource<K, Static<Spec>, Static<Status>>>;
  /** Parses `next` and evaluates the transition rules (immutability) against `prev`. */
  validateUpdate(prev: unknown, next: unknown, opts?: ParseOptions): ParseResult<Resource<K, Static<Spec>, Static<Status>>>;
}

export const CATEGORY = "aksnap";

export function defineKind<K extends string, Spec extends TSchema, Status extends TSchema>(def: KindSpec<K, Spec, Status>): KindDefinition<K, Spec, Status> {
  type Obj = Resource<K, Static<Spec>, Static<Status>>;
  const objectSchema = Type.Object({
    apiVersion: stringEnum([API_VERSION] as const),
    kind: stringEnum([def.kind] as const),
    metadata: ObjectMetaSchema,
    spec: def.spec,
    status: Type.Optional(def.status),
  });
  // Compiled on the first parse: the code TypeBox generates for a kind is ≈ 0.3 MiB of heap, and an
  // operator (or a CLI call) that never sees an object of a kind need not hold it.
  let compiled: ReturnType<typeof Compile<TSchema>> | undefined;
  const v = (): ReturnType<typeof Compile<TSchema>> => (compiled ??= Compile(objectSchema));

  const check = (u: unknown, opts: ParseOptions): { value: unknown; issues: Issue[] } => {
    const validator = v();
    const value = validator.Default(normalize(u));
    const head = headerIssue(value, def.kind);
    if (head) return { value, issues: [head] };
    const issues = validator.Check(value) ? [] : validator.Errors(value).flatMap((e) => toIssues(e, value));
    if (opts.strict) issues.push(...unknownFields(objectSchema, value, []));
    return { value, issues: dedupe(issues) };
  };
  const result = (value: unknown, issues: Issue[], u: unknown): ParseResult<Obj> =>
    issues.length === 0 ? { ok: true, value: value as Obj } : { ok: false, issues, error: describe(def.kind, u, issues) };

  return {
    ...def,
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    listKind: `${def.kind}List`,
    categories: [CATEGORY],
    resource: { group: GROUP, version: VERSION, plural: def.plural, kind: def.kind, namespaced: true },
    objectSchema,
    parse(u, opts = {}) {
      const { value, issues } = check(u, opts);
      return result(value, issues, u);
    },
    validateUpdate(prev, next, opts = {}) {
      const { value, issues } = check(next, opts);
      if (issues.length === 0) {
        const old = v().Default(normalize(prev));
        const spec = (objectSchema.properties as Record<string, TSchema>).spec as TSchema;
        issues.push(...transitionIssues(spec, field(value, "spec"), field(old, "spec"), ["spec"]));
      }
      return result(value, issues, next);
    },
  };
}

// ---------------------------------------------------------------------------------------------

function field(o: unknown, k: string): unknown {
  return o !== null && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined;
}

function isRecord(o: unknown): o is Record<string, unknown> {
  return o !== null && typeof o === "object" && !Array.isArray(o);
}

/**
 * A JSON-shaped deep copy. Dates (client-node turns metadata timestamps into Date) become the
 * RFC 3339 strings the apiserver sent; class instances become plain records.
 */
function normalize(u: unknown): unknown {
  if (u instanceof Date) return u.toISOString().replace(/\.000Z$/, "Z");
  if (Array.isArray(u)) return u.map(normalize);
  if (u !== null && typeof u === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(u)) if (v !== undefined && typeof v !== "function") out[k] = normalize(v);
    return out;
  }
  return u;
}

function headerIssue(value: unknown, kind: string): Issue | undefined {
  if (!isRecord(value)) return { path: "", message: `expected a ${kind} object, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}` };
  if (value.apiVersion !== API_VERSION || value.kind !== kind) {
    return { path: "", message: `expected apiVersion ${API_VERSION} and kind ${kind}, got ${String(value.apiVersion)} ${String(value.kind)}` };
  }
  return undefined;
}

interface TypeBoxError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/** JSON pointer → the apiserver's field path (`a.b[0].c`, map keys as `[key]`). */
function toPath(pointer: string, root: unknown): string {
  if (pointer === "") return "";
  let out = "";
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      out += `[${seg}]`;
      node = node[Number(seg)];
    } else {
      out += out === "" ? seg : `.${seg}`;
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return out;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function quote(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** The JSON type name the apiserver prints for a value. */
function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** TypeBox errors in the apiserver's words, so people see the same text locally and at admission. */
function toIssues(e: TypeBoxError, root: unknown): Issue[] {
  const path = toPath(e.instancePath, root);
  const value = e.instancePath === "" ? root : valueAt(root, e.instancePath);
  const limit = String(e.params.limit);
  const size = Array.isArray(value) ? value.length : isRecord(value) ? Object.keys(value).length : 0;
  switch (e.keyword) {
    case "required":
      return ((e.params.requiredProperties as string[] | undefined) ?? []).map((p) => ({ path: join(path, p), message: "Required value" }));
    case "enum": {
      const allowed = (e.params.allowedValues as unknown[] | undefined) ?? [];
      return [{ path, message: `Unsupported value: ${quote(value)}: supported values: ${allowed.map(quote).join(", ")}` }];
    }
    case "type":
      return [{ path, message: `Invalid value: "${jsonType(value)}": ${path} in body must be of type ${String(e.params.type)}: "${jsonType(value)}"` }];
    case "maxLength":
      return [{ path, message: `Too long: may not be more than ${limit} bytes` }];
    case "minLength":
      return [{ path, message: `Invalid value: ${quote(value)}: ${path} in body should be at least ${limit} chars long` }];
    case "minimum":
      return [{ path, message: `Invalid value: ${quote(value)}: ${path} in body should be greater than or equal to ${limit}` }];
    case "maximum":
      return [{ path, message: `Invalid value: ${quote(value)}: ${path} in body should be less than or equal to ${limit}` }];
    case "maxItems":
    case "maxProperties":
      return [{ path, message: `Too many: ${size}: must have at most ${limit} items` }];
    case "minItems":
      return [{ path, message: `Invalid value: ${size}: ${path} in body should have at least ${limit} items` }];
    case "minProperties":
      return [{ path, message: `Invalid value: ${size}: ${path} in body should have at least ${limit} properties` }];
    default:
      return [{ path, message: e.message }];
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = Array.isArray(node) ? node[Number(seg)] : isRecord(node) ? node[seg] : undefined;
  }
  return node;
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Fields the schema does not declare (metadata is the apiserver's business and is skipped). */
function unknownFields(schema: TSchema, value: unknown, path: string[]): Issue[] {
  const s = schema as Record<string, unknown>;
  const out: Issue[] = [];
  const here = path.join(".").replace(/\.\[/g, "[");
  if (isRecord(value) && isRecord(s.properties)) {
    const props = s.properties as Record<string, TSchema>;
    for (const [k, v] of Object.entries(value)) {
      if (path.length === 0 && k === "metadata") continue;
      const sub = props[k];
      if (sub === undefined) out.push({ path: join(here, k), message: `unknown field "${here === "" ? k : `${here}.${k}`}"` });
      else out.push(...unknownFields(sub, v, [...path, k]));
    }
  } else if (isRecord(value) && isRecord(s.additionalProperties)) {
    for (const [k, v] of Object.entries(value)) out.push(...unknownFields(s.additionalProperties as TSchema, v, [...path, `[${k}]`]));
  } else if (Array.isArray(value) && isRecord(s.items)) {
    value.forEach((v, i) => out.push(...unknownFields(s.items as TSchema, v, [...path, `[${i}]`])));
  }
  return out;
}

/**
 * Transition rules, evaluated like the apiserver does: on a node only when both the new and the
 * old object have it. We descend through properties and map values; the structural test makes sure
 * no transition rule sits below a list, where the apiserver would need list-map keys to pair items.
 */
function transitionIssues(schema: TSchema, value: unknown, old: unknown, path: string[]): Issue[] {
  if (value === undefined || old === undefined) return [];
  const out: Issue[] = [];
  const here = path.join(".").replace(/\.\[/g, "[");
  for (const t of transitionsOf(schema)) if (!t.check(value, old)) out.push({ path: here, message: t.message });
  const s = schema as Record<string, unknown>;
  if (isRecord(s.properties) && isRecord(value) && isRecord(old)) {
    for (const [k, sub] of Object.entries(s.properties as Record<string, TSchema>)) out.push(...transitionIssues(sub, value[k], old[k], [...path, k]));
  } else if (isRecord(s.additionalProperties) && isRecord(value) && isRecord(old)) {
    for (const k of Object.keys(value)) out.push(...transitionIssues(s.additionalProperties as TSchema, value[k], old[k], [...path, `[${k}]`]));
  }
  return out;
}

function describe(kind: string, u: unknown, issues: readonly Issue[]): string {
  const meta = field(u, "metadata");
  const ns = field(meta, "namespace");
  const name = field(meta, "name");
  const id = typeof name === "string" ? ` ${typeof ns === "string" ? `${ns}/` : ""}${name}` : "";
  return `${kind}${id} is invalid: ${issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")}`;
}
