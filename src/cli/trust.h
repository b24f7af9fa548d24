// The Sigstore trusted root a verifying command uses: --trusted-root FILE, else the production
// root built into the binary (scripts/install-deps, scripts/embed_trusted_root.cmake), with a
// warning on stderr when that one is more than 180 days old.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "base/result.h"
#include "sigstore/trusted_root.h"
#include "sigstore/verify.h"

namespace kh {

// "@sigstore/tuf 5.0.1 (https://tuf-repo-cdn.sigstore.dev), published 2026-11-05", or "none".
std::string builtInTrustedRootSource();

// Reads `path` (or the built-in root when empty); `who` prefixes the warning.
Result<sigstore::TrustedRoot> loadTrustedRoot(const std::string& path, const char* who);

// The verification policy options `image verify` and `sigstore verify-bundle` share: --key, or
// --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]; --trusted-root.
struct PolicyArgs {
  std::string key, identity, identity_regexp, issuer, issuer_regexp, trusted_root;
  bool require_timestamp = false;
};
void addPolicyOptions(CLI::App* app, PolicyArgs& a);

// The policy and trust root the options describe: nullopt-like failure as an exit code (2 for
// a missing identity or issuer, 3 for an unreadable key or root), the message on stderr.
struct Verification {
  sigstore::Policy policy;
  sigstore::TrustedRoot root;
};
Result<Verification> verificationFrom(const PolicyArgs& a, const char* who, int* exit_code);

}  // namespace kh
