// The recipes of docs/gitops.md, checked: every aksnap object in a `# recipe:` YAML block is created in
// the real apiserver (CRD schema + CEL accept it) and taken through the states the operator writes,
// judged at each step by the real kstatus library (what Flux's wait / healthChecks / dependsOn act
// on) and by the Argo CD health scripts; the Flux and Argo CD wiring the recipes rely on is checked,
// and every `kubectl wait` line names a resource and a field our CRDs have.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { applyReadiness, type Readiness } from "../../src/conditions/conditions.ts";
import { KINDS } from "../../src/crds/index.ts";
import type { KubeClient, KubeObject } from "../../src/kube/client.ts";
import { crdFilesIn, readYamlObjects } from "../harness/crds.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { argoHealth } from "../harness/luahealth.ts";
import { repoRoot } from "../harness/operator.ts";

const doc = readFileSync(join(repoRoot, "docs/gitops.md"), "utf8");
const blocks = [...doc.matchAll(/```(yaml|sh)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] ?? "" }));
const recipes = new Map<string, KubeObject[]>(
  blocks
    .filter((b) => b.lang === "yaml" && /^# recipe: (\S+)/.test(b.body))
    .map((b) => [
      /^# recipe: (\S+)/.exec(b.body)?.[1] ?? "",
      parseAllDocuments(b.body)
        .map((d) => d.toJS() as KubeObject | null)
        .filter((o): o is KubeObject => o !== null),
    ]),
);
const recipe = (name: string): KubeObject[] => {
  const r = recipes.get(name);
  if (!r) throw new Error(`docs/gitops.md has no "# recipe: ${name}" block`);
  return r;
};
const aksnapObjects = [...recipes.entries()].flatMap(([name, objs]) => objs.filter((o) => o.apiVersion?.startsWith("aksnap.io/")).map((o): [string, KubeObject] => [`${name}: ${o.kind} ${o.metadata.name}`, o]));

type Spec = { spec: Record<string, unknown> };
const kustomization = (objs: KubeObject[], name: string): KubeObject & Spec => {
  const k = objs.find((o) => o.kind === "Kustomization" && o.metadata.name === name);
  if (!k) throw new Error(`no Kustomization ${name}`);
  return k as KubeObject & Spec;
};

// The lifecycle the operator writes, and what Flux (kstatus) and Argo CD say at each step.
const steps: Array<[string, Readiness | undefined, string, string]> = [
  ["created, no status yet (the documented gap)", undefined, "Current", "Progressing"],
  ["creating", { state: "progressing", reason: "Creating", message: "ARM write in flight" }, "InProgress", "Progressing"],
  ["ready", { state: "ready", reason: "SnapshotReady", message: "done" }, "Current", "Healthy"],
  ["stalled", { state: "stalled", reason: "SourceAgentPoolNotFound", message: "no such pool" }, "Failed", "Degraded"],
];

let admin: KubeClient;
beforeAll(() => {
  admin = kubeClient();
});

describe("docs/gitops.md recipes", () => {
  it("has the recipes this test knows", () => {
    expect([...recipes.keys()].sort()).toEqual(["argocd-sync-waves", "flux-health-checks", "flux-snapshot-before-upgrade", "flux-wait", "snapshot-before-upgrade"]);
    expect(aksnapObjects.length).toBeGreaterThanOrEqual(2);
  });

  it.each(aksnapObjects)("%s: accepted by the apiserver; kstatus and Argo CD verdicts through its lifecycle", async (_name, obj) => {
    const ns = await createNamespace(kubeConfig(), "recipe");
    const kind = KINDS.find((k) => k.kind === obj.kind);
    if (!kind) throw new Error(`unknown kind ${obj.kind}`);
    const created = await admin.create(kind.resource, { ...obj, metadata: { ...obj.metadata, namespace: ns } });
    for (const [step, readiness, flux, argo] of steps) {
      if (readiness) {
        const gen = created.metadata.generation ?? 1;
        await admin.mergePatch(kind.resource, ns, obj.metadata.name, { status: { observedGeneration: gen, conditions: applyReadiness([], readiness, gen, new Date()) } }, "status");
      }
      const now = await admin.get(kind.resource, ns, obj.metadata.name);
      expect({ step, flux: kstatus(now).status, argo: argoHealth(now).status }).toEqual({ step, flux, argo });
    }
  });

  it("flux-wait: the Kustomization waits, with a timeout long enough for a snapshot, and does not prune snapshots", () => {
    const k = kustomization(recipe("flux-wait"), "aksnap-snapshots");
    expect(k.spec).toMatchObject({ wait: true, prune: false, timeout: "30m" });
  });

  it("flux-health-checks: each health check names an aksnap object of the samples", () => {
    const k = kustomization(recipe("flux-health-checks"), "aksnap-schedules");
    const checks = k.spec.healthChecks as Array<{ apiVersion: string; kind: string; name: string; namespace: string }>;
    expect(checks.length).toBeGreaterThan(0);
    const samples = crdFilesIn(join(repoRoot, "config/samples")).flatMap(readYamlObjects);
    for (const c of checks) {
      expect(c.apiVersion).toBe("aksnap.io/v1alpha1");
      expect(samples.some((s) => s.kind === c.kind && s.metadata.name === c.name && s.metadata.namespace === c.namespace), `${c.kind} ${c.namespace}/${c.name}`).toBe(true);
    }
  });

  it("flux-snapshot-before-upgrade: the upgrade depends on a Kustomization that waits for the snapshot", () => {
    const objs = recipe("flux-snapshot-before-upgrade");
    const snap = kustomization(objs, "pre-upgrade-snapshot");
    const upgrade = kustomization(objs, "node-pool-upgrade");
    expect(snap.spec).toMatchObject({ wait: true, prune: false });
    expect(upgrade.spec.dependsOn).toEqual([{ name: "pre-upgrade-snapshot" }]);
    expect(upgrade.metadata.namespace).toBe(snap.metadata.namespace);
    expect(upgrade.spec.path).not.toBe(snap.spec.path);
    // The snapshot it waits for keeps its ARM snapshot if the object is removed.
    const nps = recipe("snapshot-before-upgrade").find((o) => o.kind === "NodePoolSnapshot") as KubeObject & Spec;
    expect(nps.spec.deletionPolicy).toBe("Retain");
  });

  it("argocd-sync-waves: the snapshot is in an earlier wave than everything else", () => {
    const objs = recipe("argocd-sync-waves");
    const wave = (o: KubeObject): number => Number(o.metadata.annotations?.["argocd.argoproj.io/sync-wave"] ?? "0");
    const snaps = objs.filter((o) => o.kind === "NodePoolSnapshot");
    const rest = objs.filter((o) => o.kind !== "NodePoolSnapshot");
    expect(snaps.length).toBe(1);
    expect(rest.length).toBeGreaterThan(0);
    for (const o of rest) expect(wave(snaps[0] as KubeObject)).toBeLessThan(wave(o));
  });

  it("every `kubectl wait` line names an aksnap short name and a condition or field its CRD has", () => {
    const crds = crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")).flatMap(readYamlObjects) as Array<
      KubeObject & { spec: { names: { shortNames: string[] }; versions: Array<{ schema: { openAPIV3Schema: Schema } }> } }
    >;
    const lines = blocks.filter((b) => b.lang === "sh").flatMap((b) => b.body.split("\n")).filter((l) => l.startsWith("kubectl wait "));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      const short = /^kubectl wait (\w+)\//.exec(line)?.[1] ?? "";
      const crd = crds.find((c) => c.spec.names.shortNames.includes(short));
      expect(crd, line).toBeDefined();
      const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema;
      const cond = /--for=condition=(\w+)/.exec(line)?.[1];
      const path = /--for=jsonpath='\{\.([\w.]+)\}'/.exec(line)?.[1];
      if (cond) expect(cond, line).toBe("Ready");
      else if (path) expect(hasPath(schema, path.split(".")), line).toBe(true);
      else throw new Error(`no --for in: ${line}`);
    }
  });
});

interface Schema {
  properties?: Record<string, Schema>;
}
function hasPath(s: Schema | undefined, path: string[]): boolean {
  if (path.length === 0) return s !== undefined;
  const [head, ...rest] = path;
  return hasPath(s?.properties?.[head ?? ""], rest);
}
