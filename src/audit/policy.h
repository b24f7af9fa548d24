// The API server's audit Policy (audit.k8s.io/v1, and v1beta1), read from the model and
// evaluated as k8s.io/apiserver evaluates it (docs/audit.md): the rules in order, the first whose
// users, userGroups, verbs and then resources/namespaces or nonResourceURLs all match decides the
// level; none matching means None. Within a rule: users name the user exactly; userGroups match
// when any of the user's groups is listed; a rule with namespaces or resources applies to
// resource requests only (namespaces "" for cluster-scoped ones), one with nonResourceURLs to
// non-resource requests only ("*", exact, or a trailing "*" prefix), one with neither to every
// request. A resource entry matches its group exactly; an empty resources list is every
// resource of the group; an item is "resource" or "resource/subresource" (compared with the
// request's combined form), "*", "*/subresource", or "resource/*" (the resource and all its
// subresources); resourceNames, when given, must name the object. omitStages is the union of the
// policy's and the rule's; a rule's omitManagedFields overrides the policy's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/node.h"

namespace kh::audit {

enum class Level : uint8_t { kNone, kMetadata, kRequest, kRequestResponse };
std::string_view levelName(Level l);
std::optional<Level> parseLevel(std::string_view s);

// The stages of a request's audit events.
inline constexpr std::string_view kStages[] = {"RequestReceived", "ResponseStarted",
                                               "ResponseComplete", "Panic"};

struct GroupResources {
  std::string_view group;
  std::vector<std::string_view> resources, resource_names;
};

struct PolicyRule {
  size_t index = 0;
  const Node* node = nullptr;  // the rule's map, for positions
  Level level = Level::kNone;
  std::vector<std::string_view> users, user_groups, verbs, namespaces, non_resource_urls;
  std::vector<GroupResources> resources;
  std::vector<std::string_view> omit_stages;  // the rule's own
  std::optional<bool> omit_managed_fields;
};

struct Policy {
  const Node* node = nullptr;
  std::vector<PolicyRule> rules;
  std::vector<std::string_view> omit_stages;
  bool omit_managed_fields = false;
  // What the API server would refuse the policy for (it does not start): each at its place.
  struct Problem {
    std::string message;
    std::string path;  // rules[2].level
    SourcePos pos;
  };
  std::vector<Problem> problems;
};

// Reads a Policy object's map (apiVersion audit.k8s.io/v1 or v1beta1). Never fails: what cannot
// be used is in `problems`, and rules that cannot be read are left out.
Policy readPolicy(const Node* root);

// A request as the policy sees it (the authorizer's attributes).
struct Request {
  std::string user;
  std::vector<std::string> groups;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  bool resource_request = true;
  std::string api_group, resource, subresource, namespace_, name;
  std::string path;  // non-resource requests: /healthz, /metrics, ...
};

struct Decision {
  const PolicyRule* rule = nullptr;  // nullptr: no rule matched (level None)
  Level level = Level::kNone;
  std::vector<std::string_view> omit_stages;  // union of the policy's and the rule's, sorted
  bool omit_managed_fields = false;
};

bool ruleMatches(const PolicyRule& rule, const Request& r);
Decision evaluate(const Policy& p, const Request& r);

// "pods/exec", "deployments.apps/scale": resource[.group][/subresource], as --resource takes it.
std::string resourceName(const Request& r);

// "get secrets in namespace default as alice (system:authenticated)": a request in words.
std::string describe(const Request& r);

}  // namespace kh::audit
