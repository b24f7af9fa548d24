// The default ClusterRoles and ClusterRoleBindings every cluster has but no repository holds
// (cluster-admin, admin, edit, view and the aggregate-to-* roles behind them, system:discovery,
// system:basic-user, system:public-info-viewer, ...), written down for one stated Kubernetes
// version so that bindings to them resolve and aggregation into admin/edit/view is exact.
// Objects the user supplies win: a default is left out when the input holds an object of the
// same kind and name. See docs/rbac.md "Built-in roles".
#pragma once

#include <string_view>
#include <vector>

#include "model/object.h"

namespace kh::rbac {

inline constexpr std::string_view kDefaultsVersion = "1.31";
inline constexpr std::string_view kDefaultsFile = "<kubernetes-1.31-defaults>";

// The built-in objects, parsed once (thread-safe); they live for the whole program.
const std::vector<const Object*>& defaultObjects();

// `objects` followed by every default that none of them shadows (same kind and name).
std::vector<const Object*> withDefaults(const std::vector<const Object*>& objects);

inline bool isDefault(const Object* o) {
  return o && o->file == kDefaultsFile;
}

}  // namespace kh::rbac
