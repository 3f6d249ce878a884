// A control plane with a real node as a program, for trying things by hand and for the orphan test:
//   node test/harness/node-main.ts [--pod]
// Prints {"server","kubeconfig","cpDir","nodeDir","pids"} once the Node is Ready (with --pod, once a
// long-running pod of the tools image runs on it), then waits; SIGTERM/SIGINT stop everything.
import { parseArgs } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.ts";
import { startControlPlane } from "./control-plane.ts";
import { podType, startNode, toolsPod } from "./node.ts";

const { values } = parseArgs({ options: { pod: { type: "boolean", default: false } } });
const cp = await startControlPlane({ node: true });
const node = await startNode(cp);
const stop = async (): Promise<void> => {
  await node.stop();
  await cp.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
if (values.pod) {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const client = new KubeClient(kc);
  await client.create(podType, toolsPod(node, "default", "sleeper", { script: "sleep 3600" }));
  for (;;) {
    const p = (await client.get(podType, "default", "sleeper")) as { status?: { phase?: string } };
    if (p.status?.phase === "Running") break;
    await new Promise((r) => setTimeout(r, 200));
  }
}
process.stdout.write(JSON.stringify({ server: cp.server, kubeconfig: cp.kubeconfigPath, cpDir: cp.dir, nodeDir: node.dir, pids: [...cp.pids(), ...node.pids()] }) + "\n");
