import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { promVerifierMetrics } from "../../../../src/controllers/volumesnapshot/metrics.ts";

describe("promVerifierMetrics", () => {
  it("counts snapshots by their current state and forgets deleted ones", async () => {
    const registry = new Registry();
    const m = promVerifierMetrics(registry);
    m.state("a/1", "Waiting");
    m.state("a/2", "Waiting");
    m.state("a/1", "Verified");
    m.state("a/3", "Failed");
    m.state("a/3", undefined);
    m.verified(42);
    const text = await registry.metrics();
    expect(text).toContain('aksnap_volumesnapshots{state="Waiting"} 1');
    expect(text).toContain('aksnap_volumesnapshots{state="Verified"} 1');
    expect(text).toContain('aksnap_volumesnapshots{state="Failed"} 0');
    expect(text).toContain("aksnap_volumesnapshot_verification_seconds_count 1");
  });
});
