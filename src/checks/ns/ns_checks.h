// The namespace-area checks (placement of objects, and what each namespace of the input lacks).
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

void addNsChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
