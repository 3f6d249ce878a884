// Manifest checks for the Helm chart: `helm lint --strict`, values.schema.json rejecting bad values
// (lint and a real install), every object `helm template` renders (default values and fully-set
// variants) accepted by the real apiserver's server-side dry run — schema, defaulting and admission
// included — and the operator's flags parsed by its own config loader. Then the chart installed for
// real with helm: its pods admitted under Pod Security `restricted`, and the documented CRD upgrade.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inject, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config.ts";
import type { KubeObject, ResourceType } from "../../src/kube/client.ts";
import { isKubeError } from "../../src/kube/errors.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "../../src/runtime/manager.ts";
import { cacheDir } from "../harness/control-plane.ts";
import { crdType, readYamlObjects } from "../harness/crds.ts";
import { createNamespace, eventually, kubeClient, kubeConfig, namespaceType } from "../harness/kube.ts";
import { chartKinds as harnessKinds, renderChart, repoRoot } from "../harness/operator.ts";

const chartDir = join(repoRoot, "deploy/helm/aksnap");
const chartKinds: Record<string, ResourceType> = {
  ...harnessKinds,
  PodDisruptionBudget: { group: "policy", version: "v1", plural: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true },
  NetworkPolicy: { group: "networking.k8s.io", version: "v1", plural: "networkpolicies", kind: "NetworkPolicy", namespaced: true },
};
const podType: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
const replicaSetType: ResourceType = { group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet", namespaced: true };

function helmBin(): string {
  const m = /^HELM=(.*)$/m.exec(readFileSync(join(cacheDir(), "tools.env"), "utf8"));
  if (!m?.[1]) throw new Error("helm not built: run hack/build-tools.sh helm");
  return m[1];
}

/** The real helm binary against the test control plane. */
function helm(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(helmBin(), [...args, "--kubeconfig", inject("kubeconfig")], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}


const variants: Array<[string, string[]]> = [
  ["default values", []],
  [
    "every option set",
    [
      "azure.defaultSubscriptionId=00000000-0000-0000-0000-000000000001",
      "serviceAccount.workloadIdentityClientId=11111111-1111-1111-1111-111111111111",
      "watchNamespaces={team-a,team-b}",
      "allowedScopes=team-a=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-a",
      "allowedRegions={westeurope,northeurope}",
      "restoreDeadline=90m",
      "azure.credential=default",
      "replicas=3",
      "podDisruptionBudget.maxUnavailable=50%",
      "networkPolicy.enabled=true",
      "networkPolicy.apiServer.cidrs={20.50.1.10/32}",
      "networkPolicy.azure.cidrs={20.0.0.0/8,40.64.0.0/10}",
      "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring",
      "hooks.enabled=true",
    ],
  ],
  ["network policy with defaults, no PDB", ["networkPolicy.enabled=true", "podDisruptionBudget.enabled=false"]],
];

// Bad values and the message helm prints for each (values.schema.json), for lint and install alike.
const badValues: Array<[string, string, string]> = [
  ["a typo in a key", "replica=3", "additional properties 'replica' not allowed"],
  ["zero replicas", "replicas=0", "at '/replicas': minimum: got 0, want 1"],
  ["an unknown credential mode", "azure.credential=msi", "at '/azure/credential': value must be one of 'workload-identity', 'default'"],
  ["a subscription id that is not a GUID", "azure.defaultSubscriptionId=my-sub", "at '/azure/defaultSubscriptionId'"],
  ["a grace period shorter than the shutdown", "terminationGracePeriodSeconds=10", "at '/terminationGracePeriodSeconds': minimum: got 10, want 30"],
  ["a region that is not canonical", "allowedRegions={West Europe}", "at '/allowedRegions/0'"],
  ["a log level the operator refuses", "logLevel=verbose", "at '/logLevel': value must be one of 'trace', 'debug', 'info', 'warn', 'error'"],
  ["a duration without unit", "resyncPeriod=60", "at '/resyncPeriod'"],
  ["an address without prefix length", "networkPolicy.apiServer.cidrs={10.1.0.4}", "at '/networkPolicy/apiServer/cidrs/0'"],
  ["a PDB that allows no eviction", "podDisruptionBudget.maxUnavailable=0", "at '/podDisruptionBudget/maxUnavailable'"],
  ["a port out of range", "metrics.port=70000", "at '/metrics/port': maximum: got 70,000, want 65,535"],
  ["a typo in the hooks opt-in", "hooks.enable=true", "additional properties 'enable' not allowed"],
];

describe("Helm chart", () => {
  it("passes helm lint --strict", () => {
    const out = execFileSync(helmBin(), ["lint", "--strict", chartDir, "--kube-version", "1.37.2"], { encoding: "utf8" });
    expect(out).toContain("0 chart(s) failed");
  });

  it.each(badValues)("rejects %s in lint and install, naming the value (%s)", async (_name, set, message) => {
    const lint = spawnSync(helmBin(), ["lint", "--strict", chartDir, "--kube-version", "1.37.2", "--set", set], { encoding: "utf8" });
    expect(lint.status).not.toBe(0);
    expect(`${lint.stdout}${lint.stderr}`).toContain(message);
    const ns = await createNamespace(kubeConfig(), "chart-bad");
    const install = helm(["install", ns, chartDir, "--namespace", ns, "--set", set]);
    expect(install.code).not.toBe(0);
    expect(install.out).toContain("values don't meet the specifications of the schema");
    expect(install.out).toContain(message);
    // Refused before anything was created.
    expect((await kubeClient().list(chartKinds.ServiceAccount as ResourceType, ns)).items.filter((o) => o.metadata.name !== "default")).toEqual([]);
  });

  it("the schema's minimum grace period covers the operator's shutdown budget", () => {
    const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as { properties: { terminationGracePeriodSeconds: { minimum: number } } };
    expect(schema.properties.terminationGracePeriodSeconds.minimum * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_TIMEOUT_MS);
  });

  it.each(variants)("renders objects the apiserver accepts (%s)", async (_name, set) => {
    const kc = kubeConfig();
    const client = kubeClient(kc);
    const ns = await createNamespace(kc, "chart");
    // A release name of its own: cluster-scoped names must not collide with the installed operator's.
    const objs = renderChart(ns, [], set, ns);
    const base = ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"];
    const hooks = set.includes("hooks.enabled=true");
    const optional = [
      ...(set.includes("podDisruptionBudget.enabled=false") ? [] : ["PodDisruptionBudget"]),
      ...(set.includes("networkPolicy.enabled=true") ? ["NetworkPolicy"] : []),
      ...(hooks ? ["ClusterRole", "ClusterRoleBinding"] : []),
    ];
    expect(objs.map((o) => o.kind).sort()).toEqual([...base, ...optional].sort());
    // Exec into users' pods only with the hooks opt-in.
    const rules = objs.filter((o) => o.kind === "ClusterRole").flatMap((o) => (o as KubeObject & { rules: { resources: string[] }[] }).rules);
    expect(rules.some((r) => r.resources.includes("pods/exec"))).toBe(hooks);
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
    if (set.includes("restoreDeadline=90m") && cfg !== "help") {
      expect(cfg.restoreDeadlineMs).toBe(5_400_000);
      expect(cfg.allowedRegions).toEqual(["westeurope", "northeurope"]);
    }
    // The kubelet must not SIGKILL the operator before its shutdown (lease release included) is done.
    const grace = (dep.spec.template.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds;
    expect((grace ?? 0) * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_TIMEOUT_MS);
  });

  it("installs for real (helm install) in a namespace enforcing Pod Security restricted: the pods are admitted", async () => {
    const admin = kubeClient();
    const ns = await createNamespace(kubeConfig(), "chart-psa");
    await admin.mergePatch(namespaceType, undefined, ns, {
      metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" } },
    });
    const r = helm(["install", ns, chartDir, "--namespace", ns, "--set", "replicas=2"]);
    expect(r.code, r.out).toBe(0);
    // Pod Security enforces on pods, not on the Deployment: the ReplicaSet controller's pod creates are
    // what the restricted profile admits or refuses (refused ones show as ReplicaFailure/FailedCreate).
    const selector = `app.kubernetes.io/instance=${ns}`;
    try {
      const pods = await eventually(async () => {
        const l = await admin.list(podType, ns, { labelSelector: selector });
        return l.items.length === 2 ? l.items : undefined;
      }, "2 operator pods created by the ReplicaSet", 60_000, 250);
      expect(pods.map((p) => (p.spec as { securityContext?: { runAsUser?: number } }).securityContext?.runAsUser)).toEqual([65532, 65532]);
    } catch (e) {
      const rs = await admin.list(replicaSetType, ns);
      throw new Error(`${String(e)}; ReplicaSet status: ${JSON.stringify(rs.items.map((x) => x.status))}`, { cause: e });
    }

    // The check is live: the same pod without its non-root settings is refused in this namespace,
    // by a real create and by a server-side dry run alike (dry run does run PodSecurity admission).
    const dep = renderChart(ns, ["templates/deployment.yaml"], [], ns).find((o) => o.kind === "Deployment") as KubeObject & { spec: { template: { spec: Record<string, unknown> } } };
    const bad = { ...dep.spec.template.spec, securityContext: { seccompProfile: { type: "RuntimeDefault" } } };
    for (const dryRun of [false, true]) {
      const err = await admin.create(podType, { apiVersion: "v1", kind: "Pod", metadata: { name: `rootful-${dryRun}`, namespace: ns }, spec: bad }, { dryRun }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKubeError(err, "forbidden"), String(err)).toBe(true);
      expect(String((err as Error).message)).toMatch(/violates PodSecurity "restricted:latest".*runAsNonRoot/);
    }
    expect(helm(["uninstall", ns, "--namespace", ns]).code).toBe(0);
  });

  it("CRD upgrade: helm upgrade leaves crds/ alone; `helm show crds | kubectl apply --server-side --force-conflicts` applies the change", async () => {
    const admin = kubeClient();
    const ns = await createNamespace(kubeConfig(), "chart-crd");
    const file = join(chartDir, "crds/aksnap.io_nodepoolsnapshots.yaml");
    const current = readYamlObjects(file)[0] as KubeObject & { spec: { versions: Array<{ additionalPrinterColumns?: Array<{ name: string }> }> } };
    const columns = (o: KubeObject): string[] =>
      ((o as typeof current).spec.versions[0]?.additionalPrinterColumns ?? []).map((c) => c.name);
    // The cluster has the CRD an older chart installed: one printer column fewer, written by helm.
    const installed = await admin.get(crdType, undefined, current.metadata.name);
    const old = structuredClone(current);
    const v0 = old.spec.versions[0];
    if (!v0?.additionalPrinterColumns) throw new Error("NodePoolSnapshot CRD has no printer columns");
    v0.additionalPrinterColumns = v0.additionalPrinterColumns.slice(0, -1);
    old.metadata = { ...old.metadata, resourceVersion: installed.metadata.resourceVersion };
    await admin.replace(crdType, old, { fieldManager: "helm" });
    try {
      expect(columns(await admin.get(crdType, undefined, current.metadata.name))).toEqual(columns(current).slice(0, -1));
      const up = helm(["upgrade", "--install", ns, chartDir, "--namespace", ns]);
      expect(up.code, up.out).toBe(0);
      // What the docs say: helm never upgrades crds/.
      expect(columns(await admin.get(crdType, undefined, current.metadata.name))).toEqual(columns(current).slice(0, -1));

      // The documented upgrade step, as `kubectl apply --server-side` sends it (field manager "kubectl").
      const shown = execFileSync(helmBin(), ["show", "crds", chartDir], { encoding: "utf8" });
      // One document per CRD (each crds/ file starts with ---: helm concatenates them as they are).
      const crds = parseAllDocuments(shown)
        .map((d) => d.toJS() as KubeObject | null)
        .filter((o): o is KubeObject => o?.kind === "CustomResourceDefinition");
      expect(crds.map((c) => c.metadata.name).sort()).toEqual(["nodepoolsnapshots.aksnap.io", "restorerequests.aksnap.io", "snapshotschedules.aksnap.io"]);
      const npsCrd = crds.find((c) => c.metadata.name === current.metadata.name) as KubeObject;
      // Without --force-conflicts the apply stops at the fields helm's write owns.
      const conflict = await admin.apply(crdType, npsCrd, "kubectl").then(
        () => undefined,
        (e: unknown) => e,
      );
      console.log(`[chart] server-side apply of the chart's CRD over helm's without --force-conflicts: ${conflict ? String((conflict as Error).message).slice(0, 200) : "no conflict"}`);
      expect(isKubeError(conflict, "conflict"), String(conflict)).toBe(true);
      for (const c of crds) await admin.apply(crdType, c, "kubectl", { force: true });
      expect(columns(await admin.get(crdType, undefined, current.metadata.name))).toEqual(columns(current));
    } finally {
      await admin.apply(crdType, current, "aksnap-test-harness", { force: true });
      helm(["uninstall", ns, "--namespace", ns]);
    }
  });
});
