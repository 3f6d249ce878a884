# aksnap — the two commands are `make demo` and `make test`; everything else they need is set up here.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Node >= 22 (the Azure SDKs and vitest need it): the system one if new enough, else Node 24 from
# the npm registry into .tools/ (git-ignored).
NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(PATH)
VITEST := node node_modules/vitest/vitest.mjs

.PHONY: help deps build tools generate check-generated lint typecheck test test-unit test-contract test-integration demo demo-node control-plane bench image clean

help:
	@echo "make demo   - local control plane + ARM emulator + operator + samples, shown until Ready"
	@echo "make demo-node - (root) a real node: a pod's data backed up, verified, restored, checksum read back"
	@echo "make test   - lint, typecheck, generated-file drift, unit, contract and integration tests"
	@echo "make image  - the operator image (buildah, FROM scratch), tagged as the chart expects"
	@echo "(first run on a machine builds kube-apiserver, etcd and friends from Go modules: ~20 min)"

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.installed

# The operator compiled to JavaScript in dist/src (what the image runs; the test harness and the
# bench spawn it too). Cached: a no-op unless a source changed; emit only, a few seconds.
build: deps
	bash hack/build.sh

# Real upstream binaries built from Go modules into ~/.cache/aksnap (skipped when present).
tools:
	bash hack/build-tools.sh all

generate: deps
	node src/crds/generate.ts

check-generated: deps
	node src/crds/generate.ts --check

lint: deps
	node node_modules/eslint/bin/eslint.js --max-warnings 0 .

typecheck: deps
	node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit

test-unit: deps
	$(VITEST) run --project unit

test-contract: deps
	$(VITEST) run --project contract

test-integration: deps build tools
	$(VITEST) run --project integration

test: deps lint typecheck check-generated build tools
	@rc=0; $(VITEST) run --reporter=default --reporter=json --outputFile.json=.test-results.json || rc=$$?; \
	  node hack/test-summary.ts .test-results.json; exit $$rc

# AKSNAP_DEMO_NODE=1 make demo is make demo-node.
demo: deps
	node $(if $(AKSNAP_DEMO_NODE),hack/demo-node.ts,hack/demo.ts)

# Needs root: a real node (kubelet + containerd + runc), a pod's data backed up, verified, restored, read back.
demo-node: deps
	node hack/demo-node.ts

control-plane: deps
	node hack/control-plane.ts

# The operator image, built offline with buildah (installed with apt-get when missing); prints its size.
image: deps
	bash hack/image/build.sh

# NodePoolSnapshot at scale, one run (a few minutes): apply→Ready of 1,000 against the apiserver's
# floor, writes per object, ARM calls per snapshot and per Ready object-hour, operator RSS idle/10k;
# then the VolumeSnapshot verifier (bench/verification.ts).
bench: deps
	node bench/scale.ts
	node bench/verification.ts

clean:
	rm -rf dist coverage .demo
