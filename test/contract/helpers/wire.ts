// Comparing wire JSON against official example files: every field an example shows must be
// present with the same JSON type, and the same value unless the test names the path as one
// whose value legitimately differs (timestamps, generated names, the example's made-up defaults).
// ARM ids and types compare case-insensitively, and the examples' subscription placeholders
// ({subscription-id} vs {subscriptionId}, which the same file mixes) are treated as equal.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project's shared/ folder lives beside the repository (as in CI); AKSNAP_SHARED_DIR overrides.
 * Missing is an error, never a silent skip: these files are the contract.
 */
export const SHARED_DIR = process.env.AKSNAP_SHARED_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared");
if (!existsSync(join(SHARED_DIR, "arm-contract"))) {
  throw new Error(`ARM contract files not found at ${SHARED_DIR}/arm-contract (set AKSNAP_SHARED_DIR to the shared/ folder)`);
}
export const EXAMPLES_DIR = join(SHARED_DIR, "arm-contract/examples");

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isJsonObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface ExampleFile {
  readonly path: string;
  readonly parameters: { [k: string]: Json };
  readonly responses: { [status: string]: { body?: Json; headers?: { [k: string]: string } } };
}

export function loadExample(relative: string): ExampleFile {
  const path = join(EXAMPLES_DIR, relative);
  const raw: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!isJsonObject(raw) || !isJsonObject(raw["parameters"]) || !isJsonObject(raw["responses"])) {
    throw new Error(`${path}: not an example file`);
  }
  const responses: ExampleFile["responses"] = {};
  for (const [status, r] of Object.entries(raw["responses"])) {
    if (!isJsonObject(r)) throw new Error(`${path}: response ${status} is not an object`);
    const headers = isJsonObject(r["headers"]) ? Object.fromEntries(Object.entries(r["headers"]).map(([k, v]) => [k, String(v)])) : undefined;
    responses[status] = { ...(r["body"] !== undefined ? { body: r["body"] } : {}), ...(headers ? { headers } : {}) };
  }
  return { path, parameters: raw["parameters"], responses };
}

export function exampleBody(ex: ExampleFile, status: string): { [k: string]: Json } {
  const b = ex.responses[status]?.body;
  if (!isJsonObject(b)) throw new Error(`${ex.path}: no object body for ${status}`);
  return b;
}

export function exampleParam(ex: ExampleFile, name: string): Json {
  const v = ex.parameters[name];
  if (v === undefined) throw new Error(`${ex.path}: no parameter ${name}`);
  return v;
}

export function exampleString(ex: ExampleFile, name: string): string {
  const v = exampleParam(ex, name);
  if (typeof v !== "string") throw new Error(`${ex.path}: parameter ${name} is not a string`);
  return v;
}

function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

const CASE_INSENSITIVE_KEYS = new Set(["id", "type", "sourceResourceId", "location"]);

function normalise(key: string, v: string): string {
  if (!CASE_INSENSITIVE_KEYS.has(key) && !v.startsWith("/subscriptions/") && !v.startsWith("subscriptions/")) return v;
  return v
    .replace(/^\/?subscriptions\//i, "/subscriptions/")
    .replace(/\{subscription-?id\}/gi, "{subscriptionid}")
    .replace(/%7Bsubscription-?id%7D/gi, "{subscriptionid}")
    .replace(/\s+/g, "")
    .toLowerCase();
}

export interface MatchOptions {
  /** Dotted paths (array items as [i] or [*]) whose values may differ; presence and type still count. */
  readonly ignoreValues?: readonly string[];
  /** Dotted paths that may be absent (the example shows a field the emulator does not model). */
  readonly mayBeAbsent?: readonly string[];
}

function pathMatches(path: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns) return false;
  const generic = path.replace(/\[\d+\]/g, "[*]");
  return patterns.some((p) => p === path || p === generic || path.startsWith(p + ".") || generic.startsWith(p + ".") || path.startsWith(p + "[") || generic.startsWith(p + "["));
}

/** Differences between an actual wire body and an example's; empty when it matches. */
export function wireMismatches(actual: unknown, expected: unknown, opts: MatchOptions = {}, path = ""): string[] {
  const out: string[] = [];
  const at = path === "" ? "(root)" : path;
  if (typeOf(actual) !== typeOf(expected)) {
    return [`${at}: expected ${typeOf(expected)} ${JSON.stringify(expected)}, got ${typeOf(actual)} ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length && !pathMatches(path, opts.ignoreValues)) {
      out.push(`${at}: expected ${expected.length} items, got ${actual.length}`);
    }
    expected.forEach((e, i) => {
      if (i < actual.length) out.push(...wireMismatches(actual[i], e, opts, `${path}[${i}]`));
    });
    return out;
  }
  if (isJsonObject(expected) && isJsonObject(actual)) {
    for (const [k, e] of Object.entries(expected)) {
      const p = path === "" ? k : `${path}.${k}`;
      if (!(k in actual)) {
        if (!pathMatches(p, opts.mayBeAbsent)) out.push(`${p}: missing (expected ${JSON.stringify(e)})`);
        continue;
      }
      out.push(...wireMismatches(actual[k], e, opts, p));
    }
    return out;
  }
  if (pathMatches(path, opts.ignoreValues)) return out;
  const key = path.split(".").pop()?.replace(/\[\d+\]$/, "") ?? "";
  const eq = typeof expected === "string" && typeof actual === "string" ? normalise(key, expected) === normalise(key, actual) : expected === actual;
  if (!eq) out.push(`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  return out;
}

/** Exact structural equality of two JSON values, ignoring key order (request bodies). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (typeOf(a) !== typeOf(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}
