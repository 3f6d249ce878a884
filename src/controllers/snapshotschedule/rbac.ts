// The Kubernetes permissions the SnapshotSchedule controller needs, declared next to it; the
// generator renders them into the chart's ClusterRole (see ../rbac.ts). Children: NodePoolSnapshots
// and VolumeSnapshots it creates, reads and (retention, childDeletionPolicy Delete) deletes; PVCs
// it selects, read only.
import type { PolicyRule } from "../common/rbac.ts";

export const snapshotScheduleRules: PolicyRule[] = [
  { apiGroups: ["aksnap.io"], resources: ["snapshotschedules"], verbs: ["get", "list", "watch", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["snapshotschedules/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["snapshotschedules/finalizers"], verbs: ["update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots"], verbs: ["create", "delete"] },
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshots"], verbs: ["get", "list", "create", "delete"] },
  { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["list"] },
];
