// Checks of single RBAC objects, whether or not anything binds them: rbac-wildcard-rule (a rule
// with * in verbs or resources) and rbac-masters-binding (a binding naming system:masters).
#include <fmt/format.h>

#include "base/strings.h"
#include "checks/rbac/rbac_checks.h"

namespace kh {
namespace {

constexpr std::string_view kRoles[] = {"Role", "ClusterRole"};
constexpr std::string_view kBindings[] = {"RoleBinding", "ClusterRoleBinding"};

constexpr CheckMeta kWildcard{
    .id = "rbac-wildcard-rule",
    .title = "Role rule uses a wildcard verb or resource",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kRoles,
    .remediation =
        "List the verbs and resources the subject needs; a wildcard also grants every "
        "verb and resource added to the API later (subresources such as pods/exec "
        "included).",
    .refs = {.cis = "5.1.3",
             .nsa = "Authentication and authorization",
             .mitre = "T1078",
             .kube_linter = "wildcard-in-rules",
             .trivy = "KSV-0044,KSV-0045,KSV-0046,KSV-0112",
             .kubescape = "C-0187",
             .checkov = "CKV_K8S_49"},
};

constexpr CheckMeta kMasters{
    .id = "rbac-masters-binding",
    .title = "Binding names the system:masters group",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kBindings,
    .remediation =
        "Remove the subject. Members of system:masters bypass RBAC entirely (no "
        "binding adds to or limits them); issue credentials for a group bound to "
        "the role it needs instead.",
    .refs = {.cis = "5.1.7",
             .nsa = "Authentication and authorization",
             .trivy = "KSV-0123",
             .kubescape = "C-0246"},
};

constexpr CheckMeta kDashboard{
    .id = "rbac-dashboard-access",
    .title = "Binding grants the Kubernetes dashboard's role to other subjects",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kBindings,
    .remediation =
        "Bind the dashboard's role to the dashboard's own ServiceAccount only; give "
        "people their own, narrower roles.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1078", .kubescape = "C-0014"},
};

bool hasStar(const Node* list) {
  for (const Node* n : seqOf(list))
    if (n->str() == "*") return true;
  return false;
}

void wildcard(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* rules = get(o.root, "rules");
  uint32_t i = 0;
  for (const Node* r : seqOf(rules)) {
    uint32_t idx = i++;
    bool verbs = hasStar(get(r, "verbs")), resources = hasStar(get(r, "resources"));
    if (!verbs && !resources) continue;
    // Limited to named objects: the wildcard reaches only those.
    const Node* names = get(r, "resourceNames");
    if (names && !names->seqItems().empty()) continue;
    std::vector<std::string_view> what;
    if (verbs) what.push_back("every verb");
    if (resources)
      what.push_back(hasStar(get(r, "apiGroups")) ? "every resource of every group"
                                                  : "every resource of its groups");
    Finding f = self.finding(
        o, r->pos, fmt::format("rules[{}]", idx),
        fmt::format("{} {} rule {} grants {}", o.ref.kind, o.ref.name, idx, join(what, " on ")));
    if (verbs && resources) f.severity = Severity::kCritical;
    f.rule = verbs && resources ? "verbs-and-resources" : verbs ? "verbs" : "resources";
    sink.add(std::move(f));
  }
}

void masters(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* subjects = get(o.root, "subjects");
  uint32_t i = 0;
  for (const Node* s : seqOf(subjects)) {
    uint32_t idx = i++;
    if (getStr(s, "kind") != "Group" || getStr(s, "name") != "system:masters") continue;
    sink.add(
        self.finding(o, s->pos, fmt::format("subjects[{}]", idx),
                     fmt::format("{} {} binds {} to system:masters, whose members are "
                                 "superusers whatever the bindings say",
                                 o.ref.kind, o.ref.name, getStr(get(o.root, "roleRef"), "name"))));
  }
}

void dashboard(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  std::string_view role = getStr(get(o.root, "roleRef"), "name");
  if (role.find("kubernetes-dashboard") == std::string_view::npos) return;
  const Node* subjects = get(o.root, "subjects");
  uint32_t i = 0;
  for (const Node* s : seqOf(subjects)) {
    uint32_t idx = i++;
    if (getStr(s, "kind") == "ServiceAccount" &&
        getStr(s, "name").find("kubernetes-dashboard") != std::string_view::npos)
      continue;
    sink.add(self.finding(o, s->pos, fmt::format("subjects[{}]", idx),
                          fmt::format("{} {} grants {} {} the dashboard's role {}", o.ref.kind,
                                      o.ref.name, getStr(s, "kind"), getStr(s, "name"), role)));
  }
}

}  // namespace

void addRbacObjectChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kWildcard, wildcard));
  out.push_back(std::make_unique<FnCheck>(kMasters, masters));
  out.push_back(std::make_unique<FnCheck>(kDashboard, dashboard));
}

}  // namespace kh
