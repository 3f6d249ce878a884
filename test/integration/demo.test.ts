// `make demo` end to end (hack/demo.ts --once) on its own control plane and emulator: every
// NodePoolSnapshot sample settles — Ready, except the cross-region DR attempt, refused as Stalled —
// the VolumeSnapshot shows Kubernetes' readyToUse beside aksnap's "not verified" until the copy is done,
// and the demo ends with a node pool restored from the demo snapshot and a PVC from the VolumeSnapshot.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../harness/operator.ts";

it("the demo brings every NodePoolSnapshot sample to Ready, or Stalled with a readable reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "aksnap-demo-"));
  try {
    const r = spawnSync(process.execPath, [join(repoRoot, "hack/demo.ts"), "--once"], { env: { ...process.env, AKSNAP_DEMO_DIR: dir }, encoding: "utf8", timeout: 180_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/userpool-backup\s+True\s+Current\s+SnapshotReady/);
    expect(out).toMatch(/golden-userpool\s+True\s+Current\s+SnapshotReady/);
    expect(out).toMatch(/userpool-dr-northeurope\s+False\s+Failed\s+LocationMismatch/);
    expect(out).toContain("only in its source pool's region");
    expect(out).toContain("kubectl get aksnap -A");
    // The product's point on one screen: ready in Kubernetes, not verified while Azure still copies.
    expect(out).toMatch(/app-data-nightly\s+true\s+false\s+\d{1,2}%\s+CopyInProgress/);
    expect(out).toMatch(/app-data-nightly\s+true\s+true\s+100%\s+SnapshotVerified/);
    // The on-demand schedule run: Running while children wait, Succeeded once all six are verified.
    expect(out).toMatch(/pre-upgrade\s+\d{12}\s+Running\s+\d\/6\s+InProgress/);
    expect(out).toMatch(/pre-upgrade\s+\d{12}\s+Succeeded\s+6\/6\s+Current/);
    expect(out).toMatch(/userpool-restore\s+Succeeded\s+Current\s+RestoreSucceeded\s+Succeeded/);
    expect(out).toMatch(/app-data-restore\s+Succeeded\s+Current\s+RestoreSucceeded\s+app-data-restored Succeeded 100%/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 200_000);
