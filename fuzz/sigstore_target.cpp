#include "fuzz/sigstore_target.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sigstore/bundle.h"
#include "sigstore/cosign.h"
#include "sigstore/tlog.h"
#include "sigstore/trusted_root.h"

namespace kh {

void fuzzSigstoreOnce(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto b = sigstore::parseBundle(text, "bundle.json");
  if (!b && b.error().message.empty()) __builtin_trap();
  auto r = sigstore::parseTrustedRoot(text, "trusted_root.json");
  if (!r && r.error().message.empty()) __builtin_trap();
  auto cp = sigstore::parseCheckpoint(text);
  if (cp && (cp->root.size() != 32 || cp->signatures.empty())) __builtin_trap();
  auto c = sigstore::canonicalJson(text);
  if (c) {
    auto again = sigstore::canonicalJson(std::string_view(c.value()));
    if (!again || again.value() != c.value()) __builtin_trap();
  }
  (void)sigstore::parseRfc3339(text);
  // The input as a cosign layer's payload and as its annotations' values.
  std::map<std::string, std::string> ann = {{"dev.cosignproject.cosign/signature", "c2ln"},
                                            {"dev.sigstore.cosign/bundle", std::string(text)},
                                            {"dev.sigstore.cosign/certificate", std::string(text)}};
  for (const char* type : {sigstore::kSimpleSigningType, sigstore::kDsseLayerType}) {
    auto b = sigstore::bundleFromCosignLayer(type, text, ann);
    if (!b && b.error().message.empty()) __builtin_trap();
    auto plain = sigstore::bundleFromCosignLayer(type, text, {});
    if (!plain && plain.error().message.empty()) __builtin_trap();
  }
  (void)sigstore::checkSimpleSigning(text, "sha256:00");
  // The input as leaf data and audit path: any outcome but a crash.
  std::vector<std::string> proof;
  for (size_t i = 0; i + 32 <= size && proof.size() < 64; i += 32)
    proof.emplace_back(text.substr(i, 32));
  uint64_t index = size > 0 ? data[0] : 0, tree = size > 1 ? data[1] + 1 : 1;
  (void)sigstore::verifyInclusion(index, tree, sigstore::leafHash(text), proof,
                                  std::string(32, '\0'));
}

}  // namespace kh
