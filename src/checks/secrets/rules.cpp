#include "checks/secrets/rules.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <array>
#include <memory>
#include <vector>

#include "base/strings.h"

namespace kh {
namespace {

struct RuleDef {
  SecretRule rule;
  std::string_view pattern;
};

constexpr std::array<RuleDef, 14> kRules = {{
    {{"aws-access-key-id", "AWS access key ID"}, R"(\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b)"},
    {{"github-token", "GitHub token"}, R"(\bgh[pousr]_[A-Za-z0-9]{36,255}\b)"},
    {{"github-fine-grained-token", "GitHub fine-grained token"},
     R"(\bgithub_pat_[A-Za-z0-9_]{60,255})"},
    {{"gitlab-token", "GitLab personal access token"}, R"(\bglpat-[A-Za-z0-9_-]{20,})"},
    {{"slack-token", "Slack token"}, R"(\bxox[abposr]-[A-Za-z0-9-]{10,})"},
    {{"slack-webhook", "Slack webhook URL"},
     R"(https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)"},
    {{"stripe-secret-key", "Stripe secret key"}, R"(\b[sr]k_live_[0-9a-zA-Z]{20,})"},
    {{"google-api-key", "Google API key"}, R"(\bAIza[0-9A-Za-z_-]{35}\b)"},
    {{"private-key", "private key"}, R"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----)"},
    {{"jwt", "JSON Web Token"},
     R"(\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"},
    {{"npm-token", "npm access token"}, R"(\bnpm_[A-Za-z0-9]{36}\b)"},
    {{"sendgrid-api-key", "SendGrid API key"}, R"(\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b)"},
    {{"azure-storage-key", "Azure storage account key"}, R"(AccountKey=[A-Za-z0-9+/]{86}==)"},
    // scheme://user:password@host, where the password is a literal, not $(VAR) or ${VAR}.
    {{"url-with-password", "connection string with a password"},
     R"([a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/@\s]+:([^@/\s$]{3,})@[^\s]+)"},
}};

// Markers of documentation examples (AWS's AKIAIOSFODNN7EXAMPLE, user:pw@example.com): never real.
constexpr std::array<std::string_view, 4> kAllowed = {
    "EXAMPLE",
    "example.com",
    "example.org",
    "example.net",
};

struct Compiled {
  RE2::Set set{RE2::Options(), RE2::UNANCHORED};
  std::unique_ptr<RE2> credential_name;
  Compiled() {
    for (const RuleDef& r : kRules) set.Add(r.pattern, nullptr);
    set.Compile();
    RE2::Options opts;
    opts.set_case_sensitive(false);
    credential_name = std::make_unique<RE2>(
        R"((?:^|[_.-])(?:password|passwd|passphrase|pwd|pass|secret|secret[_-]?key|token|)"
        R"(access[_-]?token|auth[_-]?token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|)"
        R"(client[_-]?secret|credentials?|auth)$)",
        opts);
  }
};

const Compiled& compiled() {
  static const Compiled c;
  return c;
}

}  // namespace

std::optional<SecretRule> matchSecretValue(std::string_view value) {
  for (std::string_view a : kAllowed)
    if (value.find(a) != std::string_view::npos) return std::nullopt;
  std::vector<int> hits;
  if (!compiled().set.Match(value, &hits) || hits.empty()) return std::nullopt;
  int first = *std::min_element(hits.begin(), hits.end());
  return kRules[static_cast<size_t>(first)].rule;
}

bool isCredentialName(std::string_view name) {
  // Names that say "token" but hold identifiers everyone shares, not credentials.
  static constexpr std::array<std::string_view, 2> kNotSecret = {"ETCD_INITIAL_CLUSTER_TOKEN",
                                                                 "INITIAL_CLUSTER_TOKEN"};
  for (std::string_view n : kNotSecret)
    if (iequals(name, n)) return false;
  return RE2::PartialMatch(name, *compiled().credential_name);
}

bool isPlaceholderValue(std::string_view v) {
  v = trim(v);
  if (v.size() < 4) return true;
  if (v.starts_with("$(") || v.starts_with("${") || v.starts_with("{{") || v.starts_with("/") ||
      v.starts_with("file://") || v.starts_with("<") || v.starts_with("%"))
    return true;
  static constexpr std::array<std::string_view, 10> kWords = {
      "true",      "false",       "null",     "none",     "changeme",
      "change-me", "placeholder", "redacted", "xxxxxxxx", "********"};
  for (std::string_view w : kWords)
    if (iequals(v, w)) return true;
  bool same = true;
  for (char c : v) same &= (c == v[0]);
  if (same) return true;
  // Configuration rather than a credential: prose, or option lists such as
  // "jwt,priv-key=/path/key.pem,sign-method=RS256" (a trailing '=' is base64 padding).
  if (v.find_first_of(" \t") != std::string_view::npos) return true;
  size_t eq = v.find('=');
  bool inner_eq =
      eq != std::string_view::npos && v.find_first_not_of('=', eq) != std::string_view::npos;
  return inner_eq && v.find(',') != std::string_view::npos;
}

std::string redact(std::string_view value, bool keep_prefix) {
  size_t keep = keep_prefix ? std::min<size_t>(4, value.size() / 4) : 0;
  return fmt::format("{}***({} chars, redacted)", value.substr(0, keep), value.size());
}

}  // namespace kh
