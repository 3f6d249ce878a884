// The operator IMAGE (make image) run with podman as the operator: non-root (65532), read-only root
// filesystem, host networking (all traffic on loopback), against the test control plane and the ARM
// emulator. A NodePoolSnapshot goes Ready, metrics and probes answer, SIGTERM exits 0, and the host's
// network is left exactly as it was.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodePoolSnapshotKind } from "../../src/crds/nodepoolsnapshot.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { DEMO_CLUSTER, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION_ID, startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { freePorts } from "../harness/control-plane.ts";
import { buildImage, hostNetwork, podman, removePodmanBridge, type BuiltImage } from "../harness/image.ts";
import { createNamespace, eventually, kubeClient, kubeConfig } from "../harness/kube.ts";
import { kstatus } from "../harness/kstatus.ts";
import { argoHealth } from "../harness/luahealth.ts";
import { operatorArgs, operatorKubeconfig, STATIC_TOKEN } from "../harness/operator.ts";

const nps = NodePoolSnapshotKind.resource;
const poolId = `/subscriptions/${DEMO_SUBSCRIPTION_ID}/resourceGroups/${DEMO_RESOURCE_GROUP}/providers/Microsoft.ContainerService/managedClusters/${DEMO_CLUSTER}/agentPools/userpool`;
const container = `aksnap-it-${process.pid}`;

let img: BuiltImage;
let emu: RunningEmulator;
let admin: KubeClient;
let dir: string;
let netBefore: string[];
let started = false;

beforeAll(async () => {
  netBefore = hostNetwork();
  const t0 = Date.now();
  img = buildImage();
  console.log(`[image] ${img.image}: ${(img.sizeBytes / 1e6).toFixed(0)} MB, build.sh ${img.buildSeconds} s (test saw ${Date.now() - t0} ms)`);
  emu = await startEmulator({ world: "demo" });
  // Mounted read-only into the container, which runs as 65532: world-readable files in a private temp dir.
  dir = mkdtempSync(join(tmpdir(), "aksnap-image-"));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "arm-ca.pem"), emu.ca, { mode: 0o644 });
  admin = kubeClient();
  await operatorKubeconfig(admin, kubeConfig(), dir);
  chmodSync(join(dir, "operator.kubeconfig"), 0o644);
}, 900_000);

afterAll(async () => {
  if (started) {
    try {
      podman(img, ["rm", "--force", "--time", "0", container]);
    } catch {
      // already gone
    }
  }
  await emu?.stop();
  if (netBefore) {
    const removed = removePodmanBridge(netBefore);
    if (removed.length) console.log(`[image] removed ${removed.join(", ")} left by podman`);
  }
});

describe("operator image", () => {
  it("runs as 65532 with a read-only root: a NodePoolSnapshot goes Ready, probes and metrics answer, SIGTERM exits 0", async () => {
    const t0 = Date.now();
    const ns = await createNamespace(kubeConfig(), "image");
    const [metrics, health] = await freePorts(2); // held together: two freePort() calls can return the same port
    const args = operatorArgs(
      { kubeconfig: "/config/operator.kubeconfig", armEndpoint: emu.url, armCaFile: "/config/arm-ca.pem", subscriptionId: DEMO_SUBSCRIPTION_ID },
      { "watch-namespaces": ns, "metrics-bind-address": `127.0.0.1:${metrics}`, "health-probe-bind-address": `127.0.0.1:${health}`, "log-level": "info" },
    );
    podman(img, [
      "run", "--detach", "--name", container,
      "--network", "host",
      "--user", "65532",
      "--read-only",
      "--cap-drop", "ALL",
      "--security-opt", "no-new-privileges",
      "--ulimit", "nofile=1024:20000",
      "--ulimit", "nproc=1024:1024",
      "--volume", `${dir}:/config:ro`,
      "--env", `AKSNAP_STATIC_TOKEN=${STATIC_TOKEN}`,
      img.image, ...args,
    ]);
    started = true;
    const logs = (): string => {
      try {
        return podman(img, ["logs", container]).slice(-3000);
      } catch (e) {
        return String(e);
      }
    };
    try {
      // What the kubelet would run: the image's own user and a read-only root.
      const cfg = JSON.parse(podman(img, ["inspect", "--format", "{{json .Config}}", container])) as { User?: string };
      expect(cfg.User).toBe("65532");
      expect(podman(img, ["inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", container])).toBe("true");

      // A container that exited (a taken port, a crash) fails here at once, with its logs, not at a timeout.
      const state = (): string => podman(img, ["inspect", "--format", "{{.State.Status}} (exit code {{.State.ExitCode}})", container]);
      for (const path of ["/healthz", "/readyz"]) {
        const got = await eventually(async () => {
          const st = state();
          if (!st.startsWith("running")) return `container ${st}`;
          return (await fetch(`http://127.0.0.1:${health}${path}`)).status === 200 ? "ok" : undefined;
        }, `${path} 200`, 60_000, 250);
        expect(got, path).toBe("ok");
      }
      await admin.create(nps, { apiVersion: "aksnap.io/v1alpha1", kind: "NodePoolSnapshot", metadata: { name: "from-image", namespace: ns }, spec: { source: { agentPoolId: poolId } } });
      const ready = await eventually(async () => {
        const o = await admin.get(nps, ns, "from-image");
        const st = o.status as { observedGeneration?: number; conditions?: Array<{ type: string; status: string }>; snapshotId?: string } | undefined;
        return st?.observedGeneration === o.metadata.generation && st?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? st : undefined;
      }, "NodePoolSnapshot Ready", 90_000, 250);
      expect(emu.control.getResource(ready.snapshotId ?? "")).toBeDefined();
      // The object as the operator in the image left it: Flux (kstatus) and Argo CD (Lua) both call it done.
      const obj = await admin.get(nps, ns, "from-image");
      expect([kstatus(obj).status, argoHealth(obj).status]).toEqual(["Current", "Healthy"]);
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      for (const name of ["controller_runtime_reconcile_total", "workqueue_depth", "aksnap_arm_requests_total"]) expect(text).toContain(name);
      // The process itself: user nonroot (65532 in the image's /etc/passwd), uid 65532 on the host too.
      const users = podman(img, ["top", container, "user", "huser"]).split("\n").slice(1).map((l) => l.trim().split(/\s+/).join(" "));
      expect(users).toEqual(["nonroot 65532"]);
    } catch (e) {
      throw new Error(`${String(e)}\n--- container logs ---\n${logs()}`, { cause: e });
    }

    const tStop = Date.now();
    podman(img, ["stop", "--time", "40", container]);
    const code = podman(img, ["inspect", "--format", "{{.State.ExitCode}}", container]);
    expect(code, logs()).toBe("0");
    expect(logs()).toContain('"msg":"stopped"');
    // The image's node has --expose-gc and dist/native/malloc-trim.node loads (glibc copied with node).
    expect(logs()).not.toMatch(/running without (malloc_trim|--expose-gc)/);
    console.log(`[image] container run: Ready + probes + metrics in ${tStop - t0} ms, SIGTERM to exit 0 in ${Date.now() - tStop} ms`);
  });

  it("leaves the host network as it was (host networking: no podman bridge, no veth, no 10.88.0.0/16 address)", () => {
    const added = hostNetwork().filter((l) => !netBefore.includes(l));
    // Other work on the machine may add its own interfaces meanwhile: what a container runtime adds
    // (bridges, veth pairs, its default subnet) must not be among the additions; the rest is logged.
    if (added.length) console.log(`[image] host network additions during the test: ${added.join("; ")}`);
    expect(added.filter((l) => /cni-podman|podman\d|veth|10\.88\./.test(l))).toEqual([]);
  });
});
