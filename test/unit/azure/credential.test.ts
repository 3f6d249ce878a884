import { describe, expect, it } from "vitest";
import { createCredential, fixedTokenCredential, lazyCredential, workloadIdentityFromEnv, type LazyCredential } from "../../../src/azure/credential.ts";
import { identitySdk } from "../../../src/azure/sdk.ts";

// The operator loads the SDK through its CommonJS build (src/azure/sdk.ts): the classes to compare with come from there.
const { DefaultAzureCredential, WorkloadIdentityCredential } = identitySdk();

describe("credential selection", () => {
  it("workload identity from explicit values, built on first use", async () => {
    const c = createCredential({ mode: "workload-identity", clientId: "cid", tenantId: "tid", tokenFilePath: "/var/run/secrets/azure/tokens/azure-identity-token" });
    expect(await (c as LazyCredential).resolve()).toBeInstanceOf(WorkloadIdentityCredential);
  });

  it("default chain, built on first use", async () => {
    expect(await (createCredential({ mode: "default", managedIdentityClientId: "cid" }) as LazyCredential).resolve()).toBeInstanceOf(DefaultAzureCredential);
  });

  it("lazyCredential loads on the first token request, once, and retries a failed load", async () => {
    let loads = 0;
    let fail = true;
    const c = lazyCredential(async () => {
      loads++;
      if (fail) throw new Error("no identity library");
      return fixedTokenCredential("t", () => 0);
    });
    expect(loads).toBe(0);
    await expect(c.getToken("s")).rejects.toThrow("no identity library");
    fail = false;
    const tokens = await Promise.all([c.getToken("s"), c.getToken("s")]);
    expect(tokens.map((t) => t?.token)).toEqual(["t", "t"]);
    expect(loads).toBe(2);
  });

  it("static returns the injected credential itself", () => {
    const injected = fixedTokenCredential("t", () => 0);
    expect(createCredential({ mode: "static", credential: injected })).toBe(injected);
  });

  it("fixedTokenCredential hands out the token, valid an hour from now", async () => {
    const c = fixedTokenCredential("emulator", () => 5_000);
    expect(await c.getToken("https://management.azure.com/.default")).toEqual({ token: "emulator", expiresOnTimestamp: 3_605_000 });
  });
});

describe("workloadIdentityFromEnv", () => {
  const full = { AZURE_CLIENT_ID: "cid", AZURE_TENANT_ID: "tid", AZURE_FEDERATED_TOKEN_FILE: "/t" };

  it("builds the config from the webhook-injected variables", () => {
    expect(workloadIdentityFromEnv({ ...full, AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" })).toEqual({
      ok: true,
      config: { mode: "workload-identity", clientId: "cid", tenantId: "tid", tokenFilePath: "/t", authorityHost: "https://login.microsoftonline.us" },
    });
  });

  it.each([
    [{}, ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"]],
    [{ ...full, AZURE_FEDERATED_TOKEN_FILE: "" }, ["AZURE_FEDERATED_TOKEN_FILE"]],
    [{ ...full, AZURE_CLIENT_ID: undefined }, ["AZURE_CLIENT_ID"]],
  ])("names what is missing: %j", (env, missing) => {
    expect(workloadIdentityFromEnv(env)).toEqual({ ok: false, missing });
  });
});
