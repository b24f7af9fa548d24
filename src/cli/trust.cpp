#include "cli/trust.h"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace kh {

extern const char* const kTrustedRootJson;
extern const char* const kTrustedRootSource;

namespace {

constexpr int64_t kStaleDays = 180;

}  // namespace

std::string builtInTrustedRootSource() {
  return *kTrustedRootJson ? kTrustedRootSource : "none (pass --trusted-root)";
}

Result<sigstore::TrustedRoot> loadTrustedRoot(const std::string& path, const char* who) {
  if (!path.empty()) {
    std::string text;
    if (!readFileTo(path, text)) return Error{"cannot read the trusted root", path, {}};
    return sigstore::parseTrustedRoot(text, path);
  }
  if (!*kTrustedRootJson)
    return Error{"this build has no Sigstore trusted root built in: pass --trusted-root", {}, {}};
  std::string source = kTrustedRootSource;
  if (size_t at = source.find("published "); at != std::string::npos) {
    auto published = sigstore::parseRfc3339(source.substr(at + 10, 10) + "T00:00:00Z");
    int64_t age =
        published ? (static_cast<int64_t>(std::time(nullptr)) - published.value()) / 86400 : 0;
    if (age > kStaleDays)
      std::fprintf(stderr,
                   "%s: warning: the built-in Sigstore trusted root (%s) is %lld days old: keys "
                   "rotated since are unknown to it; update kubeharden or pass --trusted-root\n",
                   who, source.c_str(), static_cast<long long>(age));
  }
  return sigstore::parseTrustedRoot(kTrustedRootJson, "the built-in trusted root (" + source + ")");
}

void addPolicyOptions(CLI::App* app, PolicyArgs& a) {
  app->add_option("--key", a.key, "Verify with this public key (PEM) instead of an identity");
  app->add_option("--certificate-identity", a.identity,
                  "The keyless signer's identity (certificate subject alternative name), exactly");
  app->add_option("--certificate-identity-regexp", a.identity_regexp,
                  "The keyless signer's identity as an RE2 regular expression (whole name)");
  app->add_option("--certificate-oidc-issuer", a.issuer, "The OIDC issuer, exactly");
  app->add_option("--certificate-oidc-issuer-regexp", a.issuer_regexp,
                  "The OIDC issuer as an RE2 regular expression");
  app->add_option("--trusted-root", a.trusted_root,
                  "A Sigstore trusted_root.json (default: the production root built in)");
  app->add_flag("--require-timestamp", a.require_timestamp,
                "With --key too, require a verified transparency-log entry or RFC 3161 time "
                "stamp (keyless verification always does)");
}

Result<Verification> verificationFrom(const PolicyArgs& a, const char* who, int* exit_code) {
  auto fail = [&](int code, const std::string& m) {
    *exit_code = code;
    std::fprintf(stderr, "%s: %s\n", who, m.c_str());
    return Error{m, {}, {}};
  };
  Verification v;
  if (a.key.empty()) {
    if ((a.identity.empty() && a.identity_regexp.empty()) ||
        (a.issuer.empty() && a.issuer_regexp.empty()))
      return fail(2,
                  "give --key, or both an identity (--certificate-identity[-regexp]) and an "
                  "issuer (--certificate-oidc-issuer[-regexp])");
    v.policy.identity = a.identity;
    v.policy.identity_regexp = a.identity_regexp;
    v.policy.issuer = a.issuer;
    v.policy.issuer_regexp = a.issuer_regexp;
  } else {
    std::string pem;
    if (!readFileTo(a.key, pem)) return fail(3, a.key + ": cannot read the key");
    auto k = sigstore::PublicKey::fromPem(pem);
    if (!k) return fail(3, a.key + ": " + k.error().message);
    v.policy.key = k.value();
  }
  v.policy.require_timestamp = a.require_timestamp;
  auto root = loadTrustedRoot(a.trusted_root, who);
  if (!root) return fail(3, root.error().describe());
  v.root = std::move(root.value());
  return v;
}

}  // namespace kh
