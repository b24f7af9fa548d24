// RBAC from manifests, exactly as the API server's RBAC authorizer decides: the model (Roles,
// ClusterRoles with aggregation computed to a fixpoint, RoleBindings, ClusterRoleBindings),
// rule matching (verbs, groups, resources with subresources and `*/sub`, resourceNames,
// nonResourceURL prefix globs), binding resolution (RoleBindings grant only in their namespace,
// ServiceAccount subjects default to the RoleBinding's namespace), implicit groups, and the
// system:masters superuser. Facts: ../shared/reference/rbac.md; docs/rbac.md. No I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/label_selector.h"
#include "model/object.h"

namespace kh::rbac {

struct Rule {
  std::vector<std::string_view> verbs, api_groups, resources, resource_names, urls;
};

struct Role {
  const Object* object = nullptr;
  bool cluster = false;  // ClusterRole
  std::string_view ns, name;
  Labels labels;
  std::vector<Rule> rules;                 // after aggregation for aggregating ClusterRoles
  std::vector<LabelSelector> aggregation;  // clusterRoleSelectors; empty: not aggregating
  bool aggregating = false;
  bool builtin = false;  // one of the cluster's default roles (rbac/defaults.h)
};

struct Subject {
  enum class Kind { kUser, kGroup, kServiceAccount } kind;
  std::string_view name;
  std::string_view ns;  // ServiceAccounts: defaulted to the RoleBinding's namespace
};
std::string_view kindName(Subject::Kind k);
// "ServiceAccount ns/name", "User name", "Group name": how every report names a subject.
std::string subjectName(const Subject& s);

struct Binding {
  const Object* object = nullptr;
  bool cluster = false;  // ClusterRoleBinding
  std::string_view ns, name;
  std::string_view role_kind, role_name;
  std::vector<Subject> subjects;
  bool builtin = false;  // one of the cluster's default bindings (rbac/defaults.h)
};

struct Model {
  std::vector<Role> roles;
  std::vector<Binding> bindings;
  std::vector<std::string> warnings;
  std::unordered_map<std::string, size_t> role_index;  // "C\x1fname" or "R\x1fns\x1fname"
  const Role* role(bool cluster, std::string_view ns, std::string_view name) const;
  const Role* roleOf(const Binding& b) const;  // nullptr when the roleRef names nothing
};

Model buildModel(const std::vector<const Object*>& objects);

// Is the object one buildModel reads: a Role, ClusterRole, RoleBinding or ClusterRoleBinding of
// rbac.authorization.k8s.io/v1?
bool isRbacObject(const Object& o);

// A request to the API server, as the authorizer sees it.
struct Request {
  std::string verb;
  std::string api_group;  // "" is the core group
  std::string resource;   // plural, e.g. pods
  std::string subresource;
  std::string name;  // empty: a request without a name (list, create, ...)
  std::string ns;    // empty: cluster-scoped or all namespaces
  bool non_resource = false;
  std::string path;  // non-resource requests
};

// Who is asking: a user name and groups (the implicit ones included).
struct Identity {
  std::string user;
  std::vector<std::string> groups;
  // "user:NAME", "group:NAME", "sa:NAMESPACE/NAME"; implicit groups are added.
  static std::optional<Identity> parse(std::string_view subject);
  bool superuser() const;  // member of system:masters
};

bool ruleAllows(const Rule& rule, const Request& req);

// Does the binding apply to the identity (User, Group, or ServiceAccount subject)?
bool appliesTo(const Binding& b, const Subject& s, const Identity& id);

struct Grant {
  const Binding* binding;
  const Role* role;
  size_t rule;  // index in role->rules
};

// Every (binding, role, rule) that allows the request for the identity. Cluster bindings always
// count; RoleBindings only for a request in their namespace.
std::vector<Grant> grantsFor(const Model& m, const Identity& id, const Request& req);

// Who can do this: every binding subject that some grant reaches, with its chains.
struct WhoCan {
  Subject subject;
  std::vector<Grant> via;
};
std::vector<WhoCan> whoCan(const Model& m, const Request& req);

// A subject's effective rules: cluster-wide (from ClusterRoleBindings) and per namespace (from
// RoleBindings), de-duplicated, in binding order. `ns` limits the namespaces (empty: all).
struct Permissions {
  struct Entry {
    const Rule* rule;
    const Binding* binding;
    const Role* role;
  };
  std::vector<Entry> cluster;
  std::map<std::string_view, std::vector<Entry>> namespaced;
};
Permissions permissionsOf(const Model& m, const Identity& id, std::string_view ns = {});
std::string describeRule(const Rule& r);  // "get, list on pods, pods/log (core) named a, b"

// Group for a well-known resource when the user gives none (deployments -> apps, ...).
std::string_view defaultGroup(std::string_view resource);

}  // namespace kh::rbac
