// Finding and verifying an image's signatures: the two places cosign stores them (the legacy
// sha256-<hex>.sig / .att tags, and Sigstore bundles as OCI 1.1 referrers), read through a
// SignatureStore (a registry repository, or an OCI image layout on disk), each candidate
// verified against a policy and a trusted root. The verification itself does no I/O; the two
// stores adapt registry::Client and a layout directory (docs/design/signatures.md).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "registry/client.h"
#include "sigstore/trusted_root.h"
#include "sigstore/verify.h"

namespace kh::sigstore {

inline constexpr const char* kCosignSignPredicate = "https://sigstore.dev/cosign/sign/v1";

// Where signatures are read from.
class SignatureStore {
 public:
  virtual ~SignatureStore() = default;
  // The manifest a tag or digest names; nullopt when there is none.
  virtual Result<std::optional<registry::Fetched>> manifest(const std::string& ident) = 0;
  // An image index of the artifacts whose subject is `digest`; nullopt when there are none.
  virtual Result<std::optional<registry::Fetched>> referrers(const std::string& digest) = 0;
  virtual Result<std::string> blob(const std::string& digest) = 0;
  virtual std::string where() const = 0;
};

// A registry repository (the referrers API, or its tag fallback).
std::unique_ptr<SignatureStore> registryStore(registry::Client client);

// An OCI image layout directory holding an image and its signature artifacts (as `skopeo copy
// --all` or `cosign save` write them); every blob is checked against its digest. The image is
// `want` (a tag or digest), or the one manifest not named as a signature, attestation or
// referrers tag.
struct OpenedLayout {
  std::unique_ptr<SignatureStore> store;
  std::string digest;  // the image's
};
Result<OpenedLayout> openLayout(const std::string& dir, const std::string& want);

// One signature (or attestation) found for the image, and what became of it.
struct Candidate {
  std::string source;  // "tag sha256-<hex>.sig layer 0", "referrer sha256:..."
  std::string kind;    // "cosign signature", "cosign attestation", "sigstore bundle"
  bool verified = false;
  std::string reason;  // signature, digest, identity, issuer, tlog, certificate, timestamp,
                       // predicate (another kind of attachment), malformed
  std::string message;
  Verified result;
  std::string predicate_type;
};

struct ImageSignatures {
  std::string legacy_tag;  // the tag looked for
  std::vector<Candidate> candidates;
  bool verified() const;
};

// Every signature of `digest` in `store` (attestations of `attestation_type` when not empty),
// each verified. An error only when the store cannot be read.
Result<ImageSignatures> verifyImage(SignatureStore& store, const std::string& digest,
                                    const Policy& policy, const TrustedRoot& root,
                                    const std::string& attestation_type);

}  // namespace kh::sigstore
