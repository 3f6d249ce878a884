// Reasons are API: users search docs/api.md for them. Every condition and event reason the
// controller can write must be in the NodePoolSnapshot catalogue there.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EventReasons, Reasons } from "../../../../src/controllers/nodepoolsnapshot/reasons.ts";

const api = readFileSync(new URL("../../../../docs/api.md", import.meta.url), "utf8");
const start = api.indexOf("<!-- CONDITIONS CATALOGUE:");
const end = api.indexOf("<!-- END CONDITIONS CATALOGUE -->");
const catalogue = api.slice(start, end);

describe("NodePoolSnapshot reasons catalogue (docs/api.md)", () => {
  it("exists", () => {
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
  });

  it.each(Object.values(Reasons))("documents condition reason %s", (reason) => {
    expect(catalogue).toContain(`| \`${reason}\` |`);
  });

  it.each(Object.values(EventReasons))("documents event reason %s", (reason) => {
    expect(catalogue).toMatch(new RegExp(`\\| (\`\\w+\`, )?\`${reason}\`( |,)`));
  });

  it("reasons are PascalCase and unique", () => {
    const all = Object.values(Reasons);
    expect(new Set(all).size).toBe(all.length);
    for (const r of [...all, ...Object.values(EventReasons)]) expect(r).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
