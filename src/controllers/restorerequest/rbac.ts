// The Kubernetes permissions the RestoreRequest controller needs, declared next to it; the generator
// renders them into the chart's ClusterRole (see ../rbac.ts). Least privilege: no finalizer (the
// operator owns nothing a RestoreRequest's deletion must clean up), and NodePoolSnapshots are only read.
import type { PolicyRule } from "../common/rbac.ts";

export const restoreRequestRules: PolicyRule[] = [
  { apiGroups: ["aksnap.io"], resources: ["restorerequests"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["aksnap.io"], resources: ["restorerequests/status"], verbs: ["get", "patch", "update"] },
];
