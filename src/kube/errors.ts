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
  constructor(kind: KubeErrorKind, statusCode: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "KubeApiError";
    this.kind = kind;
    this.statusCode = statusCode;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function classifyStatus(statusCode: number, body: unknown, retryAfterHeader?: string): KubeApiError {
  const status = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const reason = typeof status.reason === "string" ? status.reason : "";
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

export function isKubeError(e: unknown, kind?: KubeErrorKind): e is KubeApiError {
  return e instanceof KubeApiError && (kind === undefined || e.kind === kind);
}
