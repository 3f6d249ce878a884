// The Kubernetes API's failures as a typed union, so callers switch on a kind instead of
// parsing messages. Shapes follow metav1.Status.

export type KubeErrorKind =
  | "notFound"
  | "conflict" // 409: resourceVersion mismatch or AlreadyExists
  | "alreadyExists"
  | "gone" // 410: watch/list resourceVersion too old — re-list
  | "invalid" // 422 / 400: admission rejected the object
  | "forbidden"
  | "unauthorized"
  | "throttled" // 429
  | "transient"; // 5xx, network

export class KubeApiError extends Error {
  readonly kind: KubeErrorKind;
  readonly statusCode: number;
  readonly reason: string;
  readonly retryAfterSeconds: number | undefined;
  /**
   * A 404 about the kind, not an object: the apiserver does not serve its group/version/resource
   * (a CRD that is not installed). Object 404s name the object in `details`.
   */
  get notServed(): boolean {
    return this.reason === NOT_SERVED;
  }
  constructor(kind: KubeErrorKind, statusCode: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "KubeApiError";
    this.kind = kind;
    this.statusCode = statusCode;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The reason given to a 404 that names no object: the kind itself is not served. */
export const NOT_SERVED = "NotServed";

export function classifyStatus(statusCode: number, body: unknown, retryAfterHeader?: string): KubeApiError {
  const status = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const details = typeof status.details === "object" && status.details !== null ? (status.details as Record<string, unknown>) : {};
  const kindMissing = statusCode === 404 && typeof details.name !== "string";
  const reason = kindMissing ? NOT_SERVED : typeof status.reason === "string" ? status.reason : "";
  const message = typeof status.message === "string" ? status.message : `HTTP ${statusCode}`;
  const retryAfter = retryAfterHeader !== undefined && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined;
  const kind: KubeErrorKind = (() => {
    switch (statusCode) {
      case 404:
        return "notFound";
      case 409:
        return reason === "AlreadyExists" ? "alreadyExists" : "conflict";
      case 410:
        return "gone";
      case 400:
      case 422:
        return "invalid";
      case 401:
        return "unauthorized";
      case 403:
        return "forbidden";
      case 429:
        return "throttled";
      default:
        return "transient";
    }
  })();
  return new KubeApiError(kind, statusCode, reason, message, retryAfter);
}

/** A not-served 404 named by the request that met it: "the API is not served" alone says nothing of which. */
export function withRequest(e: KubeApiError, method: string, path: string): KubeApiError {
  if (!e.notServed) return e;
  const api = path.split("?")[0]?.replace(/\/namespaces\/[^/]+/, "") ?? path;
  return new KubeApiError(e.kind, e.statusCode, e.reason, `${method} ${api}: not served by this cluster (is the CRD installed?)`);
}

export function isKubeError(e: unknown, kind?: KubeErrorKind): e is KubeApiError {
  return e instanceof KubeApiError && (kind === undefined || e.kind === kind);
}
