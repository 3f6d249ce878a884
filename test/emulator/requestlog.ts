// Every request the emulator answered (or dropped), so tests can assert on traffic: how many PUTs
// of a route, which api-version, which headers went out and came back.

import type { JsonValue } from "./json.ts";

export interface RequestLogEntry {
  readonly seq: number;
  /** ISO time the request arrived (emulator clock). */
  readonly time: string;
  readonly method: string;
  /** Path as sent (percent-decoded), without query. */
  readonly path: string;
  /** Route name, e.g. `ContainerService.Snapshots_CreateOrUpdate`; `unmatched` or `control` otherwise. */
  readonly route: string;
  readonly apiVersion: string | undefined;
  /** 0 when the connection was reset instead of answered. */
  readonly status: number;
  readonly durationMs: number;
  /** Request headers of interest (if-match, if-none-match, akssnapshotid, content-type, authorization present). */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** Response headers of interest (azure-asyncoperation, location, retry-after*, x-ms-ratelimit-*). */
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly requestBody: JsonValue | undefined;
  /** The JSON body sent back (undefined when none): with requestBody, a recorded pair for validators. */
  readonly responseBody: JsonValue | undefined;
  /** Id of the fault rule that hit this request, if any. */
  readonly fault: string | undefined;
}

export interface RequestFilter {
  readonly method?: string;
  /** Exact route name, any case. */
  readonly route?: string;
  /** Regular expression source tested (case-insensitively) against the path. */
  readonly path?: string;
  readonly status?: number;
}

export const REQUEST_HEADERS_OF_INTEREST = ["if-match", "if-none-match", "akssnapshotid", "content-type", "x-ms-client-request-id", "user-agent"];
export const RESPONSE_HEADERS_OF_INTEREST = [
  "azure-asyncoperation",
  "location",
  "retry-after",
  "retry-after-ms",
  "x-ms-retry-after-ms",
  "x-ms-ratelimit-remaining-subscription-reads",
  "x-ms-ratelimit-remaining-subscription-writes",
  "x-ms-ratelimit-remaining-subscription-deletes",
  "x-ms-ratelimit-remaining-resource",
];

export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;
  readonly #limit: number;
  constructor(limit = 50_000) {
    this.#limit = limit;
  }
  nextSeq(): number {
    return ++this.#seq;
  }
  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
  }
  clear(): void {
    this.#entries = [];
  }
  query(filter: RequestFilter = {}): RequestLogEntry[] {
    const re = filter.path !== undefined ? new RegExp(filter.path, "i") : undefined;
    return this.#entries.filter(
      (e) =>
        (filter.method === undefined || e.method.toUpperCase() === filter.method.toUpperCase()) &&
        (filter.route === undefined || e.route.toLowerCase() === filter.route.toLowerCase()) &&
        (filter.status === undefined || e.status === filter.status) &&
        (re === undefined || re.test(e.path)),
    );
  }
  count(filter: RequestFilter = {}): number {
    return this.query(filter).length;
  }
}
