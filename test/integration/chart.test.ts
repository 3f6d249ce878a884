// Manifest checks for the Helm chart: `helm lint --strict`, and every object `helm template`
// renders (default values and a fully-set variant) accepted by the real apiserver's server-side
// dry run — schema, defaulting and admission included. The operator's own flags are checked too:
// the Deployment's args must parse with the operator's config loader.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import type { KubeObject } from "../../src/kube/client.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "../../src/runtime/manager.ts";
import { cacheDir } from "../harness/control-plane.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";
import { chartKinds, renderChart, repoRoot } from "../harness/operator.ts";


const variants: Array<[string, string[]]> = [
  ["default values", []],
  [
    "every option set",
    [
      "azure.defaultSubscriptionId=00000000-0000-0000-0000-000000000001",
      "serviceAccount.workloadIdentityClientId=11111111-1111-1111-1111-111111111111",
      "watchNamespaces={team-a,team-b}",
      "allowedScopes=team-a=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-a",
      "azure.credential=default",
      "replicas=3",
    ],
  ],
];

describe("Helm chart", () => {
  it("passes helm lint --strict", () => {
    const helm = /^HELM=(.*)$/m.exec(readFileSync(join(cacheDir(), "tools.env"), "utf8"))?.[1] ?? "helm";
    const out = execFileSync(helm, ["lint", "--strict", join(repoRoot, "deploy/helm/aksnap"), "--kube-version", "1.37.2"], { encoding: "utf8" });
    expect(out).toContain("0 chart(s) failed");
  });

  it.each(variants)("renders objects the apiserver accepts (%s)", async (_name, set) => {
    const kc = kubeConfig();
    const client = kubeClient(kc);
    const ns = await createNamespace(kc, "chart");
    // A release name of its own: cluster-scoped names must not collide with the installed operator's.
    const objs = renderChart(ns, [], set, ns);
    expect(objs.map((o) => o.kind).sort()).toEqual(["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"]);
    for (const o of objs) {
      const t = chartKinds[o.kind];
      if (!t) throw new Error(`no type for ${o.kind}`);
      await client.create(t, o, { dryRun: true });
    }
    // The Deployment's container args must be flags the operator accepts.
    const dep = objs.find((o) => o.kind === "Deployment") as KubeObject & { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
    const args = dep.spec.template.spec.containers[0]?.args ?? [];
    const env = { AZURE_CLIENT_ID: "x", AZURE_TENANT_ID: "y", AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" };
    const cfg = loadConfig(args, env);
    expect(cfg).not.toBe("help");
    // The kubelet must not SIGKILL the operator before its shutdown (lease release included) is done.
    const grace = (dep.spec.template.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds;
    expect((grace ?? 0) * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_TIMEOUT_MS);
  });
});
