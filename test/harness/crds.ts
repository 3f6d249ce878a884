// Installs CustomResourceDefinitions from YAML files and waits until the apiserver serves them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";

export const crdType: ResourceType = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };

export function readYamlObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object" && "kind" in o);
}

export function crdFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .sort()
    .map((f) => join(dir, f));
}

/** Create or update each CRD (server-side apply), then wait for Established. */
export async function installCrds(client: KubeClient, files: string[], timeoutMs = 60_000): Promise<string[]> {
  const names: string[] = [];
  for (const f of files) {
    for (const obj of readYamlObjects(f)) {
      if (obj.kind !== "CustomResourceDefinition") continue;
      await client.apply(crdType, obj, "aksnap-test-harness", { force: true });
      names.push(obj.metadata.name);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const crd = (await client.get(crdType, undefined, name)) as KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } };
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return names;
}
