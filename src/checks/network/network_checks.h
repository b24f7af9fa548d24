// Factories of the NetworkPolicy checks: each reports, in finish(), the lints of its kind that
// the shared per-scan analysis (ScanIndex::netpolLints) found.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addNetworkExposureChecks(std::vector<std::unique_ptr<Check>>& out);
void addNetworkChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
