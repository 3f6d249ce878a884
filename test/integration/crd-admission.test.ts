// Admission against the REAL kube-apiserver (test/harness): the CRDs the chart ships are installed,
// every sample is accepted, every bad manifest of the shared table is rejected with its message —
// the same message local validation gives (test/unit/crds) — and the immutable fields stay immutable.
import { ApiException, KubernetesObjectApi, type KubernetesObject } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCrd, type JsonObject } from "../../src/crds/crd.ts";
import { KINDS, NodePoolSnapshotKind, kindByName, parseAksnapObject } from "../../src/crds/index.ts";
import { crdType } from "../harness/crds.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";
import { badCases, loadSamples, updateCases, type Manifest } from "../unit/crds/cases.ts";

const kc = kubeConfig();
const api = KubernetesObjectApi.makeApiClient(kc);
let ns = "";

beforeAll(async () => {
  ns = await createNamespace(kc, "crd-admission");
});

function inNamespace(m: Manifest, name = m.metadata.name): KubernetesObject {
  const copy = structuredClone(m);
  return { ...copy, metadata: { ...copy.metadata, name, namespace: ns } } as KubernetesObject;
}

/** The apiserver's message for a rejected request; throws if the request succeeded. */
async function rejection(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body: unknown = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return { code: e.code, message: typeof message === "string" ? message : JSON.stringify(body) };
  }
  throw new Error("the apiserver accepted it");
}

describe("the installed CRDs", () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))("%s is served exactly as generated", async (_n, k) => {
    const ours = buildCrd(k);
    const name = (ours.metadata as JsonObject).name as string;
    // Raw JSON (KubernetesObjectApi would map a built-in kind onto its TypeScript model).
    const served = (await kubeClient(kc).get(crdType, undefined, name)) as unknown as {
      spec: { names: unknown; versions: Array<{ schema: unknown; additionalPrinterColumns: unknown; subresources: unknown }> };
      status: { conditions: Array<{ type: string; status: string }> };
    };
    const want = (ours.spec as JsonObject).versions as JsonObject[];
    expect(served.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: "Established", status: "True" })]));
    expect(served.spec.versions[0]!.schema).toEqual(want[0]!.schema);
    expect(served.spec.versions[0]!.additionalPrinterColumns).toEqual(want[0]!.additionalPrinterColumns);
    expect(served.spec.names).toEqual((ours.spec as JsonObject).names);
  });
});

describe("every sample is accepted (server-side dry run)", () => {
  const samples = loadSamples();
  it.each(samples.map((s) => [`${s.file}: ${s.object.kind} ${s.object.metadata.name}`, s] as const))("%s", async (_n, s) => {
    const created = (await api.create(inNamespace(s.object), undefined, "All")) as unknown as Manifest;
    // The apiserver's defaulting and ours agree: what it would store is what parse gives us.
    const local = parseAksnapObject(inNamespace(s.object));
    expect(local.ok, local.ok ? "" : local.error).toBe(true);
    if (local.ok) expect(created.spec).toEqual(local.value.spec);
  });
});

describe("bad manifests are rejected with a message a person understands", () => {
  it.each(badCases.map((c) => [c.name, c] as const))("%s", async (_n, c) => {
    const { code, message } = await rejection(api.create(inNamespace(c.manifest), undefined, "All"));
    expect(code).toBe(422);
    expect(message).toContain(c.message);
    // Same verdict, same words, locally.
    const local = parseAksnapObject(c.manifest);
    expect(local.ok).toBe(false);
    if (!local.ok) expect(local.error).toContain(c.message);
  });
});

describe("updates: immutable fields stay immutable, mutable ones change", () => {
  it.each(updateCases.map((c, i) => [c.name, c, i] as const))("%s", async (_n, c, i) => {
    const created = (await api.create(inNamespace(c.original, `${c.original.metadata.name}-u${i}`))) as unknown as Manifest;
    const next = structuredClone(created);
    c.edit(next.spec);
    const local = kindByName(c.original.kind)!.validateUpdate(created, next);
    if (c.message === undefined) {
      await api.replace(next as unknown as KubernetesObject, undefined, "All");
      expect(local.ok, local.ok ? "" : local.error).toBe(true);
    } else {
      const { code, message } = await rejection(api.replace(next as unknown as KubernetesObject, undefined, "All"));
      expect(code).toBe(422);
      expect(message).toContain(c.message);
      expect(local.ok).toBe(false);
      if (!local.ok) expect(local.error).toContain(c.message);
    }
  });

  it("status is a subresource validated by the same schema", async () => {
    const nps = loadSamples().find((x) => x.object.metadata.name === "userpool-backup")!.object;
    await api.create(inNamespace(nps, "status-write"));
    const client = kubeClient(kc);
    const status = {
      observedGeneration: 1,
      conditions: [{ type: "Ready", status: "False", reason: "Creating", message: "waiting for ARM", lastTransitionTime: "2026-11-23T01:00:00Z", observedGeneration: 1 }],
      kubernetesVersion: "1.33.2",
    };
    const updated = await client.mergePatch(NodePoolSnapshotKind.resource, ns, "status-write", { status }, "status");
    expect(updated.status).toEqual(status);
    expect(NodePoolSnapshotKind.parse(updated).ok).toBe(true);
    // A spec change sent to the status subresource is ignored, not applied.
    const ignored = await client.mergePatch(NodePoolSnapshotKind.resource, ns, "status-write", { spec: { deletionPolicy: "Retain" } }, "status");
    expect((ignored.spec as { deletionPolicy?: string }).deletionPolicy).toBe("Delete");
    const bad = { status: { conditions: [{ type: "Ready", status: "Maybe", reason: "X", message: "", lastTransitionTime: "2026-11-23T01:00:00Z" }] } };
    await expect(client.mergePatch(NodePoolSnapshotKind.resource, ns, "status-write", bad, "status")).rejects.toThrow('Unsupported value: "Maybe"');
  });
});
