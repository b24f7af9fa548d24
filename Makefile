# kubeharden: the two commands a newcomer needs are `make demo` and `make check`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CMAKE_FLAGS := -G Ninja -DKH_WERROR=ON

.PHONY: all deps build demo check test test-asan bench fuzz format clean image

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j $(JOBS)

# Scan the bundled examples; exit 1 (findings) is the expected outcome of the demo.
demo: build
	@echo "== kubeharden scan examples/"
	@./build/kubeharden scan examples/; rc=$$?; \
	  if [ $$rc -gt 1 ]; then exit $$rc; fi; \
	  echo "== exit code $$rc: findings at or above --fail-on high (see README, Exit codes)"
	@echo; echo "== kubeharden pss examples/ --level baseline   (what Pod Security Admission would say)"
	@./build/kubeharden pss examples/ --level baseline; rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi
	@echo; echo "== kubeharden scan examples/ --policy deploy/policies --disable all   (ValidatingAdmissionPolicies applied offline)"
	@./build/kubeharden scan examples/ --policy deploy/policies --disable all; rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi
	@echo; echo "== kubeharden audit detect examples/audit/audit.log   (suspicious requests in an API server audit log)"
	@./build/kubeharden audit detect examples/audit/audit.log; rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi
	@echo; echo "== kubeharden audit rbac examples/audit/audit.log --serviceaccount ci:deployer --rbac examples/audit/cluster-rbac.yaml"
	@echo "   (the least privilege for what ci:deployer did, and what it holds and never used)"
	@./build/kubeharden audit rbac examples/audit/audit.log --serviceaccount ci:deployer --rbac examples/audit/cluster-rbac.yaml
	@echo; echo "== kubeharden image scan build/demo-image.tar   (an image made by scripts/demo_image.py)"
	@python3 scripts/demo_image.py build/demo-image.tar
	@./build/kubeharden image scan build/demo-image.tar -f cyclonedx=build/demo-image.cdx.json -f text
	@echo "== CycloneDX SBOM written to build/demo-image.cdx.json"
	@if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then \
	  echo; scripts/demo_registry.sh build/kubeharden build/demo-image.tar; \
	fi
	@if [ -d ../shared/vulndata/pypi ]; then \
	  echo; echo "== kubeharden image db import ../shared/vulndata/pypi, then image scan --db --license-deny 'GPL-*'"; \
	  rm -f build/demo-vuln.db; \
	  ./build/kubeharden image db import --db build/demo-vuln.db ../shared/vulndata/pypi && \
	  ./build/kubeharden image scan build/demo-image.tar --no-secrets --db build/demo-vuln.db --license-deny 'GPL-*'; \
	fi

test: build
	@cd build && ctest -j $(JOBS) --output-on-failure

# kubeharden's own container image, without a Docker daemon, reproducibly (scripts/build-image.py):
# build/image/oci (OCI layout), build/image/kubeharden-TAG.tar (docker save), build/image/digest,
# and its CycloneDX SBOM, then kubeharden's own verdict on it.
IMAGE_TAG ?= $(shell sed -n 's/.*kVersion = "\(.*\)";/\1/p' src/cli/main.cpp)
image: build
	@python3 scripts/build-image.py --binary build/kubeharden --out build/image --tag $(IMAGE_TAG) \
	  --epoch "$$(git log -1 --format=%ct 2>/dev/null || echo 0)" --revision "$$(git rev-parse HEAD 2>/dev/null)"
	@./build/kubeharden image scan build/image/oci -f cyclonedx=build/image/sbom.cdx.json
	@./build/kubeharden image scan build/image/oci --fail-on medium -f text > build/image/scan.txt; \
	  rc=$$?; head -4 build/image/scan.txt; exit $$rc
	@echo "== build/image: oci/, kubeharden-$(IMAGE_TAG).tar, digest $$(cat build/image/digest), sbom.cdx.json"

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKH_SANITIZE=ON \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j $(JOBS) --output-on-failure

check: test test-asan

bench: deps
	@cmake -S . -B build-bench $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release -DKH_BENCH=ON -DKH_TESTS=OFF >/dev/null
	@cmake --build build-bench -j $(JOBS)
	@bench/run.sh build-bench

FUZZ_SECONDS ?= 60
# Each target NAME:MAX_LEN runs for FUZZ_SECONDS on its kept corpus plus the seeds in fuzz/corpus.
FUZZ_TARGETS := loader:65536 admission:65536 image:65536 version:4096 vulndb:16384 dockerfile:65536 render:65536 registry:1024 sigstore:65536 kubeconfig:16384 clusterdata:65536 auditlog:65536 celparse:4096 vap:16384
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKH_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t)))_fuzzer)
	@set -e; for t in $(FUZZ_TARGETS); do name=$${t%%:*}; len=$${t##*:}; \
	  mkdir -p build-fuzz/corpus-$$name; \
	  UBSAN_OPTIONS=suppressions=fuzz/ubsan.supp ./build-fuzz/$${name}_fuzzer -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$$len -timeout=10 build-fuzz/corpus-$$name fuzz/corpus/$$name; \
	done

format:
	@clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp' 'fuzz/*.cpp' 'fuzz/*.h')

clean:
	@rm -rf build build-asan build-bench build-fuzz
