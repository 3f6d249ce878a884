// The one-way layering of DESIGN.md is a lint rule; this proves the rule fires, so a config change
// cannot silently switch it off.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint();

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("layering lint", () => {
  it.each(["src/runtime/x.ts", "src/kube/x.ts", "src/azure/x.ts", "src/conditions/x.ts", "src/crds/x.ts"])("%s may not import controllers", async (file) => {
    const msgs = await restricted(file, 'import { clusterRules } from "../controllers/rbac.ts";\nexport const x = clusterRules;\n');
    expect(msgs.join("\n")).toContain("must not import controllers");
  });

  it.each(["src/runtime/x.ts", "src/kube/x.ts", "src/controllers/nodepoolsnapshot/x.ts", "src/main.ts", "src/config.ts"])("%s may not import the Azure SDKs", async (file) => {
    const msgs = await restricted(file, 'import { RestError } from "@azure/core-rest-pipeline";\nexport const x = RestError;\n');
    expect(msgs.join("\n")).toContain("only src/azure may import the Azure SDKs");
  });

  it("src/azure may import the Azure SDKs", async () => {
    expect(await restricted("src/azure/x.ts", 'import { RestError } from "@azure/core-rest-pipeline";\nexport const x = RestError;\n')).toEqual([]);
  });
});
