// Signed images in Docker's registry for tests: docker-registry with htpasswd, images pushed
// with skopeo, signed by Sigstore's own JavaScript signer (tests/tools/sigstore-sign.js over
// @sigstore/sign, @sigstore/mock and @sigstore/oci). Shared by the image verify and admission
// tests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tests/unit/image_util.h"
#include "tests/unit/registry_util.h"
#include "tests/unit/test_util.h"

namespace kh::test {

extern const std::string kTools;  // tests/tools

// A one-layer OCI archive whose file says `what` (so two images have two digests), and its
// manifest digest.
std::string ociArchive(const std::string& what, std::string* digest);

struct SignedRegistry {
  TempDir d;
  std::unique_ptr<Registry> reg;
  std::string env;   // credentials for the JS tools and kubeharden (auth.json)
  std::string a, b;  // two images' digests, pushed as team/app:a and team/app:b

  bool start(std::string* why);
  // Signs image `digest` with the JS tool; the trusted root (and key) land in d/NAME.
  std::string sign(const std::string& name, const std::string& digest, const std::string& flags);
  CmdResult verify(const std::string& image, const std::string& dir, const std::string& policy);
};

#define KH_NEED_SIGNING_TOOLS()                                                        \
  KH_NEED_REGISTRY_TOOLS();                                                            \
  if (!std::filesystem::exists(std::string(KH_SOURCE_DIR) +                            \
                               "/deps/npm/node_modules/@sigstore/oci/package.json") || \
      ::kh::image::fixtures::shell("node --version >/dev/null 2>&1") != 0)             \
  GTEST_SKIP() << "needs node and the @sigstore packages scripts/install-deps puts in deps/npm"

}  // namespace kh::test
