// Node's ES module facade for `node:http` reads every export once, when the first ES module imports
// it, and three of them (WebSocket, CloseEvent, MessageEvent) are lazy getters that load Node's
// bundled undici, http2 and web streams. The operator uses none of them, but a dependency of the
// Azure SDK (agent-base, ES module only) imports `node:http`, and that read cost the process
// ≈ 12 MiB of RSS (its code, source and heap; bench/scale.ts, docs/operator.md "Scale and memory").
//
// createHttpFacade() creates the facade first, with those three exports read as undefined, then
// puts the getters back: `require("node:http").WebSocket` works as before; only an ES module
// importing those three names from "node:http" would see undefined (nothing here does; the globals
// WebSocket, CloseEvent and MessageEvent are separate and untouched). Call it before anything
// imports the Azure SDK (src/main.ts does).
import { http as nodeHttp } from "./node-http.ts";

export const UNDICI_EXPORTS = ["WebSocket", "CloseEvent", "MessageEvent"] as const;

export async function createHttpFacade(): Promise<void> {
  const http = nodeHttp as unknown as Record<string, unknown>;
  const lazy: Array<[string, PropertyDescriptor]> = [];
  for (const name of UNDICI_EXPORTS) {
    const d = Object.getOwnPropertyDescriptor(http, name);
    if (d?.get === undefined || d.configurable !== true) continue;
    lazy.push([name, d]);
    Object.defineProperty(http, name, { configurable: true, enumerable: true, value: undefined });
  }
  try {
    await import("node:http");
  } finally {
    for (const [name, d] of lazy) Object.defineProperty(http, name, d);
  }
}
