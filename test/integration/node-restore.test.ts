// Backups proven by restoring the bytes, on a real node (kubelet + containerd + runc): pods write data
// to PVCs of the test CSI driver, VolumeSnapshots go through the real snapshot-controller and
// csi-snapshotter, aksnap's verifier (the operator in-process, with the chart's RBAC) judges them
// against ARM, restores go through the real csi-provisioner, and a new pod reads the data back.
// The driver copies content in the background and ARM's completionPercent follows that copy, so a
// snapshot Kubernetes calls readyToUse while the copy is at 40 % really is incomplete.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.ts";
import { createNamespace, eventually } from "../harness/kube.ts";
import { eventType, NODE_SUB, pvcType, startNodeWorld, vscType, vsType, type NodeWorld } from "../harness/node-world.ts";
import { type InProcessOperator, operatorEnv, type OperatorEnv, startInProcess } from "../harness/operator.ts";

const MIB = 4;
const OPT_IN = { "aksnap.io/verify": "true" };
const addrs = (): string => execFileSync("ip", ["-o", "addr"], { encoding: "utf8" }).split("\n").map((l) => l.split(/\s+/).slice(1, 4).join(" ")).sort().join("\n");

let w: NodeWorld;
let env: OperatorEnv;
let op: InProcessOperator | undefined;
let addrsBefore = "";

beforeAll(async () => {
  addrsBefore = addrs();
  const t0 = Date.now();
  w = await startNodeWorld();
  console.log(`[node-world] up in ${Date.now() - t0} ms: ${JSON.stringify(w.timings)}`);
  ({ env } = await operatorEnv(w.admin, w.kc, w.emu, NODE_SUB, { prefix: "nverify" }));
}, 300_000);

afterAll(async () => {
  await op?.stop();
  await w?.stop();
  // Nothing the node did shows on the host's interfaces.
  expect(addrs()).toBe(addrsBefore);
}, 120_000);

async function operatorFor(ns: string): Promise<void> {
  await op?.stop();
  op = await startInProcess(env, { "watch-namespaces": ns, "verification-poll-interval": "2s" });
}

const annotations = async (ns: string, name: string): Promise<Record<string, string>> => (await w.admin.get(vsType, ns, name)).metadata.annotations ?? {};
const readyToUse = async (ns: string, name: string): Promise<boolean> =>
  ((await w.admin.get(vsType, ns, name)) as KubeObject & { status?: { readyToUse?: boolean } }).status?.readyToUse === true;

async function handleOf(ns: string, name: string): Promise<string> {
  return eventually(async () => {
    const vs = (await w.admin.get(vsType, ns, name)) as KubeObject & { status?: { boundVolumeSnapshotContentName?: string } };
    const c = vs.status?.boundVolumeSnapshotContentName;
    if (!c) return undefined;
    return ((await w.admin.get(vscType, undefined, c)) as KubeObject & { status?: { snapshotHandle?: string } }).status?.snapshotHandle;
  }, `${ns}/${name} snapshotHandle`, 60_000, 200);
}

/** sha256 of the blob in the snapshot's own directory on the driver's data root (what Azure holds). */
function snapshotBlobSum(handle: string): { sum: string; bytes: number } {
  const m = /subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/snapshots\/([^/]+)$/i.exec(handle);
  if (!m) throw new Error(`not a snapshot id: ${handle}`);
  const d = join(w.csi.dataRoot, "snapshots", (m[1] ?? "").toLowerCase(), (m[2] ?? "").toLowerCase(), (m[3] ?? "").toLowerCase());
  const b = readdirSync(d).includes("blob") ? readFileSync(join(d, "blob")) : Buffer.alloc(0);
  return { sum: createHash("sha256").update(b).digest("hex"), bytes: b.length };
}

describe("on a real node", () => {
  it("round trip: a pod's data → VolumeSnapshot → verified by aksnap → restored PVC → a new pod reads the same checksum", async () => {
    const ns = await createNamespace(w.kc, "node-roundtrip");
    await w.claim(ns, "data");
    await w.waitBound(ns, "data");
    const written = await w.writeData(ns, "writer", "data", MIB);
    await w.volumeSnapshot(ns, "nightly", "data", OPT_IN);
    await operatorFor(ns);
    const a = await eventually(async () => {
      const x = await annotations(ns, "nightly");
      return x["aksnap.io/verified"] === "true" ? x : undefined;
    }, "aksnap verified the snapshot", 90_000, 250);
    expect(a["aksnap.io/verification"]).toBe("Verified");
    // What Azure holds for that snapshot is the whole of what the pod wrote.
    const handle = await handleOf(ns, "nightly");
    expect(snapshotBlobSum(handle)).toEqual({ sum: written, bytes: MIB * 1024 * 1024 });

    await w.claim(ns, "restored", "nightly");
    await w.waitBound(ns, "restored", 90_000);
    const read = await w.readData(ns, "reader", "restored");
    expect(read).toEqual({ actual: written, recorded: written, exitCode: 0 });
  });

  it("40 %: Kubernetes says readyToUse while the copy holds 40 % of the bytes; a restore that trusts it is refused by Azure; aksnap never verifies it until the copy is whole, and the restore after verification matches", async () => {
    const ns = await createNamespace(w.kc, "node-held");
    await w.csi.setBehaviour("ready-on-provisioned");
    await w.csi.setCopyHold({ percent: 40, kind: "snapshots" });
    try {
      await w.claim(ns, "db");
      await w.waitBound(ns, "db");
      const written = await w.writeData(ns, "writer", "db", MIB);
      await w.volumeSnapshot(ns, "held", "db", OPT_IN);
      await operatorFor(ns);
      // Every verdict aksnap writes while the copy is held, sampled until the hold is lifted.
      const seen = new Set<string>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const x = await annotations(ns, "held").catch(() => ({}) as Record<string, string>);
          seen.add(`${x["aksnap.io/verified"] ?? "-"}/${x["aksnap.io/verification"] ?? "-"}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const handle = await handleOf(ns, "held");
      await eventually(async () => ((await readyToUse(ns, "held")) ? true : undefined), "readyToUse", 60_000, 200);
      const copy = await eventually(async () => (await w.csi.copies()).find((c) => c.id === handle && c.percent === 40), "copy at 40 %", 30_000, 100);

      // The snapshot Kubernetes calls ready holds 40 % of the bytes (blob, then blob.sha256): its content does not match.
      const partial = snapshotBlobSum(handle);
      expect(copy.totalBytes).toBe(MIB * 1024 * 1024 + 65);
      expect(partial.bytes).toBe(Math.ceil(copy.totalBytes * 0.4));
      expect(partial.sum).not.toBe(written);
      expect(w.emu.control.getResource(handle)?.["properties"]).toMatchObject({ completionPercent: 40 });

      // A tool that trusts readyToUse restores right away: Azure refuses a disk from a snapshot still
      // copying (409), csi-provisioner retries, and the claim stays Pending with that error.
      await w.claim(ns, "trusting", "held");
      const refused = await eventually(async () => {
        const evs = (await w.admin.list(eventType, ns, { fieldSelector: "involvedObject.name=trusting" })).items as Array<KubeObject & { reason?: string; message?: string }>;
        return evs.find((e) => e.reason === "ProvisioningFailed");
      }, "ProvisioningFailed for the trusting restore", 60_000, 250);
      expect(refused.message).toMatch(/409|OperationNotAllowed|UNAVAILABLE|Unavailable/);
      const phase = ((await w.admin.get(pvcType, ns, "trusting")) as KubeObject & { status?: { phase?: string } }).status?.phase;
      expect(phase).toBe("Pending");

      // aksnap: not verified, copy in progress at 40 %, for as long as the copy is held.
      const waiting = await eventually(async () => {
        const x = await annotations(ns, "held");
        return x["aksnap.io/verification-reason"] === "CopyInProgress" ? x : undefined;
      }, "aksnap reports CopyInProgress", 60_000, 250);
      expect(waiting).toMatchObject({ "aksnap.io/verified": "false", "aksnap.io/completion-percent": "40" });
      await new Promise((r) => setTimeout(r, 5_000));
      expect((await annotations(ns, "held"))["aksnap.io/verified"]).toBe("false");
      expect(await readyToUse(ns, "held")).toBe(true);

      // The copy completes: aksnap verifies, and a restore made after that reads the same bytes.
      sampling = false;
      await sampler;
      expect([...seen].filter((v) => v.startsWith("true"))).toEqual([]);
      expect(seen).toContain("false/Waiting");
      await w.csi.setCopyHold(null);
      await eventually(async () => ((await annotations(ns, "held"))["aksnap.io/verified"] === "true" ? true : undefined), "verified after the copy", 60_000, 250);
      expect(snapshotBlobSum(handle).sum).toBe(written);
      await w.claim(ns, "after-verify", "held");
      await w.waitBound(ns, "after-verify", 90_000);
      expect(await w.readData(ns, "reader", "after-verify")).toEqual({ actual: written, recorded: written, exitCode: 0 });
      // What became of the trusting claim: Azure only made its disk once the copy was whole.
      await w.waitBound(ns, "trusting", 90_000);
      expect(await w.readData(ns, "reader-trusting", "trusting")).toEqual({ actual: written, recorded: written, exitCode: 0 });
    } finally {
      await w.csi.setCopyHold(null);
      await w.csi.setBehaviour("wait-for-copy");
    }
  });
});
