import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "../../..");

describe("the Azure SDK as the operator loads it (src/azure/sdk.ts)", () => {
  it("arm-compute loads on the first use of a subscription's compute client, not before; and, started as main.ts does, an ARM read loads no undici (no form-data policy)", () => {
    // A fresh process: vitest's own has loaded the SDK's ES module build for other tests.
    const script = `
      const { createRequire } = await import("node:module");
      const cache = createRequire(import.meta.url).cache;
      const loaded = (pkg) => Object.keys(cache).some((p) => p.includes("/node_modules/" + pkg + "/"));
      // As src/main.ts starts it: the node:http facade first (src/runtime/http-facade.ts).
      await (await import(${JSON.stringify(join(repo, "src/runtime/http-facade.ts"))})).createHttpFacade();
      const { createArmClients } = await import(${JSON.stringify(join(repo, "src/azure/clients.ts"))});
      const { Registry } = await import("prom-client");
      const { createArmMetrics } = await import(${JSON.stringify(join(repo, "src/azure/metrics.ts"))});
      const c = createArmClients({
        endpoint: "https://127.0.0.1:1", retry: { maxRetries: 0 }, credential: { getToken: async () => null }, userAgent: "t",
        writeRate: false, metrics: createArmMetrics(new Registry()), now: () => 0, sleep: async () => {}, timeoutMs: 1000,
      }).forSubscription("s");
      const before = { compute: loaded("@azure/arm-compute"), aks: loaded("@azure/arm-containerservice") };
      const first = c.compute;
      const after = { compute: loaded("@azure/arm-compute"), same: first === c.compute };
      // A read through the SDK (refused at once: nothing listens on port 1).
      await c.containerService.snapshots.get("rg", "x").catch(() => {});
      const undici = process.moduleLoadList.some((m) => m.includes("undici"));
      const formData = c.containerService.pipeline.getOrderedPolicies().some((p) => p.name === "formDataPolicy");
      console.log(JSON.stringify({ before, after, undici, formData }));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })) as unknown;
    expect(out).toEqual({ before: { compute: false, aks: true }, after: { compute: true, same: true }, undici: false, formData: false });
  });
});
