// Token buckets like ARM's subscription throttling: each request of a class takes one token,
// tokens refill continuously, an empty bucket answers 429 with Retry-After. Pure: time passed in.

import type { BucketSettings, RateLimitSettings } from "./settings.ts";

export type RequestClass = "reads" | "writes" | "deletes";

export function requestClass(method: string): RequestClass {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
      return "reads";
    case "DELETE":
      return "deletes";
    default:
      return "writes";
  }
}

export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export type TakeResult =
  | { readonly ok: true; readonly remaining: number }
  | { readonly ok: false; readonly remaining: 0; readonly retryAfterMs: number };

export function refill(state: BucketState, settings: BucketSettings, now: number): BucketState {
  const elapsed = Math.max(0, now - state.updatedAt);
  const tokens = Math.min(settings.capacity, state.tokens + (elapsed / 1000) * settings.refillPerSecond);
  return { tokens, updatedAt: now };
}

export function take(state: BucketState, settings: BucketSettings, now: number): { state: BucketState; result: TakeResult } {
  const s = refill(state, settings, now);
  if (s.tokens >= 1) {
    const next = { tokens: s.tokens - 1, updatedAt: now };
    return { state: next, result: { ok: true, remaining: Math.floor(next.tokens) } };
  }
  const missing = 1 - s.tokens;
  const retryAfterMs = settings.refillPerSecond > 0 ? Math.ceil((missing / settings.refillPerSecond) * 1000) : 60_000;
  return { state: s, result: { ok: false, remaining: 0, retryAfterMs } };
}

/** All buckets of all subscriptions. */
export class RateLimiter {
  #buckets = new Map<string, BucketState>();
  #settings: RateLimitSettings;
  constructor(settings: RateLimitSettings) {
    this.#settings = settings;
  }
  get settings(): RateLimitSettings {
    return this.#settings;
  }
  configure(settings: RateLimitSettings): void {
    this.#settings = settings;
    this.#buckets.clear();
  }
  reset(): void {
    this.#buckets.clear();
  }
  take(subscriptionId: string, cls: RequestClass, now: number): TakeResult {
    const settings = this.#settings[cls];
    if (!this.#settings.enabled) return { ok: true, remaining: settings.capacity };
    const key = `${subscriptionId.toLowerCase()}/${cls}`;
    const current = this.#buckets.get(key) ?? { tokens: settings.capacity, updatedAt: now };
    const { state, result } = take(current, settings, now);
    this.#buckets.set(key, state);
    return result;
  }
  remaining(subscriptionId: string, cls: RequestClass, now: number): number {
    const settings = this.#settings[cls];
    const current = this.#buckets.get(`${subscriptionId.toLowerCase()}/${cls}`);
    return current ? Math.floor(refill(current, settings, now).tokens) : settings.capacity;
  }
}
