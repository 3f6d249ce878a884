// The test CSI driver held to the CSI spec by the upstream conformance suite: csi-sanity
// (github.com/kubernetes-csi/csi-test/v5, built by hack/build-tools.sh csi) runs against the driver's
// socket, the driver backed by the ARM emulator. Identity, the Controller capabilities the driver
// advertises and the Node service (stage/publish as bind mounts of each disk's directory: needs root,
// as `make test` runs) must pass; csi-sanity skips by itself what the driver does not advertise. The
// JUnit report says which.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCsiDriver, type RunningCsiDriver } from "../csi-driver/index.ts";
import { startEmulator, type RunningEmulator } from "../emulator/index.ts";
import { csiTools } from "../harness/csi.ts";

const SUB = "00000000-0000-0000-0000-00000000005a";
const RG = "rg-sanity";
const LOC = "westeurope";

let emu: RunningEmulator;
let driver: RunningCsiDriver;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ world: "empty", timing: { computeOperationMs: 100 } });
  emu.control.addResourceGroup(SUB, RG, LOC);
  dir = mkdtempSync(join(tmpdir(), "aksnap-sanity-"));
  driver = await startCsiDriver({
    endpoint: `unix://${join(dir, "csi.sock")}`,
    armEndpoint: emu.url,
    armCa: emu.ca,
    protoPath: csiTools().proto,
    subscriptionId: SUB,
    resourceGroup: RG,
    location: LOC,
    pollIntervalMs: 50,
    dataRoot: join(dir, "data"),
  });
}, 900_000);

afterAll(async () => {
  await driver?.stop();
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Spec {
  name: string;
  status: string;
  message: string;
}

/** The testcases of a Ginkgo JUnit report (name, passed/skipped/failed, the skip or failure message). */
function junitCases(xml: string): Spec[] {
  const out: Spec[] = [];
  const unescape = (s: string): string => s.replace(/&#xA;/g, " ").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*status="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const inner = m[3] ?? "";
    const msg = /<(?:skipped|failure)\s+message="([^"]*)"/.exec(inner)?.[1] ?? "";
    out.push({ name: unescape(m[1] ?? ""), status: m[2] ?? "", message: unescape(msg) });
  }
  return out;
}

it("csi-sanity passes for Identity, the advertised Controller capabilities and the Node service", async () => {
  const params = join(dir, "volume-params.yaml");
  writeFileSync(params, `resourceGroup: ${RG}\nskuName: StandardSSD_LRS\n`);
  const junit = join(dir, "junit.xml");
  let stdout = "";
  let failed: unknown;
  try {
    ({ stdout } = await promisify(execFile)(
      csiTools().sanity,
      [
        `--csi.endpoint=${driver.endpoint}`,
        `--csi.mountdir=${join(dir, "mount")}`,
        `--csi.stagingdir=${join(dir, "staging")}`,
        `--csi.testvolumeparameters=${params}`,
        // Azure disks come in whole GiB; csi-sanity's default 10 GiB keeps every size exact.
        `--csi.testvolumesize=${10 * 1024 ** 3}`,
        `--ginkgo.junit-report=${junit}`,
        "--ginkgo.no-color",
        "--ginkgo.timeout=10m",
      ],
      { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
    ));
  } catch (e) {
    failed = e;
    stdout = (e as { stdout?: string }).stdout ?? "";
  }
  const specs = junitCases(readFileSync(junit, "utf8"));
  const by = (s: string): Spec[] => specs.filter((c) => c.status === s);
  const counts = Object.entries(Object.groupBy(specs, (s) => s.status)).map(([k, v]) => `${v?.length ?? 0} ${k}`);
  const summary = `csi-sanity: ${counts.join(", ")} of ${specs.length} specs`;
  console.log(summary);
  for (const s of by("passed")) console.log(`  passed: ${s.name}`);
  const skipReasons = Object.entries(Object.groupBy(by("skipped"), (s) => (s.message.replace(/^skipped( - )?/, "") || "(no reason given)")));
  for (const [why, list] of skipReasons) console.log(`  skipped ${list?.length ?? 0}: ${why}`);
  for (const s of by("failed")) console.log(`  FAILED: ${s.name}\n    ${s.message.slice(0, 600)}`);
  expect(by("failed").map((s) => s.name), stdout.slice(-4000)).toEqual([]);
  expect(failed, summary).toBeUndefined();
  // The specs that matter for the product were run, not skipped.
  const passed = new Set(by("passed").map((s) => s.name));
  for (const want of [
    "should fail when requesting to create a snapshot with already existing name and different source volume ID",
    "should succeed when requesting to create a snapshot with already existing name and same source volume ID",
    "should create volume from an existing source snapshot",
    "should return next token when a limited number of entries are requested",
    "should return snapshots that match the specified source volume id",
    "should work",
    "should be idempotent",
    "should return appropriate values (no optional values added)",
  ]) {
    expect([...passed].some((n) => n.includes(want)), want).toBe(true);
  }
}, 900_000);
