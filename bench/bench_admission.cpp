// The admission decision on one thread, without the network: decoding the recorded 10 KB Pod
// review, deciding it (PSS modes and the catalogue) and encoding the answer. Split so that a
// regression shows where it is.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>

#include "admission/handler.h"
#include "admission/image_verifier.h"
#include "admission/review.h"
#include "base/strings.h"
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

// admission.verifyImages with a warm cache: the review's three images pinned to a digest that a
// rule requires signed by a key. The first review verifies the signature (a cosign legacy
// signature made here with OpenSSL, served from memory); the timed ones find the verdict in the
// cache. What verifyImages adds per review is the difference from BM_AdmissionDecideAndEncode;
// `added_p99_us` is the 99th percentile of the added step alone (finding the governed images and
// their cached verdicts).
std::string sha256Of(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out = "sha256:";
  for (unsigned char c : md) out += fmt::format("{:02x}", c);
  return out;
}

class MemoryStore : public sigstore::SignatureStore {
 public:
  std::map<std::string, registry::Fetched> manifests;
  std::map<std::string, std::string> blobs;
  Result<std::optional<registry::Fetched>> manifest(const std::string& ident) override {
    auto it = manifests.find(ident);
    if (it == manifests.end()) return std::optional<registry::Fetched>();
    return std::optional<registry::Fetched>(it->second);
  }
  Result<std::optional<registry::Fetched>> referrers(const std::string&) override {
    return std::optional<registry::Fetched>();
  }
  Result<std::string> blob(const std::string& digest) override {
    auto it = blobs.find(digest);
    if (it == blobs.end()) return Error{"no blob " + digest, {}, {}};
    return it->second;
  }
  std::string where() const override { return "memory"; }
};

class MemorySource : public admission::ImageSource {
 public:
  explicit MemorySource(std::shared_ptr<MemoryStore> s) : store_(std::move(s)) {}
  Result<std::string> resolve(const registry::Reference&, const admission::ImagePolicy&,
                              admission::SteadyTime) override {
    return Error{"no tags here", {}, {}};
  }
  Result<std::unique_ptr<sigstore::SignatureStore>> store(const registry::Reference&,
                                                          const std::string&,
                                                          const admission::ImagePolicy&,
                                                          admission::SteadyTime) override {
    auto copy = std::make_unique<MemoryStore>(*store_);
    return std::unique_ptr<sigstore::SignatureStore>(std::move(copy));
  }

 private:
  std::shared_ptr<MemoryStore> store_;
};

// A P-256 key, a cosign signature of `digest` with it, and the public key in PEM.
std::string signInto(MemoryStore& store, const std::string& digest) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  std::string payload = fmt::format(
      R"({{"critical":{{"identity":{{"docker-reference":"registry.example.com/shop/checkout"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}})",
      digest);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(payload.data()),
                 payload.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  std::string payload_digest = sha256Of(payload);
  registry::Fetched m;
  m.media_type = "application/vnd.oci.image.manifest.v1+json";
  m.body = fmt::format(
      R"({{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"{}","size":{},"annotations":{{"dev.cosignproject.cosign/signature":"{}"}}}}]}})",
      payload_digest, payload.size(), base64Encode(sig));
  m.digest = sha256Of(m.body);
  store.manifests[fmt::format("sha256-{}.sig", digest.substr(7))] = m;
  store.blobs[payload_digest] = payload;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

void BM_AdmissionVerifyImagesWarmCache(benchmark::State& state) {
  const std::string digest = "sha256:" + std::string(64, 'c');
  std::string body = reviewBody();
  for (const char* tag : {"checkout-migrate:2.14.3", "checkout:2.14.3", "metrics-sidecar:1.4.0"}) {
    std::string t(tag);
    size_t at = body.find("registry.example.com/shop/" + t);
    if (at == std::string::npos) {
      state.SkipWithError("the review's images changed");
      return;
    }
    body.replace(at + 26 + t.find(':'), t.size() - t.find(':'), "@" + digest);
  }
  auto store = std::make_shared<MemoryStore>();
  VerifyImagesConfig vc;
  VerifyImagesRule rule;
  rule.name = "shop";
  rule.images = {"registry.example.com/shop/**"};
  VerifyAttestor a;
  a.key = signInto(*store, digest);
  rule.attestors = {a};
  vc.rules = {rule};
  auto images = admission::compileImagePolicy(vc);
  if (!images) {
    state.SkipWithError(images.error().describe().c_str());
    return;
  }
  Config cfg;
  auto registry = buildRegistry(cfg);
  admission::Policy policy = admission::policyFromConfig(cfg, registry.value().get(), "2026-12-06");
  policy.images = images.value();
  admission::ImageVerifier verifier(std::make_unique<MemorySource>(store));
  Arena arena;
  auto r = admission::decodeRequest(body, arena);
  if (!r) {
    state.SkipWithError("the review did not decode");
    return;
  }
  auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  auto step = [&] {
    auto uses = admission::imagesToVerify(r.value(), policy, nullptr, false);
    return verifier.verify(*policy.images, uses, far);
  };
  admission::ImageVerdicts warm = step();  // the one real verification
  if (warm.size() != 3 || !warm.begin()->second.verified) {
    state.SkipWithError("the signature did not verify");
    return;
  }
  std::vector<double> added;
  added.reserve(1 << 20);
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    admission::ImageVerdicts v = step();
    auto t1 = std::chrono::steady_clock::now();
    admission::AdmissionResponse resp = admission::decide(r.value(), policy, nullptr, &v);
    std::string out = admission::encodeResponse(r.value().api_version, resp, false);
    benchmark::DoNotOptimize(out.data());
    if (added.size() < added.capacity())
      added.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(added.begin(), added.end());
  if (!added.empty()) {
    state.counters["added_p50_us"] = added[added.size() / 2];
    state.counters["added_p99_us"] = added[added.size() * 99 / 100];
  }
  state.counters["reviews/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  auto st = verifier.stats();
  state.counters["cache_misses"] = static_cast<double>(st.misses);
}
BENCHMARK(BM_AdmissionVerifyImagesWarmCache)->MinTime(1.0);

}  // namespace
