#include "checks/pss/pss_checks.h"

namespace kh {

void addPssChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(makePssBaseline());
  out.push_back(makePssRestricted());
}

}  // namespace kh
