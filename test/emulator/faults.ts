// Scripted faults: rules matched by method + path regex, consumed by count and/or probability,
// checked before rate limiting and routing. The HTTP layer carries out `reset` and `delay`.

import { isObject, num, str } from "./json.ts";

export type FaultAction =
  /** 429. With neither retryAfter field it carries no retry hint (the SDK then gives up at once). */
  | {
      readonly kind: "throttle";
      readonly retryAfterSeconds?: number;
      readonly retryAfterMs?: number;
      /** Header carrying retryAfterMs; default retry-after-ms. */
      readonly msHeader?: "retry-after-ms" | "x-ms-retry-after-ms";
    }
  /** 5xx with an ARM error body (default 500 InternalServerError); with retryAfterSeconds, a Retry-After header (ARM's 503). */
  | { readonly kind: "serverError"; readonly status?: number; readonly code?: string; readonly message?: string; readonly retryAfterSeconds?: number }
  /** Any status with any ARM error; `unwrapped` sends the bare `{"code",…}` body. */
  | { readonly kind: "error"; readonly status: number; readonly code: string; readonly message: string; readonly unwrapped?: boolean }
  /** Destroy the socket without answering (ECONNRESET at the client). */
  | { readonly kind: "reset" }
  /** Wait, then answer normally. */
  | { readonly kind: "delay"; readonly ms: number };

export interface FaultRuleInput {
  /** HTTP method, any case; omitted = any. */
  readonly method?: string;
  /** Regular expression source tested against the request path (without query). */
  readonly path: string;
  /** RegExp flags; default "i" (ARM paths are case-insensitive). */
  readonly flags?: string;
  /** How many matching requests it applies to; omitted = until removed. */
  readonly times?: number;
  /** Chance (0..1) a matching request is hit; default 1. */
  readonly probability?: number;
  readonly action: FaultAction;
}

export interface FaultRule extends FaultRuleInput {
  readonly id: string;
  /** Requests this rule has hit so far. */
  readonly hits: number;
}

interface LiveRule {
  readonly input: FaultRuleInput;
  readonly id: string;
  readonly re: RegExp;
  hits: number;
}

export class FaultBook {
  #rules: LiveRule[] = [];
  #seq = 0;
  readonly #random: () => number;
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }
  add(input: FaultRuleInput): string {
    const id = `fault-${++this.#seq}`;
    this.#rules.push({ input, id, re: new RegExp(input.path, input.flags ?? "i"), hits: 0 });
    return id;
  }
  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length !== before;
  }
  clear(): void {
    this.#rules = [];
  }
  list(): FaultRule[] {
    return this.#rules.map((r) => ({ ...r.input, id: r.id, hits: r.hits }));
  }
  /** First live rule matching the request, consumed by one; undefined when none applies. */
  match(method: string, path: string): { id: string; action: FaultAction } | undefined {
    for (const rule of this.#rules) {
      const { input } = rule;
      if (input.method !== undefined && input.method.toUpperCase() !== method.toUpperCase()) continue;
      if (input.times !== undefined && rule.hits >= input.times) continue;
      if (!rule.re.test(path)) continue;
      if (input.probability !== undefined && this.#random() >= input.probability) continue;
      rule.hits += 1;
      return { id: rule.id, action: input.action };
    }
    return undefined;
  }
}

/** Validates a fault rule arriving as JSON over the control API. */
export function parseFaultRule(v: unknown): FaultRuleInput {
  if (!isObject(v)) throw new Error("fault rule must be an object");
  const path = str(v["path"]);
  if (path === undefined) throw new Error("fault rule needs `path` (a regular expression source)");
  const flags = str(v["flags"]);
  new RegExp(path, flags ?? "i");
  const action = parseFaultAction(v["action"]);
  const method = str(v["method"]);
  const times = num(v["times"]);
  const probability = num(v["probability"]);
  return {
    path,
    action,
    ...(flags !== undefined ? { flags } : {}),
    ...(method !== undefined ? { method } : {}),
    ...(times !== undefined ? { times } : {}),
    ...(probability !== undefined ? { probability } : {}),
  };
}

function parseFaultAction(v: unknown): FaultAction {
  if (!isObject(v)) throw new Error("fault rule needs `action` object");
  const kind = str(v["kind"]);
  switch (kind) {
    case "throttle": {
      const retryAfterSeconds = num(v["retryAfterSeconds"]);
      const retryAfterMs = num(v["retryAfterMs"]);
      const msHeader = str(v["msHeader"]);
      if (msHeader !== undefined && msHeader !== "retry-after-ms" && msHeader !== "x-ms-retry-after-ms") {
        throw new Error("msHeader must be retry-after-ms or x-ms-retry-after-ms");
      }
      return {
        kind,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(msHeader !== undefined ? { msHeader } : {}),
      };
    }
    case "serverError": {
      const status = num(v["status"]);
      const code = str(v["code"]);
      const message = str(v["message"]);
      const retryAfterSeconds = num(v["retryAfterSeconds"]);
      return {
        kind,
        ...(status !== undefined ? { status } : {}),
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
        ...(code !== undefined ? { code } : {}),
        ...(message !== undefined ? { message } : {}),
      };
    }
    case "error": {
      const status = num(v["status"]);
      const code = str(v["code"]);
      const message = str(v["message"]);
      if (status === undefined || code === undefined || message === undefined) {
        throw new Error("error fault needs status, code and message");
      }
      return { kind, status, code, message, ...(v["unwrapped"] === true ? { unwrapped: true } : {}) };
    }
    case "reset":
      return { kind };
    case "delay": {
      const ms = num(v["ms"]);
      if (ms === undefined) throw new Error("delay fault needs ms");
      return { kind, ms };
    }
    default:
      throw new Error(`unknown fault kind ${String(kind)}`);
  }
}
