// The shared ARM error → outcome table every ARM-facing kind uses (src/controllers/common/arm.ts).
import { describe, expect, it } from "vitest";
import type { ArmError } from "../../../../src/azure/errors.ts";
import { armOutcome, stalledVerdict } from "../../../../src/controllers/common/arm.ts";
import type { ReconcileResult } from "../../../../src/runtime/result.ts";

const RECHECK = 600_000;
const e = (kind: ArmError["kind"], code: string, extra: Partial<ArmError> = {}): ArmError => ({ kind, code, message: `${code} said no`, ...extra });

describe("armOutcome", () => {
  // [name, error, readiness state, reason, result]
  it.each<[string, ArmError, string, string, ReconcileResult]>([
    ["429 with Retry-After: retried no sooner", e("throttled", "TooManyRequests", { retryAfterMs: 7000 }), "progressing", "Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 7000 }],
    ["429 without Retry-After: 1 s floor", e("throttled", "TooManyRequests"), "progressing", "Throttled", { kind: "retry", error: expect.any(Error), notBeforeMs: 1000 }],
    ["5xx / timeout / reset: backoff", e("transient", "RequestTimeout"), "progressing", "ArmUnavailable", { kind: "retry", error: expect.any(Error) }],
    ["409 with Retry-After", e("conflict", "OperationNotAllowed", { retryAfterMs: 3000 }), "progressing", "ArmConflict", { kind: "retry", error: expect.any(Error), notBeforeMs: 3000 }],
    ["refused for good: Stalled, slow recheck", e("invalid", "AuthorizationFailed"), "stalled", "ArmRequestRejected", { kind: "requeueAfter", afterMs: RECHECK }],
    ["resource group missing: Stalled, slow recheck", e("notFound", "ResourceGroupNotFound"), "stalled", "ResourceGroupNotFound", { kind: "requeueAfter", afterMs: RECHECK }],
    ["another 404: Stalled ArmRequestRejected", e("notFound", "ParentResourceNotFound"), "stalled", "ArmRequestRejected", { kind: "requeueAfter", afterMs: RECHECK }],
  ])("%s", (_n, err, state, reason, result) => {
    const v = armOutcome<never>(err, "doing it", { recheckMs: () => RECHECK });
    expect(v.readiness).toMatchObject({ state, reason, message: expect.stringContaining(`doing it: `) });
    expect(v.readiness.message).toContain(err.code);
    expect(v.result).toEqual(result);
    if (state === "stalled") expect(v.event).toMatchObject({ type: "Warning", reason });
  });
});

describe("stalledVerdict", () => {
  it.each<[string, number | undefined, ReconcileResult]>([
    ["a spec problem is terminal (waits for a new generation; counted as an error, not a success)", undefined, { kind: "terminal", error: expect.any(Error) }],
    ["a world problem is rechecked", 5000, { kind: "requeueAfter", afterMs: 5000 }],
  ])("%s", (_n, recheck, result) => {
    expect(stalledVerdict("Bad", "bad", recheck).result).toEqual(result);
  });
});
