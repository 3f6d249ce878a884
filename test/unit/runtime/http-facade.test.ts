import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "../../..");

/** A fresh Node process (vitest's own has long since imported node:http): what it loaded and saw. */
function probe(callFacade: boolean): { undici: boolean; esmWebSocket: string; cjsWebSocket: string; globalWebSocket: string } {
  const script = `
    const { createHttpFacade } = await import(${JSON.stringify(join(repo, "src/runtime/http-facade.ts"))});
    if (${callFacade}) await createHttpFacade();
    const esm = await import("node:http");
    const undici = process.moduleLoadList.some((m) => m.includes("undici"));
    const { createRequire } = await import("node:module");
    const cjs = createRequire(import.meta.url)("node:http");
    console.log(JSON.stringify({ undici, esmWebSocket: typeof esm.WebSocket, cjsWebSocket: typeof cjs.WebSocket, globalWebSocket: typeof globalThis.WebSocket }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })) as never;
}

describe("createHttpFacade", () => {
  it("an ES module import of node:http no longer loads undici; require and the global still give WebSocket", () => {
    expect(probe(true)).toEqual({ undici: false, esmWebSocket: "undefined", cjsWebSocket: "function", globalWebSocket: "function" });
  });

  it("without it, the import loads undici (what the facade avoids)", () => {
    expect(probe(false)).toMatchObject({ undici: true, esmWebSocket: "function" });
  });
});
