#include "checks/secrets/rules.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include "base/strings.h"

namespace kh {
namespace {

struct RuleDef {
  SecretRule rule;
  std::string_view pattern;
  // Literals of which every match contains one ('|'-separated): a one-pass prefilter skips the
  // full rule set for the great majority of values, which contain none.
  std::string_view anchors;
};

constexpr RuleDef kRules[] = {
    {{"aws-access-key-id", "AWS access key ID"},
     R"(\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b)",
     "AKIA|ASIA|ABIA|ACCA"},
    {{"github-token", "GitHub token"},
     R"(\bgh[pousr]_[A-Za-z0-9]{36,255}\b)",
     "ghp_|gho_|ghu_|ghs_|ghr_"},
    {{"github-fine-grained-token", "GitHub fine-grained token"},
     R"(\bgithub_pat_[A-Za-z0-9_]{60,255})",
     "github_pat_"},
    {{"gitlab-token", "GitLab token"},
     R"(\bgl(?:pat|rt|dt|ptt|cbt|oas|ft)-[A-Za-z0-9_-]{20,})",
     "glpat-|glrt-|gldt-|glptt-|glcbt-|gloas-|glft-"},
    {{"slack-token", "Slack token"},
     R"(\bxox[abposr]-[A-Za-z0-9-]{10,})",
     "xoxa-|xoxb-|xoxp-|xoxo-|xoxs-|xoxr-"},
    {{"slack-webhook", "Slack webhook URL"},
     R"(https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+)",
     "hooks.slack.com"},
    {{"discord-webhook", "Discord webhook URL"},
     R"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]{20,})",
     "/api/webhooks/"},
    {{"stripe-secret-key", "Stripe secret key"},
     R"(\b[sr]k_live_[0-9a-zA-Z]{20,})",
     "sk_live_|rk_live_"},
    {{"stripe-webhook-secret", "Stripe webhook signing secret"},
     R"(\bwhsec_[A-Za-z0-9]{32,})",
     "whsec_"},
    {{"google-api-key", "Google API key"}, R"(\bAIza[0-9A-Za-z_-]{35}\b)", "AIza"},
    {{"private-key", "private key"},
     R"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----)",
     "PRIVATE KEY"},
    {{"age-secret-key", "age secret key"},
     R"(\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b)",
     "AGE-SECRET-KEY-1"},
    {{"jwt", "JSON Web Token"},
     R"(\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
     "eyJ"},
    {{"npm-token", "npm access token"}, R"(\bnpm_[A-Za-z0-9]{36}\b)", "npm_"},
    {{"pypi-token", "PyPI upload token"},
     R"(\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
     "pypi-AgEIcHlwaS5vcmc"},
    {{"dockerhub-token", "Docker Hub access token"},
     R"(\bdckr_pat_[A-Za-z0-9_-]{27,})",
     "dckr_pat_"},
    {{"sendgrid-api-key", "SendGrid API key"},
     R"(\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b)",
     "SG."},
    {{"twilio-api-key", "Twilio API key"}, R"(\bSK[0-9a-fA-F]{32}\b)", "SK"},
    {{"mailgun-api-key", "Mailgun API key"}, R"(\bkey-[0-9a-zA-Z]{32}\b)", "key-"},
    {{"azure-storage-key", "Azure storage account key"},
     R"(AccountKey=[A-Za-z0-9+/]{86}==)",
     "AccountKey="},
    {{"azure-client-secret", "Azure AD client secret"},
     R"((?:^|[^A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?:$|[^A-Za-z0-9_~.-]))",
     "Q~"},
    {{"alibaba-access-key-id", "Alibaba Cloud access key ID"},
     R"(\bLTAI[A-Za-z0-9]{20}\b)",
     "LTAI"},
    {{"digitalocean-token", "DigitalOcean token"}, R"(\bdo[por]_v1_[a-f0-9]{64}\b)", "_v1_"},
    {{"openai-api-key", "OpenAI API key"},
     R"(\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))",
     "sk-"},
    {{"anthropic-api-key", "Anthropic API key"},
     R"(\bsk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,})",
     "sk-ant-"},
    {{"huggingface-token", "Hugging Face token"}, R"(\bhf_[A-Za-z]{34}\b)", "hf_"},
    {{"shopify-token", "Shopify access token"},
     R"(\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b)",
     "shpat_|shpca_|shppa_|shpss_"},
    {{"square-token", "Square access token"},
     R"(\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}\b)",
     "sq0atp-|sq0csp-"},
    {{"databricks-token", "Databricks access token"}, R"(\bdapi[a-f0-9]{32}(?:-[0-9])?\b)", "dapi"},
    {{"grafana-token", "Grafana token"},
     R"(\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}))",
     "glsa_|glc_"},
    {{"vault-token", "HashiCorp Vault token"}, R"(\bhv[sb]\.[A-Za-z0-9_-]{24,})", "hvs.|hvb."},
    {{"atlassian-api-token", "Atlassian API token"}, R"(\bATATT3[A-Za-z0-9_=-]{180,})", "ATATT3"},
    {{"newrelic-api-key", "New Relic user API key"}, R"(\bNRAK-[A-Z0-9]{27}\b)", "NRAK-"},
    {{"telegram-bot-token", "Telegram bot token"}, R"(\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}\b)", ":AA"},
    {{"linear-api-key", "Linear API key"}, R"(\blin_api_[A-Za-z0-9]{40}\b)", "lin_api_"},
    // scheme://user:password@host, where the password is a literal, not $(VAR) or ${VAR}.
    {{"url-with-password", "connection string with a password"},
     R"([a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^:/@\s]+:([^@/\s$]{3,})@[^\s]+)",
     "://"},
};

// Markers of documentation examples (AWS's AKIAIOSFODNN7EXAMPLE, user:pw@example.com): never real.
constexpr std::array<std::string_view, 4> kAllowed = {
    "EXAMPLE",
    "example.com",
    "example.org",
    "example.net",
};

// Does `s` start with the short literal `p`? A loop rather than memcmp: these run for every
// value and name, against literals of a few bytes, where a call costs more than the compare.
inline bool shortPrefix(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i)
    if (s[i] != p[i]) return false;
  return true;
}

inline bool shortSuffix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && shortPrefix(s.substr(s.size() - p.size()), p);
}

// The rules' anchors by first byte: one pass over a value finds whether any anchor occurs in it
// (most values hold none and never reach the rule set). Hand-rolled rather than one RE2
// alternation: RE2's per-call cost and its shared cache lock showed in admission profiles.
class AnchorIndex {
 public:
  AnchorIndex() {
    for (const RuleDef& r : kRules)
      for (std::string_view a : splitTrimmed(r.anchors, '|'))
        by_first_[static_cast<unsigned char>(a[0])].push_back(a);
  }
  bool anyIn(std::string_view v) const {
    for (size_t i = 0; i < v.size(); ++i) {
      const std::vector<std::string_view>& starting = by_first_[static_cast<unsigned char>(v[i])];
      if (starting.empty()) continue;
      std::string_view rest = v.substr(i);
      for (std::string_view a : starting)
        if (shortPrefix(rest, a)) return true;
    }
    return false;
  }

 private:
  std::array<std::vector<std::string_view>, 256> by_first_;
};

struct Compiled {
  RE2::Set set{RE2::Options(), RE2::UNANCHORED};
  std::unique_ptr<RE2> assignment;
  AnchorIndex anchors;
  Compiled() {
    // key: value, key = value, "key": "value", export KEY=value (one line of a config file).
    assignment = std::make_unique<RE2>(
        R"re(^(?:export\s+)?["']?([A-Za-z0-9_.-]{2,64})["']?\s*[:=]\s*["']?([^"'\s,;]+)["']?\s*[,;]?(?:\s+#.*)?$)re");
    for (const RuleDef& r : kRules) set.Add(r.pattern, nullptr);
    set.Compile();
  }
};

const Compiled& compiled() {
  static const Compiled c;
  return c;
}

// Words a credential's name ends with, lower case, each either the whole name or after '_', '.'
// or '-' (API_TOKEN, db.password, client-secret, but not BYPASS or TOKENIZER).
constexpr std::string_view kCredentialWords[] = {
    "password",     "passwd",       "passphrase",    "pwd",           "pass",        "secret",
    "secretkey",    "secret_key",   "secret-key",    "token",         "accesstoken", "access_token",
    "access-token", "authtoken",    "auth_token",    "auth-token",    "apikey",      "api_key",
    "api-key",      "accesskey",    "access_key",    "access-key",    "privatekey",  "private_key",
    "private-key",  "clientsecret", "client_secret", "client-secret", "credential",  "credentials",
    "auth",
};

// ASCII lower case of a name, in a buffer that needs no allocation for names of usual length.
class LowerName {
 public:
  explicit LowerName(std::string_view s) {
    char* out = s.size() <= kInline ? inline_.data() : (heap_.resize(s.size()), heap_.data());
    for (size_t i = 0; i < s.size(); ++i)
      out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? static_cast<char>(s[i] + ('a' - 'A')) : s[i];
    view_ = {out, s.size()};
  }
  std::string_view view() const { return view_; }

 private:
  static constexpr size_t kInline = 128;
  std::array<char, kInline> inline_;
  std::string heap_;
  std::string_view view_;
};

bool namesDigestLower(std::string_view lower) {
  for (std::string_view w : {"checksum", "hash", "digest", "sha1", "sha256", "fingerprint"})
    if (lower.find(w) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::optional<SecretRule> matchSecretValue(std::string_view value) {
  const Compiled& c = compiled();
  if (value.size() < 12 || !c.anchors.anyIn(value)) return std::nullopt;
  for (std::string_view a : kAllowed)
    if (value.find(a) != std::string_view::npos) return std::nullopt;
  std::vector<int> hits;
  if (!c.set.Match(value, &hits) || hits.empty()) return std::nullopt;
  int first = *std::min_element(hits.begin(), hits.end());
  return kRules[static_cast<size_t>(first)].rule;
}

bool namesDigest(std::string_view name) {
  return namesDigestLower(LowerName(name).view());
}

bool isCredentialName(std::string_view name) {
  LowerName lower_name(name);
  std::string_view lower = lower_name.view();
  if (namesDigestLower(lower)) return false;
  // Names that say "token" but hold identifiers everyone shares, not credentials.
  if (lower == "etcd_initial_cluster_token" || lower == "initial_cluster_token") return false;
  if (lower.empty()) return false;
  for (std::string_view w : kCredentialWords) {
    if (lower.back() != w.back() || !shortSuffix(lower, w)) continue;
    if (lower.size() == w.size()) return true;
    char before = lower[lower.size() - w.size() - 1];
    if (before == '_' || before == '.' || before == '-') return true;
  }
  return false;
}

bool isPlaceholderValue(std::string_view v) {
  v = trim(v);
  if (v.size() < 4) return true;
  // $VAR, $(cmd), ${VAR}: a reference resolved at run time.
  if ((v[0] == '$' && (std::isalpha(static_cast<unsigned char>(v[1])) || v[1] == '_')) ||
      v.starts_with("$(") || v.starts_with("${") || v.starts_with("{{") || v.starts_with("/") ||
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

double shannonEntropy(std::string_view v) {
  if (v.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (unsigned char c : v) ++counts[c];
  double h = 0, n = static_cast<double>(v.size());
  for (uint32_t c : counts) {
    if (c == 0) continue;
    double p = c / n;
    h -= p * std::log2(p);
  }
  return h;
}

bool looksLikeSecretLiteral(std::string_view v) {
  v = trim(v);
  if (isPlaceholderValue(v) || v.size() < 8) return false;
  // A Kubernetes object reference (name, or namespace/name: lower case, digits, '-' and '.')
  // names where a secret lives; it is not one.
  static const RE2 kObjectRef(
      R"([a-z0-9]([-a-z0-9.]*[a-z0-9])?(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?)");
  if (v.find_first_of("-/") != std::string_view::npos && RE2::FullMatch(v, kObjectRef))
    return false;
  // Version strings, numbers, hosts and plain words are configuration, not credentials.
  bool digit = false, alpha = false;
  for (char c : v) {
    digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
    alpha |= std::isalpha(static_cast<unsigned char>(c)) != 0;
  }
  if (!digit || !alpha) return shannonEntropy(v) >= 3.5 && v.size() >= 16;
  return shannonEntropy(v) >= 3.0;
}

void scanConfigText(std::string_view text,
                    const std::function<void(const ConfigSecret&)>& on_secret, bool assignments) {
  uint32_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::string_view t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';' || t.starts_with("//")) continue;
    if (auto rule = matchSecretValue(t)) {
      on_secret({line_no, std::string(rule->id), std::string(rule->title), {}, t});
      continue;
    }
    if (!assignments) continue;
    // Cheap look at the would-be key first: most lines assign nothing credential-like.
    std::string_view k = t;
    if (k.starts_with("export ")) k = trim(k.substr(7));
    if (!k.empty() && (k[0] == '"' || k[0] == '\'')) k.remove_prefix(1);
    size_t end = 0;
    while (end < k.size() && (std::isalnum(static_cast<unsigned char>(k[end])) || k[end] == '_' ||
                              k[end] == '.' || k[end] == '-'))
      ++end;
    if (end < 2 || !isCredentialName(k.substr(0, end))) continue;
    std::string key, value;
    if (!RE2::PartialMatch(t, *compiled().assignment, &key, &value)) continue;
    if (!isCredentialName(key) || !looksLikeSecretLiteral(value)) continue;
    on_secret({line_no, "credential-assignment", "credential", key, value});
  }
}

std::string redact(std::string_view value, bool keep_prefix) {
  size_t keep = keep_prefix ? std::min<size_t>(4, value.size() / 4) : 0;
  return fmt::format("{}***({} chars, redacted)", value.substr(0, keep), value.size());
}

}  // namespace kh
