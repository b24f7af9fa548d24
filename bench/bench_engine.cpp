// Google Benchmark micro-benchmarks of the engine on the reference corpus, one thread:
// YAML loading alone, and loading plus every check (the per-core throughput goal).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checks/registry.h"
#include "checks/scan_index.h"
#include "load/loader.h"

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

}  // namespace

BENCHMARK_MAIN();
