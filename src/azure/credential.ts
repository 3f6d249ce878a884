// Credential selection. A config object in, a TokenCredential out; the environment is read only by
// the caller (config.ts), which passes the values in.

import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { identitySdk } from "./sdk.ts";

export type { TokenCredential } from "@azure/core-auth";

export type CredentialConfig =
  /** AKS workload identity: the federated token the kubelet projects into the pod. The in-cluster default. */
  | {
      readonly mode: "workload-identity";
      readonly clientId: string;
      readonly tenantId: string;
      readonly tokenFilePath: string;
      /** Entra authority for sovereign clouds, e.g. https://login.microsoftonline.us. */
      readonly authorityHost?: string;
    }
  /** DefaultAzureCredential's chain (env, workload identity, managed identity, Azure CLI, ...). */
  | {
      readonly mode: "default";
      readonly managedIdentityClientId?: string;
      readonly tenantId?: string;
      readonly authorityHost?: string;
    }
  /** An injected credential: tests and the local emulator. */
  | { readonly mode: "static"; readonly credential: TokenCredential };

/** A credential built on first use (see createCredential). */
export interface LazyCredential extends TokenCredential {
  /** The credential itself, built (and @azure/identity loaded) on the first call. */
  resolve(): Promise<TokenCredential>;
}

/**
 * `load` runs on the first getToken (or resolve), once; a failed load is retried on the next call.
 * @azure/identity and MSAL cost ≈ 4 MiB of heap and are needed only when a token is: not by the
 * static-token mode, nor by an operator that has not called ARM yet.
 */
export function lazyCredential(load: () => Promise<TokenCredential>): LazyCredential {
  let loading: Promise<TokenCredential> | undefined;
  const resolve = (): Promise<TokenCredential> =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    }));
  return {
    resolve,
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => (await resolve()).getToken(scopes, options),
  };
}

/** workload-identity and default load @azure/identity on the first token request (lazyCredential). */
export function createCredential(config: CredentialConfig): TokenCredential {
  switch (config.mode) {
    case "workload-identity":
      return lazyCredential(async () => {
        const { WorkloadIdentityCredential } = identitySdk();
        return new WorkloadIdentityCredential({
          clientId: config.clientId,
          tenantId: config.tenantId,
          tokenFilePath: config.tokenFilePath,
          ...(config.authorityHost !== undefined ? { authorityHost: config.authorityHost } : {}),
        });
      });
    case "default":
      return lazyCredential(async () => {
        const { DefaultAzureCredential } = identitySdk();
        return new DefaultAzureCredential({
          ...(config.managedIdentityClientId !== undefined ? { managedIdentityClientId: config.managedIdentityClientId } : {}),
          ...(config.tenantId !== undefined ? { tenantId: config.tenantId } : {}),
          ...(config.authorityHost !== undefined ? { authorityHost: config.authorityHost } : {}),
        });
      });
    case "static":
      return config.credential;
  }
}

/** The variables the AKS workload-identity webhook injects into a pod. */
export interface WorkloadIdentityEnv {
  readonly AZURE_CLIENT_ID?: string | undefined;
  readonly AZURE_TENANT_ID?: string | undefined;
  readonly AZURE_FEDERATED_TOKEN_FILE?: string | undefined;
  readonly AZURE_AUTHORITY_HOST?: string | undefined;
}

export type CredentialFromEnvResult =
  | { readonly ok: true; readonly config: CredentialConfig }
  | { readonly ok: false; readonly missing: readonly string[] };

/**
 * Workload-identity config from an env record the caller read; lists what is missing so startup can
 * say exactly which webhook injection did not happen.
 */
export function workloadIdentityFromEnv(env: WorkloadIdentityEnv): CredentialFromEnvResult {
  const missing = (["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] as const).filter(
    (k) => (env[k] ?? "") === "",
  );
  if (missing.length > 0) return { ok: false, missing };
  return {
    ok: true,
    config: {
      mode: "workload-identity",
      clientId: env.AZURE_CLIENT_ID as string,
      tenantId: env.AZURE_TENANT_ID as string,
      tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE as string,
      ...(env.AZURE_AUTHORITY_HOST ? { authorityHost: env.AZURE_AUTHORITY_HOST } : {}),
    },
  };
}

/**
 * A credential that always returns the same bearer token, valid for an hour from `now()`. For the
 * local emulator and tests, which accept any token.
 */
export function fixedTokenCredential(token: string, now: () => number): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: now() + 3_600_000 }),
  };
}
