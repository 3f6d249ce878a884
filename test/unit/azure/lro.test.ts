import { RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import type { RawResponse } from "../../../src/azure/clients.ts";
import {
  checkLro,
  decodeResumeToken,
  encodeResumeToken,
  startLro,
  type LroContext,
  type ResumeToken,
  type SdkOperationState,
  type SdkPoller,
} from "../../../src/azure/lro.ts";

// Fake SDK pollers: the layer's LRO logic is tested here without HTTP; the contract tests run the
// same code through the real SDK against the emulator.

const OP_URL = "https://arm.test/subscriptions/s1/providers/Microsoft.ContainerService/locations/eastus/operations/op1";

function fakePoller<R>(opts: {
  submitted?: () => Promise<void>;
  state?: SdkOperationState<R>;
  poll?: () => Promise<SdkOperationState<R>>;
  onPollError?: SdkOperationState<R>;
  operationLocation?: string;
}): SdkPoller<R> & { serialized: number } {
  let state = opts.state;
  const p = {
    serialized: 0,
    submitted: opts.submitted ?? (async () => {}),
    async poll() {
      try {
        state = await (opts.poll ?? (async () => state as SdkOperationState<R>))();
        return state;
      } catch (e) {
        if (opts.onPollError !== undefined) state = opts.onPollError;
        throw e;
      }
    },
    async serialize() {
      p.serialized++;
      return JSON.stringify({ state: { ...state, config: { operationLocation: opts.operationLocation ?? OP_URL } } });
    },
    get operationState() {
      return state;
    },
  };
  return p;
}

function ctx(over: Partial<LroContext<string, string>> = {}, statusDoc?: RawResponse): LroContext<string, string> & { gets: string[] } {
  const gets: string[] = [];
  return {
    target: "agentPool",
    action: "createOrUpdate",
    resourceId: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p",
    now: () => 0,
    map: (r) => `mapped:${r ?? "none"}`,
    clients: {
      subscriptionId: "s1",
      getJson: async (url) => {
        gets.push(url);
        if (statusDoc === undefined) throw new Error("no status doc in this test");
        return statusDoc;
      },
    },
    ...over,
    gets,
  };
}

describe("resume tokens", () => {
  const token: ResumeToken = { v: 1, target: "disk", action: "delete", subscriptionId: "s", resourceId: "/x", sdk: '{"state":{}}' };

  it("round-trip through an opaque, URL-safe string", () => {
    const s = encodeResumeToken(token);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeResumeToken(s)).toEqual(token);
  });

  it.each([
    ["not base64 JSON", "%%%"],
    ["wrong version", Buffer.from(JSON.stringify({ ...token, v: 2 })).toString("base64url")],
    ["unknown target", Buffer.from(JSON.stringify({ ...token, target: "vm" })).toString("base64url")],
    ["missing sdk state", Buffer.from(JSON.stringify({ ...token, sdk: undefined })).toString("base64url")],
  ])("reject %s", (_n, s) => {
    expect(() => decodeResumeToken(s)).toThrow("malformed ARM resume token");
  });
});

describe("startLro", () => {
  it("returns a resume token while ARM is still working, without polling", async () => {
    let polled = 0;
    const poller = fakePoller<string>({ state: { status: "running" }, poll: async () => (polled++, { status: "running" }) });
    const r = await startLro(ctx(), () => poller);
    expect(r.kind).toBe("submitted");
    expect(polled).toBe(0);
    if (r.kind === "submitted") expect(decodeResumeToken(r.resumeToken)).toMatchObject({ target: "agentPool", action: "createOrUpdate", subscriptionId: "s1" });
  });

  it("returns the mapped result when ARM finished synchronously", async () => {
    expect(await startLro(ctx(), () => fakePoller({ state: { status: "succeeded", result: "pool" } }))).toEqual({ kind: "succeeded", value: "mapped:pool" });
  });

  it("classifies a refused initial request (409 OperationNotAllowed)", async () => {
    const poller = fakePoller<string>({
      submitted: async () => {
        throw new RestError("Operation is not allowed while another is in progress", { statusCode: 409, code: "OperationNotAllowed" });
      },
    });
    expect(await startLro(ctx(), () => poller)).toMatchObject({ kind: "failed", error: { kind: "conflict", code: "OperationNotAllowed", statusCode: 409 } });
  });

  it("classifies a synchronous throw from the SDK call itself", async () => {
    const r = await startLro(ctx(), () => {
      throw new RestError("bad", { statusCode: 400, code: "InvalidParameter" });
    });
    expect(r).toMatchObject({ kind: "failed", error: { kind: "invalid", code: "InvalidParameter" } });
  });
});

describe("checkLro", () => {
  const token = (): ResumeToken => decodeResumeToken(encodeResumeToken({ v: 1, target: "agentPool", action: "createOrUpdate", subscriptionId: "s1", resourceId: "/r", sdk: "{}" }));

  it("inProgress re-serializes the poller (the status URL may have moved)", async () => {
    const poller = fakePoller<string>({ state: { status: "running" } });
    const r = await checkLro(ctx(), () => poller, token());
    expect(r.kind).toBe("inProgress");
    expect(poller.serialized).toBe(1);
  });

  it("succeeded maps the result", async () => {
    const poller = fakePoller<string>({ state: { status: "running" }, poll: async () => ({ status: "succeeded", result: "final" }) });
    expect(await checkLro(ctx(), () => poller, token())).toEqual({ kind: "succeeded", value: "mapped:final" });
  });

  it("a failed AKS operation reports the resource's provisioningError, not the SDK's code-less message", async () => {
    const sdkError = new Error("The long-running operation has failed");
    const poller = fakePoller<string>({
      state: { status: "running" },
      poll: async () => {
        throw sdkError;
      },
      onPollError: { status: "failed", error: sdkError },
    });
    const c = ctx({ provisioningError: async () => ({ code: "QuotaExceeded", message: "not enough cores" }) });
    expect(await checkLro(c, () => poller, token())).toEqual({
      kind: "failed",
      error: { kind: "invalid", code: "QuotaExceeded", message: "not enough cores" },
    });
    expect(c.gets).toEqual([]);
  });

  it("falls back to the operation status document's error", async () => {
    const sdkError = new Error("The long-running operation has failed");
    const poller = fakePoller<string>({
      state: { status: "running" },
      poll: async () => {
        throw sdkError;
      },
      onPollError: { status: "failed", error: sdkError },
    });
    const c = ctx(
      { provisioningError: async () => undefined },
      { status: 200, body: { name: "op1", status: "Failed", error: { code: "CopySourceNotFound", message: "source disk deleted" } } },
    );
    expect(await checkLro(c, () => poller, token())).toMatchObject({ kind: "failed", error: { code: "CopySourceNotFound", message: "source disk deleted" } });
    expect(c.gets).toEqual([OP_URL]);
  });

  it("falls back to the SDK message when nothing better is readable", async () => {
    const sdkError = new Error("The long-running operation has failed");
    const poller = fakePoller<string>({
      state: { status: "running" },
      poll: async () => {
        throw sdkError;
      },
      onPollError: { status: "failed", error: sdkError },
    });
    expect(await checkLro(ctx(), () => poller, token())).toMatchObject({
      kind: "failed",
      error: { kind: "invalid", code: "OperationFailed", message: "The long-running operation has failed" },
    });
  });

  it("canceled is a conflict: someone else superseded or aborted it", async () => {
    const poller = fakePoller<string>({
      state: { status: "running" },
      poll: async () => {
        throw new Error("Operation was canceled");
      },
      onPollError: { status: "canceled" },
    });
    expect(await checkLro(ctx(), () => poller, token())).toMatchObject({ kind: "failed", error: { kind: "conflict", code: "OperationCanceled" } });
  });

  it.each([
    ["429", new RestError("throttled", { statusCode: 429, code: "TooManyRequests" }), "unknown", "throttled"],
    ["503", new RestError("unavailable", { statusCode: 503 }), "unknown", "transient"],
    ["network", new RestError("reset", { code: "REQUEST_SEND_ERROR" }), "unknown", "transient"],
    ["404 on the status URL", new RestError("gone", { statusCode: 404, code: "NotFound" }), "failed", "notFound"],
  ])("a failed poll request (%s) → %s, even though the SDK marks its state failed", async (_n, err, kind, errKind) => {
    const poller = fakePoller<string>({
      state: { status: "running" },
      poll: async () => {
        throw err;
      },
      onPollError: { status: "failed", error: err },
    });
    expect(await checkLro(ctx(), () => poller, token())).toMatchObject({ kind, error: { kind: errKind } });
  });
});
