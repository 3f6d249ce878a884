// `make demo-node` end to end (hack/demo-node.ts --once) on a real node: a pod's data, a schedule run
// that succeeds only once verified, a RestoreRequest, and the checksum a new pod reads back matches.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../harness/operator.ts";

it("the node demo backs a pod's data up, verifies it, restores it and reads the same sha256 back", () => {
  const r = spawnSync(process.execPath, [join(repoRoot, "hack/demo-node.ts"), "--once"], { encoding: "utf8", timeout: 150_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.status, out).toBe(0);
  const written = /wrote 8 MiB to PVC app-data, sha256 ([0-9a-f]{64})/.exec(out)?.[1];
  expect(written, out).toBeDefined();
  expect(out).toMatch(/on-demand run \d{12}: Succeeded, 1\/1 verified \(app-backup-app-data-\S+: Verified\)/);
  expect(out).toMatch(/RestoreRequest app-restore .*: Succeeded, PVC app-data-restored from app-backup-app-data-\S+ \(100% hydrated\)/);
  expect(out).toContain(`pod reader on PVC app-data-restored: sha256 ${written}`);
  expect(out).toContain("checksum matches");
}, 180_000);
