// Time is injected: the state machines take `now` as an argument, and the server reads it from a
// Clock so a test can drive time by hand instead of sleeping.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand; `advance` returns the new time. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  advance(ms: number): number {
    this.#t += ms;
    return this.#t;
  }
  set(t: number): void {
    this.#t = t;
  }
}

export function iso(t: number): string {
  return new Date(t).toISOString();
}
