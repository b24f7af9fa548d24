// The verdicts of admission.verifyImages rules that need a registry (or, for `kubeharden
// review`, OCI layouts): tags resolved to digests, signatures and attestations found and
// verified with sigstore::verifyImage, within a deadline, cached (docs/signatures.md).
//
// Bounds: every registry request ends by the deadline it is given; the images still to verify
// share what is left of it (each gets the remaining time divided by the images left), so one
// slow registry cannot starve the rest and the whole request stays within the webhook's
// deadline. Verdicts are cached by (rule hash, digest): successes for successTTL, failures (a
// refused signature, an unreachable registry) for failureTTL; tag resolutions for tagTTL. Thread
// safe: the server's connection threads share one verifier.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "admission/image_policy.h"
#include "base/result.h"
#include "sigstore/image.h"

namespace kh::admission {

using SteadyTime = std::chrono::steady_clock::time_point;

// Where tags are resolved and signatures read.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The digest `ref`'s tag names now.
  virtual Result<std::string> resolve(const registry::Reference& ref, const ImagePolicy& p,
                                      SteadyTime deadline) = 0;
  // Where the signatures of image `digest` are: `repo` (the image's repository, or the rule's
  // signature repository).
  virtual Result<std::unique_ptr<sigstore::SignatureStore>> store(const registry::Reference& repo,
                                                                  const std::string& digest,
                                                                  const ImagePolicy& p,
                                                                  SteadyTime deadline) = 0;
};

// Registries, with the credentials of the process's environment (Docker config, containers
// auth.json, REGISTRY_AUTH_FILE; credential helpers get at most a second), the policy's CA file
// and insecure registries; loopback registries may speak plain HTTP. No retries after the
// deadline; every request carries it.
std::unique_ptr<ImageSource> registrySource();

// OCI image layouts (`skopeo copy --all` or `cosign save` output), for `kubeharden review`: an
// image is found by its digest, or by its reference's tag, full name or name:tag in the
// layout's org.opencontainers.image.ref.name annotations.
Result<std::unique_ptr<ImageSource>> layoutSource(const std::vector<std::string>& dirs);

class ImageVerifier {
 public:
  explicit ImageVerifier(std::unique_ptr<ImageSource> source) : source_(std::move(source)) {}

  // The verdicts of the uses that need verification, by `deadline`.
  ImageVerdicts verify(const ImagePolicy& policy, const std::vector<ImageUse>& uses,
                       SteadyTime deadline);

  struct Stats {
    uint64_t hits = 0, misses = 0, timeouts = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    ImageVerdict verdict;
    SteadyTime expires;
  };
  ImageVerdict verifyDigest(const ImagePolicy& policy, const ImageRule& rule,
                            const registry::Reference& ref, const std::string& digest,
                            SteadyTime deadline);
  bool cached(const std::string& key, ImageVerdict* out);
  void remember(const std::string& key, const ImageVerdict& v, double ttl);

  std::unique_ptr<ImageSource> source_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // verdicts and tags
  Stats stats_;
};

}  // namespace kh::admission
