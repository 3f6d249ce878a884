#!/usr/bin/env bash
# Builds the real upstream binaries the tests and the demo need (kube-apiserver,
# kube-controller-manager, etcd, kstatus, helm, cronref, the CSI controllers, csi-sanity and promtool) from
# Go modules into a per-user cache outside the repository. Nothing here is committed but this
# recipe; each binary is skipped when already present (cache key = component + version). See
# ../shared/control-plane.md.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CLI_UTILS_VERSION=${CLI_UTILS_VERSION:-v0.37.2}
SNAPSHOTTER_VERSION=${SNAPSHOTTER_VERSION:-v8.7.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
PROVISIONER_VERSION=${PROVISIONER_VERSION:-v6.3.0}
CSI_TEST_VERSION=${CSI_TEST_VERSION:-v5.6.0}
# The spec csi-sanity v5.6.0 and csi-snapshotter v8.7.0 are built against (csi-provisioner v6.3.0
# uses v1.12.0; v1.13.0 only adds fields, so one proto serves all three).
CSI_SPEC_VERSION=${CSI_SPEC_VERSION:-v1.13.0}
CACHE=${AKSNAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aksnap}
BIN=$CACHE/bin
SRC=$CACHE/src
mkdir -p "$BIN" "$SRC"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[build-tools] %s\n' "$*" >&2; }

# gomod_of MODULE@VERSION -> path of the module's go.mod in the module cache
gomod_of() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }
moddir_of() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'; }

# Writes `replace` lines turning the target module's local-path replaces into
# versioned module requirements: ./staging/src/k8s.io/x => k8s.io/x <staging version>,
# ./sub => <module>/sub <version>; other replaces are copied verbatim.
translate_replaces() { # gomod module version staging_version
  local gomod=$1 module=$2 version=$3 staging=$4
  awk -v module="$module" -v version="$version" -v staging="$staging" '
    /^replace \($/ { inblock=1; next }
    inblock && /^\)/ { inblock=0; next }
    /^replace / { sub(/^replace /, ""); line=$0; handle(line); next }
    inblock { handle($0) }
    function handle(l,   parts, lhs, rhs, n) {
      gsub(/^[ \t]+|[ \t]+$/, "", l); if (l == "" || l ~ /^\/\//) return
      n = split(l, parts, /[ \t]*=>[ \t]*/); lhs = parts[1]; rhs = parts[2]
      split(lhs, lp, /[ \t]+/); lhsmod = lp[1]
      if (rhs ~ /^\.\/staging\/src\//) { sub(/^\.\/staging\/src\//, "", rhs); print "replace " lhsmod " => " rhs " " staging }
      else if (rhs ~ /^\./) {
        # A sibling or sub-module at a local path: use the published module at the same version when
        # the major versions agree; otherwise (e.g. FORBIDDEN_DEPENDENCY guards) drop the replace.
        major = version; sub(/\..*/, "", major)
        if (lhsmod ~ ("/" major "$")) print "replace " lhsmod " => " lhsmod " " version
      }
      else print "replace " l
    }' "$gomod"
}

# wrapper NAME MODULE VERSION STAGING_VERSION PKG... : a throwaway module requiring MODULE whose
# tools.go imports PKGs, with MODULE's replaces translated so `go build` works outside its repo.
wrapper() {
  local name=$1 module=$2 version=$3 staging=$4; shift 4
  local dir=$SRC/$name-$version
  if [ -f "$dir/.ready" ]; then echo "$dir"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  local gomod; gomod=$(gomod_of "$module@$version")
  (
    cd "$dir"
    go mod init "aksnap.local/wrap/$name" >/dev/null 2>&1
    translate_replaces "$gomod" "$module" "$version" "$staging" >> go.mod
    grep -E '^godebug' "$gomod" >> go.mod || true
    awk '/^godebug \($/,/^\)/' "$gomod" >> go.mod || true
    {
      echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
      for p in "$@"; do echo "	_ \"$p\""; done
      echo ')'
    } > tools.go
    go get "$module@$version" >&2
    go mod tidy >&2
  )
  touch "$dir/.ready"; echo "$dir"
}

build_k8s() {
  local want=()
  for c in kube-apiserver kube-controller-manager; do [ -x "$BIN/$c-$K8S_VERSION" ] || want+=("$c"); done
  [ ${#want[@]} -gt 0 ] || return 0
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local staging="v0.${K8S_VERSION#v1.}"
  local dir; dir=$(wrapper kubernetes k8s.io/kubernetes "$K8S_VERSION" "$staging" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager)
  local vpkg=k8s.io/component-base/version
  for c in "${want[@]}"; do
    log "building $c $K8S_VERSION (cold: about 8 minutes on 2 cores)"
    local t0=$SECONDS
    (cd "$dir" && go build -trimpath -tags selinux,notest \
      -ldflags "-s -w -X $vpkg.gitVersion=$K8S_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean" \
      -o "$BIN/$c-$K8S_VERSION.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$BIN/$c-$K8S_VERSION.tmp" "$BIN/$c-$K8S_VERSION"
    log "built $c in $((SECONDS - t0)) s"
  done
}

# kubelet, for the tests that need a real node (hack/node/, test/harness/node.ts). Its own wrapper
# module (a new cache key): a cache that already holds the apiserver's wrapper builds only the kubelet.
build_kubelet() {
  [ -x "$BIN/kubelet-$K8S_VERSION" ] && return 0
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local staging="v0.${K8S_VERSION#v1.}" t0=$SECONDS
  local dir; dir=$(wrapper kubernetes-node k8s.io/kubernetes "$K8S_VERSION" "$staging" k8s.io/kubernetes/cmd/kubelet)
  log "kubelet wrapper module ready in $((SECONDS - t0)) s; building kubelet $K8S_VERSION"
  local vpkg=k8s.io/component-base/version
  (cd "$dir" && go build -trimpath -tags selinux,notest \
    -ldflags "-s -w -X $vpkg.gitVersion=$K8S_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean" \
    -o "$BIN/kubelet-$K8S_VERSION.tmp" k8s.io/kubernetes/cmd/kubelet)
  mv "$BIN/kubelet-$K8S_VERSION.tmp" "$BIN/kubelet-$K8S_VERSION"
  log "built kubelet in $((SECONDS - t0)) s"
}
# The kubelet's plugin registration API (the test CSI driver registers itself with it); loaded from
# the module cache, never copied into the repository.
kubelet_plugin_proto() { moddir_of "k8s.io/kubelet@v0.${K8S_VERSION#v1.}" >/dev/null; }

build_etcd() {
  [ -x "$BIN/etcd-$ETCD_VERSION" ] && return 0
  local dir; dir=$(wrapper etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION" go.etcd.io/etcd/server/v3)
  log "building etcd $ETCD_VERSION"; local t0=$SECONDS
  (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd-$ETCD_VERSION.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/etcd-$ETCD_VERSION.tmp" "$BIN/etcd-$ETCD_VERSION"; log "built etcd in $((SECONDS - t0)) s"
}

# kstatus: a tiny main of our own (hack/kstatus/main.go) built against sigs.k8s.io/cli-utils.
KSTATUS_KEY() { sha256sum "$(cd "$(dirname "$0")" && pwd)/kstatus/main.go" | cut -c1-8; }
build_kstatus() {
  local key; key=$(KSTATUS_KEY)
  [ -x "$BIN/kstatus-$CLI_UTILS_VERSION-$key" ] && return 0
  local dir=$SRC/kstatus-$CLI_UTILS_VERSION-$key here; here=$(cd "$(dirname "$0")" && pwd)
  rm -rf "$dir"; mkdir -p "$dir"; cp "$here/kstatus/main.go" "$dir/"
  log "building kstatus (cli-utils $CLI_UTILS_VERSION)"; local t0=$SECONDS
  (cd "$dir" && go mod init aksnap.local/kstatus >/dev/null 2>&1 && go get "sigs.k8s.io/cli-utils@$CLI_UTILS_VERSION" >&2 \
    && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$BIN/kstatus.tmp" .)
  mv "$BIN/kstatus.tmp" "$BIN/kstatus-$CLI_UTILS_VERSION-$key"; log "built kstatus in $((SECONDS - t0)) s"
}

# helm, for the manifest checks (lint + template of the chart). Its go.mod has no replaces,
# so a plain `go install` of the pinned version works.
build_helm() {
  [ -x "$BIN/helm-$HELM_VERSION" ] && return 0
  log "building helm $HELM_VERSION"; local t0=$SECONDS tmp; tmp=$(mktemp -d)
  GOBIN=$tmp go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$tmp/helm" "$BIN/helm-$HELM_VERSION"; rm -rf "$tmp"; log "built helm in $((SECONDS - t0)) s"
}

# luahealth: Argo CD health scripts run with gopher-lua (the interpreter Argo CD embeds) by a tiny
# main of our own (hack/luahealth/main.go); Argo CD's own module does not build from the proxy.
LUA_VERSION=${LUA_VERSION:-v1.1.2}
LUAHEALTH_KEY() { sha256sum "$(cd "$(dirname "$0")" && pwd)/luahealth/main.go" | cut -c1-8; }
build_luahealth() {
  local key; key=$(LUAHEALTH_KEY)
  [ -x "$BIN/luahealth-$LUA_VERSION-$key" ] && return 0
  local dir=$SRC/luahealth-$LUA_VERSION-$key here; here=$(cd "$(dirname "$0")" && pwd)
  rm -rf "$dir"; mkdir -p "$dir"; cp "$here/luahealth/main.go" "$dir/"
  log "building luahealth (gopher-lua $LUA_VERSION)"; local t0=$SECONDS
  (cd "$dir" && go mod init aksnap.local/luahealth >/dev/null 2>&1 && go get "github.com/yuin/gopher-lua@$LUA_VERSION" >&2 \
    && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$BIN/luahealth.tmp.$$" .)
  mv "$BIN/luahealth.tmp.$$" "$BIN/luahealth-$LUA_VERSION-$key"; log "built luahealth in $((SECONDS - t0)) s"
}

# The real CSI path: snapshot-controller + csi-snapshotter (external-snapshotter), csi-provisioner
# (external-provisioner) and the conformance suite csi-sanity (csi-test). The first two modules pin
# k8s.io/* with `replace` lines that a dependent module does not inherit, hence the wrapper; csi-test
# has none, so a plain `go install` works.
build_csi_one() { # dir name version package
  local dir=$1 name=$2 version=$3 pkg=$4
  [ -x "$BIN/$name-$version" ] && return 0
  log "building $name $version"; local t0=$SECONDS
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$BIN/$name-$version.tmp" "$pkg")
  mv "$BIN/$name-$version.tmp" "$BIN/$name-$version"; log "built $name in $((SECONDS - t0)) s"
}
build_csi() {
  local snap=github.com/kubernetes-csi/external-snapshotter/v8 prov=github.com/kubernetes-csi/external-provisioner/v6
  local t0
  if [ ! -x "$BIN/snapshot-controller-$SNAPSHOTTER_VERSION" ] || [ ! -x "$BIN/csi-snapshotter-$SNAPSHOTTER_VERSION" ]; then
    t0=$SECONDS; local d; d=$(wrapper external-snapshotter "$snap" "$SNAPSHOTTER_VERSION" "$SNAPSHOTTER_VERSION" \
      "$snap/cmd/snapshot-controller" "$snap/cmd/csi-snapshotter")
    log "external-snapshotter $SNAPSHOTTER_VERSION wrapper module ready in $((SECONDS - t0)) s"
    build_csi_one "$d" snapshot-controller "$SNAPSHOTTER_VERSION" "$snap/cmd/snapshot-controller"
    build_csi_one "$d" csi-snapshotter "$SNAPSHOTTER_VERSION" "$snap/cmd/csi-snapshotter"
  fi
  if [ ! -x "$BIN/csi-provisioner-$PROVISIONER_VERSION" ]; then
    t0=$SECONDS; local d; d=$(wrapper external-provisioner "$prov" "$PROVISIONER_VERSION" "$PROVISIONER_VERSION" "$prov/cmd/csi-provisioner")
    log "external-provisioner $PROVISIONER_VERSION wrapper module ready in $((SECONDS - t0)) s"
    build_csi_one "$d" csi-provisioner "$PROVISIONER_VERSION" "$prov/cmd/csi-provisioner"
  fi
  if [ ! -x "$BIN/csi-sanity-$CSI_TEST_VERSION" ]; then
    log "building csi-sanity $CSI_TEST_VERSION"; local t0=$SECONDS tmp; tmp=$(mktemp -d)
    GOBIN=$tmp go install -trimpath -ldflags "-s -w" "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity@$CSI_TEST_VERSION"
    mv "$tmp/csi-sanity" "$BIN/csi-sanity-$CSI_TEST_VERSION"; rm -rf "$tmp"; log "built csi-sanity in $((SECONDS - t0)) s"
  fi
  # The test CSI driver loads csi.proto straight from the module cache (never copied into the repo).
  moddir_of "github.com/container-storage-interface/spec@$CSI_SPEC_VERSION" >/dev/null
}
# Where `go mod download` puts csi.proto; computed without network so every target can name it.
csi_proto() { echo "$(go env GOMODCACHE)/github.com/container-storage-interface/spec@$CSI_SPEC_VERSION/csi.proto"; }

# cronref: the schedule-math reference (hack/cronref/main.go) built against robfig/cron, the
# library Kubernetes CronJob uses; the schedule unit tests compare our next-run times with it.
ROBFIG_CRON_VERSION=${ROBFIG_CRON_VERSION:-v3.0.1}
CRONREF_KEY() { sha256sum "$(cd "$(dirname "$0")" && pwd)/cronref/main.go" | cut -c1-8; }
build_cronref() {
  local key; key=$(CRONREF_KEY)
  [ -x "$BIN/cronref-$ROBFIG_CRON_VERSION-$key" ] && return 0
  local dir=$SRC/cronref-$ROBFIG_CRON_VERSION-$key here; here=$(cd "$(dirname "$0")" && pwd)
  rm -rf "$dir"; mkdir -p "$dir"; cp "$here/cronref/main.go" "$dir/"
  log "building cronref (robfig/cron $ROBFIG_CRON_VERSION)"; local t0=$SECONDS
  (cd "$dir" && go mod init aksnap.local/cronref >/dev/null 2>&1 && GOFLAGS="$GOFLAGS -mod=mod" go get "github.com/robfig/cron/v3@$ROBFIG_CRON_VERSION" >&2 \
    && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -ldflags "-s -w" -o "$BIN/cronref.tmp.$$" .)
  mv "$BIN/cronref.tmp.$$" "$BIN/cronref-$ROBFIG_CRON_VERSION-$key"; log "built cronref in $((SECONDS - t0)) s"
}

# promtool, for `promtool check rules` / `promtool test rules` on the chart's PrometheusRule. The
# prometheus module (v0.3xx.y tags = Prometheus 3.xx.y) has no replace lines, so `go install` works;
# cold build 6-10 minutes on 2 cores (595 s measured while other builds ran).
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-v0.316.0}
build_promtool() {
  [ -x "$BIN/promtool-$PROMETHEUS_VERSION" ] && return 0
  log "building promtool $PROMETHEUS_VERSION (cold: 6-10 minutes on 2 cores)"; local t0=$SECONDS tmp; tmp=$(mktemp -d)
  GOBIN=$tmp go install -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  mv "$tmp/promtool" "$BIN/promtool-$PROMETHEUS_VERSION"; rm -rf "$tmp"; log "built promtool in $((SECONDS - t0)) s"
}
# The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, from its Go module (not copied into
# the repo), so the tests can have the real apiserver validate the chart's monitoring objects.
PROMETHEUS_OPERATOR_VERSION=${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}
prometheus_operator_crds() {
  local d; d=$(moddir_of "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
  mkdir -p "$CACHE/prometheus-operator-crds"
  for k in servicemonitors prometheusrules; do
    cp "$d/example/prometheus-operator-crd/monitoring.coreos.com_$k.yaml" "$CACHE/prometheus-operator-crds/"
  done
  chmod u+w "$CACHE"/prometheus-operator-crds/*.yaml
}

# The CSI snapshot CRDs come from the external-snapshotter client module (not copied into the repo).
snapshot_crds() {
  local d; d=$(moddir_of "github.com/kubernetes-csi/external-snapshotter/client/v8@$SNAPSHOTTER_VERSION")
  mkdir -p "$CACHE/crds"
  cp "$d"/config/crd/*.yaml "$CACHE/crds/" 2>/dev/null || true
  chmod u+w "$CACHE"/crds/*.yaml
  rm -f "$CACHE/crds/kustomization.yaml"
}

main() {
  local what=${1:-all}
  case "$what" in
    control-plane) build_etcd; build_k8s; snapshot_crds ;;
    kstatus) build_kstatus ;;
    cronref) build_cronref ;;
    helm) build_helm ;;
    luahealth) build_luahealth ;;
    crds) snapshot_crds ;;
    csi) build_csi ;;
    promtool) build_promtool; prometheus_operator_crds ;;
    node) build_kubelet; kubelet_plugin_proto ;;
    all) build_etcd; build_k8s; snapshot_crds; build_kstatus; build_helm; build_cronref; build_csi; build_luahealth; build_kubelet; kubelet_plugin_proto; build_promtool; prometheus_operator_crds ;;
    *) echo "usage: $0 [all|control-plane|kstatus|cronref|helm|crds|csi|luahealth|node|promtool]" >&2; exit 2 ;;
  esac
  # A small manifest the TypeScript harness reads instead of guessing versions. Written whole and
  # renamed: unit tests (cronref) and the integration harness may run this script at the same time.
  cat > "$CACHE/tools.env.$$" <<ENV
KUBE_APISERVER=$BIN/kube-apiserver-$K8S_VERSION
KUBE_CONTROLLER_MANAGER=$BIN/kube-controller-manager-$K8S_VERSION
ETCD=$BIN/etcd-$ETCD_VERSION
KSTATUS=$BIN/kstatus-$CLI_UTILS_VERSION-$(KSTATUS_KEY)
SNAPSHOT_CRDS=$CACHE/crds
HELM=$BIN/helm-$HELM_VERSION
CRONREF=$BIN/cronref-$ROBFIG_CRON_VERSION-$(CRONREF_KEY)
CSI_SNAPSHOT_CONTROLLER=$BIN/snapshot-controller-$SNAPSHOTTER_VERSION
CSI_SNAPSHOTTER=$BIN/csi-snapshotter-$SNAPSHOTTER_VERSION
CSI_PROVISIONER=$BIN/csi-provisioner-$PROVISIONER_VERSION
CSI_SANITY=$BIN/csi-sanity-$CSI_TEST_VERSION
CSI_PROTO=$(csi_proto)
LUAHEALTH=$BIN/luahealth-$LUA_VERSION-$(LUAHEALTH_KEY)
KUBELET=$BIN/kubelet-$K8S_VERSION
KUBELET_PLUGIN_PROTO=$(go env GOMODCACHE)/k8s.io/kubelet@v0.${K8S_VERSION#v1.}/pkg/apis/pluginregistration/v1/api.proto
PROMTOOL=$BIN/promtool-$PROMETHEUS_VERSION
PROMETHEUS_OPERATOR_CRDS=$CACHE/prometheus-operator-crds
ENV
  # Keep keys this version of the script does not know (another worktree's script may have added tools).
  if [ -f "$CACHE/tools.env" ]; then
    awk -F= 'NR == FNR { mine[$1] = 1; next } !($1 in mine)' "$CACHE/tools.env.$$" "$CACHE/tools.env" > "$CACHE/tools.env.$$.old"
    cat "$CACHE/tools.env.$$.old" >> "$CACHE/tools.env.$$"; rm -f "$CACHE/tools.env.$$.old"
  fi
  mv "$CACHE/tools.env.$$" "$CACHE/tools.env"
}
main "$@"
