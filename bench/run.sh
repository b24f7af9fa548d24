#!/usr/bin/env bash
# `make bench`: engine micro-benchmarks, then whole-program figures on the reference corpus.
set -euo pipefail
build=${1:-build-bench}
corpus="$(cd "$(dirname "$0")/.." && pwd)/../shared/corpus/bitnami"
echo "== engine micro-benchmarks (one thread)"
"$build/kh_bench" --benchmark_counters_tabular=true
echo
echo "== whole program"
if [ -d "$corpus" ]; then
  "$build/kh_corpus_run" "$build/kubeharden" "$corpus" "${BENCH_RUNS:-15}"
else
  echo "(the reference corpus is not at $corpus: whole-program figures skipped)"
fi
echo
echo "== admission webhook (HTTPS keep-alive, 10 KB Pod review; wrk or kh_loadgen and the server share the cores)"
"$(dirname "$0")/admission.sh" "$build/kubeharden" "$build/kh_loadgen"
echo
echo "== live cluster (a generated 10,000-pod cluster served by the tests' fake API server over loopback TLS)"
"$build/kh_cluster_bench" "$build/kubeharden" 10000
echo
echo "== audit logs (a generated 1 GB log: controllers, kubelets, leases, people, planted suspicious requests)"
"$build/kh_audit_bench" "$build/kubeharden" "${AUDIT_BENCH_MB:-1024}"
echo
echo "== container image scan (an image built from this machine's Debian packages)"
"$(dirname "$0")/image.sh" "$build/kubeharden"
echo
echo "== container image pulled from a local registry (the same image, pushed by skopeo)"
"$(dirname "$0")/registry.sh" "$build/kubeharden"
echo
echo "== Dockerfiles (a generated corpus of realistic Dockerfiles)"
"$(dirname "$0")/dockerfile.sh" "$build/kubeharden"
echo
echo "== Helm charts (50 chart sources rendered by kubeharden vs helm template one by one, then a scan)"
"$(dirname "$0")/render.sh" "$build/kubeharden"
