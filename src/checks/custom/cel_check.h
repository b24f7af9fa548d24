// Checks written in CEL in the config file (`customChecks:`, docs/policies.md "Custom checks"):
// each compiled once into a Check that the registry runs like the built-in ones.
#pragma once

#include <memory>
#include <vector>

#include "base/result.h"
#include "checks/check.h"
#include "config/config.h"

namespace kh {

// The config's custom checks, compiled (an expression that does not compile is an Error at its
// line in the config file, with cel-go's message).
Result<std::vector<std::unique_ptr<Check>>> makeCustomChecks(const Config& cfg);

}  // namespace kh
