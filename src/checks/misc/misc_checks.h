// The misc-area checks: API versions, bare Pods, policy objects of other engines (Gatekeeper,
// OpenShift SCCs, PodSecurityPolicies) and legacy components.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addMiscAgentSandboxChecks(std::vector<std::unique_ptr<Check>>& out);
void addMiscSchemaChecks(std::vector<std::unique_ptr<Check>>& out);
void addMiscChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
