// vitest globalSetup for the integration project: one real control plane per run.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.ts";
import { ensureTools, startControlPlane } from "./control-plane.ts";
import { crdFilesIn, installCrds } from "./crds.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    kubeServer: string;
    kstatusBin: string;
    snapshotCrdDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const tools = ensureTools("all");
  const tBuilt = Date.now();
  const cp = await startControlPlane({ tools });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const client = new KubeClient(kc);
  const version = (await client.request("GET", "/version")) as { gitVersion?: string };
  const ours = join(repoRoot, "deploy/helm/aksnap/crds");
  const files = [...(existsSync(ours) ? crdFilesIn(ours) : []), ...crdFilesIn(tools.snapshotCrds)];
  const crds = await installCrds(client, files);
  console.log(
    `[control-plane] kube-apiserver ${version.gitVersion} at ${cp.server}; tools ready in ${tBuilt - t0} ms, ` +
      `started + ${crds.length} CRDs Established in ${Date.now() - tBuilt} ms (${readFileSync(join(cp.dir, "pids"), "utf8").trim().replace(/\n/g, ", ")})`,
  );
  project.provide("kubeconfig", cp.kubeconfigPath);
  project.provide("kubeServer", cp.server);
  project.provide("kstatusBin", tools.kstatus);
  project.provide("snapshotCrdDir", tools.snapshotCrds);
  return async () => {
    await cp.stop();
  };
}
