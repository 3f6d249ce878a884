// Help text in kubectl's layout: a sentence, Examples, Options, Usage.

const GLOBAL_OPTIONS = `
Global options:
    -A, --all-namespaces=false: status across all namespaces.
    --context='': The name of the kubeconfig context to use.
    --kubeconfig='': Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    -n, --namespace='': The namespace (default: the context's namespace, then "default").
    -o, --output='': Output format: json, yaml, or wide (tables with every printer column).
`;

export const HELP = `kubectl aksnap controls the aksnap operator: AKS node-pool snapshots, snapshot schedules, restores
and verified VolumeSnapshots.

 Find more information at: https://github.com/aksnap/aksnap/blob/main/docs/getting-started.md

Basic Commands:
  status        Show every aksnap object and VolumeSnapshot verification at a glance
  run           Request an on-demand run of a SnapshotSchedule and follow it until it ends
  restore       Create a RestoreRequest from flags and follow it until it ends
  verify        Opt a VolumeSnapshot into verification (label aksnap.io/verify=true)

Usage:
  kubectl aksnap [command] [options]

Use "kubectl aksnap <command> --help" for more information about a given command.
${GLOBAL_OPTIONS}`;

const COMMANDS: Record<string, string> = {
  status: `Show NodePoolSnapshots, SnapshotSchedules, RestoreRequests and VolumeSnapshots with their
verification state (annotations aksnap.io/verified, aksnap.io/verification, aksnap.io/completion-percent).
Kinds you may not list are reported on stderr and the exit code is 1; the others are still shown.

Examples:
  # Everything in the current namespace
  kubectl aksnap status

  # Everything in every namespace, as JSON
  kubectl aksnap status -A -o json

Usage:
  kubectl aksnap status [-n NAMESPACE | -A] [-o json|yaml] [options]
${GLOBAL_OPTIONS}`,
  run: `Request an on-demand run of a SnapshotSchedule (annotation aksnap.io/run-requested-at) and follow
it until it Succeeded (every snapshot verified) or Failed. Exits 1 if the run Failed or --timeout
passed.

Examples:
  # Run the nightly schedule now and wait for its snapshots to be verified
  kubectl aksnap run nightly -n team-a

  # Request the run and return at once
  kubectl aksnap run nightly --wait=false

Options:
    --poll-interval=2s: How often to read the schedule's status.
    --timeout=0: Give up after this long (e.g. 30m); 0 waits for ever.
    --wait=true: Follow the run until it ends.

Usage:
  kubectl aksnap run SCHEDULE [options]
${GLOBAL_OPTIONS}`,
  restore: `Create a RestoreRequest from flags and follow it until it Succeeded or Failed (exit 1). The request
is checked against the RestoreRequest schema before it is sent.

Examples:
  # A new node pool from a NodePoolSnapshot in this namespace
  kubectl aksnap restore userpool-back -n team-a --snapshot userpool-nightly \\
    --resource-group rg-prod --cluster aks-prod --agent-pool userpool2 --count 3

  # Upgrade an existing pool's node image to the snapshot's
  kubectl aksnap restore pin-image --snapshot golden --mode UpgradeNodeImage \\
    --resource-group rg-prod --cluster aks-prod --agent-pool userpool

  # New PVCs from the newest fully verified run of a schedule
  kubectl aksnap restore data-back --schedule nightly --run latest --conflict-policy Rename

Node pool options:
    --snapshot='': A NodePoolSnapshot in this namespace (or --snapshot-id=ARM id).
    --mode=CreateNodePool: CreateNodePool, UpgradeNodePool, UpgradeNodeImage or CreateCluster.
    --subscription='', --resource-group='', --cluster='', --agent-pool='': The target.
    --count=0, --vm-size='', --pool-mode=User|System: The new pool (create modes).
    --node-label=key=value, --node-taint=key[=value]:Effect: Repeatable.
    --location='', --dns-prefix='': The new cluster (CreateCluster).

Volume options:
    --volume-snapshot='': One VolumeSnapshot to restore, or --schedule=NAME --run=latest|YYYYMMDDHHmm.
    --from-namespace='': Namespace of the source (it must allow this one in aksnap.io/restore-to-namespaces).
    --pvc=NAME: Only these PVCs of the run (repeatable).
    --storage-class='': StorageClass of the new PVCs.
    --conflict-policy=Fail: Fail, Skip or Rename when a PVC of that name exists.
    --wait-for-hydration=true: Succeed only when the new disks are fully hydrated.

Options:
    --poll-interval=2s, --timeout=0, --wait=true: As for run.

Usage:
  kubectl aksnap restore NAME [node pool options] [volume options] [options]
${GLOBAL_OPTIONS}`,
  verify: `Opt a VolumeSnapshot aksnap did not create (Velero, snapscheduler, ...) into verification: aksnap
then checks that its Azure snapshot is fully copied and writes aksnap.io/verified. With --wait,
follow it until verified (exit 0), or Failed / NotVerifiable (exit 1).

Examples:
  kubectl aksnap verify velero-data-1 -n team-a --wait --timeout 1h

Options:
    --wait=false: Wait for aksnap.io/verified=true.
    --poll-interval=2s, --timeout=0: As for run.

Usage:
  kubectl aksnap verify VOLUMESNAPSHOT [options]
${GLOBAL_OPTIONS}`,
};

export function helpFor(command: string): string | undefined {
  return COMMANDS[command];
}
