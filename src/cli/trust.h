// The Sigstore trusted root a verifying command uses: --trusted-root FILE, else the production
// root built into the binary (scripts/install-deps, scripts/embed_trusted_root.cmake), with a
// warning on stderr when that one is more than 180 days old.
#pragma once

#include <string>

#include "base/result.h"
#include "sigstore/trusted_root.h"

namespace kh {

// "@sigstore/tuf 5.0.1 (https://tuf-repo-cdn.sigstore.dev), published 2026-11-05", or "none".
std::string builtInTrustedRootSource();

// Reads `path` (or the built-in root when empty); `who` prefixes the warning.
Result<sigstore::TrustedRoot> loadTrustedRoot(const std::string& path, const char* who);

}  // namespace kh
