// Factories of the Pod Security Standards checks (pss-baseline, pss-restricted): the exact PSA
// evaluator of src/pss run inside `scan`, one finding per violated PSA check.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

std::unique_ptr<Check> makePssBaseline();
std::unique_ptr<Check> makePssRestricted();

void addPssChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
