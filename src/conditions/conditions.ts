// metav1.Condition helpers with apimachinery semantics (meta.SetStatusCondition): the transition
// time moves only when status changes; observedGeneration is always set. Plus the kstatus
// conventions (Ready always present; Reconciling/Stalled only while True) used by Flux and Argo CD.

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/** Sets (or replaces) one condition; keeps lastTransitionTime when the status did not change. */
export function setCondition(conditions: readonly Condition[], input: ConditionInput, observedGeneration: number, now: Date): Condition[] {
  const existing = conditions.find((c) => c.type === input.type);
  const lastTransitionTime = existing && existing.status === input.status ? existing.lastTransitionTime : rfc3339(now);
  const next: Condition = { ...input, message: truncate(input.message), lastTransitionTime, observedGeneration };
  return existing ? conditions.map((c) => (c.type === input.type ? next : c)) : [...conditions, next];
}

export function removeCondition(conditions: readonly Condition[], type: string): Condition[] {
  return conditions.filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/** Kubernetes timestamps are RFC 3339 at second precision. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// metav1.Condition.message has maxLength 32768; ARM messages can be long.
function truncate(message: string): string {
  return message.length > 32_000 ? `${message.slice(0, 32_000)}…` : message;
}

/** The three kstatus-shaped outcomes a reconcile can report. */
export type Readiness =
  | { state: "ready"; reason: string; message: string }
  | { state: "progressing"; reason: string; message: string }
  | { state: "stalled"; reason: string; message: string }
  /** Not ready and not progressing, but not given up either (e.g. snapshot missing, retrying later). */
  | { state: "notReady"; reason: string; message: string };

/**
 * Writes Ready / Reconciling / Stalled for a readiness verdict with kstatus semantics:
 * Ready is always present; Reconciling and Stalled are present only while True.
 */
export function applyReadiness(conditions: readonly Condition[], r: Readiness, generation: number, now: Date): Condition[] {
  let out = [...conditions];
  switch (r.state) {
    case "ready":
      out = setCondition(out, { type: "Ready", status: "True", reason: r.reason, message: r.message }, generation, now);
      out = removeCondition(removeCondition(out, "Reconciling"), "Stalled");
      break;
    case "progressing":
      out = setCondition(out, { type: "Ready", status: "False", reason: r.reason, message: r.message }, generation, now);
      out = setCondition(out, { type: "Reconciling", status: "True", reason: r.reason, message: r.message }, generation, now);
      out = removeCondition(out, "Stalled");
      break;
    case "stalled":
      out = setCondition(out, { type: "Ready", status: "False", reason: r.reason, message: r.message }, generation, now);
      out = setCondition(out, { type: "Stalled", status: "True", reason: r.reason, message: r.message }, generation, now);
      out = removeCondition(out, "Reconciling");
      break;
    case "notReady":
      out = setCondition(out, { type: "Ready", status: "False", reason: r.reason, message: r.message }, generation, now);
      out = removeCondition(removeCondition(out, "Reconciling"), "Stalled");
      break;
    default: {
      const never: never = r;
      throw new Error(`unhandled readiness ${String(never)}`);
    }
  }
  // Stable order keeps "skip the write when unchanged" honest.
  const order = ["Ready", "Reconciling", "Stalled"];
  return out.sort((a, b) => rank(order, a.type) - rank(order, b.type) || a.type.localeCompare(b.type));
}

function rank(order: string[], t: string): number {
  const i = order.indexOf(t);
  return i < 0 ? order.length : i;
}

/** kstatus summary computed from our own conditions (mirrors cli-utils' rules for the parts we use). */
export type KStatus = "Current" | "InProgress" | "Failed";
export function kstatusOf(generation: number, observedGeneration: number | undefined, conditions: readonly Condition[] | undefined): KStatus {
  if (observedGeneration === undefined || observedGeneration < generation) return "InProgress";
  if (isTrue(conditions, "Stalled")) return "Failed";
  if (isTrue(conditions, "Reconciling")) return "InProgress";
  return isTrue(conditions, "Ready") ? "Current" : "InProgress";
}
