// The Kubernetes permissions the controllers need, declared next to them and rendered into the
// Helm chart's RBAC by the generator (src/crds/generate.ts). Least privilege: nothing here is
// granted "just in case"; a new controller adds its own rules.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const nodePoolSnapshotRules: PolicyRule[] = [
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots"], verbs: ["get", "list", "watch", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots/status"], verbs: ["get", "patch", "update"] },
  { apiGroups: ["aksnap.io"], resources: ["nodepoolsnapshots/finalizers"], verbs: ["update"] },
];

const eventRules: PolicyRule[] = [{ apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] }];

/** Cluster-wide rules (ClusterRole). */
export const clusterRules: PolicyRule[] = [...nodePoolSnapshotRules, ...eventRules];

/** Rules in the operator's own namespace (Role): the leader-election Lease. */
export const leaderElectionRules: PolicyRule[] = [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }];
