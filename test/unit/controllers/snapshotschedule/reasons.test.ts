// Reasons are API: users search docs/api.md for them. Every condition, event and child reason the
// SnapshotSchedule controller can write must be in its catalogue there.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ChildReasons, EventReasons, Reasons } from "../../../../src/controllers/snapshotschedule/reasons.ts";

const api = readFileSync(new URL("../../../../docs/api.md", import.meta.url), "utf8");
const start = api.indexOf("<!-- SCHEDULE CATALOGUE:");
const end = api.indexOf("<!-- END SCHEDULE CATALOGUE -->");
const catalogue = api.slice(start, end);

describe("SnapshotSchedule reasons catalogue (docs/api.md)", () => {
  it("exists", () => {
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
  });

  it.each(Object.values(Reasons))("documents condition reason %s", (reason) => {
    expect(catalogue).toMatch(new RegExp(`\\| (\`\\w+\`, )*\`${reason}\`(,| \\|)`));
  });

  it.each(Object.values(EventReasons))("documents event reason %s", (reason) => {
    expect(catalogue).toContain(`| \`${reason}\` |`);
  });

  it.each(Object.values(ChildReasons))("documents child reason %s", (reason) => {
    expect(catalogue).toContain(`\`${reason}\``);
  });

  it("reasons are PascalCase and unique per catalogue", () => {
    const all = Object.values(Reasons);
    expect(new Set(all).size).toBe(all.length);
    for (const r of [...all, ...Object.values(EventReasons), ...Object.values(ChildReasons)]) expect(r).toMatch(/^[A-Z][A-Za-z]+$/);
  });
});
