// Real Azure SDK clients pointed at an ARM emulator: the endpoint option, a static test
// credential, and TLS trust of the emulator's self-signed certificate through the pipeline's
// tlsOptions (no process-wide NODE_TLS_REJECT_UNAUTHORIZED).

import { ComputeManagementClient, type ComputeManagementClientOptionalParams } from "@azure/arm-compute";
import { ContainerServiceClient, type ContainerServiceClientOptionalParams } from "@azure/arm-containerservice";
import type { AccessToken, TokenCredential } from "@azure/core-auth";

export interface EmulatorEndpoint {
  readonly url: string;
  readonly ca: string;
}

/** Any object with getToken() is a credential; the emulator accepts any bearer token. */
export const testCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: "t", expiresOnTimestamp: Date.now() + 3600_000 }),
};

export function containerServiceClient(
  emu: EmulatorEndpoint,
  subscriptionId: string,
  options: ContainerServiceClientOptionalParams = {},
): ContainerServiceClient {
  return new ContainerServiceClient(testCredential, subscriptionId, {
    endpoint: emu.url,
    tlsOptions: { ca: emu.ca },
    ...options,
  });
}

export function computeClient(
  emu: EmulatorEndpoint,
  subscriptionId: string,
  options: ComputeManagementClientOptionalParams = {},
): ComputeManagementClient {
  return new ComputeManagementClient(testCredential, subscriptionId, {
    endpoint: emu.url,
    tlsOptions: { ca: emu.ca },
    ...options,
  });
}

/** Fast polling for tests: the SDK's default is 2 s between status polls. */
export const FAST_POLL = { updateIntervalInMs: 50 } as const;
