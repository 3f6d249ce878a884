// The test CSI driver against the ARM emulator, over its real gRPC socket: the three snapshot
// behaviours (4555, wait-for-copy, instant access), idempotency by name, restores that PUT a disk
// with createOption Copy, and the runtime switch through the driver's own control endpoint.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { csiClient, grpcCode, type CsiClient } from "../csi-driver/client.ts";
import { setRemoteBehaviour, startCsiDriver, type RunningCsiDriver, type SnapshotBehaviour } from "../csi-driver/index.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { csiTools } from "../harness/csi.ts";
import { computeClient } from "./helpers/arm-clients.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SUB = "00000000-0000-0000-0000-0000000000c5";
const RG = "rg-csi";
const LOC = "westeurope";
const GiB = 1024 ** 3;
const MODE = [{ mount: {}, access_mode: { mode: "SINGLE_NODE_WRITER" } }];

let emu: RunningEmulator;
let driver: RunningCsiDriver;
let csi: CsiClient;
let dir: string;
let proto: string;

beforeAll(async () => {
  proto = csiTools().proto;
  emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 50, copyDurationMs: 60_000, hydrationDurationMs: 2_000 } });
  emu.control.addResourceGroup(SUB, RG, LOC);
  // Every incremental snapshot copies in the background (not only Premium SSD v2 sources), so the
  // copy is there to hold at a percentage.
  emu.control.setBehaviour({ copyProgress: "allIncremental" });
  dir = mkdtempSync(join(tmpdir(), "aksnap-csi-"));
  driver = await startCsiDriver({
    endpoint: `unix://${join(dir, "csi.sock")}`,
    armEndpoint: emu.url,
    armCa: emu.ca,
    protoPath: proto,
    subscriptionId: SUB,
    resourceGroup: RG,
    location: LOC,
    pollIntervalMs: 20,
    dataRoot: join(dir, "data"),
    nodeId: "node-under-test",
    // 4 MiB/s: a 2 MiB disk copies in about half a second, long enough to be seen mid-way.
    copyBytesPerSecond: 4 * 1024 * 1024,
  });
  csi = csiClient(driver.endpoint, proto);
}, 900_000);

afterAll(async () => {
  csi?.close();
  await driver?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  driver.setBehaviour("wait-for-copy");
  driver.setCopyHold(null);
  emu.control.clearRequests();
});

let seq = 0;
async function newVolume(gib = 4): Promise<string> {
  const r = await csi.call("Controller", "CreateVolume", { name: `pvc-${++seq}-${Date.now()}`, volume_capabilities: MODE, capacity_range: { required_bytes: gib * GiB } });
  return r.volume?.volume_id ?? "";
}

async function snapshot(name: string, volumeId: string, parameters: Record<string, string> = {}): Promise<NonNullable<Awaited<ReturnType<CsiClient["call"]>>["snapshot"]>> {
  const r = await csi.call("Controller", "CreateSnapshot", { name, source_volume_id: volumeId, parameters });
  if (!r.snapshot) throw new Error("no snapshot in CreateSnapshot response");
  return r.snapshot;
}

const armProps = (id: string): Record<string, unknown> => (emu.control.getResource(id)?.["properties"] ?? {}) as Record<string, unknown>;

describe("Identity", () => {
  it("is disk.csi.azure.com with the Controller service and nothing else", async () => {
    expect((await csi.call("Identity", "GetPluginInfo")).name).toBe("disk.csi.azure.com");
    expect((await csi.call("Identity", "GetPluginCapabilities")).capabilities).toEqual([{ service: { type: "CONTROLLER_SERVICE" }, type: "service" }]);
    expect((await csi.call("Identity", "Probe")).ready).toEqual({ value: true });
    const caps = (await csi.call("Controller", "ControllerGetCapabilities")).capabilities as Array<{ rpc: { type: string } }>;
    expect(caps.map((c) => c.rpc.type).sort()).toEqual(["CREATE_DELETE_SNAPSHOT", "CREATE_DELETE_VOLUME", "LIST_SNAPSHOTS"]);
  });

  it("answers UNIMPLEMENTED for what it does not advertise; its Node service stages and publishes", async () => {
    expect(await grpcCode(csi.call("Controller", "ControllerPublishVolume", { volume_id: "x", node_id: "n" }))).toBe("UNIMPLEMENTED");
    expect(await grpcCode(csi.call("Controller", "GetSnapshot", { snapshot_id: "x" }))).toBe("UNIMPLEMENTED");
    expect(await grpcCode(csi.call("Node", "NodeExpandVolume", { volume_id: "x" }))).toBe("UNIMPLEMENTED");
    const caps = (await csi.call("Node", "NodeGetCapabilities")).capabilities as Array<{ rpc: { type: string } }>;
    expect(caps.map((c) => c.rpc.type)).toEqual(["STAGE_UNSTAGE_VOLUME"]);
    expect((await csi.call("Node", "NodeGetInfo")).node_id).toBe("node-under-test");
  });
});

describe("CreateSnapshot while the Azure copy is held at 40 %", () => {
  // Each row: the driver behaviour and what it answers for a snapshot whose background copy is at
  // 40 % — then after the copy reaches 100 %.
  it.each<{ name: string; behaviour: SnapshotBehaviour; at40: boolean; access40: string }>([
    { name: "ready-on-provisioned says ready at once (Azure/AKS 4555)", behaviour: "ready-on-provisioned", at40: true, access40: "Pending" },
    { name: "wait-for-copy says not ready until 100 %", behaviour: "wait-for-copy", at40: false, access40: "Pending" },
    { name: "instant-access says ready while the instant-access window makes it restorable", behaviour: "instant-access", at40: true, access40: "InstantAccess" },
  ])("$name", async ({ behaviour, at40, access40 }) => {
    driver.setBehaviour(behaviour);
    const vol = await newVolume();
    const name = `snapshot-${behaviour}-${Date.now()}`;
    const first = await snapshot(name, vol);
    emu.control.setCompletion(first.snapshot_id, { percent: 40, frozen: true });
    const held = await snapshot(name, vol);
    expect(held.ready_to_use).toBe(at40);
    expect(armProps(held.snapshot_id)["completionPercent"]).toBe(40);
    expect(armProps(held.snapshot_id)["snapshotAccessState"]).toBe(access40);
    expect(armProps(held.snapshot_id)["incremental"]).toBe(true);
    emu.control.setCompletion(first.snapshot_id, { percent: 100 });
    const done = await snapshot(name, vol);
    expect(done.ready_to_use).toBe(true);
    // The same request name is the same Azure snapshot: one creating PUT for three calls.
    expect(done.snapshot_id).toBe(first.snapshot_id);
    expect(emu.control.countRequests({ method: "PUT", route: "Compute.Snapshots_CreateOrUpdate" })).toBe(1);
    const put = emu.control.requests({ method: "PUT", route: "Compute.Snapshots_CreateOrUpdate" })[0]?.requestBody as { properties: { creationData: Record<string, unknown> } };
    expect(put.properties.creationData["instantAccessDurationMinutes"]).toBe(behaviour === "instant-access" ? 60 : undefined);
  });

  it("a snapshot still provisioning under that name (the driver restarted mid-PUT) is waited for, not PUT again", async () => {
    const vol = await newVolume();
    emu.control.setTiming({ computeOperationMs: 800 });
    try {
      const poller = computeClient(emu, SUB).snapshots.createOrUpdate(RG, "snapshot-restarted", {
        location: LOC,
        incremental: true,
        creationData: { createOption: "Copy", sourceResourceId: vol },
      });
      await poller.submitted();
      const id = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/snapshots/snapshot-restarted`;
      expect(armProps(id)["provisioningState"]).toBe("Updating");
      const s = await snapshot("snapshot-restarted", vol);
      expect(s.snapshot_id).toBe(id);
      expect(armProps(id)["provisioningState"]).toBe("Succeeded");
      expect(emu.control.countRequests({ method: "PUT", route: "Compute.Snapshots_CreateOrUpdate" })).toBe(1);
      await poller;
    } finally {
      emu.control.setTiming({ computeOperationMs: 50 });
    }
  });

  it("the same name with another source volume is ALREADY_EXISTS", async () => {
    const [a, b] = [await newVolume(), await newVolume()];
    await snapshot("snapshot-twice", a);
    expect(await grpcCode(csi.call("Controller", "CreateSnapshot", { name: "snapshot-twice", source_volume_id: b }))).toBe("ALREADY_EXISTS");
  });

  it.each<{ name: string; behaviour: SnapshotBehaviour; want: string }>([
    { name: "wait-for-copy reports a failed copy as an error naming the ARM code", behaviour: "wait-for-copy", want: "INTERNAL" },
    { name: "ready-on-provisioned never looks, and says ready (the 4555 blindness)", behaviour: "ready-on-provisioned", want: "OK" },
  ])("$name", async ({ behaviour, want }) => {
    driver.setBehaviour(behaviour);
    const vol = await newVolume();
    const s = await snapshot(`snapshot-copyerr-${behaviour}`, vol);
    emu.control.setCopyError(s.snapshot_id, { errorCode: "CopySourceNotFound", errorMessage: "the source blob is gone" });
    const again = csi.call("Controller", "CreateSnapshot", { name: `snapshot-copyerr-${behaviour}`, source_volume_id: vol });
    expect(await grpcCode(again)).toBe(want);
    if (want !== "OK") await expect(again).rejects.toThrow(/CopySourceNotFound/);
  });

  it("a missing source volume is NOT_FOUND, a missing name INVALID_ARGUMENT, an unknown class parameter INVALID_ARGUMENT", async () => {
    const ghost = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/disks/ghost`;
    expect(await grpcCode(csi.call("Controller", "CreateSnapshot", { name: "s-ghost", source_volume_id: ghost }))).toBe("NOT_FOUND");
    expect(await grpcCode(csi.call("Controller", "CreateSnapshot", { source_volume_id: ghost }))).toBe("INVALID_ARGUMENT");
    const vol = await newVolume();
    expect(await grpcCode(csi.call("Controller", "CreateSnapshot", { name: "s-typo", source_volume_id: vol, parameters: { resourceGroupp: RG } }))).toBe("INVALID_ARGUMENT");
  });

  it("puts the snapshot in the class's resourceGroup and tags it with the Kubernetes names", async () => {
    emu.control.addResourceGroup(SUB, "rg-snaps", LOC);
    const vol = await newVolume();
    const s = await snapshot("snapshot-elsewhere", vol, {
      resourceGroup: "rg-snaps",
      "csi.storage.k8s.io/volumesnapshot/name": "daily",
      "csi.storage.k8s.io/volumesnapshot/namespace": "team-a",
    });
    expect(s.snapshot_id).toBe(`/subscriptions/${SUB}/resourceGroups/rg-snaps/providers/Microsoft.Compute/snapshots/snapshot-elsewhere`);
    expect(emu.control.getResource(s.snapshot_id)?.["tags"]).toMatchObject({
      "kubernetes.io-created-for-volumesnapshot-name": "daily",
      "kubernetes.io-created-for-volumesnapshot-namespace": "team-a",
    });
  });
});

describe("CreateVolume from a snapshot (restore)", () => {
  it("PUTs a disk with createOption Copy from the snapshot id, whose hydration climbs afterwards", async () => {
    const vol = await newVolume(8);
    const s = await snapshot(`snapshot-restore-${Date.now()}`, vol);
    emu.control.setCompletion(s.snapshot_id, { percent: 100 });
    const r = await csi.call("Controller", "CreateVolume", {
      name: "pvc-restored",
      volume_capabilities: MODE,
      volume_content_source: { snapshot: { snapshot_id: s.snapshot_id } },
    });
    expect(r.volume?.content_source?.snapshot?.snapshot_id).toBe(s.snapshot_id);
    expect(r.volume?.capacity_bytes).toBe(8 * GiB);
    const disk = r.volume?.volume_id ?? "";
    const put = emu.control.requests({ method: "PUT", route: "Compute.Disks_CreateOrUpdate" }).at(-1)?.requestBody as { properties: { creationData: Record<string, unknown> } };
    expect(put.properties.creationData).toEqual({ createOption: "Copy", sourceResourceId: s.snapshot_id });
    const p1 = armProps(disk)["completionPercent"] as number;
    await new Promise((res) => setTimeout(res, 400));
    const p2 = armProps(disk)["completionPercent"] as number;
    expect(p1).toBeLessThan(100);
    expect(p2).toBeGreaterThan(p1);
  });

  it("a snapshot still copying (no instant access) cannot be restored yet: UNAVAILABLE with ARM's 409, retried by the sidecar", async () => {
    driver.setBehaviour("ready-on-provisioned");
    const vol = await newVolume();
    const s = await snapshot(`snapshot-early-${Date.now()}`, vol);
    emu.control.setCompletion(s.snapshot_id, { percent: 40, frozen: true });
    const early = csi.call("Controller", "CreateVolume", { name: "pvc-too-early", volume_capabilities: MODE, volume_content_source: { snapshot: { snapshot_id: s.snapshot_id } } });
    expect(await grpcCode(early)).toBe("UNAVAILABLE");
    await expect(early).rejects.toThrow(/OperationNotAllowed/);
  });

  it("the same name with another size is ALREADY_EXISTS, a limit below the request OUT_OF_RANGE", async () => {
    await csi.call("Controller", "CreateVolume", { name: "pvc-size", volume_capabilities: MODE, capacity_range: { required_bytes: 2 * GiB } });
    expect(await grpcCode(csi.call("Controller", "CreateVolume", { name: "pvc-size", volume_capabilities: MODE, capacity_range: { required_bytes: 3 * GiB } }))).toBe("ALREADY_EXISTS");
    expect(await grpcCode(csi.call("Controller", "CreateVolume", { name: "pvc-range", volume_capabilities: MODE, capacity_range: { required_bytes: 3 * GiB, limit_bytes: 2 * GiB } }))).toBe("OUT_OF_RANGE");
  });
});

describe("ListSnapshots", () => {
  it("filters by snapshot id and by source volume, and pages with a token", async () => {
    const [a, b] = [await newVolume(), await newVolume()];
    const sa = await snapshot("list-a", a);
    await snapshot("list-b1", b);
    await snapshot("list-b2", b);
    const byId = await csi.call("Controller", "ListSnapshots", { snapshot_id: sa.snapshot_id });
    expect(byId.entries?.map((e) => e.snapshot.snapshot_id)).toEqual([sa.snapshot_id]);
    const bySource = await csi.call("Controller", "ListSnapshots", { source_volume_id: b });
    expect(bySource.entries?.map((e) => e.snapshot.source_volume_id)).toEqual([b, b]);
    const all = (await csi.call("Controller", "ListSnapshots")).entries ?? [];
    const first = await csi.call("Controller", "ListSnapshots", { max_entries: 2 });
    expect(first.entries).toHaveLength(2);
    const rest = await csi.call("Controller", "ListSnapshots", { starting_token: first.next_token });
    expect([...(first.entries ?? []), ...(rest.entries ?? [])].map((e) => e.snapshot.snapshot_id)).toEqual(all.map((e) => e.snapshot.snapshot_id));
    expect(rest.next_token).toBe("");
    expect(await grpcCode(csi.call("Controller", "ListSnapshots", { starting_token: "nonsense" }))).toBe("ABORTED");
  });
});

describe("as a program", () => {
  it("serves the socket, writes its ready file, switches behaviour through the control endpoint, and stops on SIGTERM", async () => {
    writeFileSync(join(dir, "ca.pem"), emu.ca);
    const ready = join(dir, "driver.json");
    const child = spawn(process.execPath, [
      join(repoRoot, "test/csi-driver/main.ts"),
      "--endpoint", `unix://${join(dir, "cli.sock")}`,
      "--arm-endpoint", emu.url, "--ca", join(dir, "ca.pem"),
      "--subscription", SUB, "--resource-group", RG, "--location", LOC,
      "--behaviour", "ready-on-provisioned", "--proto", proto, "--ready-file", ready,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
      const info = JSON.parse(readFileSync(ready, "utf8")) as { endpoint: string; control: string; pid: number };
      expect(info.pid).toBe(child.pid);
      const remote = csiClient(info.endpoint, proto);
      try {
        const vol = await newVolume();
        emu.control.setBehaviour({ copyProgress: "allIncremental" });
        const s1 = (await remote.call("Controller", "CreateSnapshot", { name: "cli-snap", source_volume_id: vol })).snapshot;
        emu.control.setCompletion(s1?.snapshot_id ?? "", { percent: 40, frozen: true });
        expect((await remote.call("Controller", "CreateSnapshot", { name: "cli-snap", source_volume_id: vol })).snapshot?.ready_to_use).toBe(true);
        await setRemoteBehaviour(info.control, "wait-for-copy");
        expect((await remote.call("Controller", "CreateSnapshot", { name: "cli-snap", source_volume_id: vol })).snapshot?.ready_to_use).toBe(false);
        const calls = (await (await fetch(`${info.control}/calls`)).json()) as Array<{ method: string; readyToUse?: boolean }>;
        expect(calls.filter((c) => c.method === "CreateSnapshot").map((c) => c.readyToUse)).toEqual([true, true, false]);
        expect((await fetch(`${info.control}/behaviour`, { method: "PUT", body: JSON.stringify({ snapshot: "nope" }) })).status).toBe(400);
      } finally {
        remote.close();
      }
    } finally {
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});

describe("content: every disk has a directory, snapshots and restores copy it in the background", () => {
  /** A disk whose directory holds `files` random files of `kib` KiB each; their joint checksum. */
  async function diskWithData(files: number, kib: number): Promise<{ vol: string; sum: string }> {
    const vol = await newVolume();
    const d = driver.dataPath(vol);
    mkdirSync(join(d, "sub"), { recursive: true });
    const h = createHash("sha256");
    for (let i = 0; i < files; i++) {
      const b = randomBytes(kib * 1024);
      writeFileSync(join(d, "sub", `f${i}`), b);
      h.update(b);
    }
    return { vol, sum: h.digest("hex") };
  }
  const dirSum = (d: string): string => {
    const h = createHash("sha256");
    const files = existsSync(join(d, "sub")) ? readdirSync(join(d, "sub")).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))) : [];
    for (const f of files) h.update(readFileSync(join(d, "sub", f)));
    return h.digest("hex");
  };
  const bytesIn = (d: string): number =>
    existsSync(join(d, "sub")) ? readdirSync(join(d, "sub")).reduce((n, f) => n + readFileSync(join(d, "sub", f)).length, 0) : 0;
  const until = async (what: string, ok: () => boolean, ms = 20_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("a snapshot held at 40 % holds 40 % of the bytes, ARM says 40, ready-on-provisioned still says ready", async () => {
    driver.setBehaviour("ready-on-provisioned");
    const { vol, sum } = await diskWithData(8, 256);
    driver.setCopyHold({ percent: 40, kind: "snapshots" });
    const s = await snapshot(`snapshot-held-${Date.now()}`, vol);
    expect(s.ready_to_use).toBe(true);
    await until("copy at 40 %", () => driver.copies().find((c) => c.id === s.snapshot_id)?.percent === 40);
    await new Promise((r) => setTimeout(r, 300));
    expect(driver.copies().find((c) => c.id === s.snapshot_id)?.percent).toBe(40);
    expect(armProps(s.snapshot_id)["completionPercent"]).toBe(40);
    const total = 8 * 256 * 1024;
    expect(bytesIn(driver.dataPath(s.snapshot_id))).toBe(Math.ceil(total * 0.4));
    expect(dirSum(driver.dataPath(s.snapshot_id))).not.toBe(sum);
    driver.setCopyHold(null);
    await until("copy done", () => driver.copies().find((c) => c.id === s.snapshot_id)?.done === true);
    expect(armProps(s.snapshot_id)["completionPercent"]).toBe(100);
    expect(dirSum(driver.dataPath(s.snapshot_id))).toBe(sum);
  });

  it("wait-for-copy answers not ready while the real copy runs and ready once it is whole", async () => {
    const { vol, sum } = await diskWithData(4, 512);
    driver.setCopyHold({ percent: 10, kind: "snapshots" });
    const name = `snapshot-wfc-${Date.now()}`;
    const first = await snapshot(name, vol);
    expect(first.ready_to_use).toBe(false);
    driver.setCopyHold(null);
    await until("copy done", () => driver.copies().find((c) => c.id === first.snapshot_id)?.done === true);
    expect((await snapshot(name, vol)).ready_to_use).toBe(true);
    expect(dirSum(driver.dataPath(first.snapshot_id))).toBe(sum);
  });

  it("a volume from a snapshot gets its content: ARM refuses while the copy is incomplete, then hydration copies it", async () => {
    const { vol, sum } = await diskWithData(4, 256);
    driver.setCopyHold({ percent: 40, kind: "snapshots" });
    driver.setBehaviour("ready-on-provisioned");
    const s = await snapshot(`snapshot-src-${Date.now()}`, vol);
    await until("copy at 40 %", () => driver.copies().find((c) => c.id === s.snapshot_id)?.percent === 40);
    const restore = { name: `restored-${Date.now()}`, volume_capabilities: MODE, volume_content_source: { snapshot: { snapshot_id: s.snapshot_id } } };
    // What a tool trusting ready_to_use gets: Azure (the emulator) refuses a disk from a snapshot still copying.
    expect(await grpcCode(csi.call("Controller", "CreateVolume", restore))).toBe("UNAVAILABLE");
    driver.setCopyHold(null);
    await until("snapshot copy done", () => driver.copies().find((c) => c.id === s.snapshot_id)?.done === true);
    const v = (await csi.call("Controller", "CreateVolume", restore)).volume?.volume_id ?? "";
    await until("hydration done", () => driver.copies().find((c) => c.id.toLowerCase() === v.toLowerCase())?.done === true);
    expect(dirSum(driver.dataPath(v))).toBe(sum);
    expect(armProps(v)["completionPercent"]).toBe(100);
  });

  it("NodeStage/NodePublish bind-mount the disk's directory, read-only when asked; unpublish/unstage undo it", async () => {
    const { vol, sum } = await diskWithData(2, 64);
    const staging = join(dir, "stage-1");
    const target = join(dir, "pods-1", "mount");
    mkdirSync(join(dir, "pods-1"), { recursive: true });
    const cap = MODE[0];
    await csi.call("Node", "NodeStageVolume", { volume_id: vol, staging_target_path: staging, volume_capability: cap });
    await csi.call("Node", "NodePublishVolume", { volume_id: vol, staging_target_path: staging, target_path: target, volume_capability: cap, readonly: true });
    expect(dirSum(target)).toBe(sum);
    expect(() => writeFileSync(join(target, "x"), "no")).toThrow(/EROFS|read-only/);
    await csi.call("Node", "NodeUnpublishVolume", { volume_id: vol, target_path: target });
    expect(existsSync(target)).toBe(false);
    await csi.call("Node", "NodeUnstageVolume", { volume_id: vol, staging_target_path: staging });
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(staging);
    expect(await grpcCode(csi.call("Node", "NodePublishVolume", { volume_id: vol, staging_target_path: staging, target_path: target, volume_capability: cap }))).toBe("FAILED_PRECONDITION");
  });
});
