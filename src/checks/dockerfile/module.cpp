#include "checks/dockerfile/dockerfile_checks.h"

namespace kh {

void addDockerfileChecks(std::vector<std::unique_ptr<Check>>& out) {
  addDockerfilePackageChecks(out);
  addDockerfileRunChecks(out);
  addDockerfileSecurityChecks(out);
  addDockerfileStructureChecks(out);
}

}  // namespace kh
