// Values of the Kubernetes CEL environment that the host makes (src/cel/k8s_lib.cpp): the
// `authorizer` variable and `authorizer.requestResource`. Offline, an authorization check has no
// cluster to ask: `check()` yields an unknown value naming the check, so an expression that
// depends on it is "unevaluable", never a pass (docs/policies.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cel/value.h"

namespace kh::cel::kubernetes {

// What a check asks, and what an authorizer the host has (kubeharden's RBAC model of the input)
// answers; no answer (nullopt, or no backend) leaves the check unknown.
struct AuthorizationRequest {
  std::string user;
  std::vector<std::string> groups;
  std::string verb, group, resource, subresource, namespace_, name;
  std::string path;  // non-resource requests (authorizer.path(...))
  bool non_resource = false;
};
struct AuthorizationDecision {
  bool allowed = false;
  std::string reason;
};
using Authorize = std::function<std::optional<AuthorizationDecision>(const AuthorizationRequest&)>;

Value authorizer(std::string user, std::vector<std::string> groups,
                 std::shared_ptr<const Authorize> backend = nullptr);
Value requestResourceCheck(std::string user, std::vector<std::string> groups, std::string group,
                           std::string resource, std::string subresource, std::string namespace_,
                           std::string name, std::shared_ptr<const Authorize> backend = nullptr);

}  // namespace kh::cel::kubernetes
