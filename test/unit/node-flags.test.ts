// The image runs the compiled operator with the Node flags src/operator.ts declares (and measures).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { NODE_FLAGS, PROCESS_ENV } from "../../src/operator.ts";

describe("Node flags", () => {
  it("the Containerfile ENTRYPOINT passes NODE_FLAGS before the script", () => {
    const line = readFileSync(fileURLToPath(new URL("../../Containerfile", import.meta.url)), "utf8").split("\n").find((l) => l.startsWith("ENTRYPOINT"));
    const argv = JSON.parse(line?.slice("ENTRYPOINT".length) ?? "[]") as string[];
    expect(argv).toEqual(["/usr/local/bin/node", ...NODE_FLAGS, "/app/dist/src/main.js"]);
  });

  it("the Containerfile sets PROCESS_ENV", () => {
    const env = readFileSync(fileURLToPath(new URL("../../Containerfile", import.meta.url)), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("ENV "))
      .map((l) => l.slice("ENV ".length).split("="));
    expect(Object.fromEntries(env.filter(([k]) => k !== undefined && k in PROCESS_ENV))).toEqual(PROCESS_ENV);
  });
});
