// Factories of the RBAC checks: they report, in finish(), what the shared per-scan RBAC
// analysis (ScanIndex::rbacRisks) found.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addRbacObjectChecks(std::vector<std::unique_ptr<Check>>& out);
void addRbacChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
