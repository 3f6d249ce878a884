// JSON helpers for wire bodies. The emulator keeps resources in ARM's wire format, so every read of
// a field goes through these narrowing helpers instead of casts.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function bool(v: unknown): boolean | undefined {
  return typeof v === "boolean" ? v : undefined;
}

/** Deep copy through JSON: stored state never aliases request bodies or responses. */
export function clone<T extends JsonValue>(v: T): T {
  return structuredClone(v);
}

/** Parses unknown input into a JSON value, dropping anything JSON cannot hold. */
export function toJson(v: unknown): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === "object") {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (x !== undefined) out[k] = toJson(x);
    }
    return out;
  }
  return null;
}

/** RFC 7386 JSON merge patch; used by the control API for out-of-band edits. */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return clone(patch);
  const base: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}

/** Case-insensitive property read (ARM property names are case-insensitive on input). */
export function getCi(o: JsonObject, key: string): JsonValue | undefined {
  if (key in o) return o[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(o)) {
    if (k.toLowerCase() === lower) return v;
  }
  return undefined;
}
