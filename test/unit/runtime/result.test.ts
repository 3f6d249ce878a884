import { describe, expect, it } from "vitest";
import type { OutcomeLog, ReconcileResult, ResultQueue } from "../../../src/runtime/result.ts";
import { applyResult, conflict, done, outcomeLog, requeueAfter, resultFromThrown, retry, terminal, TransientError } from "../../../src/runtime/result.ts";

function recordingQueue(): ResultQueue<string> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    forget: (k) => calls.push(`forget ${k}`),
    addAfter: (k, ms) => calls.push(`addAfter ${k} ${ms}`),
    addRateLimited: (k, o) => calls.push(`addRateLimited ${k}${o?.notBeforeMs === undefined ? "" : ` notBefore=${o.notBeforeMs}`}`),
  };
}

const boom = new Error("boom");

describe("applyResult: the one result → queue action mapping", () => {
  it.each<[string, ReconcileResult, string[], string, boolean, boolean]>([
    ["done forgets", done(), ["forget k"], "success", false, false],
    ["requeueAfter forgets, then adds after", requeueAfter(30_000), ["forget k", "addAfter k 30000"], "requeue_after", false, false],
    ["retry without error backs off", retry(), ["addRateLimited k"], "requeue", false, false],
    ["retry with error backs off and is an error", retry(boom), ["addRateLimited k"], "error", true, false],
    ["retry honours notBefore (Retry-After)", retry(boom, 12_000), ["addRateLimited k notBefore=12000"], "error", true, false],
    ["terminal forgets and does not requeue", terminal(boom), ["forget k"], "error", true, true],
    ["terminal without an error is still a terminal error", terminal(), ["forget k"], "error", true, true],
    ["a thrown error is a retry", resultFromThrown(boom), ["addRateLimited k"], "error", true, false],
    ["a conflict is a rate-limited retry, keeping the key's backoff", conflict(boom), ["addRateLimited k"], "error", true, false],
  ])("%s", (_name, result, calls, label, isError, isTerminal) => {
    const q = recordingQueue();
    expect(applyResult(q, "k", result)).toEqual({ label, isError, isTerminal });
    expect(q.calls).toEqual(calls);
  });

  it("builders produce the documented shapes", () => {
    expect(retry(boom, 5)).toEqual({ kind: "retry", error: boom, notBeforeMs: 5 });
    expect(retry(boom)).not.toHaveProperty("notBeforeMs");
    expect(terminal(boom)).toEqual({ kind: "terminal", error: boom });
  });
});

describe("outcomeLog: how an outcome is logged", () => {
  it.each<[string, ReconcileResult, OutcomeLog]>([
    ["converged: debug", done(), "finished"],
    ["a planned re-check: debug", requeueAfter(1000), "finished"],
    ["a retry without an error (a lost race): debug", conflict(), "finished"],
    ["a spec stall (terminal): info, no stack", terminal(new Error("InvalidSpec: spec.source is required")), "stalled"],
    ["a failed preflight (terminal): info, no stack", terminal(new Error("PreflightFailed: the target PVC exists")), "stalled"],
    ["a terminal without an error: info", terminal(), "stalled"],
    ["ARM throttling (TransientError): warn once per episode", retry(new TransientError("429"), 1000), "transient"],
    ["a thrown fault: error with a stack", resultFromThrown(boom), "fault"],
    ["a retry with a plain error: error with a stack", retry(boom), "fault"],
  ])("%s", (_name, result, want) => {
    const applied = applyResult(recordingQueue(), "k", result);
    expect(outcomeLog(applied, "error" in result ? result.error : undefined)).toBe(want);
  });
});
