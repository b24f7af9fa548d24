// The reliability group: probes, replicas, spreading, disruption budgets, autoscalers and
// hygiene. Opt-in as a group (`--enable reliability`); none is a security finding.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addRelChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
