// Baselines: an earlier JSON report whose findings are not reported again. Findings match by
// fingerprint (check, object identity, container and field path; no line numbers), so a
// baseline survives edits that move lines.
#pragma once

#include <string>
#include <unordered_set>

#include "base/result.h"
#include "checks/check.h"

namespace kh {

std::string fingerprintOf(const Finding& f);

// The fingerprints of a kubeharden/scan/v1 JSON report.
Result<std::unordered_set<std::string>> loadBaseline(const std::string& path);

}  // namespace kh
