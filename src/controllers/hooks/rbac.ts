// Hooks (SnapshotSchedule spec.hooks and template.volumes.hooks, RestoreRequest spec.hooks) run
// commands in the users' pods: a power the operator gets only when the chart value hooks.enabled is
// set, in a ClusterRole of its own (rendered by src/controllers/rbac.ts).
import type { PolicyRule } from "../common/rbac.ts";

export const hookRules: PolicyRule[] = [
  // list: the pods a selector matches (a restore hook also waits for one to run); get: exec's lookup.
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
  // The websocket exec is a GET upgrade: the apiserver checks get on pods/exec and, since 1.35, create too.
  { apiGroups: [""], resources: ["pods/exec"], verbs: ["get", "create"] },
];
