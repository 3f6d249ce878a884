#!/usr/bin/env bash
# Compiles the operator (src/, TypeScript) to JavaScript in dist/src/ — what the image runs, and what
# the test harness and `make bench` spawn, so what is measured is what ships. Running the sources
# with Node's type stripping costs ≈ 25 MiB RSS per process (the stripper itself is loaded);
# development and the tests in-process still run src/*.ts directly.
# Cached: nothing is done when dist/ is newer than every input (a deleted file changes its
# directory's mtime, so that rebuilds too). Types are not checked here (`make typecheck` does it):
# tsc --noCheck only emits, in a few seconds. Also compiles native/malloc-trim.c into dist/native/
# (glibc's malloc_trim for Node, see src/runtime/malloc-trim.ts): needs a C compiler (Debian: gcc).
# Safe to call concurrently (flock); the new tree replaces the old one by rename, so a running
# operator never sees a half-written dist/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stamp=$root/dist/.built
inputs=("$root/src" "$root/native" "$root/tsconfig.json" "$root/tsconfig.build.json" "$root/package.json" "$0")
fresh() { [ -f "$stamp" ] && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; }
fresh && exit 0
exec 9>"$root/.build.lock"
flock 9
fresh && exit 0
t0=$(date +%s%N)
tmp=$root/.dist-new-$$
trap 'rm -rf "$tmp"' EXIT
node "$root/node_modules/typescript/bin/tsc" -p "$root/tsconfig.build.json" --noCheck --sourceMap false --outDir "$tmp"
command -v cc >/dev/null || { echo "build: need a C compiler for native/malloc-trim.c (apt-get install gcc)" >&2; exit 1; }
mkdir -p "$tmp/native"
cc -O2 -Wall -Wextra -Werror -shared -fPIC -DNAPI_VERSION=8 -I "$root/node_modules/node-api-headers/include" \
  -o "$tmp/native/malloc-trim.node" "$root/native/malloc-trim.c"
touch "$tmp/.built"
rm -rf "$root/.dist-old"
[ -d "$root/dist" ] && mv "$root/dist" "$root/.dist-old"
mv "$tmp" "$root/dist"
rm -rf "$root/.dist-old"
printf '[build] dist/src: %s files in %s ms\n' "$(find "$root/dist/src" -name '*.js' | wc -l)" "$(( ($(date +%s%N) - t0) / 1000000 ))" >&2
