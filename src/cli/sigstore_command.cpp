// kubeharden sigstore verify-bundle: one Sigstore bundle against a file or a sha256 digest,
// following the Sigstore client conformance CLI protocol (exit 0 verified, 1 not, 2 usage,
// 3 unreadable input).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/trust.h"
#include "sigstore/bundle.h"
#include "sigstore/verify.h"

namespace kh {

namespace {

struct Args {
  std::string bundle, artifact;
  PolicyArgs policy;
};

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
  addPolicyOptions(vb, a->policy);
  vb->add_option("artifact", a->artifact, "The signed file, or sha256:HEX")->required();
  return [a, vb]() -> int {
    if (!vb->parsed()) return kExitUsage;
    int code = kExitUsage;
    auto trust = verificationFrom(a->policy, "kubeharden sigstore verify-bundle", &code);
    if (!trust) return code;
    std::string bundle_json;
    if (!readFileTo(a->bundle, bundle_json))
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
      if (!readFileTo(a->artifact, art.bytes)) return inputError(a->artifact + ": cannot read it");
      art.sha256 = sigstore::sha256(art.bytes);
    }
    auto v = sigstore::verifyBundle(bundle.value(), art, trust->policy, trust->root);
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
