// kubeharden sigstore verify-bundle: one Sigstore bundle against a file or a sha256 digest,
// following the Sigstore client conformance CLI protocol (exit 0 verified, 1 not, 2 usage,
// 3 unreadable input).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/trust.h"
#include "sigstore/bundle.h"
#include "sigstore/verify.h"

namespace kh {

namespace {

struct Args {
  std::string bundle, key, identity, identity_regexp, issuer, issuer_regexp, trusted_root;
  std::string artifact;
};

bool readAll(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

int inputError(const std::string& what) {
  std::fprintf(stderr, "kubeharden sigstore: %s\n", what.c_str());
  return kExitInput;
}

}  // namespace

Runner addSigstoreCommand(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.require_subcommand(1);
  CLI::App* vb = app.add_subcommand(
      "verify-bundle",
      "Verify a Sigstore bundle for a file or a sha256:HEX digest (the Sigstore conformance "
      "protocol)");
  vb->add_option("--bundle", a->bundle, "The bundle (JSON)")->required();
  vb->add_option("--key", a->key, "Verify with this public key (PEM) instead of an identity");
  vb->add_option("--certificate-identity", a->identity,
                 "The signer's identity (certificate subject alternative name), exactly");
  vb->add_option("--certificate-identity-regexp", a->identity_regexp,
                 "The signer's identity as an RE2 regular expression (whole name)");
  vb->add_option("--certificate-oidc-issuer", a->issuer, "The OIDC issuer, exactly");
  vb->add_option("--certificate-oidc-issuer-regexp", a->issuer_regexp,
                 "The OIDC issuer as an RE2 regular expression");
  vb->add_option("--trusted-root", a->trusted_root,
                 "A Sigstore trusted_root.json (default: the production root built in)");
  vb->add_option("artifact", a->artifact, "The signed file, or sha256:HEX")->required();
  return [a, vb]() -> int {
    if (!vb->parsed()) return kExitUsage;
    bool keyless = a->key.empty();
    if (keyless && ((a->identity.empty() && a->identity_regexp.empty()) ||
                    (a->issuer.empty() && a->issuer_regexp.empty()))) {
      std::fprintf(stderr,
                   "kubeharden sigstore verify-bundle: give --key, or both an identity "
                   "(--certificate-identity[-regexp]) and an issuer "
                   "(--certificate-oidc-issuer[-regexp])\n");
      return kExitUsage;
    }
    sigstore::Policy policy;
    policy.identity = a->identity;
    policy.identity_regexp = a->identity_regexp;
    policy.issuer = a->issuer;
    policy.issuer_regexp = a->issuer_regexp;
    if (!keyless) {
      std::string pem;
      if (!readAll(a->key, &pem)) return inputError(a->key + ": cannot read the key");
      auto k = sigstore::PublicKey::fromPem(pem);
      if (!k) return inputError(a->key + ": " + k.error().message);
      policy.key = k.value();
    }
    auto root = loadTrustedRoot(a->trusted_root, "kubeharden sigstore");
    if (!root) return inputError(root.error().describe());
    std::string bundle_json;
    if (!readAll(a->bundle, &bundle_json))
      return inputError(a->bundle + ": cannot read the bundle");
    auto bundle = sigstore::parseBundle(bundle_json, a->bundle);
    if (!bundle) return inputError(bundle.error().describe());
    sigstore::Artifact art;
    if (a->artifact.starts_with("sha256:")) {
      auto raw = sigstore::unhex(a->artifact.substr(7));
      if (!raw || raw.value().size() != 32)
        return inputError(a->artifact + ": not sha256: and 64 hex digits");
      art.sha256 = raw.value();
      art.digest_only = true;
    } else {
      if (!readAll(a->artifact, &art.bytes)) return inputError(a->artifact + ": cannot read it");
      art.sha256 = sigstore::sha256(art.bytes);
    }
    auto v = sigstore::verifyBundle(bundle.value(), art, policy, root.value());
    if (!v) {
      const std::string& m = v.error().message;
      std::fprintf(stderr, "kubeharden sigstore verify-bundle: not verified: %s\n", m.c_str());
      return kExitFindings;
    }
    const auto& r = v.value();
    std::fprintf(stderr, "verified: signed by %s%s%s\n", r.signer.c_str(),
                 r.issuer.empty() ? "" : " (issuer ",
                 r.issuer.empty() ? "" : (r.issuer + ")").c_str());
    return kExitClean;
  };
}

}  // namespace kh
