// Labels, annotations and ARM tags that are part of the API (docs/api.md). The `aksnap.io/` prefix is
// for Kubernetes keys; ARM tag names cannot contain '/', so operator tags use `aksnap.io-`.

/** Children of a schedule run carry these labels. */
export const LABEL_SCHEDULE = "aksnap.io/schedule";
export const LABEL_RUN = "aksnap.io/run";

/** On a SnapshotSchedule: request an on-demand run; the token is echoed in status.lastHandledRunRequest. */
export const ANNOTATION_RUN_REQUESTED_AT = "aksnap.io/run-requested-at";

/** On each VolumeSnapshot the operator checked. */
export const ANNOTATION_VERIFIED = "aksnap.io/verified";
export const ANNOTATION_COMPLETION_PERCENT = "aksnap.io/completion-percent";

/** On a source namespace: the namespaces (comma-separated) that may restore its snapshots. */
export const ANNOTATION_RESTORE_TO_NAMESPACES = "aksnap.io/restore-to-namespaces";

/** ARM tags the operator writes on snapshots. */
export const TAG_OWNER = "aksnap.io-owner";
export const TAG_SCHEDULE = "aksnap.io-schedule";
