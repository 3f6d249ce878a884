// The Kubernetes permissions the RestoreRequest controller needs, declared next to it; the generator
// renders them into the chart's ClusterRole (see ../rbac.ts). Least privilege: no finalizer (a
// request's deletion never deletes what it restored); NodePoolSnapshots, namespaces (the restore
// grant) and PVs (the restored disk's handle) are only read; PVCs are created, never updated or
// deleted; VolumeSnapshots and contents are deleted only when this restore made them (checked by uid).
import type { PolicyRule } from "../common/rbac.ts";

export const restoreRequestRules: PolicyRule[] = [
  { apiGroups: ["aksnap.io"], resources: ["restorerequests"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["aksnap.io"], resources: ["restorerequests/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots"], verbs: ["get"] },
  { apiGroups: [""], resources: ["namespaces", "persistentvolumes"], verbs: ["get"] },
  { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "create"] },
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshots"], verbs: ["get", "list", "create", "delete"] },
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotcontents"], verbs: ["get", "create", "delete"] },
];
