// Least-privilege RBAC from audit logs (docs/audit.md, "audit rbac"): the requests one subject
// made, as the API server's authorizer saw them, turned into the Roles, ClusterRoles and bindings
// that allow exactly those requests, grouped the way a person writes them; and, given the RBAC a
// cluster has, which of the subject's rules the logs never needed. No I/O: the CLI reads the
// logs and writes what this returns.
//
// The authorizer's view of a logged request (k8s.io/apiserver's RequestInfo): the audit verb is
// the RBAC verb; objectRef gives the group, resource, subresource, namespace and name, except
// that a create's name comes from its body (the audit layer copies it into objectRef) while the
// authorizer never saw one, so a create without subresource is a request without a name; a
// request without objectRef is a non-resource request on the URL's path. An impersonated request
// is the impersonated user's, and costs the impersonator `impersonate` on the users (or the
// service account, or the groups) it acted as.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/events.h"
#include "rbac/rbac.h"

namespace kh::audit {

// Whose permissions: a user, a service account or a group.
struct RbacSubject {
  enum class Kind { kUser, kServiceAccount, kGroup };
  Kind kind = Kind::kUser;
  std::string name;
  std::string ns;  // a service account's namespace

  // A user name; "system:serviceaccount:NS:NAME" is that service account.
  static RbacSubject user(std::string_view name);
  // "NS:NAME" (or NS/NAME); nullopt when either part is missing.
  static std::optional<RbacSubject> serviceAccount(std::string_view ns_name);
  static RbacSubject group(std::string_view name);

  std::string userName() const;  // as the API server names the user (not for groups)
  std::string describe() const;  // "User alice", "ServiceAccount web/app", "Group devs"
  // Who the authorizer sees: the user with the groups the logs show it in (and the implicit
  // ones), or any member of the group.
  rbac::Identity identity(const std::set<std::string>& groups_seen) const;
};

// One distinct request the subject made.
struct LoggedRequest {
  rbac::Request request;
  uint64_t count = 0;   // times logged
  uint64_t denied = 0;  // of which the authorizer refused
  // An impersonation check the API server made before a request the subject impersonated in
  // (not itself a logged request).
  bool impersonation = false;
};

// What the logs say the subject did.
struct RbacUsage {
  std::vector<LoggedRequest> requests;  // distinct, in a fixed order (scope, group, resource, ...)
  uint64_t total = 0;                   // requests logged
  uint64_t denied = 0;                  // of which refused by the authorizer
  std::string first, last;              // the first and last request's time
  std::set<std::string> groups;         // the groups the subject's requests carried
  // Requests RBAC cannot allow exactly (a non-resource path ending in `*`, a wildcard to RBAC;
  // text that is not UTF-8, which no object can hold): left out.
  uint64_t inexact = 0;
  std::vector<std::string> inexact_examples;
};

class RbacCollector {
 public:
  // `only_ns`: keep only requests in that namespace (none: every request).
  RbacCollector(RbacSubject subject, std::string only_ns = {});
  // Takes the requests of `e` that are the subject's (its own, and the impersonation checks
  // of the requests it made as someone else).
  void add(const Event& e);
  // A string every log line of one of the subject's requests contains (its name, quoted as JSON
  // writes it), for the reader to skip other lines unparsed; empty when the name has characters
  // a JSON writer may escape, so no such string is certain.
  std::string lineFilter() const;
  RbacUsage finish() &&;

 private:
  bool take(rbac::Request&& r, bool denied, bool impersonation);  // false: out of scope
  RbacSubject subject_;
  std::string user_;  // subject_.userName()
  std::string only_ns_;
  RbacUsage usage_;
  std::unordered_map<std::string, LoggedRequest> seen_;
};

// The generated objects, before they are written.
struct GenRule {
  std::vector<std::string> api_groups, resources, resource_names, urls, verbs;
};
struct GenRole {
  bool cluster = false;  // ClusterRole (and ClusterRoleBinding), else Role in `ns`
  std::string ns, name;
  std::vector<GenRule> rules;
};
struct GeneratedRbac {
  RbacSubject subject;
  std::vector<GenRole> roles;  // the ClusterRole first, then Roles by namespace
};

struct RbacGenOptions {
  // Widen each resource's verbs to the set a person grants together: any of get/list/watch
  // gives all three, without resourceNames (list and watch read every object anyway); any of
  // create/update/patch/delete gives all four, update/patch/delete kept to the names the
  // subject touched when every such request named one. Subresources are left as they are.
  bool expand_verbs = false;
  std::string name;  // the objects' name (default: kubeharden-audit:<kind>:<name>)
};

GeneratedRbac generateRbac(const RbacUsage& usage, const RbacSubject& subject,
                           const RbacGenOptions& opts);

// The objects as YAML documents ready for `kubectl apply`, after the `header` comment lines.
std::string toYaml(const GeneratedRbac& g, const std::vector<std::string>& header,
                   std::string_view annotation);

// The objects read back as `kubectl apply` reads them (toYaml, then kubeharden's loader) and
// every logged request asked of kubeharden's authorizer: empty when each is allowed, else what
// is wrong with the first that is not. `audit rbac` refuses to print objects that fail this.
std::string checkGenerated(const GeneratedRbac& g, const RbacUsage& usage);

// How much of one rule the subject holds the logs used.
struct RuleUse {
  const rbac::Binding* binding = nullptr;
  const rbac::Role* role = nullptr;  // nullptr: the binding's role is not in the model
  size_t rule = 0;                   // index in role->rules
  std::string_view ns;               // a RoleBinding's namespace (the rule holds only there)
  uint64_t requests = 0;             // distinct logged requests it allows
  std::vector<std::string> unused_verbs, unused_resources, unused_names, unused_urls;
  bool unused() const { return requests == 0; }
};
// Every rule the subject holds through `m` (cluster-wide and per namespace), with the logged
// requests it allows and the verbs, resources, names and URLs it names that none of them used
// (wildcards are not broken down). In binding order; a binding whose role the model does not
// hold is one entry without a role.
std::vector<RuleUse> ruleUsage(const rbac::Model& m, const rbac::Identity& id,
                               const RbacUsage& usage);

}  // namespace kh::audit
