// The test CSI driver as a program (the integration harness, the demo):
//   node test/csi-driver/main.ts --endpoint unix:///tmp/csi.sock --arm-endpoint https://127.0.0.1:PORT
//     --ca emu-ca.pem [--token T] [--behaviour wait-for-copy] --subscription S --resource-group RG
//     --location westeurope [--control-port 0] [--ready-file path]
// Serves gRPC on the socket and a loopback HTTP control (control.ts); --ready-file gets
// {"endpoint","control","pid"} once both listen. Stops cleanly on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startControlServer } from "./control.ts";
import { startCsiDriver } from "./driver.ts";
import { isSnapshotBehaviour, SNAPSHOT_BEHAVIOURS } from "./logic.ts";

const USAGE = `usage: node test/csi-driver/main.ts --endpoint unix:///path.sock --arm-endpoint URL --ca PEM-FILE
  --subscription ID --resource-group RG --location LOC [--token T] [--proto csi.proto]
  [--behaviour ${SNAPSHOT_BEHAVIOURS.join("|")}] (default: $AKSNAP_CSI_BEHAVIOUR or wait-for-copy)
  [--instant-access-minutes N] [--poll-ms N] [--control-port N] [--ready-file PATH]
  [--data-root DIR] [--copy-rate BYTES_PER_S] [--node-id NAME] [--registration-dir DIR --registration-proto api.proto]`;

/** csi.proto from the CSI spec module in the Go module cache, as hack/build-tools.sh recorded it. */
export function csiProtoPath(): string {
  if (process.env.CSI_PROTO) return process.env.CSI_PROTO;
  const cache = process.env.AKSNAP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "aksnap");
  const m = /^CSI_PROTO=(.*)$/m.exec(readFileSync(join(cache, "tools.env"), "utf8"));
  if (!m?.[1]) throw new Error("tools.env lacks CSI_PROTO: run bash hack/build-tools.sh csi");
  return m[1];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: "string" },
      "arm-endpoint": { type: "string" },
      ca: { type: "string" },
      token: { type: "string" },
      proto: { type: "string" },
      behaviour: { type: "string", default: process.env.AKSNAP_CSI_BEHAVIOUR ?? "wait-for-copy" },
      subscription: { type: "string" },
      "resource-group": { type: "string" },
      location: { type: "string" },
      "instant-access-minutes": { type: "string" },
      "poll-ms": { type: "string" },
      "control-port": { type: "string", default: "0" },
      "ready-file": { type: "string" },
      "data-root": { type: "string" },
      "copy-rate": { type: "string" },
      "node-id": { type: "string" },
      "registration-dir": { type: "string" },
      "registration-proto": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const need = (k: keyof typeof values): string => {
    const v = values[k];
    if (typeof v !== "string" || v === "") throw new Error(`--${k} is required`);
    return v;
  };
  const int = (k: "instant-access-minutes" | "poll-ms" | "control-port" | "copy-rate"): number | undefined => {
    const v = values[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a non-negative integer`);
    return n;
  };
  if (!isSnapshotBehaviour(values.behaviour)) throw new Error(`--behaviour must be one of ${SNAPSHOT_BEHAVIOURS.join(", ")}`);
  const ia = int("instant-access-minutes");
  const poll = int("poll-ms");
  const driver = await startCsiDriver({
    endpoint: need("endpoint"),
    armEndpoint: need("arm-endpoint"),
    armCa: readFileSync(need("ca"), "utf8"),
    protoPath: values.proto ?? csiProtoPath(),
    behaviour: values.behaviour,
    subscriptionId: need("subscription"),
    resourceGroup: need("resource-group"),
    location: need("location"),
    ...(values["data-root"] !== undefined ? { dataRoot: values["data-root"] } : {}),
    ...(int("copy-rate") !== undefined ? { copyBytesPerSecond: int("copy-rate") } : {}),
    ...(values["node-id"] !== undefined ? { nodeId: values["node-id"] } : {}),
    ...(values["registration-dir"] !== undefined ? { registrationDir: values["registration-dir"] } : {}),
    ...(values["registration-proto"] !== undefined ? { registrationProtoPath: values["registration-proto"] } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    ...(ia !== undefined ? { instantAccessMinutes: ia } : {}),
    ...(poll !== undefined ? { pollIntervalMs: poll } : {}),
  });
  const control = await startControlServer(driver, int("control-port") ?? 0);
  const ready = JSON.stringify({ endpoint: driver.endpoint, control: control.url, pid: process.pid }) + "\n";
  const readyFile = values["ready-file"];
  if (readyFile !== undefined) {
    await writeFile(`${readyFile}.tmp`, ready);
    await rename(`${readyFile}.tmp`, readyFile);
  }
  process.stdout.write(ready);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`csi-driver: ${signal}, stopping\n`);
    Promise.all([driver.stop(), control.stop()]).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`csi-driver: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`csi-driver: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
});
