// kubectl-aksnap as a user runs it: the executable (src/cli/kubectl-aksnap.ts) as its own process
// with KUBECONFIG pointing at the real apiserver. Statuses are written by the test through the status
// subresource (as the controllers would), so no controller runs here.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { parse, stringify } from "yaml";
import { NodePoolSnapshotKind, RestoreRequestKind, SnapshotScheduleKind } from "../../src/crds/index.ts";
import type { KubeClient, KubeObject, ResourceType } from "../../src/kube/client.ts";
import { kubeconfigYaml } from "../harness/control-plane.ts";
import { createNamespace, eventually, kubeClient, kubeConfig } from "../harness/kube.ts";
import { repoRoot } from "../harness/operator.ts";

const nps = NodePoolSnapshotKind.resource;
const ssch = SnapshotScheduleKind.resource;
const rr = RestoreRequestKind.resource;
const vs: ResourceType = { group: "snapshot.storage.k8s.io", version: "v1", plural: "volumesnapshots", kind: "VolumeSnapshot", namespaced: true };
const plugin = join(repoRoot, "src/cli/kubectl-aksnap.ts");

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Starts the plugin; `done` resolves when it exits. */
function start(args: string[], env: Record<string, string> = {}): { done: Promise<Result>; out: () => string } {
  const child = spawn(process.execPath, [plugin, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), KUBECONFIG: inject("kubeconfig"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<Result>((resolve) => child.once("close", (code) => resolve({ code, out, err })));
  return { done, out: () => out };
}

const kubectlAksnap = (args: string[], env?: Record<string, string>): Promise<Result> => start(args, env).done;

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const cond = (status: string, reason: string) => [{ type: "Ready", status, reason, message: reason, lastTransitionTime: now() }];
const poolId = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/userpool";

let admin: KubeClient;

async function putStatus(rt: ResourceType, ns: string, name: string, status: unknown): Promise<void> {
  await admin.mergePatch(rt, ns, name, { status }, "status");
}

async function schedule(ns: string, name: string): Promise<void> {
  await admin.create(ssch, {
    apiVersion: "aksnap.io/v1alpha1",
    kind: "SnapshotSchedule",
    metadata: { name, namespace: ns },
    spec: { schedule: "0 2 * * *", template: { volumes: { pvcSelector: { matchLabels: { backup: "on" } }, volumeSnapshotClassName: "csi" } } },
  });
}

async function volumeSnapshot(ns: string, name: string, annotations: Record<string, string> = {}): Promise<void> {
  await admin.create(vs, {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace: ns, annotations },
    spec: { source: { persistentVolumeClaimName: "data" }, volumeSnapshotClassName: "csi" },
  });
}

beforeAll(() => {
  admin = kubeClient();
});

describe("kubectl aksnap status", () => {
  let nsA: string;
  let nsB: string;
  beforeAll(async () => {
    nsA = await createNamespace(kubeConfig(), "plugin-a");
    nsB = await createNamespace(kubeConfig(), "plugin-b");
    await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: "userpool-backup", namespace: nsA }, spec: { source: { agentPoolId: poolId } } });
    await putStatus(nps, nsA, "userpool-backup", { observedGeneration: 1, conditions: cond("True", "SnapshotReady"), kubernetesVersion: "1.33.2", nodeImageVersion: "AKSUbuntu-2204gen2-2025.06.02", vmSize: "Standard_D4s_v5" });
    await schedule(nsA, "nightly");
    await putStatus(ssch, nsA, "nightly", {
      conditions: cond("False", "RunFailed"),
      lastScheduleTime: now(),
      lastRun: { id: "202611280200", scheduledTime: now(), phase: "Failed", targets: 2, verified: 1, failed: 1 },
    });
    await admin.create(rr, {
      apiVersion: "aksnap.io/v1alpha1",
      kind: "RestoreRequest",
      metadata: { name: "back", namespace: nsB },
      spec: { volumes: { from: { volumeSnapshotName: "data-1" } } },
    });
    await putStatus(rr, nsB, "back", { phase: "Running", conditions: cond("False", "Hydrating") });
    await volumeSnapshot(nsB, "data-1", { "aksnap.io/verified": "false", "aksnap.io/verification": "Waiting", "aksnap.io/verification-reason": "CopyInProgress", "aksnap.io/completion-percent": "40" });
    await putStatus(vs, nsB, "data-1", { readyToUse: true });
  });

  it("prints one kubectl-style table per kind in the namespace", async () => {
    const r = await kubectlAksnap(["status", "-n", nsA]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^NAME\s+READY\s+KUBERNETES\s+NODEIMAGE\s+VMSIZE\s+AGE$/));
    expect(lines).toContainEqual(expect.stringMatching(/^nodepoolsnapshot\.aksnap\.io\/userpool-backup\s+True\s+1\.33\.2\s+AKSUbuntu-2204gen2-2025\.06\.02\s+Standard_D4s_v5\s+\d+s$/));
    expect(lines).toContainEqual(expect.stringMatching(/^snapshotschedule\.aksnap\.io\/nightly\s+0 2 \* \* \*\s+false\s+False\s+Failed\s+\d+s\s+<none>\s+\d+s$/));
    // Namespace B's objects are not shown.
    expect(r.out).not.toContain("restorerequest");
  });

  it("-A adds the namespace column and shows VolumeSnapshot verification", async () => {
    const r = await kubectlAksnap(["status", "-A"]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^NAMESPACE\s+NAME\s+READYTOUSE\s+VERIFIED\s+STATE\s+REASON\s+COPY%\s+AGE$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${nsB}\\s+volumesnapshot\\.snapshot\\.storage\\.k8s\\.io/data-1\\s+true\\s+false\\s+Waiting\\s+CopyInProgress\\s+40\\s+\\d+s$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${nsB}\\s+restorerequest\\.aksnap\\.io/back\\s+Running\\s+<none>\\s+False\\s+\\d+s$`)));
  });

  it("-o wide adds the kinds' priority-1 printer columns", async () => {
    const r = await kubectlAksnap(["status", "-n", nsA, "-o", "wide"]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^NAME\s+READY\s+KUBERNETES\s+NODEIMAGE\s+VMSIZE\s+AGE\s+REASON\s+LOCATION\s+SNAPSHOT$/));
    expect(lines).toContainEqual(expect.stringMatching(/^nodepoolsnapshot\.aksnap\.io\/userpool-backup\s+True\s+.*\s+SnapshotReady\s+<none>\s+<none>$/));
    expect(lines).toContainEqual(expect.stringMatching(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+READY\s+LASTRUN\s+LASTSCHEDULE\s+NEXTSCHEDULE\s+AGE$/));
  });

  it("-o json and -o yaml are a List of the objects", async () => {
    for (const o of ["json", "yaml"]) {
      const r = await kubectlAksnap(["status", "-n", nsB, "-o", o]);
      expect(r.code, r.err).toBe(0);
      const list = (o === "json" ? JSON.parse(r.out) : parse(r.out)) as { kind: string; items: KubeObject[] };
      expect(list.kind).toBe("List");
      expect(list.items.map((i) => `${i.kind}/${i.metadata.name}`).sort()).toEqual(["RestoreRequest/back", "VolumeSnapshot/data-1"]);
    }
  });

  it("uses the kubeconfig's credentials: kinds the user may not list are reported and exit 1", async () => {
    // A ServiceAccount that may list only SnapshotSchedules in namespace A.
    const rbac = (kind: string, plural: string, group: string): ResourceType => ({ group, version: "v1", plural, kind, namespaced: true });
    await admin.create(rbac("ServiceAccount", "serviceaccounts", ""), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "viewer", namespace: nsA } });
    await admin.create(rbac("Role", "roles", "rbac.authorization.k8s.io"), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "viewer", namespace: nsA },
      rules: [{ apiGroups: ["aksnap.io"], resources: ["snapshotschedules"], verbs: ["list"] }],
    });
    await admin.create(rbac("RoleBinding", "rolebindings", "rbac.authorization.k8s.io"), {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "viewer", namespace: nsA },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "viewer" },
      subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: nsA }],
    });
    const tr = (await admin.request("POST", `/api/v1/namespaces/${nsA}/serviceaccounts/viewer/token`, {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
    })) as { status: { token: string } };
    const cluster = kubeConfig().getCurrentCluster();
    const file = join(mkdtempSync(join(tmpdir(), "aksnap-plugin-")), "viewer.kubeconfig");
    writeFileSync(file, kubeconfigYaml(cluster?.server ?? "", cluster?.caData ?? "", tr.status.token));
    // --kubeconfig wins over $KUBECONFIG (which is the admin's).
    const r = await kubectlAksnap(["status", "-n", nsA, "--kubeconfig", file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/snapshotschedule\.aksnap\.io\/nightly/);
    expect(r.err).toContain("warning: cannot list nodepoolsnapshots.aksnap.io");
    expect(r.out).not.toContain("userpool-backup");
  });
});

describe("kubectl aksnap contexts", () => {
  it("--context picks a kubeconfig context, and its namespace is the default", async () => {
    const ns = await createNamespace(kubeConfig(), "plugin-ctx");
    await schedule(ns, "in-context");
    // The admin kubeconfig plus a second context on the same cluster and user, defaulting to ns.
    const kc = kubeConfig();
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    const file = join(mkdtempSync(join(tmpdir(), "aksnap-plugin-")), "two-contexts.kubeconfig");
    writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: cluster?.server, "certificate-authority-data": cluster?.caData } }],
        users: [{ name: "u", user: { token: user?.token, "client-certificate-data": user?.certData, "client-key-data": user?.keyData } }],
        contexts: [
          { name: "elsewhere", context: { cluster: "c", user: "u", namespace: "default" } },
          { name: "team", context: { cluster: "c", user: "u", namespace: ns } },
        ],
        "current-context": "elsewhere",
      }),
    );
    const inTeam = await kubectlAksnap(["status", "--context", "team"], { KUBECONFIG: file });
    expect(inTeam.code, inTeam.err).toBe(0);
    expect(inTeam.out).toContain("snapshotschedule.aksnap.io/in-context");
    const current = await kubectlAksnap(["status"], { KUBECONFIG: file });
    expect(current.out).not.toContain("in-context");
    const missing = await kubectlAksnap(["status", "--context", "nope"], { KUBECONFIG: file });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('context "nope" does not exist');
  });
});

describe("kubectl aksnap run", () => {
  it.each([
    ["Succeeded", 0],
    ["Failed", 1],
  ])("annotates the schedule, follows the run it started to %s and exits %i", async (phase, code) => {
    const ns = await createNamespace(kubeConfig(), "plugin-run");
    await schedule(ns, "nightly");
    // An older run is already in status: the plugin must follow the new one, not this.
    await putStatus(ssch, ns, "nightly", { lastRun: { id: "202611270200", scheduledTime: "2026-11-27T02:00:00Z", phase: "Succeeded", targets: 1, verified: 1, failed: 0 } });
    const p = start(["run", "nightly", "-n", ns, "--poll-interval", "100ms", "--timeout", "90s"]);
    const token = await eventually(async () => (await admin.get(ssch, ns, "nightly")).metadata.annotations?.["aksnap.io/run-requested-at"], "the run request annotation");
    expect(token).toMatch(/^kubectl-aksnap-\d{4}-/);
    await eventually(async () => (p.out().includes("waiting for the operator") ? true : undefined), "the plugin waiting");
    const run = { id: "202611281530", scheduledTime: "2026-11-28T15:30:00Z" };
    await putStatus(ssch, ns, "nightly", { lastHandledRunRequest: token, activeRuns: [run], lastRun: { ...run, phase: "Running", targets: 2, verified: 1, failed: 0 } });
    await eventually(async () => (p.out().includes("run 202611281530: Running, 1/2 verified") ? true : undefined), "progress of the run");
    await putStatus(ssch, ns, "nightly", { activeRuns: null, lastRun: { ...run, phase, targets: 2, verified: phase === "Succeeded" ? 2 : 1, failed: phase === "Failed" ? 1 : 0 } });
    const r = await p.done;
    expect(r.code, r.err).toBe(code);
    expect(r.out).toContain(`run 202611281530: ${phase}`);
  });

  it("--wait=false only requests the run; -o json prints the schedule it followed", async () => {
    const ns = await createNamespace(kubeConfig(), "plugin-run");
    await schedule(ns, "nightly");
    const r = await kubectlAksnap(["run", "nightly", "-n", ns, "--wait=false"]);
    expect(r.code, r.err).toBe(0);
    expect((await admin.get(ssch, ns, "nightly")).metadata.annotations?.["aksnap.io/run-requested-at"]).toBeDefined();

    const p = start(["run", "nightly", "-n", ns, "-o", "json", "--poll-interval", "100ms", "--timeout", "90s"]);
    await eventually(async () => {
      const t = (await admin.get(ssch, ns, "nightly")).metadata.annotations?.["aksnap.io/run-requested-at"];
      const st = (await admin.get(ssch, ns, "nightly")).status as { lastHandledRunRequest?: string } | undefined;
      return t !== undefined && t !== st?.lastHandledRunRequest && r.out.includes(t) === false ? t : undefined;
    }, "a second token");
    const token = (await admin.get(ssch, ns, "nightly")).metadata.annotations?.["aksnap.io/run-requested-at"];
    await putStatus(ssch, ns, "nightly", { lastHandledRunRequest: token, lastRun: { id: "202611281600", scheduledTime: "2026-11-28T16:00:00Z", phase: "Succeeded", targets: 1, verified: 1, failed: 0 } });
    const followed = await p.done;
    expect(followed.code, followed.err).toBe(0);
    expect((JSON.parse(followed.out) as KubeObject).metadata.name).toBe("nightly");
  });

  it("a missing schedule is an error from the server", async () => {
    const r = await kubectlAksnap(["run", "nope", "-n", "default", "--timeout", "5s"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Error from server: .*not found/i);
  });
});

describe("kubectl aksnap restore", () => {
  it("creates the RestoreRequest the flags describe", async () => {
    const ns = await createNamespace(kubeConfig(), "plugin-rr");
    const r = await kubectlAksnap([
      "restore", "userpool-back", "-n", ns, "--wait=false",
      "--snapshot", "userpool-nightly", "--resource-group", "rg-prod", "--cluster", "aks-prod", "--agent-pool", "userpool2",
      "--count", "3", "--node-label", "restored=true", "--node-label", "team=a", "--node-taint", "restore=yes:NoSchedule",
      "--schedule", "nightly", "--run", "latest", "--pvc", "data", "--conflict-policy", "Rename",
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("restorerequest.aksnap.io/userpool-back created\n");
    const o = await admin.get(rr, ns, "userpool-back");
    expect(o.spec).toEqual({
      nodePool: {
        snapshotRef: { name: "userpool-nightly" },
        mode: "CreateNodePool",
        target: { resourceGroup: "rg-prod", clusterName: "aks-prod", agentPoolName: "userpool2" },
        count: 3,
        labels: { restored: "true", team: "a" },
        taints: [{ key: "restore", value: "yes", effect: "NoSchedule" }],
      },
      volumes: { from: { schedule: "nightly", run: "latest" }, pvcNames: ["data"], conflictPolicy: "Rename", waitForHydration: true },
    });
  });

  it("refuses flags the schema rejects before sending anything (exit 2)", async () => {
    const ns = await createNamespace(kubeConfig(), "plugin-rr");
    const r = await kubectlAksnap(["restore", "x", "-n", ns, "--snapshot", "s", "--mode", "UpgradeNodeImage", "--resource-group", "rg", "--cluster", "c"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("target.agentPoolName is required");
    expect((await admin.list(rr, ns)).items).toEqual([]);
  });

  it.each([
    ["Succeeded", 0],
    ["Failed", 1],
  ])("follows the request to %s and exits %i", async (phase, code) => {
    const ns = await createNamespace(kubeConfig(), "plugin-rr");
    const p = start(["restore", "data-back", "-n", ns, "--volume-snapshot", "data-1", "--poll-interval", "100ms", "--timeout", "90s"]);
    await eventually(async () => admin.tryGet(rr, ns, "data-back").then((o) => o ?? undefined), "the RestoreRequest");
    await putStatus(rr, ns, "data-back", { phase: "Running", conditions: cond("False", "Hydrating") });
    await eventually(async () => (p.out().includes("Running (Hydrating") ? true : undefined), "progress");
    await putStatus(rr, ns, "data-back", { phase, conditions: cond(phase === "Succeeded" ? "True" : "False", phase === "Succeeded" ? "RestoreSucceeded" : "SnapshotNotVerified") });
    const r = await p.done;
    expect(r.code, r.err).toBe(code);
    expect(r.out).toContain(`restorerequest/data-back: ${phase}`);
  });
});

describe("kubectl aksnap verify", () => {
  it("labels a foreign VolumeSnapshot aksnap.io/verify=true", async () => {
    const ns = await createNamespace(kubeConfig(), "plugin-vs");
    await volumeSnapshot(ns, "velero-1");
    const r = await kubectlAksnap(["verify", "velero-1", "-n", ns]);
    expect(r.code, r.err).toBe(0);
    expect((await admin.get(vs, ns, "velero-1")).metadata.labels?.["aksnap.io/verify"]).toBe("true");
  });

  it.each([
    ["Verified", "true", 0],
    ["Failed", "false", 1],
  ])("--wait follows the verification to %s (aksnap.io/verified=%s) and exits %i", async (state, verified, code) => {
    const ns = await createNamespace(kubeConfig(), "plugin-vs");
    await volumeSnapshot(ns, "velero-1");
    const p = start(["verify", "velero-1", "-n", ns, "--wait", "--poll-interval", "100ms", "--timeout", "90s"]);
    await eventually(async () => ((await admin.get(vs, ns, "velero-1")).metadata.labels?.["aksnap.io/verify"] ? true : undefined), "the label");
    await admin.mergePatch(vs, ns, "velero-1", { metadata: { annotations: { "aksnap.io/verification": "Waiting", "aksnap.io/completion-percent": "10" } } });
    await eventually(async () => (p.out().includes("Waiting, copy 10%") ? true : undefined), "progress");
    await admin.mergePatch(vs, ns, "velero-1", { metadata: { annotations: { "aksnap.io/verification": state, "aksnap.io/verified": verified, "aksnap.io/completion-percent": "100" } } });
    const r = await p.done;
    expect(r.code, r.err).toBe(code);
  });
});

describe("kubectl aksnap usage", () => {
  it("--help reads like kubectl's and needs no cluster", async () => {
    const r = await kubectlAksnap(["--help"], { KUBECONFIG: "/nonexistent" });
    expect(r.code).toBe(0);
    expect(r.out).toContain("Basic Commands:");
    expect(r.out).toContain('Use "kubectl aksnap <command> --help" for more information about a given command.');
    const sub = await kubectlAksnap(["restore", "--help"], { KUBECONFIG: "/nonexistent" });
    expect(sub.out).toContain("Usage:\n  kubectl aksnap restore NAME");
  });

  it("unknown flags and output formats are usage errors (exit 2)", async () => {
    expect((await kubectlAksnap(["status", "--bogus"])).code).toBe(2);
    const r = await kubectlAksnap(["status", "-o", "jsonpath={.items}"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unable to match a printer suitable for the output format "jsonpath={.items}"');
  });
});
