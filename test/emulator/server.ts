// The emulator as an HTTPS server: a self-signed certificate made at start-up (the SDK's bearer
// policy refuses plain http), request parsing, carrying out the engine's decisions (answer, drop
// the socket, wait), the request log, and the control API under /_emulator/.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { systemClock, type Clock } from "./clock.ts";
import type { EmuRequest } from "./context.ts";
import { CONTROL_PREFIX, Control, handleControl, type EmulatorControl } from "./control.ts";
import { Engine, type Decision } from "./engine.ts";
import { toJson, type JsonValue } from "./json.ts";
import { REQUEST_HEADERS_OF_INTEREST, RESPONSE_HEADERS_OF_INTEREST } from "./requestlog.ts";
import type { Behaviour, RateLimitSettings, Timing } from "./settings.ts";
import { demoWorld, emptyWorld, type WorldFixture } from "./world.ts";

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

export interface EmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Starting world; default the empty world. */
  readonly world?: WorldFixture | "demo" | "empty";
  readonly timing?: Partial<Timing>;
  readonly behaviour?: Partial<Behaviour>;
  readonly rateLimits?: Partial<RateLimitSettings>;
  /** Time source for the state machines; default the system clock. */
  readonly clock?: Clock;
  /** Source of randomness for probabilistic faults; default Math.random. */
  readonly random?: () => number;
  /** Reuse a certificate instead of making one. */
  readonly tls?: TlsMaterial;
}

export interface RunningEmulator {
  /** https://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  /** PEM of the self-signed certificate (its own CA): give it to clients as `tlsOptions.ca`. */
  readonly ca: string;
  readonly control: EmulatorControl;
  stop(): Promise<void>;
}

const exec = promisify(execFile);
const MAX_BODY = 8 * 1024 * 1024;

/** A fresh P-256 self-signed certificate for 127.0.0.1 and localhost, via the openssl CLI. */
export async function makeSelfSignedCert(): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), "arm-emulator-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await exec("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext", "basicConstraints=critical,CA:TRUE",
    ]);
    return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function resolveWorld(w: EmulatorOptions["world"]): WorldFixture {
  if (w === undefined || w === "empty") return emptyWorld();
  if (w === "demo") return demoWorld();
  return w;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function pick(headers: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const n of names) {
    const v = lower.get(n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

function send(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: JsonValue | undefined): void {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const h: Record<string, string> = { ...headers };
  if (payload !== undefined) h["Content-Type"] = "application/json; charset=utf-8";
  h["Content-Length"] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(status, h);
  res.end(payload);
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const clock = opts.clock ?? systemClock;
  const engine = new Engine({
    world: resolveWorld(opts.world),
    clock,
    ...(opts.timing ? { timing: opts.timing } : {}),
    ...(opts.behaviour ? { behaviour: opts.behaviour } : {}),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const control = new Control(engine);
  const tls = opts.tls ?? (await makeSelfSignedCert());
  const host = opts.host ?? "127.0.0.1";
  let url = "";

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = clock.now();
    const wallStart = performance.now();
    const parsed = new URL(req.url ?? "/", "https://emulator.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const hostHeader = req.headers.host;
    const baseUrl = hostHeader ? `https://${hostHeader}` : url;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string") headers[k.toLowerCase()] = v;
      else if (Array.isArray(v)) headers[k.toLowerCase()] = v.join(", ");
    }
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    let body: JsonValue | undefined;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = toJson(JSON.parse(raw.toString("utf8")));
      } catch {
        badJson = true;
      }
    }

    if (parsed.pathname.toLowerCase().startsWith(CONTROL_PREFIX + "/") || parsed.pathname.toLowerCase() === CONTROL_PREFIX) {
      const answer = badJson
        ? { status: 400, body: { error: { code: "BadControlRequest", message: "body is not JSON" } } }
        : handleControl(control, method, parsed.pathname.slice(CONTROL_PREFIX.length), parsed.searchParams, body, url);
      send(res, answer.status, {}, answer.body);
      return;
    }

    let pathname: string;
    try {
      pathname = decodeURIComponent(parsed.pathname);
    } catch {
      pathname = parsed.pathname;
    }
    const emuReq: EmuRequest = { method, path: parsed.pathname, query: parsed.searchParams, headers, body };
    const log = (status: number, route: string, responseHeaders: Readonly<Record<string, string>>, fault: string | undefined, responseBody?: JsonValue): void => {
      engine.log.add({
        seq: engine.log.nextSeq(),
        time: new Date(started).toISOString(),
        method,
        path: pathname,
        route,
        apiVersion: parsed.searchParams.get("api-version") ?? undefined,
        status,
        durationMs: Math.round(performance.now() - wallStart),
        requestHeaders: { ...pick(headers, REQUEST_HEADERS_OF_INTEREST), ...(headers["authorization"] !== undefined ? { authorization: "present" } : {}) },
        responseHeaders: pick(responseHeaders, RESPONSE_HEADERS_OF_INTEREST),
        requestBody: body,
        responseBody,
        fault,
      });
    };

    if (badJson) {
      const route = engine.routeFor(method, parsed.pathname)?.name ?? "unmatched";
      const errBody = { error: { code: "InvalidRequestContent", message: "The request content was invalid and could not be deserialized." } };
      send(res, 400, {}, errBody);
      log(400, route, {}, undefined, errBody);
      return;
    }

    let decision: Decision;
    let fault: string | undefined;
    try {
      decision = engine.decide(emuReq, baseUrl);
      if (decision.type === "delay") {
        fault = decision.fault;
        await new Promise((r) => setTimeout(r, decision.type === "delay" ? decision.ms : 0));
        decision = engine.decide(emuReq, baseUrl, true);
      }
    } catch (err) {
      // A bug in the emulator: answer like ARM's 500 and say so on stderr.
      process.stderr.write(`arm-emulator: internal error on ${method} ${pathname}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      const errBody = { error: { code: "InternalServerError", message: `emulator bug: ${err instanceof Error ? err.message : String(err)}` } };
      send(res, 500, {}, errBody);
      log(500, engine.routeFor(method, parsed.pathname)?.name ?? "unmatched", {}, fault, errBody);
      return;
    }
    switch (decision.type) {
      case "reset":
        req.socket.destroy();
        log(0, decision.route, {}, decision.fault);
        return;
      case "delay":
        // Unreachable: decide() with skipFaults never asks to wait again.
        send(res, 500, {}, { error: { code: "InternalServerError", message: "unexpected delay" } });
        return;
      case "respond":
        send(res, decision.response.status, decision.response.headers, decision.response.body);
        log(decision.response.status, decision.route, decision.response.headers, decision.fault ?? fault, decision.response.body);
        return;
    }
  };

  const server: Server = createServer({ key: tls.key, cert: tls.cert, keepAlive: true }, (req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      process.stderr.write(`arm-emulator: ${String(err)}\n`);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr: AddressInfo | string | null = server.address();
  if (addr === null || typeof addr === "string") throw new Error("emulator: server has no TCP address");
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  url = `https://${urlHost}:${addr.port}`;

  return {
    url,
    ca: tls.cert,
    control,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
