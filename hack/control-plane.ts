// A local control plane for poking at by hand: `make control-plane` (or node hack/control-plane.ts).
// Starts etcd + kube-apiserver + kube-controller-manager with aksnap's and the CSI snapshot CRDs,
// prints the kubeconfig, and stops everything on Ctrl-C. The tests and the demo use the same code.
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../src/kube/client.ts";
import { ensureTools, killRecorded, startControlPlane } from "../test/harness/control-plane.ts";
import { crdFilesIn, installCrds } from "../test/harness/crds.ts";
import { repoRoot } from "../test/harness/operator.ts";

const dir = join(repoRoot, ".demo", "control-plane-only");
killRecorded(dir);
const tools = ensureTools("control-plane");
const t0 = Date.now();
const cp = await startControlPlane({ dir, tools });
const kc = new KubeConfig();
kc.loadFromFile(cp.kubeconfigPath);
const names = await installCrds(new KubeClient(kc), [...crdFilesIn(join(repoRoot, "deploy/helm/aksnap/crds")), ...crdFilesIn(tools.snapshotCrds)]);
process.stdout.write(`control plane up in ${Date.now() - t0} ms at ${cp.server} (${names.length} CRDs)\n  export KUBECONFIG=${cp.kubeconfigPath}\nCtrl-C stops it.\n`);
await new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});
await cp.stop();
