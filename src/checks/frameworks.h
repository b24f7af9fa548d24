// Compliance frameworks: the controls of the NSA/CISA Kubernetes Hardening Guide, the CIS
// Kubernetes Benchmark (v1.12), the Pod Security Standards (baseline, restricted) and MITRE
// ATT&CK for containers, and which controls each check (and each sub-rule of a check) serves.
// The mapping is data derived from the checks' refs, refined per sub-rule where a check covers
// several controls (an RBAC risk, a PSA check, a CIS flag rule). Immutable; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check.h"

namespace kh {

struct Control {
  std::string id;  // e.g. "NSA-1", "5.2.2", "hostNamespaces", "T1611"
  std::string title;
};

struct Framework {
  std::string_view id;            // nsa, cis, pss-baseline, pss-restricted, mitre
  std::string_view title;         // e.g. "CIS Kubernetes Benchmark v1.12"
  std::vector<Control> controls;  // every control kubeharden evaluates, in document order
};

// Every framework, in a fixed order.
std::span<const Framework> frameworks();
const Framework* findFramework(std::string_view id);

// The controls of `fw` that a finding of check `meta` with sub-rule `rule` bears on. With an
// empty rule: every control the check as a whole can bear on (to know which checks a
// framework needs and which objects each control judges).
std::vector<std::string_view> controlsOf(const Framework& fw, const CheckMeta& meta,
                                         std::string_view rule = {});

}  // namespace kh
