// rbac-risky-permission (one finding per risk and granting rule, at that rule) and
// rbac-workload-risky-token (workloads whose mounted token carries a risk).
#include <fmt/format.h>

#include <set>

#include "checks/rbac/rbac_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr std::string_view kRoleKinds[] = {"Role", "ClusterRole", "RoleBinding",
                                           "ClusterRoleBinding"};

constexpr CheckMeta kRisky{
    .id = "rbac-risky-permission",
    .title = "Subject holds a risky permission",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kRoleKinds,
    .remediation =
        "Narrow the role to the verbs, resources and names the subject needs, or bind it "
        "in a namespace instead of cluster-wide; `kubeharden rbac risks` lists every chain.",
    .refs = {.cis = "5.1.1,5.1.2,5.1.4,5.1.8,5.1.9,5.1.10,5.1.11,5.1.12,5.1.13",
             .nsa = "Authentication and authorization",
             .mitre = "T1078,T1098",
             .kube_linter = "access-to-secrets,access-to-create-pods,wildcard-in-rules",
             .trivy = "KSV-0041,KSV-0042,KSV-0043,KSV-0044,KSV-0047,KSV-0048,KSV-0049,KSV-0050,"
                      "KSV-0053,KSV-0056,KSV-0111,KSV-0113,KSV-0114,KSV-0115,KSV-0122,KSV-01011",
             .kubescape = "C-0002,C-0007,C-0015,C-0035,C-0037,C-0063,C-0065,C-0186,C-0188,"
                          "C-0191,C-0262,C-0278,C-0279,C-0280,C-0281,C-0282",
             .polaris = "clusterrolebindingClusterAdmin,clusterrolePodExecAttach",
             .checkov = "CKV_K8S_49,CKV_K8S_155,CKV_K8S_156,CKV_K8S_157,CKV_K8S_158"},
};

constexpr CheckMeta kToken{
    .id = "rbac-workload-risky-token",
    .title = "Workload mounts a token with risky permissions",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set automountServiceAccountToken: false if the program does not call the API, "
        "or give its ServiceAccount a narrower role.",
    .refs = {.cis = "5.1.6",
             .nsa = "Protecting Pod service account tokens",
             .mitre = "T1528",
             .kubescape = "C-0053,C-0267,C-0272"},
    .whole_input = true,
};

Severity severityOf(std::string_view s) {
  return s == "critical" ? Severity::kCritical
         : s == "high"   ? Severity::kHigh
         : s == "medium" ? Severity::kMedium
                         : Severity::kLow;
}

class RiskyPermission final : public Check {
 public:
  const CheckMeta& meta() const override { return kRisky; }
  void check(const Object&, const CheckContext&, FindingSink&) const override {}
  void finish(const CheckContext& ctx, FindingSink& sink) const override {
    if (!ctx.index) return;
    // Quiet: a subject that can do everything (cluster-wide, or in a namespace) gets that one
    // finding; the catalogue's other risks are implied by it and left out for that scope.
    // `kubeharden rbac risks` still lists them all.
    std::set<std::string> full;  // "subject|scope"
    for (const rbac::Risk& r : ctx.index->rbacRisks())
      if (r.id == "cluster-admin" || r.id == "namespace-admin")
        full.insert(rbac::subjectName(r.subject) + "|" + r.scope);
    auto implied = [&](const rbac::Risk& r) {
      if (r.id == "cluster-admin" || r.id == "namespace-admin" || r.id == "anonymous-binding" ||
          r.id == "authenticated-binding")
        return false;
      std::string who = rbac::subjectName(r.subject) + "|";
      return full.count(who + "cluster-wide") > 0 || full.count(who + r.scope) > 0;
    };
    std::set<std::string> seen;
    for (const rbac::Risk& r : ctx.index->rbacRisks()) {
      if (implied(r)) continue;
      for (const rbac::Grant& g : r.via) {
        // At the granting rule in the role; risks of the binding itself (anonymous or every
        // authenticated user as subject) at the binding's subjects.
        // A built-in role (edit, cluster-admin, ...) is not in the input: at the binding's roleRef.
        bool to_builtin = g.role && g.role->builtin;
        bool at_binding =
            !g.role || to_builtin || r.id == "anonymous-binding" || r.id == "authenticated-binding";
        const Object* where = at_binding ? g.binding->object : g.role->object;
        std::string path = to_builtin   ? "roleRef"
                           : at_binding ? "subjects"
                                        : fmt::format("rules[{}]", g.rule);
        SourcePos pos = where->root->pos;
        if (at_binding) {
          if (const MapEntry* e = where->root->entry(to_builtin ? "roleRef" : "subjects"))
            pos = e->key_pos;
        } else if (const Node* rules = where->root->get("rules");
                   rules && rules->isSeq() && g.rule < rules->size) {
          pos = rules->items[g.rule]->pos;
        }
        std::string key = fmt::format("{}|{}|{}|{}", r.id, rbac::subjectName(r.subject), r.scope,
                                      path + where->displayName());
        if (!seen.insert(key).second) continue;
        Finding f = finding(
            *where, pos, path,
            fmt::format("{}: {} [via {} {}{}]", r.id, r.message,
                        g.binding->cluster ? "ClusterRoleBinding" : "RoleBinding", g.binding->name,
                        to_builtin ? fmt::format(" to the built-in ClusterRole {}", g.role->name)
                                   : std::string()));
        f.rule = r.id;
        f.severity = severityOf(r.severity);
        sink.add(std::move(f));
      }
    }
  }
};

class WorkloadRiskyToken final : public Check {
 public:
  const CheckMeta& meta() const override { return kToken; }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const override {
    if (!o.pod || !ctx.index) return;
    const PodSpecView& pod = *o.pod;
    const Node* automount = pod.spec->get("automountServiceAccountToken");
    std::string_view sa = pod.serviceAccount();
    std::string_view ns = o.namespaceOrDefault();
    // The pod's own setting wins; when it has none, its ServiceAccount's.
    if (automount && automount->isFalse()) return;
    if (!automount || automount->isNull()) {
      const Object* sa_obj = ctx.index->find("ServiceAccount", o.ref.namespace_, sa);
      const Node* sa_automount =
          sa_obj ? get(sa_obj->root, "automountServiceAccountToken") : nullptr;
      if (sa_automount && sa_automount->isFalse()) return;
    }
    std::set<std::string_view> ids;
    for (const rbac::Risk& r : ctx.index->rbacRisks()) {
      if (r.subject.kind != rbac::Subject::Kind::kServiceAccount || r.subject.ns != ns ||
          r.subject.name != sa)
        continue;
      if (r.scope != "cluster-wide" && r.scope != fmt::format("namespace {}", ns)) continue;
      ids.insert(r.id);
    }
    if (ids.empty()) return;
    std::string list;
    for (std::string_view id : ids) list += (list.empty() ? "" : ", ") + std::string(id);
    sink.add(finding(
        o, nearestPos(pod.spec, {"serviceAccountName"}), pod.path + ".serviceAccountName",
        fmt::format(
            "the pod mounts the token of service account {}/{}, which holds risky permissions: {}",
            ns, sa, list)));
  }
};

}  // namespace

void addRbacChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<RiskyPermission>());
  out.push_back(std::make_unique<WorkloadRiskyToken>());
  addRbacObjectChecks(out);
}

}  // namespace kh
