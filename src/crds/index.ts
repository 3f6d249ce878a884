// The API's single source of truth: kinds, their types and parsers, and the registry the generator,
// the tests and the controllers iterate over.
import type { ParseOptions, ParseResult } from "./kind.ts";
import { NodePoolSnapshotKind, type NodePoolSnapshot } from "./nodepoolsnapshot.ts";
import { RestoreRequestKind, type RestoreRequest } from "./restorerequest.ts";
import { SnapshotScheduleKind, type SnapshotSchedule } from "./snapshotschedule.ts";

export * from "./common.ts";
export * from "./hooks.ts";
export * from "./kind.ts";
export * from "./names.ts";
export * from "./nodepoolsnapshot.ts";
export * from "./restorerequest.ts";
export * from "./shapes.ts";
export * from "./snapshotschedule.ts";

/** Every kind of the API, in the order docs and generated files list them. */
export const KINDS = [NodePoolSnapshotKind, SnapshotScheduleKind, RestoreRequestKind] as const;

export type AksnapKind = (typeof KINDS)[number]["kind"];
export type AksnapObject = NodePoolSnapshot | SnapshotSchedule | RestoreRequest;

/** The kind definition for a kind name, or undefined. */
export function kindByName(kind: string): (typeof KINDS)[number] | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** Parses an object of any of our kinds, dispatching on `kind`. */
export function parseAksnapObject(u: unknown, opts?: ParseOptions): ParseResult<AksnapObject> {
  const kind = u !== null && typeof u === "object" ? (u as { kind?: unknown }).kind : undefined;
  const def = typeof kind === "string" ? kindByName(kind) : undefined;
  if (def === undefined) {
    const message = `not an aksnap.io kind: ${String(kind)} (expected one of ${KINDS.map((k) => k.kind).join(", ")})`;
    return { ok: false, error: message, issues: [{ path: "kind", message }] };
  }
  return def.parse(u, opts) as ParseResult<AksnapObject>;
}
