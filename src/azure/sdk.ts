// The Azure SDK, loaded through its CommonJS build, and the compute client only when first used.
//
// - CommonJS: the SDK's ES module build imports `node:http` as an ES module, and Node's ES module
//   facade for a built-in reads every export, including `http.WebSocket`'s lazy getter, which loads
//   Node's bundled undici, http2 and web streams (≈ 1 MiB of source and what it compiles) although
//   nothing here uses them. `require` reads no export it is not asked for. Every SDK value comes
//   from here, so there is one copy of each package (types may still be imported as usual).
// - @azure/arm-compute (its source alone ≈ 1.4 MiB of heap) is needed only for Azure disks and
//   their snapshots (SnapshotSchedule, RestoreRequest volumes): it loads on first use.
// Measured with bench/scale.ts --rss-only (docs/operator.md, Scale and memory).
import { createRequire } from "node:module";
import type * as ComputeModule from "@azure/arm-compute";
import type * as ContainerServiceModule from "@azure/arm-containerservice";
import type * as PipelineModule from "@azure/core-rest-pipeline";
import type * as IdentityModule from "@azure/identity";

const require = createRequire(import.meta.url);

export type ContainerServiceSdk = typeof ContainerServiceModule;
export type ComputeSdk = typeof ComputeModule;
export type PipelineSdk = typeof PipelineModule;
export type IdentitySdk = typeof IdentityModule;

export const containerServiceSdk = require("@azure/arm-containerservice") as ContainerServiceSdk;
export const pipelineSdk = require("@azure/core-rest-pipeline") as PipelineSdk;

let compute: ComputeSdk | undefined;
/** @azure/arm-compute, loaded on the first call. */
export function computeSdk(): ComputeSdk {
  return (compute ??= require("@azure/arm-compute") as ComputeSdk);
}

/** @azure/identity (with MSAL), loaded on the first call: only a token request needs it. */
export function identitySdk(): IdentitySdk {
  return require("@azure/identity") as IdentitySdk;
}
