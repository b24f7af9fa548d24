// NetworkPolicy lints over an analysed model: namespaces without default-deny, workloads not
// isolated, policies or peers that select nothing, named ports that resolve nowhere, egress
// isolation that blocks DNS, and allow-all rules. Pure; the same results feed `netpol lint` and
// the network-* checks of `scan`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netpol/analyzer.h"

namespace kh::netpol {

struct LintFinding {
  std::string_view check;  // the scan check ID, e.g. "network-no-default-deny"
  std::string_view rule;   // sub-rule when the check has several ("ingress", "egress", ...)
  const Object* object = nullptr;
  std::string path;
  SourcePos pos;
  std::string message;
};

std::vector<LintFinding> lint(const Analyzer& a);

}  // namespace kh::netpol
