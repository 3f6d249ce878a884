// Liveness and readiness endpoints on node:http, with apiserver-style check output
// ("[+]name ok" / "[-]name failed: reason" under ?verbose, or on failure).
import type { AddressInfo } from "node:net";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "./node-http.ts";

/** Returns undefined when healthy, or the reason it is not. */
export type HealthCheck = () => string | undefined | Promise<string | undefined>;

export interface NamedCheck {
  name: string;
  check: HealthCheck;
}

export interface HealthEndpoints {
  /** /healthz and /livez: is the process alive and not wedged. */
  liveness: () => readonly NamedCheck[];
  /** /readyz: can this replica serve its role (see manager.ts for what that means here). */
  readiness: () => readonly NamedCheck[];
}

export interface HealthServerAddress {
  /** Default 0.0.0.0 (kubelet probes come from the node). */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
}

async function runChecks(checks: readonly NamedCheck[]): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const { name, check } of checks) {
    let failure: string | undefined;
    try {
      failure = await check();
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (failure === undefined) lines.push(`[+]${name} ok`);
    else {
      ok = false;
      lines.push(`[-]${name} failed: ${failure}`);
    }
  }
  return { ok, lines };
}

async function respond(path: string, verbose: boolean, checks: readonly NamedCheck[], res: ServerResponse): Promise<void> {
  const { ok, lines } = await runChecks(checks);
  const summary = ok ? `${path} check passed` : `${path} check failed`;
  const body = ok && !verbose ? "ok\n" : `${lines.join("\n")}\n${summary}\n`;
  res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(body);
}

export class HealthServer {
  readonly #endpoints: HealthEndpoints;
  #server: Server | undefined;

  constructor(endpoints: HealthEndpoints) {
    this.#endpoints = endpoints;
  }

  async listen(address: HealthServerAddress): Promise<AddressInfo> {
    const server = http.createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    return server.address() as AddressInfo;
  }

  address(): AddressInfo | undefined {
    const a = this.#server?.address();
    return a !== null && typeof a === "object" ? a : undefined;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    // Probe connections are keep-alive; without this close() would wait for them to idle out.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const verbose = url.searchParams.has("verbose");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    try {
      switch (url.pathname) {
        case "/healthz":
        case "/livez":
          await respond(url.pathname.slice(1), verbose, this.#endpoints.liveness(), res);
          return;
        case "/readyz":
          await respond("readyz", verbose, this.#endpoints.readiness(), res);
          return;
        default:
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}
