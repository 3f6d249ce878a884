// The Kubernetes permissions the NodePoolSnapshot controller needs, declared next to it; the
// generator renders them into the chart's ClusterRole (see ../rbac.ts). Least privilege.
import type { PolicyRule } from "../common/rbac.ts";

export const nodePoolSnapshotRules: PolicyRule[] = [
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots"], verbs: ["get", "list", "watch", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots/finalizers"], verbs: ["update"] },
];
