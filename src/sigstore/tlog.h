// Transparency-log proofs and the encodings they are signed in: RFC 8785 canonical JSON (signed
// entry timestamps), RFC 9162 Merkle inclusion proofs, signed checkpoints (the signed-note
// format Rekor uses), and DSSE's pre-authentication encoding.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "sigstore/crypto.h"

namespace kh::sigstore {

// RFC 8785 (JSON Canonicalization Scheme): members sorted by their UTF-16 code units, strings
// escaped as ECMAScript's JSON.stringify does, numbers as ECMAScript prints them. Fails on
// duplicate member names, non-finite numbers and invalid UTF-8.
Result<std::string> canonicalJson(const rapidjson::Value& v);
// Parses `json` and canonicalises it.
Result<std::string> canonicalJson(std::string_view json);

// DSSE's pre-authentication encoding: "DSSEv1 " LEN(type) " " type " " LEN(body) " " body.
std::string pae(std::string_view payload_type, std::string_view payload);

// RFC 9162 hashes: a leaf is SHA-256(0x00 || data), an inner node SHA-256(0x01 || left || right).
std::string leafHash(std::string_view data);

// Checks that the leaf with hash `leaf` at `index` is in the tree of `size` leaves whose root is
// `root`, by the audit path `proof` (RFC 9162 section 2.1.3.2). The error says what disagrees.
Status verifyInclusion(uint64_t index, uint64_t size, std::string_view leaf,
                       const std::vector<std::string>& proof, std::string_view root);

// A checkpoint: the signed note a log publishes for one tree head.
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root;  // raw hash
  std::string body;  // the signed text (origin line to the blank line, excluded)
  struct Signature {
    std::string name;
    std::string key_hint;  // 4 bytes
    std::string sig;
  };
  std::vector<Signature> signatures;
};
Result<Checkpoint> parseCheckpoint(std::string_view text);
// True when a signature of `cp` whose key hint is the first four bytes of `log_key_id` verifies
// with `key` over the checkpoint's body.
bool checkpointSignedBy(const Checkpoint& cp, const PublicKey& key, std::string_view log_key_id);

// Rekor's signed entry timestamp: `key`'s signature over the canonical JSON of
// {body, integratedTime, logID (hex), logIndex}.
bool verifySet(const PublicKey& key, std::string_view set, std::string_view body_b64,
               int64_t integrated_time, std::string_view log_id, int64_t log_index);

}  // namespace kh::sigstore
