// What a NodePoolSnapshot asks for, resolved against the operator's defaults: the ARM snapshot id
// to own (deterministic, so a restart or a second replica never makes a duplicate), the source
// agent pool, the requested location and the full tag set. Pure: no I/O, no clock.
import { createHash } from "node:crypto";
import type { NodePoolSnapshot } from "../../crds/nodepoolsnapshot.ts";
import { effectiveDeletionPolicy, isAdopted, type DeletionPolicy } from "../../crds/nodepoolsnapshot.ts";
import { agentPoolId, nodePoolSnapshotId, sameResourceId, parseAgentPoolId, parseNodePoolSnapshotId, type AgentPoolRef, type GroupResourceRef } from "../../azure/ids.ts";
import { Reasons } from "./reasons.ts";

export const OWNER_TAG = "aksnap.io-owner";
export const SCHEDULE_TAG = "aksnap.io-schedule";
export const SCHEDULE_LABEL = "aksnap.io/schedule";

export interface Defaults {
  defaultSubscriptionId: string | undefined;
}

export type Desired =
  | {
      mode: "capture";
      snapshot: GroupResourceRef;
      snapshotId: string;
      source: AgentPoolRef;
      sourceId: string;
      /** Requested region; undefined = the source cluster's (checked at reconcile). */
      location: string | undefined;
      tags: Record<string, string>;
      deletionPolicy: DeletionPolicy;
    }
  | {
      mode: "adopt";
      snapshot: GroupResourceRef;
      snapshotId: string;
      tags: Record<string, string>;
      deletionPolicy: DeletionPolicy;
    };

export type DesiredResult = { ok: true; value: Desired } | { ok: false; reason: string; message: string };

/**
 * A valid, deterministic ARM snapshot name for namespace/name: readable where it fits, always
 * with a hash of the full key so that `a-b/c` and `a/b-c` never collide.
 */
export function snapshotNameFor(namespace: string, name: string): string {
  const hash = createHash("sha256").update(`${namespace}/${name}`).digest("hex").slice(0, 8);
  const readable = `${namespace}-${name}`.replace(/[^-_a-zA-Z0-9]/g, "-");
  const head = readable.slice(0, 63 - hash.length - 1).replace(/[-_]+$/, "");
  return `${head}-${hash}`.replace(/^[-_]+/, "");
}

/** ARM's limit on a tag value. */
export const ARM_TAG_VALUE_MAX = 256;

/**
 * The owner tag's value: `<namespace>/<name>` when it fits ARM's 256 characters (a namespace is at
 * most 63, a name at most 253, so it can reach 317); otherwise the name is cut and followed by `#`
 * and 16 hex digits of SHA-256 of the full `<namespace>/<name>` — still readable, still unique.
 */
export function ownerTagValue(namespace: string, name: string): string {
  const full = `${namespace}/${name}`;
  if (full.length <= ARM_TAG_VALUE_MAX) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 16);
  return `${full.slice(0, ARM_TAG_VALUE_MAX - hash.length - 1)}#${hash}`;
}

/** The owner tag's value on an ARM snapshot (tag names are case-insensitive in ARM). */
export function ownerOf(tags: Readonly<Record<string, string>>): string | undefined {
  const key = Object.keys(tags).find((k) => k.toLowerCase() === OWNER_TAG);
  return key === undefined ? undefined : tags[key];
}

/**
 * Whether an existing ARM snapshot is this object's: it carries our owner tag, or it is the one
 * our status recorded and nobody else claims it. A same-named snapshot that is neither (a golden
 * snapshot of the same pool, another namespace's object) is someone else's: never written to.
 */
export function isOurs(obj: NodePoolSnapshot, snapshot: { id: string; tags: Readonly<Record<string, string>> }): boolean {
  const owner = ownerOf(snapshot.tags);
  if (owner !== undefined) return owner === ownerTagValue(obj.metadata.namespace ?? "", obj.metadata.name);
  return obj.status?.snapshotId !== undefined && sameResourceId(obj.status.snapshotId, snapshot.id);
}

export function operatorTags(obj: NodePoolSnapshot): Record<string, string> {
  const tags: Record<string, string> = { [OWNER_TAG]: ownerTagValue(obj.metadata.namespace ?? "", obj.metadata.name) };
  const schedule = obj.metadata.labels?.[SCHEDULE_LABEL];
  if (schedule) tags[SCHEDULE_TAG] = schedule;
  return tags;
}

export function desiredFor(obj: NodePoolSnapshot, defaults: Defaults): DesiredResult {
  const spec = obj.spec;
  const deletionPolicy = effectiveDeletionPolicy(spec);
  // User tags first, operator tags win: ownership must stay truthful.
  const tags = { ...(spec.tags ?? {}), ...operatorTags(obj) };
  if (isAdopted(spec)) {
    const id = spec.snapshot?.id ?? "";
    const ref = parseNodePoolSnapshotId(id);
    if (!ref) return { ok: false, reason: Reasons.InvalidSpec, message: `spec.snapshot.id "${id}" is not a Microsoft.ContainerService/snapshots id` };
    return { ok: true, value: { mode: "adopt", snapshot: ref, snapshotId: nodePoolSnapshotId(ref), tags, deletionPolicy } };
  }
  const src = spec.source;
  if (!src) return { ok: false, reason: Reasons.InvalidSpec, message: "spec.source is required unless spec.snapshot.id adopts an existing snapshot" };
  let source: AgentPoolRef | undefined;
  if (src.agentPoolId) {
    source = parseAgentPoolId(src.agentPoolId);
    if (!source) return { ok: false, reason: Reasons.InvalidSpec, message: `spec.source.agentPoolId "${src.agentPoolId}" is not an agent pool id` };
  } else {
    const subscriptionId = src.subscriptionId ?? defaults.defaultSubscriptionId;
    if (!subscriptionId) {
      return {
        ok: false,
        reason: Reasons.SubscriptionUnknown,
        message: "spec.source.subscriptionId is not set and the operator has no default subscription (--default-subscription-id)",
      };
    }
    if (!src.resourceGroup || !src.clusterName || !src.agentPoolName) {
      return { ok: false, reason: Reasons.InvalidSpec, message: "spec.source needs resourceGroup, clusterName and agentPoolName" };
    }
    source = { subscriptionId, resourceGroup: src.resourceGroup, clusterName: src.clusterName, agentPoolName: src.agentPoolName };
  }
  const placement = spec.snapshot ?? {};
  const snapshot: GroupResourceRef = {
    subscriptionId: placement.subscriptionId ?? source.subscriptionId,
    resourceGroup: placement.resourceGroup ?? source.resourceGroup,
    name: placement.name ?? snapshotNameFor(obj.metadata.namespace ?? "", obj.metadata.name),
  };
  return {
    ok: true,
    value: {
      mode: "capture",
      snapshot,
      snapshotId: nodePoolSnapshotId(snapshot),
      source,
      sourceId: agentPoolId(source),
      location: placement.location,
      tags,
      deletionPolicy,
    },
  };
}
