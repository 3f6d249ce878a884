// The shape of an RBAC rule a controller declares in its own folder (rendered into the chart).
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Every controller records events on its objects. */
export const eventRules: PolicyRule[] = [{ apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] }];
