// Condition reasons every kind shares (the frame's and the ARM error mapping's). A kind's own
// catalogue spreads these in, so users see one name per cause across kinds. Changing one is an
// API change (docs/api.md lists them).
export const CommonReasons = {
  // Reconciling=True (work in flight; retried)
  Throttled: "Throttled",
  ArmUnavailable: "ArmUnavailable",
  ArmConflict: "ArmConflict",
  /** A step threw (a bug or an unexpected I/O failure); retried with backoff. */
  ReconcileError: "ReconcileError",
  // Stalled=True
  InvalidSpec: "InvalidSpec",
  ResourceGroupNotFound: "ResourceGroupNotFound",
  ArmRequestRejected: "ArmRequestRejected",
  /** The cluster does not serve a kind the object needs (the CSI snapshot CRDs); rechecked. */
  APINotServed: "APINotServed",
} as const;
