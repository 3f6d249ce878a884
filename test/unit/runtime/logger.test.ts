import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { Controller } from "../../../src/runtime/controller.ts";
import type { Logger } from "../../../src/runtime/logger.ts";
import { createNoopLogger } from "../../../src/runtime/logger.ts";
import { retry } from "../../../src/runtime/result.ts";

describe("Logger", () => {
  it("a pino logger is a runtime Logger: per-reconcile child bindings and err serialisation", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const root: Logger = pino({ level: "debug" }, sink); // compile-time check of compatibility
    const clock = new ManualClock(0);
    const controller = new Controller({
      name: "widgets",
      logger: root,
      clock,
      newReconcileId: () => "r-1",
      reconcile: async (_key, ctx) => {
        ctx.log.info({ step: "read" }, "reading");
        return retry(new Error("throttled"), 60_000);
      },
    });
    const stop = new AbortController();
    const running = controller.run({ stop: stop.signal });
    controller.enqueue("ns/w");
    await clock.advance(0);
    stop.abort();
    await running;
    await new Promise((r) => setImmediate(r));
    expect(lines.find((l) => l["msg"] === "reading")).toMatchObject({ controller: "widgets", key: "ns/w", reconcileId: "r-1", step: "read" });
    const err = lines.find((l) => l["msg"] === "Reconciler error");
    expect(err).toMatchObject({ level: 50, key: "ns/w", result: "error", err: { message: "throttled", type: "Error" } });
  });

  it("the noop logger accepts every call shape", () => {
    const log = createNoopLogger();
    log.child({ a: 1 }).info("x");
    log.error({ err: new Error("e") }, "y");
  });
});
