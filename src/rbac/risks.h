// Risky permissions, judged on each subject's effective permissions (every binding of the
// subject together, not one role at a time), with the exact rule matching of the authorizer, so
// wildcards count and resourceNames-limited rules do not grant unnamed access. Each finding
// carries the chains that grant it. Catalogue: ../shared/reference/rbac.md §A3; docs/rbac.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rbac/rbac.h"

namespace kh::rbac {

struct Risk {
  std::string_view id;  // e.g. "secrets-read"
  std::string_view title;
  std::string_view severity;  // critical, high, medium, low
  Subject subject;
  std::string scope;  // "cluster-wide" or "namespace NS"
  std::vector<Grant> via;
  std::string message;
};

std::vector<Risk> analyzeRisks(const Model& m);

}  // namespace kh::rbac
