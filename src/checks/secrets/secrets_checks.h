// Factories of the secrets-area checks and the area's module.
#pragma once

#include <memory>
#include <vector>

#include "checks/check.h"

namespace kh {

std::unique_ptr<Check> makeSecretsEnvLiteral();

void addSecretsObjectChecks(std::vector<std::unique_ptr<Check>>& out);
void addSecretsChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
