// The secret-detection rule set: one engine for manifests now and image layers later.
//
// Known credential formats (cloud keys, forge and SaaS tokens, private keys, JWTs, connection
// strings with passwords) are matched with RE2 (linear time, no backtracking); names that say
// "credential" make a literal value suspicious too. Values never leave this module unredacted:
// callers show redact(value). Rules are compiled once; all functions are thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kh {

struct SecretRule {
  std::string_view id;     // stable, e.g. aws-access-key-id
  std::string_view title;  // e.g. "AWS access key ID"
};

// The first known-format rule the value matches, if any (allow-listed example values excluded).
std::optional<SecretRule> matchSecretValue(std::string_view value);
// Does an environment variable or key name say it holds a credential (DB_PASSWORD, API_TOKEN)?
// Never for names of checksums, hashes and digests (a checksum of a secret is not a secret).
bool isCredentialName(std::string_view name);
// Does the name say its value is a checksum, hash or digest (checksum/secret, PASSWORD_HASH)?
bool namesDigest(std::string_view name);
// Is this literal obviously not a real secret (empty, a reference, a path, a placeholder)?
bool isPlaceholderValue(std::string_view value);
// Shannon entropy of the bytes of `v`, in bits per character.
double shannonEntropy(std::string_view v);
// Could this literal (under a credential-like name) be a real secret: not a placeholder, at
// least 8 characters, and random-looking (entropy) rather than a word, number or host?
bool looksLikeSecretLiteral(std::string_view v);

// One secret found in a multi-line text (a config file held in a ConfigMap, a file of an image).
struct ConfigSecret {
  uint32_t line = 0;       // 1-based line within the text
  std::string rule_id;     // a known-format rule, or "credential-assignment"
  std::string title;       // e.g. "GitHub token", or "credential"
  std::string key;         // the assigned name, for credential assignments
  std::string_view value;  // the matched line or value (redact before printing)
};
// Scans `text` line by line for known token formats and (when `assignments`) for `name: value` /
// `name=value` assignments of literal secrets to credential-like names. Comment lines are
// skipped. Assignments are for configuration text; in source code `token = next_token()` is an
// expression, so scanners of arbitrary files turn them off there.
void scanConfigText(std::string_view text,
                    const std::function<void(const ConfigSecret&)>& on_secret,
                    bool assignments = true);

// A form safe to print: a short prefix for known token formats, then the length.
std::string redact(std::string_view value, bool keep_prefix);

}  // namespace kh
