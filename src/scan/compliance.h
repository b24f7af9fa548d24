// Compliance with a framework (NSA, CIS, PSS, MITRE): per control, which objects its checks
// judged and which of them fail, and a score. Computed from a finished scan; see
// docs/frameworks.md for the rules.
#pragma once

#include <string_view>
#include <vector>

#include "checks/frameworks.h"

namespace kh {

struct ScanResult;

struct ControlResult {
  const Control* control = nullptr;
  // pass, fail, not-applicable (no object in the input for its checks) or not-evaluated (none
  // of its checks is enabled in this run)
  std::string_view status;
  size_t checked = 0;                    // objects its checks judged
  std::vector<const Object*> failing;    // objects with an unsuppressed finding, in order
  std::vector<std::string_view> checks;  // enabled checks that serve it
};

struct ComplianceResult {
  const Framework* framework = nullptr;
  std::vector<ControlResult> controls;  // in the framework's order
  double score = 100.0;  // mean of (checked - failing) / checked over judged controls
  size_t passed = 0, failed = 0, not_applicable = 0, not_evaluated = 0;
};

ComplianceResult assessCompliance(const Framework& fw, const ScanResult& scan);

}  // namespace kh
