#include "checks/secrets/secrets_checks.h"

namespace kh {

void addSecretsChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(makeSecretsEnvLiteral());
  addSecretsObjectChecks(out);
}

}  // namespace kh
