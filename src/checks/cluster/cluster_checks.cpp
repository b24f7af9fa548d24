#include "checks/cluster/cluster_checks.h"

namespace kh {

void addClusterChecks(std::vector<std::unique_ptr<Check>>& out) {
  addDriftChecks(out);
  addImageVulnerabilityChecks(out);
  addVersionChecks(out);
}

}  // namespace kh
