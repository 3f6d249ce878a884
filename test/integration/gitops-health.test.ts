// Argo CD and Flux agree on aksnap objects: each object is created in the real apiserver, given the
// status the operator writes for a state (conditions from applyReadiness, the operator's own code),
// read back, and judged by the real kstatus library (Flux; Argo CD's fallback) and by our Argo CD
// Lua health scripts run with gopher-lua. Current↔Healthy, InProgress↔Progressing, Failed↔Degraded;
// the rows marked as differences are the documented ones (docs/gitops.md).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { applyReadiness, type Readiness } from "../../src/conditions/conditions.ts";
import { NodePoolSnapshotKind, RestoreRequestKind, SnapshotScheduleKind } from "../../src/crds/index.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { createNamespace, kubeClient, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { argoHealth, healthScript, luahealthBin } from "../harness/luahealth.ts";
import { repoRoot } from "../harness/operator.ts";

type Kind = "NodePoolSnapshot" | "SnapshotSchedule" | "RestoreRequest";
const types: Record<Kind, ResourceType> = {
  NodePoolSnapshot: NodePoolSnapshotKind.resource,
  SnapshotSchedule: SnapshotScheduleKind.resource,
  RestoreRequest: RestoreRequestKind.resource,
};
const pool = { resourceGroup: "rg-aks-demo", clusterName: "aks-demo", agentPoolName: "userpool" };
const specs: Record<Kind, Record<string, unknown>> = {
  NodePoolSnapshot: { source: pool },
  SnapshotSchedule: { schedule: "0 2 * * *", template: { nodePools: [{ source: pool }] }, retention: { maxCount: 7 } },
  RestoreRequest: {
    nodePool: { snapshotRef: { name: "userpool-backup" }, mode: "CreateNodePool", target: { ...pool, agentPoolName: "restored" }, count: 1 },
  },
};
// A spec change that bumps metadata.generation (RestoreRequest's spec is immutable: not used there).
const specBump: Record<Kind, Record<string, unknown>> = {
  NodePoolSnapshot: { tags: { changed: "yes" } },
  SnapshotSchedule: { schedule: "0 3 * * *" },
  RestoreRequest: {},
};

/** What the operator writes for a state: conditions via applyReadiness, plus the kind's own fields. */
interface State {
  readiness?: Readiness;
  extraStatus?: Record<string, unknown>;
  spec?: Record<string, unknown>;
  /** Write status for generation 1, then change the spec (generation 2, not yet observed). */
  unobserved?: boolean;
  /** Leave status empty: created, the operator has not looked yet. */
  noStatus?: boolean;
  deleting?: boolean;
}

type Row = [name: string, kind: Kind, state: State, flux: string, argo: string];
const ready = (reason: string): Readiness => ({ state: "ready", reason, message: "all good" });
const progressing = (reason: string): Readiness => ({ state: "progressing", reason, message: "work in flight" });
const stalled = (reason: string): Readiness => ({ state: "stalled", reason, message: "given up until the spec changes" });
const notReady = (reason: string): Readiness => ({ state: "notReady", reason, message: "retrying later" });

const rows: Row[] = [
  ["NodePoolSnapshot Ready", "NodePoolSnapshot", { readiness: ready("SnapshotReady") }, "Current", "Healthy"],
  ["NodePoolSnapshot creating (Reconciling)", "NodePoolSnapshot", { readiness: progressing("Creating") }, "InProgress", "Progressing"],
  ["NodePoolSnapshot stalled (source pool missing)", "NodePoolSnapshot", { readiness: stalled("SourceAgentPoolNotFound") }, "Failed", "Degraded"],
  ["NodePoolSnapshot snapshot gone, retrying (Ready=False)", "NodePoolSnapshot", { readiness: notReady("SnapshotMissing") }, "InProgress", "Progressing"],
  ["NodePoolSnapshot spec changed, not yet observed", "NodePoolSnapshot", { readiness: ready("SnapshotReady"), unobserved: true }, "InProgress", "Progressing"],
  ["NodePoolSnapshot being deleted (finalizer)", "NodePoolSnapshot", { readiness: ready("SnapshotReady"), deleting: true }, "Terminating", "Progressing"],
  ["NodePoolSnapshot created, no status yet", "NodePoolSnapshot", { noStatus: true }, "Current", "Progressing"],
  ["SnapshotSchedule Ready", "SnapshotSchedule", { readiness: ready("Scheduled") }, "Current", "Healthy"],
  ["SnapshotSchedule run in flight (Reconciling)", "SnapshotSchedule", { readiness: progressing("RunInProgress") }, "InProgress", "Progressing"],
  ["SnapshotSchedule stalled", "SnapshotSchedule", { readiness: stalled("InvalidTemplate") }, "Failed", "Degraded"],
  ["SnapshotSchedule spec changed, not yet observed", "SnapshotSchedule", { readiness: ready("Scheduled"), unobserved: true }, "InProgress", "Progressing"],
  ["SnapshotSchedule suspended", "SnapshotSchedule", { readiness: ready("Suspended"), spec: { suspend: true } }, "Current", "Suspended"],
  ["SnapshotSchedule suspended and stalled", "SnapshotSchedule", { readiness: stalled("InvalidTemplate"), spec: { suspend: true } }, "Failed", "Degraded"],
  ["RestoreRequest Pending (Ready=False)", "RestoreRequest", { extraStatus: { phase: "Pending" }, readiness: notReady("Pending") }, "InProgress", "Progressing"],
  ["RestoreRequest Running (Reconciling)", "RestoreRequest", { extraStatus: { phase: "Running" }, readiness: progressing("CreatingAgentPool") }, "InProgress", "Progressing"],
  ["RestoreRequest Succeeded", "RestoreRequest", { extraStatus: { phase: "Succeeded" }, readiness: ready("Succeeded") }, "Current", "Healthy"],
  ["RestoreRequest Failed (preflight)", "RestoreRequest", { extraStatus: { phase: "Failed" }, readiness: stalled("VmFamilyMismatch") }, "Failed", "Degraded"],
  ["RestoreRequest created, no status yet", "RestoreRequest", { noStatus: true }, "Current", "Progressing"],
];

// kstatus ↔ Argo CD: the pairs that mean the same.
const agrees: Record<string, string> = { Current: "Healthy", InProgress: "Progressing", Failed: "Degraded" };
// Where they cannot agree, and why (docs/gitops.md explains each to users).
const differences: Record<string, string> = {
  "NodePoolSnapshot being deleted (finalizer)": "kstatus has Terminating; Argo CD has no such health and shows Progressing",
  "NodePoolSnapshot created, no status yet": "kstatus treats a custom resource without status as Current; the Lua waits for the operator",
  "RestoreRequest created, no status yet": "kstatus treats a custom resource without status as Current; the Lua waits for the operator",
  "SnapshotSchedule suspended": "kstatus has no Suspended; Argo CD does",
};

let admin: KubeClient;
let ns: string;
beforeAll(async () => {
  admin = kubeClient();
  ns = await createNamespace(kubeConfig(), "gitops-health");
});

async function materialize(name: string, kind: Kind, st: State): Promise<KubeObject> {
  const rt = types[kind];
  const objName = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-$/, "").slice(0, 60);
  const created = await admin.create(rt, {
    apiVersion: "aksnap.io/v1alpha1",
    kind,
    metadata: { name: objName, namespace: ns, ...(st.deleting ? { finalizers: ["aksnap.io/test-hold"] } : {}) },
    spec: { ...specs[kind], ...st.spec },
  });
  const gen = created.metadata.generation ?? 1;
  if (!st.noStatus) {
    const conditions = st.readiness ? applyReadiness([], st.readiness, gen, new Date()) : [];
    await admin.mergePatch(rt, ns, objName, { status: { observedGeneration: gen, conditions, ...st.extraStatus } }, "status");
  }
  if (st.unobserved) await admin.mergePatch(rt, ns, objName, { spec: specBump[kind] });
  if (st.deleting) await admin.delete(rt, ns, objName);
  const obj = await admin.get(rt, ns, objName);
  if (st.unobserved) expect(obj.metadata.generation).toBe(gen + 1);
  if (st.deleting) {
    expect(obj.metadata.deletionTimestamp).toBeDefined();
    await admin.mergePatch(rt, ns, objName, { metadata: { finalizers: null } });
  }
  return obj;
}

describe("GitOps health: Argo CD Lua health scripts and kstatus (Flux) on the same objects", () => {
  it.each(rows)("%s", async (name, kind, st, flux, argo) => {
    const obj = await materialize(name, kind, st);
    const k = kstatus(obj);
    const a = argoHealth(obj);
    expect({ flux: k.status, argo: a.status }).toEqual({ flux, argo });
    expect(a.message).not.toBe("");
    if (differences[name]) expect(agrees[flux]).not.toBe(argo);
    else expect(agrees[flux], `kstatus ${flux} and Argo CD ${argo} must mean the same`).toBe(argo);
    console.log(`[gitops-health] ${name}: kstatus ${k.status} (${k.message}) | Argo CD ${a.status} (${a.message})`);
  });

  it("every kind has a row for each Argo CD health it can report", () => {
    const seen = new Set(rows.map(([, kind, , , argo]) => `${kind}/${argo}`));
    for (const kind of ["NodePoolSnapshot", "SnapshotSchedule", "RestoreRequest"]) {
      for (const h of ["Healthy", "Progressing", "Degraded"]) expect(seen, `${kind}/${h}`).toContain(`${kind}/${h}`);
    }
    expect(seen).toContain("SnapshotSchedule/Suspended");
  });

  it("argocd-cm.yaml carries exactly the .lua scripts (what users install is what is tested)", () => {
    const cm = parse(readFileSync(join(repoRoot, "deploy/gitops/argocd/argocd-cm.yaml"), "utf8")) as { data: Record<string, string> };
    const kinds: Kind[] = ["NodePoolSnapshot", "SnapshotSchedule", "RestoreRequest"];
    expect(Object.keys(cm.data).sort()).toEqual(kinds.map((k) => `resource.customizations.health.aksnap.io_${k}`).sort());
    for (const k of kinds) expect(cm.data[`resource.customizations.health.aksnap.io_${k}`]).toBe(readFileSync(healthScript(k), "utf8"));
  });

  it("a health status Argo CD does not know becomes Unknown, like Argo CD's own check", () => {
    const f = join(mkdtempSync(join(tmpdir(), "luahealth-")), "bad.lua");
    writeFileSync(f, 'return { status = "Fine", message = "not a health code" }');
    expect(JSON.parse(execFileSync(luahealthBin(), [f], { input: "{}", encoding: "utf8" }))).toEqual({ status: "Unknown", message: "Lua returned an invalid health status" });
  });
});
