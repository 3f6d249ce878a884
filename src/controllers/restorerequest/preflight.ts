// The RestoreRequest preflight: an ordered chain of named rules (cert-manager's policy chain), each
// a pure function of the facts the reconciler gathered with reads only. Every rule is recorded in
// status.preflight[]; the first failure decides the Stalled reason, and nothing is written to ARM.
import type { PreflightCheck, RestoreMode } from "../../crds/restorerequest.ts";
import { Reasons } from "./reasons.ts";
import { compareKubeVersions, compareNodeImages, parseKubeVersion, skewProblem, vmFamily } from "./versions.ts";

export interface SnapshotFacts {
  readonly id: string;
  readonly location?: string;
  readonly kubernetesVersion?: string;
  readonly nodeImageVersion?: string;
  readonly vmSize?: string;
}

/** The snapshot as found: usable, still being made (worth waiting for), or not usable. */
export type SnapshotState =
  | { readonly state: "ready"; readonly snapshot: SnapshotFacts }
  | { readonly state: "pending"; readonly message: string }
  | { readonly state: "missing"; readonly message: string };

export interface ClusterFacts {
  readonly id: string;
  readonly location: string;
  /** The running control-plane version (what skew is measured against). */
  readonly kubernetesVersion?: string;
}

export interface PoolFacts {
  readonly id: string;
  readonly vmSize?: string;
  /** The version the nodes run (currentOrchestratorVersion, else orchestratorVersion). */
  readonly kubernetesVersion?: string;
  readonly nodeImageVersion?: string;
}

export interface Facts {
  readonly mode: RestoreMode;
  readonly namespace: string;
  /** ARM ids this restore would touch that the namespace may not use (--allowed-scopes). */
  readonly deniedIds: readonly string[];
  /** --allowed-regions; undefined = every region. */
  readonly allowedRegions: readonly string[] | undefined;
  readonly targetClusterId: string;
  /** Unset for CreateCluster. */
  readonly targetPoolId?: string;
  readonly requestedVmSize?: string;
  /** CreateCluster: spec.nodePool.cluster.location. */
  readonly requestedLocation?: string;
  /** Undefined: not read (e.g. the scope was refused, so nothing was read). */
  readonly snapshot?: SnapshotState;
  /** null: read, and absent. Undefined: not read. */
  readonly cluster?: ClusterFacts | null;
  readonly pool?: PoolFacts | null;
}

export type RuleOutcome =
  | { readonly result: "Passed"; readonly message: string }
  | { readonly result: "Skipped"; readonly message: string }
  /** Not decidable yet, and worth waiting for (a NodePoolSnapshot still being created). */
  | { readonly result: "Pending"; readonly reason: string; readonly message: string }
  | { readonly result: "Failed"; readonly reason: string; readonly message: string };

export interface PreflightRule {
  readonly name: string;
  /** The restore modes the rule applies to; the others do not list it. */
  readonly modes: readonly RestoreMode[];
  readonly check: (f: Facts) => RuleOutcome;
}

const ALL: readonly RestoreMode[] = ["CreateNodePool", "UpgradeNodePool", "UpgradeNodeImage", "CreateCluster"];
const UPGRADES: readonly RestoreMode[] = ["UpgradeNodePool", "UpgradeNodeImage"];

const passed = (message: string): RuleOutcome => ({ result: "Passed", message });
const skipped = (message: string): RuleOutcome => ({ result: "Skipped", message });
const failed = (reason: string, message: string): RuleOutcome => ({ result: "Failed", reason, message });

const NOT_READ = "not checked: an earlier rule failed, so nothing was read from ARM";

function readySnapshot(f: Facts): SnapshotFacts | undefined {
  return f.snapshot?.state === "ready" ? f.snapshot.snapshot : undefined;
}

/** The region the restore lands in: the target cluster's, or the new cluster's. */
function targetRegion(f: Facts): string | undefined {
  if (f.mode === "CreateCluster") return f.requestedLocation ?? readySnapshot(f)?.location?.toLowerCase().replace(/\s/g, "");
  return f.cluster ? f.cluster.location.toLowerCase().replace(/\s/g, "") : undefined;
}

export const scopeAllowed: PreflightRule = {
  name: "ScopeAllowed",
  modes: ALL,
  check: (f) =>
    f.deniedIds.length === 0
      ? passed("the namespace may use the snapshot's and the target's ARM scopes")
      : failed(
          Reasons.ScopeNotAllowed,
          `namespace ${f.namespace} may not use ${f.deniedIds.join(", ")} (operator flag --allowed-scopes); nothing was read or written. ` +
            `Use a permitted subscription or resource group, or ask the operator's administrator to extend --allowed-scopes`,
        ),
};

export const snapshotReady: PreflightRule = {
  name: "SnapshotReady",
  modes: ALL,
  check: (f) => {
    const s = f.snapshot;
    if (s === undefined) return skipped(NOT_READ);
    switch (s.state) {
      case "ready":
        return passed(
          `snapshot ${s.snapshot.id} (Kubernetes ${s.snapshot.kubernetesVersion ?? "?"}, node image ${s.snapshot.nodeImageVersion ?? "?"}, ${s.snapshot.vmSize ?? "?"})`,
        );
      case "pending":
        return { result: "Pending", reason: Reasons.WaitingForSnapshot, message: s.message };
      case "missing":
        return failed(Reasons.SnapshotNotReady, s.message);
    }
  },
};

export const targetExists: PreflightRule = {
  name: "TargetExists",
  modes: ["CreateNodePool", ...UPGRADES],
  check: (f) => {
    if (f.cluster === undefined) return skipped(NOT_READ);
    if (f.cluster === null) return failed(Reasons.TargetNotFound, `cluster ${f.targetClusterId} not found; check target.subscriptionId, resourceGroup and clusterName`);
    if (f.mode === "CreateNodePool") return passed(`cluster ${f.cluster.id} exists`);
    if (f.pool === undefined) return skipped(NOT_READ);
    if (f.pool === null) return failed(Reasons.TargetNotFound, `agent pool ${f.targetPoolId ?? "?"} not found; ${f.mode} needs an existing pool (CreateNodePool makes a new one)`);
    return passed(`agent pool ${f.pool.id} exists`);
  },
};

export const targetAbsent: PreflightRule = {
  name: "TargetAbsent",
  modes: ["CreateNodePool", "CreateCluster"],
  check: (f) => {
    if (f.mode === "CreateCluster") {
      if (f.cluster === undefined) return skipped(NOT_READ);
      if (f.cluster !== null) {
        return failed(Reasons.TargetAlreadyExists, `cluster ${f.cluster.id} already exists; CreateCluster never touches an existing cluster: choose another target.clusterName`);
      }
      return passed(`cluster ${f.targetClusterId} does not exist yet`);
    }
    if (f.pool === undefined) return skipped(f.cluster === null ? "not checked: the cluster does not exist" : NOT_READ);
    if (f.pool !== null) {
      return failed(
        Reasons.TargetAlreadyExists,
        `agent pool ${f.pool.id} already exists; CreateNodePool never touches an existing pool: choose another target.agentPoolName, ` +
          "or use UpgradeNodePool / UpgradeNodeImage to move it to the snapshot",
      );
    }
    return passed(`agent pool ${f.targetPoolId ?? "?"} does not exist yet`);
  },
};

export const regionAllowed: PreflightRule = {
  name: "RegionAllowed",
  modes: ALL,
  check: (f) => {
    const region = targetRegion(f);
    if (region === undefined) return skipped("not checked: the target's region is not known (an earlier rule failed)");
    if (f.allowedRegions === undefined) return passed(`${region}: every region is allowed`);
    if (f.allowedRegions.includes(region)) return passed(`${region} is in --allowed-regions`);
    return failed(
      Reasons.RegionNotAllowed,
      `the restore would land in ${region}, which is not in the operator's --allowed-regions (${f.allowedRegions.join(", ")})` +
        (f.mode === "CreateCluster" ? "; set nodePool.cluster.location to an allowed region" : ""),
    );
  },
};

export const vmFamilyMatches: PreflightRule = {
  name: "VMFamilyMatches",
  modes: ALL,
  check: (f) => {
    const snap = readySnapshot(f);
    if (!snap) return skipped("not checked: the snapshot is not usable");
    if (!snap.vmSize) return passed("the snapshot records no VM size; AKS decides");
    const upgrade = UPGRADES.includes(f.mode);
    if (upgrade && f.pool === undefined) return skipped(NOT_READ);
    if (upgrade && f.pool === null) return skipped("not checked: the pool does not exist");
    const size = upgrade ? f.pool?.vmSize : f.requestedVmSize;
    if (!size) return passed(`the new nodes use the snapshot's size ${snap.vmSize}`);
    const want = vmFamily(snap.vmSize);
    const have = vmFamily(size);
    if (want === have) return passed(`${size} is in the snapshot's VM family ${want} (${snap.vmSize})`);
    const what = upgrade ? `agent pool ${f.pool?.id ?? "?"} runs ${size}` : `vmSize ${size}`;
    return failed(
      Reasons.VMFamilyMismatch,
      `${what} (family ${have}) is not in the VM family of snapshot ${snap.id} (${snap.vmSize}, family ${want}); AKS builds node images per family. ` +
        (upgrade ? "Restore into a pool of the same family" : `Choose a ${want}-series size, or omit vmSize to use the snapshot's`),
    );
  },
};

function versionsOf(f: Facts): RuleOutcome | { snap: SnapshotFacts; sv: NonNullable<ReturnType<typeof parseKubeVersion>> } {
  const snap = readySnapshot(f);
  if (!snap) return skipped("not checked: the snapshot is not usable");
  const sv = parseKubeVersion(snap.kubernetesVersion);
  if (!sv) return failed(Reasons.VersionNotAllowed, `snapshot ${snap.id} records no usable Kubernetes version (${snap.kubernetesVersion ?? "none"})`);
  return { snap, sv };
}

export const versionsAllowed: PreflightRule = {
  name: "VersionsAllowed",
  modes: ALL,
  check: (f) => {
    const v = versionsOf(f);
    if ("result" in v) return v;
    const { snap, sv } = v;
    if (f.mode === "CreateCluster") return passed(`the new cluster runs the snapshot's Kubernetes ${snap.kubernetesVersion ?? "?"}`);
    if (!f.cluster) return skipped("not checked: the cluster is not known");
    const cv = parseKubeVersion(f.cluster.kubernetesVersion);
    if (!cv) return skipped(`not checked: cluster ${f.cluster.id} reports no control-plane version`);
    const skew = skewProblem(sv, cv);
    const skewMsg = (s: string): string =>
      `snapshot ${snap.id} has Kubernetes ${snap.kubernetesVersion ?? "?"} and the control plane of ${f.cluster?.id ?? "?"} runs ${f.cluster?.kubernetesVersion ?? "?"}: ${s}. ` +
      "Upgrade the control plane first, or use a snapshot within its version skew";
    if (f.mode === "CreateNodePool") {
      if (skew) return failed(Reasons.VersionNotAllowed, skewMsg(skew));
      return passed(`Kubernetes ${snap.kubernetesVersion ?? "?"} fits the control plane's ${f.cluster.kubernetesVersion ?? "?"}`);
    }
    if (f.pool === undefined) return skipped(NOT_READ);
    if (f.pool === null) return skipped("not checked: the pool does not exist");
    const pool = f.pool;
    const pv = parseKubeVersion(pool.kubernetesVersion);
    if (!pv) return failed(Reasons.VersionNotAllowed, `agent pool ${pool.id} reports no usable Kubernetes version (${pool.kubernetesVersion ?? "none"})`);
    const image = compareNodeImages(snap.nodeImageVersion, pool.nodeImageVersion);
    const versions = `snapshot ${snap.id} has ${snap.kubernetesVersion ?? "?"}, agent pool ${pool.id} runs ${pool.kubernetesVersion ?? "?"}`;
    const images = `the snapshot's node image ${snap.nodeImageVersion ?? "?"}, the pool's ${pool.nodeImageVersion ?? "?"}`;
    if (f.mode === "UpgradeNodeImage") {
      if (compareKubeVersions(sv, pv) !== 0) {
        return failed(
          Reasons.VersionNotAllowed,
          `a node-image-only upgrade needs a snapshot with the pool's Kubernetes version: ${versions}` +
            (compareKubeVersions(sv, pv) > 0 ? "; use mode UpgradeNodePool to move both" : ""),
        );
      }
      if (image === undefined || image <= 0) {
        return failed(Reasons.VersionNotAllowed, `the snapshot's node image must be newer than the pool's: ${images}`);
      }
      return passed(`same Kubernetes ${pool.kubernetesVersion ?? "?"}; node image ${pool.nodeImageVersion ?? "?"} → ${snap.nodeImageVersion ?? "?"}`);
    }
    // UpgradeNodePool
    if (compareKubeVersions(sv, pv) <= 0) {
      return failed(
        Reasons.VersionNotAllowed,
        `the snapshot's Kubernetes version must be newer than the pool's: ${versions}` +
          (compareKubeVersions(sv, pv) === 0 ? "; with the same Kubernetes version use mode UpgradeNodeImage (the --node-image-only path)" : ""),
      );
    }
    if (image === undefined || image < 0) return failed(Reasons.VersionNotAllowed, `the snapshot's node image must not be older than the pool's: ${images}`);
    if (skew) return failed(Reasons.VersionNotAllowed, skewMsg(skew));
    return passed(
      `Kubernetes ${pool.kubernetesVersion ?? "?"} → ${snap.kubernetesVersion ?? "?"} (control plane ${f.cluster.kubernetesVersion ?? "?"}); ` +
        `node image ${pool.nodeImageVersion ?? "?"} → ${snap.nodeImageVersion ?? "?"}`,
    );
  },
};

/** The chain, in order: who may act, what is restored from, where it lands, then what AKS would refuse. */
export const PREFLIGHT_RULES: readonly PreflightRule[] = [scopeAllowed, snapshotReady, targetExists, targetAbsent, regionAllowed, vmFamilyMatches, versionsAllowed];

export type PreflightVerdict =
  | { readonly kind: "passed" }
  | { readonly kind: "pending"; readonly rule: string; readonly reason: string; readonly message: string }
  | { readonly kind: "failed"; readonly rule: string; readonly reason: string; readonly message: string };

export interface PreflightResult {
  /** One entry per rule of the mode, in chain order (status.preflight[]). */
  readonly checks: PreflightCheck[];
  readonly verdict: PreflightVerdict;
}

/** Runs every rule of the mode: all are recorded; the first failure (else the first wait) decides. */
export function runPreflight(f: Facts, rules: readonly PreflightRule[] = PREFLIGHT_RULES): PreflightResult {
  const checks: PreflightCheck[] = [];
  let fail: PreflightVerdict | undefined;
  let wait: PreflightVerdict | undefined;
  for (const rule of rules) {
    if (!rule.modes.includes(f.mode)) continue;
    const o = rule.check(f);
    checks.push({ name: rule.name, result: o.result, message: o.message });
    if (o.result === "Failed" && !fail) fail = { kind: "failed", rule: rule.name, reason: o.reason, message: `preflight ${rule.name} failed: ${o.message}` };
    if (o.result === "Pending" && !wait) wait = { kind: "pending", rule: rule.name, reason: o.reason, message: o.message };
  }
  return { checks, verdict: fail ?? wait ?? { kind: "passed" } };
}
