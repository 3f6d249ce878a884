// A 404 about a kind (its API not served: a CRD not installed) is told apart from a 404 about an
// object, so a controller can say "install the CRD" instead of retrying forever.
import { describe, expect, it } from "vitest";
import { defaultFromThrown, NOT_SERVED_RECHECK_MS } from "../../../src/controllers/common/frame.ts";
import { classifyStatus, withRequest } from "../../../src/kube/errors.ts";

describe("404s: the kind or the object", () => {
  it.each([
    ["unknown group/version: the apiserver's text answer", { message: "404 page not found\n" }, true],
    ["known group, unknown resource: a Status without details", { kind: "Status", reason: "NotFound", message: "the server could not find the requested resource" }, true],
    ["an object that does not exist", { kind: "Status", reason: "NotFound", message: 'x "a" not found', details: { name: "a", kind: "x" } }, false],
    ["a namespace that does not exist (on create)", { kind: "Status", reason: "NotFound", message: 'namespaces "n" not found', details: { name: "n", kind: "namespaces" } }, false],
  ])("%s", (_n, body, notServed) => {
    const e = classifyStatus(404, body);
    expect(e.kind).toBe("notFound");
    expect(e.notServed).toBe(notServed);
  });

  it("a not-served error names the API, without the namespace or query", () => {
    const e = withRequest(classifyStatus(404, { message: "404 page not found\n" }), "GET", "/apis/snapshot.storage.k8s.io/v1/namespaces/a/volumesnapshots?labelSelector=x");
    expect(e.message).toBe("GET /apis/snapshot.storage.k8s.io/v1/volumesnapshots: not served by this cluster (is the CRD installed?)");
    const obj = classifyStatus(404, { reason: "NotFound", message: "gone", details: { name: "a" } });
    expect(withRequest(obj, "GET", "/x")).toBe(obj);
  });
});

describe("a thrown not-served error in a reconcile", () => {
  it.each([
    ["not served: Stalled APINotServed, looked at again in 5 min", classifyStatus(404, { message: "404 page not found\n" }), "stalled", "APINotServed", { kind: "requeueAfter", afterMs: NOT_SERVED_RECHECK_MS }],
    ["an object 404: an error, retried with backoff", classifyStatus(404, { reason: "NotFound", details: { name: "a" } }), "progressing", "ReconcileError", undefined],
  ])("%s", (_n, error, state, reason, result) => {
    const v = defaultFromThrown(error);
    expect(v.readiness.state).toBe(state);
    expect(v.readiness.reason).toBe(reason);
    if (result) expect(v.result).toEqual(result);
    else expect(v.result.kind).toBe("retry");
  });
});
