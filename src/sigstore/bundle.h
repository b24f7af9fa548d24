// Sigstore bundles (application/vnd.dev.sigstore.bundle+json;version=0.1, 0.2, 0.3 and the
// v0.3 spelling application/vnd.dev.sigstore.bundle.v0.3+json): the signature (a message
// signature or a DSSE envelope) with what verifies it (a certificate chain or a public key hint,
// transparency-log entries, RFC 3161 timestamps).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sigstore/crypto.h"

namespace kh::sigstore {

struct TlogEntry {
  int64_t log_index = 0;
  std::string log_id;  // raw key ID
  std::string kind, version;
  int64_t integrated_time = 0;
  std::string set;       // signed entry timestamp (raw), empty when absent
  std::string body_b64;  // canonicalizedBody as given
  std::string body;      // decoded
  bool has_proof = false;
  int64_t proof_index = 0;
  int64_t tree_size = 0;
  std::string root_hash;  // raw
  std::vector<std::string> hashes;
  std::string checkpoint;
};

struct Bundle {
  std::string media_type;
  int minor = 0;                   // 1, 2 or 3
  std::vector<Certificate> chain;  // leaf first; empty for a key-signed bundle
  std::string key_hint;
  std::vector<TlogEntry> tlog;
  std::vector<std::string> timestamps;  // DER RFC 3161 time-stamp responses
  bool dsse = false;
  // Message signature.
  std::string digest_algorithm;  // "SHA2_256", ...
  std::string message_digest;    // raw
  std::string signature;         // raw
  // DSSE envelope.
  std::string payload_type;
  std::string payload;                  // decoded
  std::vector<std::string> signatures;  // raw
};

// Parses a bundle; `file` names it in errors.
Result<Bundle> parseBundle(std::string_view json, const std::string& file);

}  // namespace kh::sigstore
