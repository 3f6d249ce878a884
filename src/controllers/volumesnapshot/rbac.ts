// What the verifier needs: read the CSI snapshot kinds, and patch VolumeSnapshots (annotations only;
// the object's spec and status belong to the user and the snapshot-controller).
import type { PolicyRule } from "../common/rbac.ts";

export const verifierRules: PolicyRule[] = [
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshots"], verbs: ["get", "list", "watch", "patch"] },
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotcontents", "volumesnapshotclasses"], verbs: ["get", "list", "watch"] },
];
