// `make demo`: a local control plane (etcd + kube-apiserver + kube-controller-manager), the ARM
// emulator with a demo AKS cluster, the operator (with the chart's RBAC), the NodePoolSnapshot
// samples applied, and their progress shown until each is Ready or Stalled; then the real CSI path
// with a PVC and a VolumeSnapshot that Kubernetes calls ready while its Azure copy still runs,
// shown until aksnap verified it; last, a RestoreRequest restores a node pool from the demo
// snapshot and a PVC from the VolumeSnapshot, shown until Succeeded. Ctrl-C stops it all.
//   node hack/demo.ts [--once]     (--once: exit after the samples settle; used by the tests)
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { kstatusOf, type Condition } from "../src/conditions/conditions.ts";
import { NodePoolSnapshotKind } from "../src/crds/nodepoolsnapshot.ts";
import { RestoreRequestKind } from "../src/crds/restorerequest.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { isKubeError } from "../src/kube/errors.ts";
import { ensureTools, killRecorded, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds, readYamlObjects } from "../test/harness/crds.ts";
import { OPERATOR_NAMESPACE, operatorArgs, operatorKubeconfig, repoRoot, STATIC_TOKEN } from "../test/harness/operator.ts";
import { storageClassType } from "../test/harness/csi-world.ts";
import { applyScheduleSample, DEMO_SCHEDULE, SCHEDULE_HEAD, scheduleRows } from "./demo-schedule.ts";
import { DEMO_VOLUME_SNAPSHOT, startVolumeDemo, VOLUME_HEAD, type VolumeDemo } from "./demo-volumes.ts";

const once = process.argv.includes("--once");
const demoDir = process.env.AKSNAP_DEMO_DIR ?? join(repoRoot, ".demo");
const SUB = "00000000-0000-0000-0000-000000000001";
const NS = "aksnap-demo";
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string): void => void process.stdout.write(`${s}\n`);

function waitForFile(path: string, timeoutMs: number, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (existsSync(path)) return resolve(readFileSync(path, "utf8"));
      if (child.exitCode !== null) return reject(new Error(`process exited with ${child.exitCode} before writing ${path}`));
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${path}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

function armPut(url: string, ca: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}${path}?api-version=2026-06-01`, { method: "PUT", ca, headers: { "content-type": "application/json", authorization: `Bearer ${STATIC_TOKEN}` } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

function row(o: KubeObject): string[] {
  const st = (o.status ?? {}) as { conditions?: Condition[]; observedGeneration?: number; kubernetesVersion?: string; nodeImageVersion?: string };
  const ready = st.conditions?.find((c) => c.type === "Ready");
  const stalled = st.conditions?.find((c) => c.type === "Stalled" && c.status === "True");
  // KSTATUS is what Flux and Argo CD conclude from the conditions (Current / InProgress / Failed).
  const ks = kstatusOf(o.metadata.generation ?? 0, st.observedGeneration, st.conditions);
  return [o.metadata.name, ready?.status ?? "-", ks, (stalled ?? ready)?.reason ?? "Pending", st.kubernetesVersion ?? "", st.nodeImageVersion ?? ""];
}

const NPS_HEAD = ["NAME", "READY", "KSTATUS", "REASON", "KUBERNETES", "NODE IMAGE"];

function table(rows: string[][], head = NPS_HEAD): string {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join("  ")).join("\n");
}

async function main(): Promise<number> {
  const children: ChildProcess[] = [];
  let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;
  let volumes: VolumeDemo | undefined;
  const cleanup = async (): Promise<void> => {
    await volumes?.csi.stop();
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    await cp?.stop();
  };
  let interrupted = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (): void => {
      if (interrupted) process.exit(130);
      interrupted = true;
      say("\nStopping the operator, the emulator and the control plane…");
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

  say(bold("aksnap demo"));
  say("1/8 Building or finding kube-apiserver, etcd, kube-controller-manager, helm and the CSI snapshot controllers (first run on a machine: ~30 min)…");
  ensureTools("control-plane");
  const tools = ensureTools("helm");
  ensureTools("csi");
  const cpDir = join(demoDir, "control-plane");
  killRecorded(cpDir); // a previous demo killed hard
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(demoDir, { recursive: true });

  try {
    say("2/8 Starting the control plane on 127.0.0.1…");
    cp = await startControlPlane({ dir: cpDir, tools });
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const admin = new KubeClient(kc);
    await installCrds(admin, [...crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")), ...crdFilesIn(tools.snapshotCrds)]);

    say("3/8 Starting the ARM emulator with the demo AKS cluster (aks-demo in westeurope: systempool, userpool)…");
    const readyFile = join(demoDir, "emulator.json");
    const emuLog = createWriteStream(join(demoDir, "emulator.log"));
    // --once (the test): a copy long enough that a loaded machine still shows it mid-way (12 s was not).
    const emu = spawn(process.execPath, [join(repoRoot, "test/emulator/main.ts"), "--port", "0", "--world", "demo", "--write-ca", join(demoDir, "arm-ca.pem"), "--ready-file", readyFile, "--copy-ms", once ? "25000" : "40000"], { stdio: ["ignore", "pipe", "pipe"] });
    emu.stdout?.pipe(emuLog);
    emu.stderr?.pipe(emuLog);
    children.push(emu);
    const { url, ca } = JSON.parse(await waitForFile(readyFile, 30_000, emu)) as { url: string; ca: string };
    // The golden snapshot the adopt-mode sample mirrors: made by "the platform team's pipeline".
    const golden = `/subscriptions/${SUB}/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/snapshots/golden-userpool`;
    const status = await armPut(url, ca, golden, {
      location: "westeurope",
      tags: { owner: "platform-team" },
      properties: { snapshotType: "NodePool", creationData: { sourceResourceId: `/subscriptions/${SUB}/resourceGroups/rg-aks-demo/providers/Microsoft.ContainerService/managedClusters/aks-demo/agentPools/userpool` } },
    });
    if (status >= 300) throw new Error(`seeding the golden snapshot answered ${status}`);

    say("4/8 Starting the operator (leader election on, the chart's RBAC)…");
    const opKubeconfig = await operatorKubeconfig(admin, kc, demoDir);
    const opLog = createWriteStream(join(demoDir, "operator.log"));
    const op = spawn(
      process.execPath,
      [
        join(repoRoot, "src/main.ts"),
        ...operatorArgs(
          { kubeconfig: opKubeconfig, armEndpoint: url, armCaFile: join(demoDir, "arm-ca.pem"), subscriptionId: SUB },
          {
            "leader-elect": "true",
            "leader-election-namespace": OPERATOR_NAMESPACE,
            "log-level": "info",
            "metrics-bind-address": "127.0.0.1:0",
            // Often enough that the copy's progress is seen climbing (default 15s).
            "verification-poll-interval": once ? "2s" : "5s",
          },
        ),
      ],
      { env: { ...process.env, AKSNAP_STATIC_TOKEN: STATIC_TOKEN }, stdio: ["ignore", "pipe", "pipe"] },
    );
    op.stdout?.pipe(opLog);
    op.stderr?.pipe(opLog);
    children.push(op);

    say(`5/8 Applying the NodePoolSnapshot samples (config/samples/nodepoolsnapshot-*.yaml) in namespace ${NS}…`);
    try {
      await admin.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    } catch (e) {
      if (!isKubeError(e, "alreadyExists")) throw e;
    }
    const files = readdirSync(join(repoRoot, "config/samples")).filter((f) => f.startsWith("nodepoolsnapshot-") && f.endsWith(".yaml"));
    let count = 0;
    for (const f of files) {
      for (const o of readYamlObjects(join(repoRoot, "config/samples", f))) {
        await admin.apply(NodePoolSnapshotKind.resource, o, "kubectl");
        count++;
      }
    }
    say(`   applied ${count} objects from ${files.length} files`);
    say(`6/8 Starting the real CSI snapshot path and snapshotting a PVC (VolumeSnapshot ${DEMO_VOLUME_SNAPSHOT}, opted in with aksnap.io/verify=true)…`);
    volumes = await startVolumeDemo({
      admin,
      kubeconfigPath: cp.kubeconfigPath,
      arm: { url, ca },
      subscriptionId: SUB,
      resourceGroup: "rg-aks-demo",
      location: "westeurope",
      namespace: NS,
      dir: demoDir,
    });
    say("   Kubernetes will say readyToUse at once; aksnap says verified only when the Azure copy is complete.\n");

    // Progress until every sample is Ready or Stalled.
    const deadline = Date.now() + 120_000;
    let last = "";
    let settled = false;
    while (!interrupted && Date.now() < deadline) {
      const list = await admin.list(NodePoolSnapshotKind.resource, NS);
      const rows = list.items.map(row).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      const t = `${table(rows)}\n\n${table(await volumes.rows(), VOLUME_HEAD)}`;
      if (t !== last) {
        say(`${new Date().toISOString().slice(11, 19)}\n${t}\n`);
        last = t;
      }
      settled = rows.length === count && list.items.every((o) => {
        const conds = ((o.status ?? {}) as { conditions?: Array<{ type: string; status: string }> }).conditions ?? [];
        return conds.some((c) => (c.type === "Ready" || c.type === "Stalled") && c.status === "True");
      });
      if (settled && (await volumes.verified())) break;
      if (op.exitCode !== null) throw new Error(`the operator exited with ${op.exitCode}; see ${join(demoDir, "operator.log")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (!settled && !interrupted) throw new Error("samples did not settle within 2 minutes; see .demo/operator.log");
    if (!interrupted && !(await volumes.verified())) throw new Error("the VolumeSnapshot was not verified within 2 minutes; see .demo/operator.log");
    for (const o of (await admin.list(NodePoolSnapshotKind.resource, NS)).items) {
      const stalled = ((o.status ?? {}) as { conditions?: Array<{ type: string; status: string; reason: string; message: string }> }).conditions?.find((c) => c.type === "Stalled" && c.status === "True");
      if (stalled) say(`${bold(o.metadata.name)} is Stalled (${stalled.reason}): ${stalled.message}\n`);
    }

    say(`7/8 An on-demand SnapshotSchedule run (config/samples/snapshotschedule-on-demand.yaml): both node pools, the PVC labelled backup=enabled, the disks tagged aksSnapshotBackupEnabled…`);
    await applyScheduleSample(admin);
    say("   The run succeeds only when every child is verified: pools Ready, the VolumeSnapshot verified by aksnap, disk copies complete.\n");
    const sDeadline = Date.now() + 180_000;
    let sLast = "";
    let sDone = false;
    while (!interrupted && Date.now() < sDeadline) {
      const s = await scheduleRows(admin, NS);
      const t = table(s.rows, SCHEDULE_HEAD);
      if (t !== sLast) {
        say(`${new Date().toISOString().slice(11, 19)}\n${t}\n`);
        sLast = t;
      }
      sDone = s.done;
      if (sDone) break;
      if (op.exitCode !== null) throw new Error(`the operator exited with ${op.exitCode}; see ${join(demoDir, "operator.log")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (!sDone && !interrupted) throw new Error(`the schedule run did not finish within 3 minutes; see .demo/operator.log`);

    say(`8/8 Restoring a node pool from the demo snapshot (config/samples/restorerequest-create-nodepool.yaml) and a PVC from ${DEMO_VOLUME_SNAPSHOT}…`);
    for (const o of readYamlObjects(join(repoRoot, "config/samples/restorerequest-create-nodepool.yaml"))) await admin.apply(RestoreRequestKind.resource, o, "kubectl");
    // The class csi-provisioner restores into: a new Azure disk copied from the snapshot, hydrating.
    await admin.apply(
      storageClassType,
      {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "managed-csi" },
        provisioner: "disk.csi.azure.com",
        parameters: { resourceGroup: "rg-aks-demo", skuName: "Premium_LRS" },
        volumeBindingMode: "Immediate",
        reclaimPolicy: "Delete",
      } as unknown as KubeObject,
      "kubectl",
    );
    await admin.apply(
      RestoreRequestKind.resource,
      {
        apiVersion: "aksnap.io/v1alpha1",
        kind: "RestoreRequest",
        metadata: { name: "app-data-restore", namespace: NS },
        // app-data still exists, so Rename gives the new PVC the name app-data-restored.
        spec: { volumes: { from: { volumeSnapshotName: DEMO_VOLUME_SNAPSHOT }, storageClassName: "managed-csi", conflictPolicy: "Rename" } },
      },
      "kubectl",
    );
    const rrDeadline = Date.now() + 120_000;
    let rrLast = "";
    let rrDone = false;
    while (!interrupted && Date.now() < rrDeadline) {
      const rows = (await admin.list(RestoreRequestKind.resource, NS)).items.map((o) => {
        const st = (o.status ?? {}) as { phase?: string; conditions?: Condition[]; nodePool?: { provisioningState?: string }; volumes?: Array<{ pvc: string; phase: string; completionPercent?: number }> };
        const progress = st.nodePool?.provisioningState ?? st.volumes?.map((v) => `${v.pvc} ${v.phase}${v.completionPercent === undefined ? "" : ` ${v.completionPercent}%`}`).join(", ") ?? "";
        const cond = st.conditions?.find((c) => c.type === "Stalled" && c.status === "True") ?? st.conditions?.find((c) => c.type === "Reconciling") ?? st.conditions?.find((c) => c.type === "Ready");
        return [o.metadata.name, st.phase ?? "-", kstatusOf(o.metadata.generation ?? 0, (o.status as { observedGeneration?: number } | undefined)?.observedGeneration, st.conditions), cond?.reason ?? "", progress];
      });
      const t = table(rows, ["RESTORE", "PHASE", "KSTATUS", "REASON", "PROGRESS"]);
      if (t !== rrLast) {
        say(`${new Date().toISOString().slice(11, 19)}\n${t}\n`);
        rrLast = t;
      }
      rrDone = rows.length === 2 && rows.every((r) => r[1] === "Succeeded" || r[1] === "Failed");
      if (rrDone) break;
      if (op.exitCode !== null) throw new Error(`the operator exited with ${op.exitCode}; see ${join(demoDir, "operator.log")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (!rrDone && !interrupted) throw new Error("the restore did not finish within 2 minutes; see .demo/operator.log");
    const kcPath = cp.kubeconfigPath;
    say(bold("Poke at it:"));
    say(`  export KUBECONFIG=${kcPath}`);
    say("  kubectl get aksnap -A                      # every aksnap kind (category)");
    say(`  kubectl get nps -n ${NS} -o wide`);
    say(`  kubectl describe nps -n ${NS} userpool-dr-northeurope   # the refused cross-region attempt and its events`);
    say(`  kubectl get nps -n ${NS} userpool-backup -o yaml        # status mirrored from ARM`);
    say(`  kubectl delete nps -n ${NS} userpool-backup             # finalizer deletes the ARM snapshot first`);
    say(`  kubectl get ssch -n ${NS}                               # last run and next time; kubectl get ssch ${DEMO_SCHEDULE} -o yaml for lastRun.results`);
    say(`  kubectl annotate ssch -n ${NS} ${DEMO_SCHEDULE} aksnap.io/run-requested-at="$(date -u +%FT%TZ)" --overwrite   # another run`);
    say(`  kubectl get rr -n ${NS} -o yaml                         # preflight[], the restored pool and PVC (docs/restore.md)`);
    say(
      `  kubectl get volumesnapshot -n ${NS} -o custom-columns='NAME:.metadata.name,READYTOUSE:.status.readyToUse,VERIFIED:.metadata.annotations.aksnap\\.io/verified,COPY:.metadata.annotations.aksnap\\.io/completion-percent'`,
    );
    say(`  kubectl describe volumesnapshot -n ${NS} ${DEMO_VOLUME_SNAPSHOT}   # VerificationWaiting → SnapshotVerified events`);
    say(`  curl -s --cacert ${join(demoDir, "arm-ca.pem")} ${url}/_emulator/requests   # what the operator asked ARM`);
    say(`  logs: ${join(demoDir, "operator.log")}, ${join(demoDir, "emulator.log")}, ${cpDir}/*.log`);
    if (once) {
      await cleanup();
      return 0;
    }
    say("\nRunning. Press Ctrl-C to stop everything.");
    await stopped;
    await cleanup();
    return 0;
  } catch (e) {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    await cleanup();
    return 1;
  }
}

main().then((code) => process.exit(code));
