// The admission decision on one thread, without the network: decoding the recorded 10 KB Pod
// review, deciding it (PSS modes and the catalogue) and encoding the answer. Split so that a
// regression shows where it is.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "admission/handler.h"
#include "admission/review.h"
#include "scan/scan.h"

namespace {

using namespace kh;

const std::string& reviewBody() {
  static const std::string body = [] {
    std::ifstream in(std::string(KH_SOURCE_DIR) + "/bench/data/review-pod-10k.json",
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return body;
}

void BM_AdmissionDecode(benchmark::State& state) {
  for (auto _ : state) {
    Arena arena;
    auto r = admission::decodeRequest(reviewBody(), arena);
    if (!r) state.SkipWithError("the review did not decode");
    benchmark::DoNotOptimize(r.value().object);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reviewBody().size()));
}
BENCHMARK(BM_AdmissionDecode)->MinTime(1.0);

void BM_AdmissionDecideAndEncode(benchmark::State& state) {
  Config cfg;
  auto registry = buildRegistry(cfg);
  admission::Policy policy = admission::policyFromConfig(cfg, registry.value().get(), "2026-11-23");
  Arena arena;
  auto r = admission::decodeRequest(reviewBody(), arena);
  if (!r) state.SkipWithError("the review did not decode");
  for (auto _ : state) {
    admission::AdmissionResponse resp = admission::decide(r.value(), policy, nullptr);
    std::string out = admission::encodeResponse(r.value().api_version, resp, false);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["reviews/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AdmissionDecideAndEncode)->MinTime(1.0);

}  // namespace
