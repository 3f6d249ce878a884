#!/usr/bin/env bash
# `make image`: the operator image, built offline with Debian's buildah (vfs storage, chroot
# isolation: no daemon, no overlay mounts, no registry) from ../../Containerfile and the root
# filesystem hack/image/rootfs.sh assembles. Tagged as the chart expects
# (<values image.repository>:<Chart appVersion>). Logs go to stderr; stdout gets KEY=value lines
# (IMAGE, STORAGE_ROOT, RUN_ROOT, SIZE_BYTES, BUILD_SECONDS) for scripts and tests.
# The image lives in a storage of its own (not the machine's default podman storage); run it with
#   podman --root "$STORAGE_ROOT" --runroot "$RUN_ROOT" --storage-driver vfs run ... "$IMAGE"
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${AKSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aksnap}
STORAGE_ROOT=${AKSNAP_IMAGE_STORAGE:-$CACHE/containers/storage}
RUN_ROOT=${AKSNAP_IMAGE_RUNROOT:-/run/aksnap-containers}
t0=$SECONDS
bash "$root/hack/image/ensure-podman.sh"

chart=$root/deploy/helm/aksnap
repo=$(sed -n 's/^  repository: *\([^ #]*\).*/\1/p' "$chart/values.yaml" | head -1)
tag=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")
[ -n "$repo" ] && [ -n "$tag" ] || { echo "image: cannot read image.repository / appVersion from $chart" >&2; exit 1; }
image=$repo:$tag

ctx=$(mktemp -d "${TMPDIR:-/tmp}/aksnap-rootfs-XXXXXX"); trap 'rm -rf "$ctx"' EXIT
bash "$root/hack/image/rootfs.sh" "$ctx"
store=(--root "$STORAGE_ROOT" --runroot "$RUN_ROOT" --storage-driver vfs)
# chroot isolation and host networking for the build: nothing is RUN, and no bridge is ever made.
buildah "${store[@]}" bud --isolation chroot --network host --layers=false \
  -f "$root/Containerfile" -t "$image" "$ctx" >&2
size=$(podman "${store[@]}" image inspect --format '{{.Size}}' "$image")
# Images left untagged by earlier builds of the same tag are garbage: drop them.
buildah "${store[@]}" rmi --prune >/dev/null 2>&1 || true
secs=$((SECONDS - t0))
printf '[image] %s: %s MB (%s bytes), built in %s s\n' "$image" "$((size / 1000000))" "$size" "$secs" >&2
printf 'IMAGE=%s\nSTORAGE_ROOT=%s\nRUN_ROOT=%s\nSIZE_BYTES=%s\nBUILD_SECONDS=%s\n' "$image" "$STORAGE_ROOT" "$RUN_ROOT" "$size" "$secs"
