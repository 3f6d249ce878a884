#!/usr/bin/env bash
# Installs Debian's buildah, podman and runc when missing (idempotent; a fresh machine works).
# runc, not crun: crun refuses hosts with hybrid cgroups v1/v2 ("cgroups in hybrid mode not supported").
# Prints nothing on success when everything is already there; exits non-zero with a reason otherwise.
set -euo pipefail
want=()
command -v buildah >/dev/null 2>&1 || want+=(buildah)
command -v podman >/dev/null 2>&1 || want+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || want+=(runc)
[ ${#want[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "ensure-podman: need ${want[*]} and there is no apt-get: install them by hand" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "ensure-podman: need ${want[*]}; installing them needs root (apt-get)" >&2; exit 1; }
echo "ensure-podman: installing ${want[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# runc is named explicitly so podman's "crun | runc" dependency is met by runc.
if ! apt-get install -y -q --no-install-recommends "${want[@]}" runc >&2; then
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${want[@]}" runc >&2
fi
for b in buildah podman; do command -v "$b" >/dev/null 2>&1 || { echo "ensure-podman: $b still missing after apt-get" >&2; exit 1; }; done
