// `kubectl aksnap restore` flags → a RestoreRequest, validated with the same schema and rules the
// CRD enforces, so a mistake is reported before anything is sent. Pure.
import { API_VERSION } from "../crds/common.ts";
import { RestoreRequestKind, type RestoreRequestSpec } from "../crds/restorerequest.ts";
import type { KubeObject } from "../kube/client.ts";
import { bool, flag, flags, UsageError, type Parsed } from "./args.ts";

export const RESTORE_FLAGS = [
  { name: "snapshot" },
  { name: "snapshot-id" },
  { name: "mode" },
  { name: "subscription" },
  { name: "resource-group" },
  { name: "cluster" },
  { name: "agent-pool" },
  { name: "count" },
  { name: "pool-mode" },
  { name: "vm-size" },
  { name: "node-label", repeated: true },
  { name: "node-taint", repeated: true },
  { name: "location" },
  { name: "dns-prefix" },
  { name: "volume-snapshot" },
  { name: "schedule" },
  { name: "run" },
  { name: "from-namespace" },
  { name: "pvc", repeated: true },
  { name: "storage-class" },
  { name: "conflict-policy" },
  { name: "wait-for-hydration", boolean: true },
] as const;

function keyValue(s: string, what: string): [string, string] {
  const i = s.indexOf("=");
  if (i <= 0) throw new UsageError(`${what} "${s}" must be key=value`);
  return [s.slice(0, i), s.slice(i + 1)];
}

function taint(s: string): { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" } {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s);
  if (!m) throw new UsageError(`--node-taint "${s}" must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
  return { key: m[1] as string, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as "NoSchedule" };
}

function integer(s: string | undefined, name: string): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new UsageError(`--${name} must be a whole number, not "${s}"`);
  return Number(s);
}

const NODE_POOL_FLAGS = ["snapshot", "snapshot-id", "mode", "resource-group", "cluster", "agent-pool", "count", "pool-mode", "vm-size", "location", "dns-prefix", "subscription"];
const VOLUME_FLAGS = ["volume-snapshot", "schedule", "run", "from-namespace", "pvc", "storage-class", "conflict-policy", "wait-for-hydration"];

/** The RestoreRequest the flags describe, or a UsageError naming what is wrong. */
export function restoreFromFlags(name: string, namespace: string, p: Parsed): KubeObject {
  const spec: Record<string, unknown> = {};
  const given = (names: string[]): boolean => names.some((n) => p.flags.has(n)) || (names === NODE_POOL_FLAGS && (p.flags.has("node-label") || p.flags.has("node-taint")));
  if (given(NODE_POOL_FLAGS)) {
    const labels = Object.fromEntries(flags(p, "node-label").map((l) => keyValue(l, "--node-label")));
    const taints = flags(p, "node-taint").map(taint);
    const count = integer(flag(p, "count"), "count");
    const location = flag(p, "location");
    const dnsPrefix = flag(p, "dns-prefix");
    spec.nodePool = {
      ...(flag(p, "snapshot") !== undefined ? { snapshotRef: { name: flag(p, "snapshot") } } : {}),
      ...(flag(p, "snapshot-id") !== undefined ? { snapshotId: flag(p, "snapshot-id") } : {}),
      mode: flag(p, "mode") ?? "CreateNodePool",
      target: {
        ...(flag(p, "subscription") !== undefined ? { subscriptionId: flag(p, "subscription") } : {}),
        resourceGroup: flag(p, "resource-group"),
        clusterName: flag(p, "cluster"),
        ...(flag(p, "agent-pool") !== undefined ? { agentPoolName: flag(p, "agent-pool") } : {}),
      },
      ...(count !== undefined ? { count } : {}),
      ...(flag(p, "pool-mode") !== undefined ? { agentPoolMode: flag(p, "pool-mode") } : {}),
      ...(flag(p, "vm-size") !== undefined ? { vmSize: flag(p, "vm-size") } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(taints.length > 0 ? { taints } : {}),
      ...(location !== undefined || dnsPrefix !== undefined
        ? { cluster: { ...(location !== undefined ? { location } : {}), ...(dnsPrefix !== undefined ? { dnsPrefix } : {}) } }
        : {}),
    };
  }
  if (given(VOLUME_FLAGS)) {
    const pvcs = flags(p, "pvc");
    spec.volumes = {
      from: {
        ...(flag(p, "volume-snapshot") !== undefined ? { volumeSnapshotName: flag(p, "volume-snapshot") } : {}),
        ...(flag(p, "schedule") !== undefined ? { schedule: flag(p, "schedule") } : {}),
        ...(flag(p, "run") !== undefined ? { run: flag(p, "run") } : {}),
        ...(flag(p, "from-namespace") !== undefined ? { namespace: flag(p, "from-namespace") } : {}),
      },
      ...(pvcs.length > 0 ? { pvcNames: pvcs } : {}),
      ...(flag(p, "storage-class") !== undefined ? { storageClassName: flag(p, "storage-class") } : {}),
      ...(flag(p, "conflict-policy") !== undefined ? { conflictPolicy: flag(p, "conflict-policy") } : {}),
      ...(p.flags.has("wait-for-hydration") ? { waitForHydration: bool(p, "wait-for-hydration") } : {}),
    };
  }
  const obj = { apiVersion: API_VERSION, kind: "RestoreRequest", metadata: { name, namespace }, spec: spec as RestoreRequestSpec };
  const parsed = RestoreRequestKind.parse(obj, { strict: true });
  if (!parsed.ok) {
    const issues = parsed.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n");
    throw new UsageError(`invalid restore:\n${issues || `  ${parsed.error}`}`);
  }
  return obj as KubeObject;
}
