import { describe, expect, it } from "vitest";
import type { ArmError } from "../../../../src/azure/errors.ts";
import type { CopyProgress } from "../../../../src/azure/provisioning.ts";
import type { ArmResult } from "../../../../src/azure/result.ts";
import { HandleReads } from "../../../../src/controllers/volumesnapshot/reads.ts";

const H = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/a";
const signal = new AbortController().signal;

function setup(answers: Array<ArmResult<CopyProgress>>) {
  let t = 1_000_000;
  const calls: string[] = [];
  const reads = new HandleReads(async (h) => {
    calls.push(h);
    await Promise.resolve();
    return answers.shift() ?? { ok: true, value: { provisioningState: "succeeded", completionPercent: 100 } };
  }, () => t);
  return { reads, calls, advance: (ms: number) => (t += ms), now: () => t };
}

const copying = (pct: number): ArmResult<CopyProgress> => ({ ok: true, value: { provisioningState: "succeeded", completionPercent: pct } });
const throttled: ArmResult<CopyProgress> = { ok: false, error: { kind: "throttled", code: "TooManyRequests", message: "slow down", retryAfterMs: 5000 } satisfies ArmError };

describe("HandleReads", () => {
  it("concurrent asks for one handle share one GET", async () => {
    const { reads, calls, now } = setup([copying(40)]);
    const [a, b] = await Promise.all([reads.observe(H, now(), signal), reads.observe(H.toLowerCase(), now(), signal)]);
    expect(calls).toHaveLength(1);
    expect(a).toEqual(b);
  });

  it("an ask before the next poll time returns the last answer without a GET", async () => {
    const { reads, calls, advance, now } = setup([copying(40), copying(70)]);
    await reads.observe(H, now(), signal);
    const first = now();
    advance(5_000);
    const r = await reads.observe(H, first + 15_000, signal);
    expect(calls).toHaveLength(1);
    expect(r).toMatchObject({ kind: "observed", fresh: false, observation: { kind: "found", snapshot: { completionPercent: 40 } } });
    advance(10_000);
    const r2 = await reads.observe(H, first + 15_000, signal);
    expect(calls).toHaveLength(2);
    expect(r2).toMatchObject({ kind: "observed", fresh: true, observation: { snapshot: { completionPercent: 70 } } });
  });

  it("a second VolumeSnapshot of the same handle due at the same time does not read again", async () => {
    const { reads, calls, now } = setup([copying(40)]);
    const due = now();
    await reads.observe(H, due, signal);
    await reads.observe(H, due, signal);
    expect(calls).toHaveLength(1);
  });

  it("early with nothing known (a restarted process): no GET, says when", async () => {
    const { reads, calls, now } = setup([]);
    expect(await reads.observe(H, now() + 7_000, signal)).toEqual({ kind: "early", notBefore: now() + 7_000 });
    expect(calls).toHaveLength(0);
  });

  it("ARM errors are reported, notFound is an observation", async () => {
    const { reads, advance, now } = setup([throttled, { ok: false, error: { kind: "notFound", code: "ResourceNotFound", message: "gone" } }]);
    expect(await reads.observe(H, now(), signal)).toMatchObject({ kind: "error", error: { kind: "throttled", retryAfterMs: 5000 } });
    advance(15_000);
    expect(await reads.observe(H, now(), signal)).toMatchObject({ kind: "observed", observation: { kind: "notFound", code: "ResourceNotFound" } });
  });

  it("forget drops the handle", async () => {
    const { reads, now } = setup([copying(10)]);
    await reads.observe(H, now(), signal);
    expect(reads.size).toBe(1);
    reads.forget(H);
    expect(reads.size).toBe(0);
    expect(reads.last(H)).toBeUndefined();
  });
});
