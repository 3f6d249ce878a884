#!/usr/bin/env bash
# Installs the Debian packages a real test node needs (see ../shared/real-node.md): containerd
# (serves CRI v1), runc and the CNI loopback plugin for the kubelet, buildah to build the pause and test images, and
# busybox-static as the test image's tools. Idempotent: a fresh CI machine runs it as root before
# `make test`; a machine that already has them skips apt entirely.
set -euo pipefail
PKGS=(containerd runc containernetworking-plugins buildah busybox-static)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "[node-deps] need root to install: ${missing[*]}" >&2; exit 1; fi
echo "[node-deps] installing ${missing[*]}" >&2
t0=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# containerd's package starts a system service; the tests run their own daemon on their own
# socket, so the packaged one is stopped and disabled (it would hold /run/containerd otherwise).
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
if command -v systemctl >/dev/null && systemctl is-active -q containerd 2>/dev/null; then
  systemctl disable --now containerd >&2 || true
fi
echo "[node-deps] installed in $((SECONDS - t0)) s" >&2
