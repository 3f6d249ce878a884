// ARM error bodies and the exception the route handlers throw to answer with one. Messages follow
// ARM's shapes (the front door's ResourceNotFound/ResourceGroupNotFound, AKS's OperationNotAllowed,
// PropertyChangeNotAllowed, NodePoolMcVersionIncompatible) so code that logs them reads true.

import { KIND_INFO, type ResourceRef } from "./ids.ts";
import type { JsonObject } from "./json.ts";

export interface ArmErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
  readonly subcode?: string;
  readonly details?: readonly ArmErrorDetail[];
}

export function errorToJson(e: ArmErrorDetail): JsonObject {
  const out: JsonObject = { code: e.code, message: e.message };
  if (e.target !== undefined) out["target"] = e.target;
  if (e.subcode !== undefined) out["subcode"] = e.subcode;
  if (e.details !== undefined) out["details"] = e.details.map(errorToJson);
  return out;
}

/** Thrown by handlers; the dispatcher turns it into the HTTP answer. */
export class ArmHttpError extends Error {
  readonly status: number;
  readonly error: ArmErrorDetail;
  /** AKS sometimes sends the error object bare (`{"code",…}`) instead of `{"error":{…}}`. */
  readonly unwrapped: boolean;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, error: ArmErrorDetail, opts: { unwrapped?: boolean; headers?: Record<string, string> } = {}) {
    super(`${status} ${error.code}: ${error.message}`);
    this.name = "ArmHttpError";
    this.status = status;
    this.error = error;
    this.unwrapped = opts.unwrapped ?? false;
    this.headers = opts.headers ?? {};
  }
  body(): JsonObject {
    return this.unwrapped ? errorToJson(this.error) : { error: errorToJson(this.error) };
  }
}

function typeAndName(ref: ResourceRef): string {
  const info = KIND_INFO[ref.kind];
  return ref.kind === "agentPool"
    ? `${info.provider}/managedClusters/${ref.cluster ?? ""}/agentPools/${ref.name}`
    : `${info.provider}/${info.type}/${ref.name}`;
}

export function resourceNotFound(ref: ResourceRef): ArmHttpError {
  return new ArmHttpError(404, {
    code: "ResourceNotFound",
    message: `The Resource '${typeAndName(ref)}' under resource group '${ref.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  });
}

export function resourceGroupNotFound(resourceGroup: string): ArmHttpError {
  return new ArmHttpError(404, {
    code: "ResourceGroupNotFound",
    message: `Resource group '${resourceGroup}' could not be found.`,
  });
}

export function subscriptionNotFound(subscriptionId: string): ArmHttpError {
  return new ArmHttpError(404, {
    code: "SubscriptionNotFound",
    message: `The subscription '${subscriptionId}' could not be found.`,
  });
}

export function parentResourceNotFound(parentName: string): ArmHttpError {
  return new ArmHttpError(404, {
    code: "ParentResourceNotFound",
    message: `Can not perform requested operation on nested resource. Parent resource '${parentName}' not found.`,
  });
}

export function invalidParameter(message: string, target?: string): ArmHttpError {
  return new ArmHttpError(400, { code: "InvalidParameter", message, ...(target !== undefined ? { target } : {}) });
}

export function badRequest(code: string, message: string, target?: string): ArmHttpError {
  return new ArmHttpError(400, { code, message, ...(target !== undefined ? { target } : {}) });
}

export function propertyChangeNotAllowed(property: string): ArmHttpError {
  return new ArmHttpError(400, {
    code: "PropertyChangeNotAllowed",
    message: `Changing property '${property}' is not allowed.`,
    target: property,
  });
}

export function preconditionFailed(message: string): ArmHttpError {
  return new ArmHttpError(412, { code: "PreconditionFailed", message });
}

export function operationNotAllowed(message: string, unwrapped: boolean): ArmHttpError {
  return new ArmHttpError(
    409,
    { code: "OperationNotAllowed", message, ...(unwrapped ? { subcode: "", details: [] } : {}) },
    { unwrapped },
  );
}

export function invalidRequestContent(message: string): ArmHttpError {
  return new ArmHttpError(400, { code: "InvalidRequestContent", message });
}
