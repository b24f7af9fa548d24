// Values of the Kubernetes CEL environment that the host makes (src/cel/k8s_lib.cpp): the
// `authorizer` variable and `authorizer.requestResource`. Offline, an authorization check has no
// cluster to ask: `check()` yields an unknown value naming the check, so an expression that
// depends on it is "unevaluable", never a pass (docs/policies.md).
#pragma once

#include <string>
#include <vector>

#include "cel/value.h"

namespace kh::cel::kubernetes {

Value authorizer(std::string user, std::vector<std::string> groups);
Value requestResourceCheck(std::string user, std::vector<std::string> groups, std::string group,
                           std::string resource, std::string subresource, std::string namespace_,
                           std::string name);

}  // namespace kh::cel::kubernetes
