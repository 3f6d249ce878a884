// Version and VM-size arithmetic the preflight needs: Kubernetes versions, AKS node image versions
// and VM families. Pure, and deliberately the same rules AKS applies (and the emulator mirrors).

export type KubeVersion = readonly [number, number, number];

/** `1.33.3` or `1.33` (AKS accepts a minor-only orchestratorVersion); undefined when malformed. */
export function parseKubeVersion(v: string | undefined): KubeVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v?.trim() ?? "");
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareKubeVersions(a: KubeVersion, b: KubeVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** How many minor versions a node pool may trail the control plane (AKS: same major, not newer, at most 2 minors older). */
export const MAX_MINOR_SKEW = 2;

/** Why a node version cannot run under a control plane version, or undefined when it can. */
export function skewProblem(node: KubeVersion, controlPlane: KubeVersion): string | undefined {
  if (node[0] !== controlPlane[0]) return "a node pool must have the control plane's major version";
  if (compareKubeVersions(node, controlPlane) > 0) return "a node pool must not be newer than the control plane";
  if (controlPlane[1] - node[1] > MAX_MINOR_SKEW) return `a node pool may be at most ${MAX_MINOR_SKEW} minor versions older than the control plane`;
  return undefined;
}

/**
 * Node images end in a dated version (`AKSUbuntu-2204gen2containerd-202510.03.0`); they compare by
 * it. Undefined when either has no such tail (then no order can be claimed).
 */
export function compareNodeImages(a: string | undefined, b: string | undefined): number | undefined {
  const tail = (s: string | undefined): number[] | undefined => {
    const m = /(\d+)\.(\d+)\.(\d+)$/.exec(s ?? "");
    return m ? m.slice(1).map(Number) : undefined;
  };
  const x = tail(a);
  const y = tail(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The VM family of an Azure size: the series letter after `Standard_` (D in Standard_D8ds_v5, N in
 * Standard_NC6s_v3). AKS refuses a pool from a snapshot of another family: the node images differ.
 */
export function vmFamily(vmSize: string): string {
  const m = /^(?:standard_|basic_)?([a-z])/i.exec(vmSize.trim());
  return (m?.[1] ?? vmSize).toUpperCase();
}
