// ARM error → reconcile outcome, shared by every kind that talks to ARM: throttling, outages and
// conflicts are work in flight (retried, honouring Retry-After); a refused request or a missing
// resource group needs a change in the world and is looked at again slowly.
import type { ArmError } from "../../azure/errors.ts";
import { describeArmError } from "../../azure/errors.ts";
import { requeueAfter, retry } from "../../runtime/result.ts";
import type { Verdict } from "./frame.ts";
import { CommonReasons } from "./reasons.ts";

export interface StallPolicy {
  /** The slow recheck for a Stalled object whose cause lies in the world (already jittered). */
  recheckMs: () => number;
}

/** A Stalled verdict: a spec problem is terminal (waits for a new generation); a world problem is rechecked slowly. */
export function stalledVerdict<X>(reason: string, message: string, recheckMs: number | undefined): Verdict<X> {
  return {
    readiness: { state: "stalled", reason, message },
    result: recheckMs === undefined ? { kind: "terminal", error: new Error(`${reason}: ${message}`) } : requeueAfter(recheckMs),
    event: { type: "Warning", reason, message },
  };
}

export function isResourceGroupNotFound(e: ArmError): boolean {
  return e.kind === "notFound" && e.code.toLowerCase() === "resourcegroupnotfound";
}

export function armOutcome<X>(e: ArmError, doing: string, policy: StallPolicy): Verdict<X> {
  const msg = `${doing}: ${describeArmError(e)}`;
  const progressing = (reason: string, notBeforeMs?: number): Verdict<X> => ({
    readiness: { state: "progressing", reason, message: msg },
    result: retry(new Error(msg), notBeforeMs),
  });
  switch (e.kind) {
    case "throttled":
      return progressing(CommonReasons.Throttled, e.retryAfterMs ?? 1000);
    case "transient":
      return progressing(CommonReasons.ArmUnavailable);
    case "conflict":
      return progressing(CommonReasons.ArmConflict, e.retryAfterMs);
    case "invalid":
      return stalledVerdict(CommonReasons.ArmRequestRejected, msg, policy.recheckMs());
    case "notFound":
      return stalledVerdict(isResourceGroupNotFound(e) ? CommonReasons.ResourceGroupNotFound : CommonReasons.ArmRequestRejected, msg, policy.recheckMs());
    default: {
      const never: never = e.kind;
      throw new Error(`unhandled ARM error kind ${String(never)}`);
    }
  }
}
