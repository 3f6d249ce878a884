#!/usr/bin/env bash
# Builds the two images the test node runs, FROM scratch with buildah (vfs storage, chroot
# isolation: no daemon, no network), as docker-archive tarballs in the cache that the harness
# imports with `ctr images import` (test/harness/node.ts):
#   aksnap.local/pause:<key>  - the sandbox image (pause/main.go, a static Go program)
#   aksnap.local/tools:<key>  - busybox (Debian's busybox-static): sh, dd, sha256sum, ... for pods
#                               that write, read and checksum data
# Cache key = hash of this script and pause/main.go + busybox version; skipped when present.
# Prints the manifest path (node-images.env) on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${AKSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aksnap}
OUT=$CACHE/node-images
bash "$here/install-deps.sh"
busybox_v=$(dpkg-query -W -f='${Version}' busybox-static)
key=$( { cat "$here/images.sh" "$here/pause/main.go"; echo "$busybox_v"; } | sha256sum | cut -c1-12)
manifest=$OUT/$key/node-images.env
if [ -f "$manifest" ]; then echo "$manifest"; exit 0; fi

log() { printf '[node-images] %s\n' "$*" >&2; }
t0=$SECONDS
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT/$key"
# Own storage under the work dir: nothing is left in a shared buildah store, nothing to clean up.
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot

# pause
(cd "$here/pause" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$work/pause" main.go)
c=$("${B[@]}" from scratch)
"${B[@]}" copy "$c" "$work/pause" /pause >/dev/null
"${B[@]}" config --entrypoint '["/pause"]' --cmd '' "$c"
"${B[@]}" commit -q "$c" "aksnap.local/pause:$key" >/dev/null
"${B[@]}" push -q "aksnap.local/pause:$key" "docker-archive:$OUT/$key/pause.tar:aksnap.local/pause:$key"

# tools: busybox with one symlink per applet
mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/data"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"; done
c=$("${B[@]}" from scratch)
"${B[@]}" add "$c" "$work/rootfs" / >/dev/null
"${B[@]}" config --env PATH=/bin --cmd '["/bin/sh"]' "$c"
"${B[@]}" commit -q "$c" "aksnap.local/tools:$key" >/dev/null
"${B[@]}" push -q "aksnap.local/tools:$key" "docker-archive:$OUT/$key/tools.tar:aksnap.local/tools:$key"

cat > "$manifest.tmp" <<ENV
PAUSE_IMAGE=aksnap.local/pause:$key
PAUSE_TAR=$OUT/$key/pause.tar
TOOLS_IMAGE=aksnap.local/tools:$key
TOOLS_TAR=$OUT/$key/tools.tar
ENV
mv "$manifest.tmp" "$manifest"
log "built pause + tools images in $((SECONDS - t0)) s"
echo "$manifest"
