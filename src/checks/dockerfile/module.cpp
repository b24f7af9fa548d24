#include "checks/dockerfile/dockerfile_checks.h"

namespace kh {

void addDockerfileChecks(std::vector<std::unique_ptr<Check>>& out) {
  addDockerfileLabelChecks(out);
  addDockerfileLangChecks(out);
  addDockerfilePackageChecks(out);
  addDockerfileRpmChecks(out);
  addDockerfileRunChecks(out);
  addDockerfileSecurityChecks(out);
  addDockerfileShellcheckChecks(out);
  addDockerfileStructureChecks(out);
  addDockerfileStyleChecks(out);
}

}  // namespace kh
