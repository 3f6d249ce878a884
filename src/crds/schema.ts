// Schema builders shared by the kinds. Every schema here is at once a TypeBox type (for `Static<>`
// types and runtime validation) and an apiextensions v1 structural schema (for the CRD): we only use
// keywords both understand, and we build enums and string maps by hand because TypeBox's own
// `Union(Literal…)` and `Record` emit `anyOf`/`const`/`patternProperties`, which CRDs forbid.
//
// An admission rule is written once, as a `Rule`: the CEL expression the apiserver evaluates, the
// message a person reads, and its JavaScript twin for local validation. The two are kept side by
// side and the integration tests feed the same bad manifests to both and assert the same message.
import Type, { type Static, type TSchema, type TUnsafe } from "typebox";
import { Memory } from "typebox/system";

/** A CEL validation rule (`x-kubernetes-validations`) and its local twin. */
export interface Rule<T> {
  /** CEL, evaluated by the apiserver on create and update. */
  readonly rule: string;
  /** What the apiserver and local validation both report when the rule fails. */
  readonly message: string;
  /** Optional JSONPath (relative to the node) the apiserver reports the error at. */
  readonly fieldPath?: string;
  /** Local twin of `rule`. Called only on values that passed the OpenAPI part of the schema. */
  readonly check: (self: T) => boolean;
}

/** A transition rule (uses `oldSelf`): evaluated on update only, when the old value exists. */
export interface TransitionRule<T> {
  readonly rule: string;
  readonly message: string;
  readonly check: (self: T, oldSelf: T) => boolean;
}

/** The CRD's view of a rule. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Hidden (non-enumerable) key holding transition rules' twins; never reaches the CRD. */
export const TRANSITIONS = "~aksnapTransitions";
export const VALIDATIONS = "x-kubernetes-validations";

export function transitionsOf(schema: object): readonly TransitionRule<unknown>[] {
  const t = (schema as Record<string, unknown>)[TRANSITIONS];
  return Array.isArray(t) ? (t as TransitionRule<unknown>[]) : [];
}

function toCel(r: { rule: string; message: string; fieldPath?: string }): CelValidation {
  return r.fieldPath === undefined ? { rule: r.rule, message: r.message } : { rule: r.rule, message: r.message, fieldPath: r.fieldPath };
}

/**
 * Attaches rules to a schema: the CEL goes into `x-kubernetes-validations`, each check becomes a
 * TypeBox refinement (so the compiled validator enforces it), transition checks are kept hidden for
 * `validateUpdate`.
 */
export function withRules<S extends TSchema>(schema: S, rules: readonly Rule<Static<S>>[], transitions: readonly TransitionRule<Static<S>>[] = []): S {
  const existing = ((schema as Record<string, unknown>)[VALIDATIONS] as CelValidation[] | undefined) ?? [];
  const cel = [...existing, ...rules.map(toCel), ...transitions.map(toCel)];
  const hidden = transitions.length > 0 ? { [TRANSITIONS]: [...transitionsOf(schema), ...transitions] } : {};
  let out = Memory.Update(schema, hidden, { [VALIDATIONS]: cel }) as S;
  for (const r of rules) {
    out = Type.Refine(out, (v: Static<S>) => r.check(v), () => r.message) as unknown as S;
  }
  return out;
}

/** A CEL string literal for `s`; raw (r'…') when possible so regexes stay readable in the YAML. */
export function celString(s: string): string {
  if (!s.includes("'") && !s.includes("\n")) return `r'${s}'`;
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * A regex rule: the same source runs in the apiserver (CEL `matches`, RE2) and locally (JS, `u`
 * flag). Write regexes in the common subset: no lookaround, no backreferences, `\p{L}` is fine.
 */
export function matching(regex: string, message: string): Rule<string> {
  const re = new RegExp(regex, "u");
  return { rule: `self.matches(${celString(regex)})`, message, check: (s) => re.test(s) };
}

/** A string schema with a bound length (CEL cost limits need one) and regex rules. */
export function pattern(regex: string, message: string, opts: { maxLength: number; minLength?: number; description?: string }): TUnsafe<string> {
  const base = Type.Unsafe<string>({ type: "string", ...opts });
  return withRules(base, [matching(regex, message)]);
}

/** A string enum, emitted as `type: string` + `enum` (structural; no anyOf/const). */
export function stringEnum<const V extends readonly string[]>(values: V, opts: { description?: string; default?: V[number] } = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: "string", enum: [...values], ...opts });
}

/** map[string]string, emitted as `additionalProperties` (structural; no patternProperties). */
export function stringMap(opts: { description?: string; maxProperties?: number; minProperties?: number; maxValueLength?: number } = {}): TUnsafe<Record<string, string>> {
  const { maxValueLength, ...rest } = opts;
  return Type.Unsafe<Record<string, string>>({
    type: "object",
    additionalProperties: maxValueLength === undefined ? { type: "string" } : { type: "string", maxLength: maxValueLength },
    ...rest,
  });
}

/**
 * A list of unique scalars (`x-kubernetes-list-type: set`): the apiserver rejects duplicates with
 * "Duplicate value"; the refinement is the local twin.
 */
export function setOf<S extends TSchema>(item: S, opts: { description?: string; minItems?: number; maxItems: number }) {
  const list = Type.Array(item, { ...opts, "x-kubernetes-list-type": "set" });
  return Type.Refine(
    list,
    (xs) => new Set(xs).size === xs.length,
    (xs) => `Duplicate value: ${JSON.stringify(xs.find((x, i) => xs.indexOf(x) !== i))}`,
  );
}

/** RFC 3339 timestamp as Kubernetes writes it (`metav1.Time`). */
export function dateTime(description?: string): TUnsafe<string> {
  return Type.Unsafe<string>({ type: "string", format: "date-time", ...(description ? { description } : {}) });
}

/** Structural deep equality of JSON values: the local twin of CEL `==` on objects and lists. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

/** `has(self.x)` for the local twins: present and not undefined. */
export function has<T extends object>(o: T | undefined, key: keyof T): boolean {
  return o !== undefined && o[key] !== undefined;
}
