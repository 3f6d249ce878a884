// KubeClient against the real kube-apiserver: request bodies the server must read. Node sends a
// DELETE body without framing unless Content-Length is set, and the apiserver then ignores it —
// DeleteOptions (preconditions, propagationPolicy) were silently dropped.
import { describe, expect, it } from "vitest";
import type { KubeObject, ResourceType } from "../../src/kube/client.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";

const configMaps: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

describe("KubeClient on the real apiserver", () => {
  it("DELETE sends its DeleteOptions: a uid precondition that does not match refuses the delete", async () => {
    const kc = kubeConfig();
    const client = kubeClient(kc);
    const ns = await createNamespace(kc, "kube-client");
    const obj: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "guarded", namespace: ns } };
    const created = await client.create(configMaps, obj);
    await expect(client.delete(configMaps, ns, "guarded", { preconditionUid: "00000000-0000-0000-0000-000000000000" })).rejects.toMatchObject({ kind: "conflict" });
    expect(await client.tryGet(configMaps, ns, "guarded")).not.toBeNull();
    await client.delete(configMaps, ns, "guarded", { preconditionUid: created.metadata.uid ?? "" });
    expect(await client.tryGet(configMaps, ns, "guarded")).toBeNull();
    client.close();
  });
});
