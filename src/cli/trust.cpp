#include "cli/trust.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "sigstore/builtin_root.h"

namespace kh {

std::string builtInTrustedRootSource() {
  std::string s = sigstore::builtInRootSource();
  return s.empty() ? "none (pass --trusted-root)" : s;
}

Result<sigstore::TrustedRoot> loadTrustedRoot(const std::string& path, const char* who) {
  std::string warning;
  auto root = sigstore::loadTrustedRoot(path, &warning);
  if (!warning.empty()) std::fprintf(stderr, "%s: warning: %s\n", who, warning.c_str());
  return root;
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
