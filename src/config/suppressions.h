// Suppressions: inline annotations on objects and exceptions from the config file.
//
//   kubeharden.io/ignore: "ID,ID"            (or "*") on the object or its pod template
//   kubeharden.io/ignore.CONTAINER: "ID"     only findings about that container
//   kubeharden.io/ignore-reason: "..."       why (a diagnostic when missing)
//   kubeharden.io/ignore-until: YYYY-MM-DD   the suppression lapses after that day, and says so
//
// A suppressed finding is kept, marked suppressed, and does not fail the run.
#pragma once

#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "checks/check.h"
#include "config/config.h"

namespace kh {

struct SuppressionOptions {
  bool inline_ignores = true;  // false with --no-inline-ignores
  std::string today;           // YYYY-MM-DD
};

// Marks the findings that a suppression covers. Lapsed or malformed suppressions, and ignores
// naming unknown checks, become diagnostics (one per annotation or exception).
void applySuppressions(std::vector<Finding>& findings, const Config& cfg,
                       const SuppressionOptions& opts, std::vector<Diagnostic>& diags);

}  // namespace kh
