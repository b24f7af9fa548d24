// A Sigstore trusted root (trusted_root.json, media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1): the transparency logs, certificate
// authorities, CT logs and timestamp authorities a verifier trusts, each for a window of time.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sigstore/crypto.h"

namespace kh::sigstore {

struct Validity {
  int64_t start = std::numeric_limits<int64_t>::min();
  int64_t end = std::numeric_limits<int64_t>::max();
  bool contains(int64_t t) const { return t >= start && t <= end; }
};

struct TrustedLog {
  std::string base_url;
  std::string key_id;  // raw bytes (SHA-256 of the key's DER, for Rekor)
  PublicKey key;
  Validity valid;
};

struct TrustedCa {
  std::string uri;
  std::vector<Certificate> chain;  // leaf-most first, as the root lists them
  Validity valid;
};

struct TrustedRoot {
  std::vector<TrustedLog> tlogs;
  std::vector<TrustedCa> certificate_authorities;
  std::vector<TrustedLog> ctlogs;
  std::vector<TrustedCa> timestamp_authorities;
  int64_t newest_start = 0;  // the latest validFor.start in it: when it last changed

  const TrustedLog* tlog(std::string_view key_id) const;
};

// Parses a trusted_root.json; `file` names it in errors. Keys of a type kubeharden cannot use
// and unknown members are skipped; malformed ones are errors.
Result<TrustedRoot> parseTrustedRoot(std::string_view json, const std::string& file);

// RFC 3339 ("2021-01-12T11:53:27Z", fractions and offsets allowed) to Unix seconds.
Result<int64_t> parseRfc3339(std::string_view text);

}  // namespace kh::sigstore
