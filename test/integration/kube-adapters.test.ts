// src/kube adapters against the real apiserver: status writes through the status subresource with
// conflict detection and no-op skipping, finalizers, and aggregated events.
import { beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type KubeObject, type ResourceType } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { KubeEventRecorder, eventType } from "../../src/kube/events.ts";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../../src/kube/finalizers.ts";
import { writeStatus } from "../../src/kube/status.ts";
import { crdType } from "../harness/crds.ts";
import { createNamespace, eventually, kubeConfig } from "../harness/kube.ts";

const widgets: ResourceType = { group: "test.aksnap.io", version: "v1", plural: "widgets", kind: "Widget", namespaced: true };

const widgetCrd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.test.aksnap.io" },
  spec: {
    group: "test.aksnap.io",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: { type: "object", properties: { size: { type: "integer" } } },
              status: { type: "object", properties: { phase: { type: "string" }, note: { type: "string" } } },
            },
          },
        },
      },
    ],
  },
};

let client: KubeClient;
let ns: string;

beforeAll(async () => {
  const kc = kubeConfig();
  client = new KubeClient(kc);
  await client.apply(crdType, widgetCrd, "aksnap-test", { force: true });
  await eventually(async () => {
    const c = (await client.get(crdType, undefined, "widgets.test.aksnap.io")) as { status?: { conditions?: Array<{ type: string; status: string }> } };
    return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") ? true : undefined;
  }, "widget CRD established");
  ns = await createNamespace(kc, "adapters");
});

async function widget(name: string): Promise<KubeObject> {
  return eventually(async () => client.create(widgets, { apiVersion: "test.aksnap.io/v1", kind: "Widget", metadata: { name, namespace: ns }, spec: { size: 1 } }), "widget create");
}

describe("writeStatus", () => {
  it("writes through the status subresource, skips unchanged, and refuses stale writes", async () => {
    const w = await widget("status");
    const first = await writeStatus(client, widgets, w, { phase: "Ready" });
    expect(first.kind).toBe("written");
    if (first.kind !== "written") return;
    expect(first.object.status).toEqual({ phase: "Ready" });
    expect(first.object.spec).toEqual({ size: 1 }); // status writes never touch spec

    const again = await writeStatus(client, widgets, first.object, { phase: "Ready" });
    expect(again.kind).toBe("unchanged");

    // `w` is stale now: writing from it must fail with a conflict, not overwrite.
    await expect(writeStatus(client, widgets, w, { phase: "Other" })).rejects.toSatisfy((e: unknown) => isKubeError(e, "conflict"));
    const fresh = await client.get(widgets, ns, "status");
    expect(fresh.status).toEqual({ phase: "Ready" });
  });
});

describe("finalizers", () => {
  it("adds and removes a finalizer, keeping others, and guards with resourceVersion", async () => {
    const w = await widget("fin");
    const a = await addFinalizer(client, widgets, w, "aksnap.io/test");
    const b = await addFinalizer(client, widgets, a, "example.com/other");
    expect(b.metadata.finalizers).toEqual(["aksnap.io/test", "example.com/other"]);
    await expect(removeFinalizer(client, widgets, a, "aksnap.io/test")).rejects.toSatisfy((e: unknown) => isKubeError(e, "conflict"));
    const c = await removeFinalizer(client, widgets, b, "aksnap.io/test");
    expect(c.metadata.finalizers).toEqual(["example.com/other"]);
    expect(hasFinalizer(c, "aksnap.io/test")).toBe(false);
    await removeFinalizer(client, widgets, c, "example.com/other");
  });
});

describe("events", () => {
  it("records an event and aggregates repeats by count", async () => {
    const w = await widget("ev");
    const errors: unknown[] = [];
    const rec = new KubeEventRecorder(client, "aksnap-test", { onError: (e) => errors.push(e) });
    await rec.record(w, "Warning", "SourceAgentPoolNotFound", "agent pool x not found");
    await rec.record(w, "Warning", "SourceAgentPoolNotFound", "agent pool x not found");
    await rec.record(w, "Normal", "Created", "created");
    expect(errors).toEqual([]);
    const list = await client.list(eventType, ns, { fieldSelector: `involvedObject.uid=${w.metadata.uid}` });
    const byReason = Object.fromEntries(list.items.map((e) => [e.reason as string, e]));
    expect(byReason.SourceAgentPoolNotFound?.count).toBe(2);
    expect(byReason.SourceAgentPoolNotFound?.type).toBe("Warning");
    expect(byReason.Created?.count).toBe(1);
    expect(list.items).toHaveLength(2);
  });
});
