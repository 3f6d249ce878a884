// One emulator per test file, reset to its starting world before each test; helpers to read the
// request log and to call the control API over HTTP (as an out-of-process user would).

import { request } from "node:https";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startEmulator, type EmulatorOptions, type RequestLogEntry, type RunningEmulator } from "../../emulator/index.ts";

export interface EmulatorHandle {
  /** The running emulator (valid inside tests). */
  readonly emu: RunningEmulator;
  /** The newest log entry of a route (and method); throws if there is none. */
  last(route: string, method?: string): RequestLogEntry;
}

/** Starts an emulator for the file; `reset` (default true) restores its world before each test. */
export function useEmulator(opts: EmulatorOptions = {}, reset = true): EmulatorHandle {
  let current: RunningEmulator | undefined;
  beforeAll(async () => {
    current = await startEmulator(opts);
  });
  afterAll(async () => {
    await current?.stop();
  });
  if (reset) {
    beforeEach(() => {
      current?.control.reset();
    });
  }
  const handle: EmulatorHandle = {
    get emu(): RunningEmulator {
      if (!current) throw new Error("emulator not started");
      return current;
    },
    last(route: string, method?: string): RequestLogEntry {
      const e = handle.emu.control.requests({ route, ...(method ? { method } : {}) }).at(-1);
      if (!e) throw new Error(`no ${method ?? ""} request to ${route} in the log`);
      return e;
    },
  };
  return handle;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/**
 * A plain HTTPS request trusting only the emulator's certificate (control API, raw ARM calls). It
 * carries a bearer token, as every ARM client does; `authorization: ""` sends none (to see the 401).
 */
export function rawRequest(emu: { url: string; ca: string }, method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
  const { authorization = "Bearer raw-request", ...rest } = extraHeaders;
  const headers: Record<string, string> = { ...rest, ...(authorization !== "" ? { authorization } : {}) };
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(path, emu.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, ca: emu.ca, headers: { ...(payload !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h[k] = v;
          let parsed: unknown = undefined;
          if (text !== "") {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: h, body: parsed });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
