// Google Benchmark micro-benchmarks of the engine on the reference corpus, one thread:
// YAML loading alone, and loading plus every check (the per-core throughput goal).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checks/registry.h"
#include "checks/scan_index.h"
#include "load/loader.h"
#include "pss/pss.h"

namespace {

using namespace kh;

const std::vector<std::pair<std::string, std::string>>& corpus() {
  static const auto files = [] {
    std::vector<std::pair<std::string, std::string>> out;
    auto paths = collectInputs({std::string(KH_SHARED_DIR) + "/corpus/bitnami"});
    if (!paths) return out;
    for (const auto& p : *paths) {
      std::ifstream in(p, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out.emplace_back(p, ss.str());
    }
    return out;
  }();
  return files;
}

size_t corpusBytes() {
  size_t n = 0;
  for (const auto& [p, b] : corpus()) n += b.size();
  return n;
}

void BM_LoadCorpus(benchmark::State& state) {
  if (corpus().empty()) state.SkipWithError("corpus not found");
  size_t objects = 0;
  for (auto _ : state) {
    for (const auto& [path, bytes] : corpus()) {
      SourceFile f;
      f.path = path;
      f.buffer = bytes;
      parseSource(LoadOptions{}, f);
      objects += f.objects.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpusBytes()));
  state.counters["objects/s"] =
      benchmark::Counter(static_cast<double>(objects), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoadCorpus)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_LoadAndCheckCorpus(benchmark::State& state) {
  if (corpus().empty()) state.SkipWithError("corpus not found");
  Registry registry(makeCatalogue());
  size_t objects = 0, findings = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<SourceFile>> files;
    ScanIndex index;
    for (const auto& [path, bytes] : corpus()) {
      auto f = std::make_unique<SourceFile>();
      f->path = path;
      f->buffer = bytes;
      parseSource(LoadOptions{}, *f);
      for (const Object& o : f->objects) index.add(&o);
      files.push_back(std::move(f));
    }
    CheckContext ctx{&index};
    VectorSink sink;
    for (const auto& f : files)
      for (const Object& o : f->objects) registry.dispatch(o, ctx, sink);
    registry.finish(ctx, sink);
    objects += index.all().size();
    findings += sink.findings.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpusBytes()));
  state.counters["objects/s"] =
      benchmark::Counter(static_cast<double>(objects), benchmark::Counter::kIsRate);
  state.counters["findings"] = static_cast<double>(findings / state.iterations());
}
BENCHMARK(BM_LoadAndCheckCorpus)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// A typical two-container pod template (app and sidecar) that restricted allows, so the
// evaluator walks every check without an early exit. Parsing is outside the timed loop.
constexpr const char* kTypicalPod = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, version: v1}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9090"}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: ghcr.io/example/web:1.8.0
          ports: [{name: http, containerPort: 8080}]
          env: [{name: LOG_LEVEL, value: info}, {name: PORT, value: "8080"}]
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
          readinessProbe: {httpGet: {path: /ready, port: http}}
          livenessProbe: {httpGet: {path: /live, port: http}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts: [{name: tmp, mountPath: /tmp}]
        - name: proxy
          image: ghcr.io/example/proxy:2.1.0
          ports: [{name: metrics, containerPort: 9090}]
          resources: {limits: {memory: 64Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
      volumes:
        - {name: tmp, emptyDir: {}}
        - {name: config, configMap: {name: web}}
)";

void BM_PssRestrictedTypicalPod(benchmark::State& state) {
  SourceFile f;
  f.path = "pod.yaml";
  f.buffer = kTypicalPod;
  parseSource(LoadOptions{}, f);
  if (f.objects.empty() || !f.objects[0].pod) state.SkipWithError("fixture did not load");
  const PodSpecView& pod = *f.objects[0].pod;
  pss::Policy policy;  // restricted:latest
  pss::Scratch scratch;
  std::vector<pss::Violation> out;
  for (auto _ : state) {
    out.clear();
    pss::evaluate(policy, pod, scratch, out);
    benchmark::DoNotOptimize(out.data());
  }
  if (!out.empty()) state.SkipWithError("the typical pod should be allowed");
  state.counters["evals/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PssRestrictedTypicalPod)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
