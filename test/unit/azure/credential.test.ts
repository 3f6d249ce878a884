import { DefaultAzureCredential, WorkloadIdentityCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { createCredential, fixedTokenCredential, workloadIdentityFromEnv } from "../../../src/azure/credential.ts";

describe("credential selection", () => {
  it("workload identity from explicit values", () => {
    const c = createCredential({ mode: "workload-identity", clientId: "cid", tenantId: "tid", tokenFilePath: "/var/run/secrets/azure/tokens/azure-identity-token" });
    expect(c).toBeInstanceOf(WorkloadIdentityCredential);
  });

  it("default chain", () => {
    expect(createCredential({ mode: "default", managedIdentityClientId: "cid" })).toBeInstanceOf(DefaultAzureCredential);
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
