// Verifying a Sigstore bundle against a policy (a key, or a certificate identity and issuer) and
// a trusted root. Pure: the caller reads the files and fetches the artifacts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sigstore/bundle.h"
#include "sigstore/crypto.h"
#include "sigstore/trusted_root.h"

namespace kh::sigstore {

struct Policy {
  std::optional<PublicKey> key;  // key-based; otherwise keyless (certificate identity)
  std::string identity;          // exact subject alternative name
  std::string identity_regexp;   // RE2, whole-name match
  std::string issuer;            // exact OIDC issuer
  std::string issuer_regexp;
  // Key-based bundles need no log entry or timestamp unless this is set; keyless ones always do.
  bool require_timestamp = false;
};

// What was signed: the bytes, or only their SHA-256 digest (a "sha256:" argument).
struct Artifact {
  std::string bytes;
  std::string sha256;  // raw; always set
  bool digest_only = false;
};

struct Verified {
  std::string signer;          // identity (SAN) or the key's kind
  std::string issuer;          // OIDC issuer, keyless
  std::vector<int64_t> times;  // verified signing times (log entries, timestamps)
  std::vector<int64_t> log_indexes;
  std::string payload_type;  // DSSE
  std::string payload;       // DSSE (an in-toto statement for attestations)
};

// Verifies `b` for `artifact` under `policy` and `root`. Keyless: the signing times come from
// the bundle's verified log entries and timestamps, never from the clock. The error's message
// starts with its reason (signature, digest, identity, issuer, certificate, tlog, timestamp),
// then ": " and a sentence.
Result<Verified> verifyBundle(const Bundle& b, const Artifact& artifact, const Policy& policy,
                              const TrustedRoot& root);

}  // namespace kh::sigstore
