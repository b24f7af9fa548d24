// Secrets in image layers: every text file of every layer, including files a later layer
// deleted (a deleted secret is still in the image, one `docker save` away), scanned with the
// same rule set as the manifest checks (checks/secrets/rules.h). Binary files (NUL bytes),
// files over the size cap and paths that never hold configuration (documentation, man pages,
// locales, headers) are skipped and counted.
#pragma once

#include <vector>

#include "checks/check.h"
#include "image/filesystem.h"

namespace kh::image {

constexpr size_t kSecretFileCap = 2u << 20;

ContentHandler secretsHandler(size_t cap = kSecretFileCap);

// The secrets of every layer, a file's copies in several layers reported once (from the lowest
// layer), each marked deleted when its file is not in the final filesystem as that layer left it.
std::vector<SecretFinding> collectSecrets(const Filesystem& fs);
// Critical for a known credential format, high for a credential-like assignment.
Severity secretSeverity(const SecretFinding& f);
SecretStats secretStats(const Filesystem& fs);

}  // namespace kh::image
