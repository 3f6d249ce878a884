// BackgroundEventRecorder (src/kube/events.ts): events leave the reconcile's path, in a bounded
// queue that merges repeats and drops when full, and a stop delivers what is queued.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../../src/kube/client.ts";
import { BackgroundEventRecorder, type EventKind, type EventSink } from "../../../src/kube/events.ts";

const obj = (name: string): KubeObject => ({ apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name, namespace: "ns", uid: `uid-${name}`, resourceVersion: "7" }, spec: { big: "x".repeat(100) } });

interface Sent {
  name: string;
  reason: string;
  times: number;
  at: string;
  keys: string[];
}

/** A sink whose sends stay in flight until released, so the test decides every interleaving. */
class GatedSink implements EventSink {
  readonly sent: Sent[] = [];
  readonly #waiting: Array<() => void> = [];
  inFlight = 0;
  recordTimes(o: KubeObject, _type: EventKind, reason: string, _message: string, times: number, at: Date): Promise<void> {
    this.inFlight += 1;
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.inFlight -= 1;
        this.sent.push({ name: o.metadata.name, reason, times, at: at.toISOString(), keys: Object.keys(o) });
        resolve();
      }),
    );
  }
  /** Completes the oldest send in flight. */
  release(): void {
    this.#waiting.shift()?.();
  }
  async releaseAll(): Promise<void> {
    while (this.#waiting.length > 0) {
      this.release();
      await Promise.resolve();
    }
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("BackgroundEventRecorder", () => {
  it("returns before the event is sent, stamped with the time it was recorded", async () => {
    const sink = new GatedSink();
    let t = 1000;
    const rec = new BackgroundEventRecorder(sink, { now: () => new Date(t) });
    let returned = false;
    void rec.record(obj("a"), "Normal", "Created", "m").then(() => (returned = true));
    await tick();
    expect(returned).toBe(true);
    expect(sink.inFlight).toBe(1);
    t = 5000;
    sink.release();
    await rec.flush();
    expect(sink.sent).toEqual([{ name: "a", reason: "Created", times: 1, at: new Date(1000).toISOString(), keys: ["apiVersion", "kind", "metadata"] }]);
  });

  it("sends at most `concurrency` at once and merges a queued repeat into one event with its count", async () => {
    const sink = new GatedSink();
    const rec = new BackgroundEventRecorder(sink, { concurrency: 2 });
    for (const n of ["a", "b", "c"]) void rec.record(obj(n), "Normal", "Created", "m");
    void rec.record(obj("c"), "Normal", "Created", "m");
    void rec.record(obj("c"), "Normal", "Created", "m");
    expect(sink.inFlight).toBe(2);
    expect(rec.pending).toBe(3);
    await sink.releaseAll();
    await sink.releaseAll();
    await rec.flush();
    expect(sink.sent.map((s) => [s.name, s.times])).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", 3],
    ]);
  });

  it("a repeat recorded while its first send is in flight waits for it (one Event, counted), not a second send beside it", async () => {
    const sink = new GatedSink();
    const rec = new BackgroundEventRecorder(sink, { concurrency: 4 });
    void rec.record(obj("a"), "Warning", "Throttled", "m");
    void rec.record(obj("a"), "Warning", "Throttled", "m");
    expect(sink.inFlight).toBe(1);
    sink.release();
    await tick();
    expect(sink.inFlight).toBe(1);
    sink.release();
    await rec.flush();
    expect(sink.sent.map((s) => s.times)).toEqual([1, 1]);
  });

  it("drops new events when the queue is full, and says so", async () => {
    const sink = new GatedSink();
    const drops: number[] = [];
    const rec = new BackgroundEventRecorder(sink, { concurrency: 1, maxQueued: 2, onDrop: (n) => drops.push(n) });
    for (const n of ["a", "b", "c", "d", "e"]) void rec.record(obj(n), "Normal", "Created", "m");
    // a in flight, b and c queued, d and e dropped (reported once within the second).
    expect(rec.pending).toBe(3);
    expect(drops).toEqual([1]);
    await sink.releaseAll();
    await sink.releaseAll();
    await sink.releaseAll();
    await rec.flush();
    expect(sink.sent.map((s) => s.name)).toEqual(["a", "b", "c"]);
  });

  it("on stop, delivers what is queued, and records made after it go straight through", async () => {
    const sink = new GatedSink();
    const rec = new BackgroundEventRecorder(sink, { concurrency: 1 });
    const stop = new AbortController();
    let stopped = false;
    const running = rec.start(stop.signal).then(() => (stopped = true));
    void rec.record(obj("a"), "Normal", "Created", "m");
    void rec.record(obj("b"), "Normal", "Created", "m");
    stop.abort();
    await tick();
    expect(stopped).toBe(false);
    let lateDone = false;
    const late = rec.record(obj("late"), "Normal", "Deleted", "m").then(() => (lateDone = true));
    await tick();
    expect(lateDone).toBe(false); // the caller now waits for its own send
    await sink.releaseAll();
    await sink.releaseAll();
    await Promise.all([running, late]);
    expect(stopped).toBe(true);
    expect(sink.sent.map((s) => s.name).sort()).toEqual(["a", "b", "late"]);
  });

  it("paces sends by its token bucket: the burst at once, then one per 1/rate s; a stop sends the rest at once", async () => {
    const sink = new GatedSink();
    let t = 0;
    const rec = new BackgroundEventRecorder(sink, { concurrency: 8, ratePerSecond: 10, burst: 2, monotonicMs: () => t });
    for (const n of ["a", "b", "c", "d", "e"]) void rec.record(obj(n), "Normal", "Created", "m");
    expect(sink.inFlight).toBe(2);
    await sink.releaseAll();
    expect(sink.inFlight).toBe(0); // the bucket is empty: c, d and e wait
    t = 100; // one token
    await new Promise((r) => setTimeout(r, 120));
    expect(sink.inFlight).toBe(1);
    await sink.releaseAll();
    const stop = new AbortController();
    const stopped = rec.start(stop.signal);
    stop.abort();
    await tick();
    expect(sink.inFlight).toBe(2); // d and e, without waiting for tokens
    await sink.releaseAll();
    await stopped;
    expect(sink.sent.map((s) => s.name)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("a stop does not wait longer than its drain timeout", async () => {
    const sink = new GatedSink();
    const rec = new BackgroundEventRecorder(sink, { drainTimeoutMs: 20 });
    void rec.record(obj("a"), "Normal", "Created", "m");
    const stop = new AbortController();
    stop.abort();
    await rec.start(stop.signal);
    expect(sink.sent).toEqual([]);
    sink.release();
  });
});
