#include "checks/image/image_checks.h"

namespace kh {

void addImageChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(makeImageLatestTag());
  addImageConfigChecks(out);
  addImageKnownVulnerableChecks(out);
  addImageRegistryChecks(out);
}

}  // namespace kh
