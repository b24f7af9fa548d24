// Signature verification (src/sigstore): what one image's signature costs once its bundle is
// in memory (the registry round trips excluded), for a key-signed bundle and a keyless one
// (Fulcio chain, Rekor signed entry timestamp, inclusion proof and signed checkpoint). The
// bundles were made by Sigstore's JavaScript signer against its mock services
// (bench/data/sigstore, tests/tools/sigstore-sign.js).
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sigstore/bundle.h"
#include "sigstore/verify.h"

namespace {

std::string slurp(const std::string& name) {
  std::ifstream in(std::string(KH_SOURCE_DIR) + "/bench/data/sigstore/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void verify(benchmark::State& state, const char* bundle_file, const char* root_file, bool key) {
  using namespace kh::sigstore;
  auto root = parseTrustedRoot(slurp(root_file), root_file);
  std::string bundle_json = slurp(bundle_file);
  Artifact art;
  art.bytes = slurp("artifact.txt");
  art.sha256 = sha256(art.bytes);
  Policy policy;
  if (key) {
    policy.key = PublicKey::fromPem(slurp("key.pem")).value();
  } else {
    policy.identity = "alice@example.com";
    policy.issuer = "https://issuer.example.com";
  }
  if (!root) {
    state.SkipWithError("no trusted root in bench/data/sigstore");
    return;
  }
  for (auto _ : state) {
    auto b = parseBundle(bundle_json, bundle_file);
    auto v = verifyBundle(b.value(), art, policy, root.value());
    if (!v) {
      state.SkipWithError(v.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(v);
  }
}

void BM_SigstoreVerifyKeyBundle(benchmark::State& state) {
  verify(state, "key-bundle.json", "key-trusted-root.json", true);
}
BENCHMARK(BM_SigstoreVerifyKeyBundle)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

void BM_SigstoreVerifyKeylessBundle(benchmark::State& state) {
  verify(state, "keyless-bundle.json", "keyless-trusted-root.json", false);
}
BENCHMARK(BM_SigstoreVerifyKeylessBundle)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

}  // namespace
