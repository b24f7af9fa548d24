// The secret-detection rule set: one engine for manifests now and image layers later.
//
// Known credential formats (cloud keys, forge and SaaS tokens, private keys, JWTs, connection
// strings with passwords) are matched with RE2 (linear time, no backtracking); names that say
// "credential" make a literal value suspicious too. Values never leave this module unredacted:
// callers show redact(value). Rules are compiled once; all functions are thread-safe.
#pragma once

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
bool isCredentialName(std::string_view name);
// Is this literal obviously not a real secret (empty, a reference, a path, a placeholder)?
bool isPlaceholderValue(std::string_view value);
// A form safe to print: a short prefix for known token formats, then the length.
std::string redact(std::string_view value, bool keep_prefix);

}  // namespace kh
