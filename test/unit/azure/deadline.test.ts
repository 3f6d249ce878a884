import { describe, expect, it } from "vitest";
import { bounded } from "../../../src/azure/deadline.ts";

const never = (): Promise<string> => new Promise<string>(() => undefined);
const stop = (e: { code: string }): string => `stopped:${e.code}`;

describe("bounded", () => {
  it("returns the work's result when it finishes in time", async () => {
    expect(await bounded(1_000, undefined, async () => "done", stop)).toBe("done");
  });

  it("ends work that ignores its signal at the deadline (RequestTimeout)", async () => {
    expect(await bounded(20, undefined, never, stop)).toBe("stopped:RequestTimeout");
  });

  it("ends at once when the caller aborts (Aborted, not RequestTimeout)", async () => {
    const ac = new AbortController();
    const p = bounded(60_000, ac.signal, never, stop);
    ac.abort();
    expect(await p).toBe("stopped:Aborted");
  });

  it("does not start work for an already-aborted caller", async () => {
    let started = false;
    const r = await bounded(
      1_000,
      AbortSignal.abort(),
      async () => {
        started = true;
        return "ran";
      },
      stop,
    );
    expect({ r, started }).toEqual({ r: "stopped:Aborted", started: false });
  });

  it("hands the work a signal that fires on the deadline, so the SDK can cancel its request", async () => {
    let seen: AbortSignal | undefined;
    await bounded(
      20,
      undefined,
      (signal) => {
        seen = signal;
        return never();
      },
      stop,
    );
    expect(seen?.aborted).toBe(true);
  });

  it("rethrows a programmer error thrown by the work before any abort", async () => {
    await expect(bounded(1_000, undefined, () => Promise.reject(new Error("bug")), stop)).rejects.toThrow("bug");
  });
});
