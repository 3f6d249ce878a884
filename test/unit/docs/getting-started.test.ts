// The user guide and the alert runbooks stay true: their links resolve (files and #anchors), the
// aksnap objects in them pass the kinds' schemas, and the `kubectl aksnap restore` lines parse into
// valid RestoreRequests.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseArgs } from "../../../src/cli/args.ts";
import { restoreFromFlags, RESTORE_FLAGS } from "../../../src/cli/restore.ts";
import { kindByName } from "../../../src/crds/index.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const docs = ["docs/getting-started.md", "docs/alerts.md"];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#+ (.+)$/gm)].map((m) =>
      (m[1] as string)
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    ),
  );
}

function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1] as string);
}

describe.each(docs)("%s", (doc) => {
  const text = readFileSync(join(root, doc), "utf8");

  it("every relative link resolves, anchors included", () => {
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((l) => !/^https?:/.test(l));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) {
      const [file, anchor] = link.split("#") as [string, string | undefined];
      const target = file === "" ? join(root, doc) : resolve(dirname(join(root, doc)), file);
      expect(existsSync(target), link).toBe(true);
      if (anchor) expect(anchors(readFileSync(target, "utf8")), link).toContain(anchor);
    }
  });

  it("its aksnap objects pass their kind's schema", () => {
    const objs = blocks(text, "yaml")
      .flatMap((b) => parseAllDocuments(b).map((d) => d.toJS() as { kind?: string } | null))
      .filter((o): o is { kind: string } => typeof o?.kind === "string" && kindByName(o.kind) !== undefined);
    for (const o of objs) {
      const r = kindByName(o.kind)?.parse(o, { strict: true });
      expect(r?.ok ? "ok" : r?.error, o.kind).toBe("ok");
    }
  });

  it("its `kubectl aksnap restore` lines make valid RestoreRequests", () => {
    const lines = blocks(text, "sh")
      .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
      .filter((l) => l.startsWith("kubectl aksnap restore "));
    for (const l of lines) {
      const argv = l.replace(/#.*$/, "").trim().split(/\s+/).slice(2);
      const p = parseArgs(argv, [{ name: "namespace", short: "n" }, ...RESTORE_FLAGS]);
      const [, name] = p.positionals;
      expect(() => restoreFromFlags(name ?? "", p.flags.get("namespace")?.[0] ?? "default", p), l).not.toThrow();
    }
  });
});

it("the guide shows at least two restores and two objects", () => {
  const text = readFileSync(join(root, "docs/getting-started.md"), "utf8");
  expect(text.match(/^kubectl aksnap restore /gm)?.length).toBeGreaterThanOrEqual(2);
  expect(text.match(/^kind: (NodePoolSnapshot|SnapshotSchedule)$/gm)?.length).toBe(2);
});
