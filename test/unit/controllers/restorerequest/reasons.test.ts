// Reasons are API: users search docs/restore.md for them. Every condition and event reason the
// RestoreRequest controller can write must be in its catalogue there.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EventReasons, Reasons } from "../../../../src/controllers/restorerequest/reasons.ts";

const guide = readFileSync(new URL("../../../../docs/restore.md", import.meta.url), "utf8");
const start = guide.indexOf("## Reasons");
const end = guide.indexOf("## What it does not do");
const catalogue = guide.slice(start, end);

describe("RestoreRequest reasons catalogue (docs/restore.md)", () => {
  it("exists", () => {
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
  });

  it.each(Object.values(Reasons))("documents condition reason %s in a table row", (reason) => {
    expect(catalogue).toMatch(new RegExp(`\\n\\| (\`\\w+\`, )*\`${reason}\`(, \`\\w+\`)* \\|`));
  });

  it.each(Object.values(EventReasons))("documents event reason %s", (reason) => {
    expect(catalogue.slice(catalogue.indexOf("**Events**"))).toContain(`\`${reason}\``);
  });

  it("reasons are PascalCase and unique", () => {
    const all = Object.values(Reasons);
    expect(new Set(all).size).toBe(all.length);
    for (const r of [...all, ...Object.values(EventReasons)]) expect(r).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
