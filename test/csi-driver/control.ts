// A loopback HTTP control for a driver running as its own process (the integration harness, the
// demo): switch the snapshot behaviour per test, read the gRPC call log.
//   GET  /behaviour            → {"snapshot": "<behaviour>"}
//   PUT  /behaviour            ← {"snapshot": "<behaviour>"}
//   GET  /calls, DELETE /calls → the call log / clear it
//   GET  /copies               → the background copies (data.ts) and their progress
//   PUT  /copy-hold            ← {"percent": 40, "kind": "snapshots"|"disks"}: hold copies there
//   DELETE /copy-hold          → release
//   GET  /registration         → what the kubelet answered to the plugin registration
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningCsiDriver } from "./driver.ts";
import { isSnapshotBehaviour, SNAPSHOT_BEHAVIOURS } from "./logic.ts";

export interface ControlServer {
  url: string;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
}

export async function startControlServer(driver: RunningCsiDriver, port = 0): Promise<ControlServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const route = `${req.method ?? ""} ${(req.url ?? "").split("?")[0] ?? ""}`;
    (async () => {
      switch (route) {
        case "GET /behaviour":
          return send(200, { snapshot: driver.behaviour() });
        case "PUT /behaviour": {
          const b = (await body(req)) as { snapshot?: unknown } | undefined;
          if (!isSnapshotBehaviour(b?.snapshot)) return send(400, { error: `snapshot must be one of ${SNAPSHOT_BEHAVIOURS.join(", ")}` });
          driver.setBehaviour(b.snapshot);
          return send(200, { snapshot: driver.behaviour() });
        }
        case "GET /copies":
          return send(200, driver.copies());
        case "GET /copy-hold":
          return send(200, driver.copyHold());
        case "PUT /copy-hold": {
          const b = (await body(req)) as { percent?: unknown; kind?: unknown } | undefined;
          const kind = b?.kind ?? "snapshots";
          if (typeof b?.percent !== "number" || b.percent < 0 || b.percent > 100 || (kind !== "snapshots" && kind !== "disks")) {
            return send(400, { error: `want {"percent": 0..100, "kind": "snapshots"|"disks"}` });
          }
          driver.setCopyHold({ percent: b.percent, kind });
          return send(200, driver.copyHold());
        }
        case "DELETE /copy-hold":
          driver.setCopyHold(null);
          return send(200, {});
        case "GET /registration":
          return send(200, driver.registration() ?? null);
        case "GET /calls":
          return send(200, driver.calls());
        case "DELETE /calls":
          driver.clearCalls();
          return send(200, {});
        default:
          return send(404, { error: `no route ${route}` });
      }
    })().catch((e: unknown) => send(400, { error: String(e) }));
  });
  await new Promise<void>((res) => server.listen(port, "127.0.0.1", () => res()));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    stop: () => new Promise<void>((res) => server.close(() => res())),
  };
}

/** Client side of the control, for tests driving a driver process. */
export async function setRemoteBehaviour(controlUrl: string, snapshot: string): Promise<void> {
  const r = await fetch(`${controlUrl}/behaviour`, { method: "PUT", body: JSON.stringify({ snapshot }) });
  if (!r.ok) throw new Error(`csi-driver control: ${r.status} ${await r.text()}`);
}
