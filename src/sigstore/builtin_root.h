// The Sigstore trusted root a verifier uses: a trusted_root.json file, or the production root
// built into the binary (scripts/install-deps takes it from the pinned @sigstore/tuf package,
// scripts/embed_trusted_root.cmake embeds it).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "sigstore/trusted_root.h"

namespace kh::sigstore {

// "@sigstore/tuf 5.0.1 (https://tuf-repo-cdn.sigstore.dev), published 2026-11-05"; empty when
// this build has no root built in.
std::string builtInRootSource();

// Reads `path`, or the built-in root when it is empty. `warning` gets a sentence when the
// built-in root was published more than 180 days before `now` (Unix seconds; 0: the clock): keys
// rotated since are unknown to it.
Result<TrustedRoot> loadTrustedRoot(const std::string& path, std::string* warning, int64_t now = 0);

}  // namespace kh::sigstore
