// ns-default-namespace, ns-kube-system, ns-no-psa-enforce, and the opt-in ns-no-limitrange and
// ns-no-resourcequota.
#include <fmt/format.h>

#include "checks/ns/ns_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr std::string_view kNamespaceKind[] = {"Namespace"};

constexpr CheckMeta kDefault{
    .id = "ns-default-namespace",
    .title = "Object is placed in the default namespace",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kAll,
    .kinds = {},
    .remediation =
        "Give each application its own namespace, so RBAC, NetworkPolicies, quotas "
        "and Pod Security levels can be set for it alone.",
    .refs = {.cis = "5.7.4",
             .nsa = "Namespaces",
             .kube_linter = "use-namespace",
             .trivy = "KSV-0110",
             .kubescape = "C-0061",
             .checkov = "CKV_K8S_21"},
};

constexpr CheckMeta kKubeSystem{
    .id = "ns-kube-system",
    .title = "Workload runs in kube-system",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Run applications in their own namespace; kube-system holds the cluster's "
        "own components and is usually exempt from Pod Security and policy "
        "engines.",
    .refs = {.cis = "5.7.1", .nsa = "Namespaces", .mitre = "T1036", .trivy = "KSV-0037"},
};

constexpr CheckMeta kPsa{
    .id = "ns-no-psa-enforce",
    .title = "Namespace has no Pod Security Admission enforce label",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kNamespaceKind,
    .remediation =
        "Label the namespace pod-security.kubernetes.io/enforce=restricted (or "
        "baseline) so the API server rejects pods that break the level.",
    .refs = {.cis = "5.2.1",
             .nsa = "Pod Security enforcement",
             .pss = "admission",
             .kubescape = "C-0192"},
};

constexpr CheckMeta kLimitRange{
    .id = "ns-no-limitrange",
    .title = "Namespace with workloads has no LimitRange",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kKinds,
    .kinds = kNamespaceKind,
    .remediation =
        "Add a LimitRange with default requests and limits for containers to the "
        "namespace.",
    .refs = {.nsa = "Resource policies", .mitre = "T1496", .trivy = "KSV-0039"},
    .whole_input = true,
};

constexpr CheckMeta kQuota{
    .id = "ns-no-resourcequota",
    .title = "Namespace with workloads has no ResourceQuota",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kKinds,
    .kinds = kNamespaceKind,
    .remediation =
        "Add a ResourceQuota to the namespace to cap its total CPU, memory and "
        "object counts.",
    .refs = {.nsa = "Resource policies", .mitre = "T1496", .trivy = "KSV-0040"},
    .whole_input = true,
};

void defaultNs(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  // Only an explicit `namespace: default`: a manifest without a namespace (Helm output, most
  // kustomize bases) lands in whatever namespace it is applied to.
  if (o.ref.namespace_ != "default" || isClusterScopedKind(o.ref.kind)) return;
  const MapEntry* e = getEntry(o.metadata, "namespace");
  sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "metadata.namespace",
                        fmt::format("{} is placed in the default namespace", o.displayName())));
}

void kubeSystem(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (o.ref.namespace_ != "kube-system") return;
  const MapEntry* e = getEntry(o.metadata, "namespace");
  sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "metadata.namespace",
                        fmt::format("{} runs in kube-system", o.displayName())));
}

void psa(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  if (!getStr(o.labels, "pod-security.kubernetes.io/enforce").empty()) return;
  sink.add(self.finding(
      o,
      o.labels     ? o.labels->pos
      : o.metadata ? o.metadata->pos
                   : o.root->pos,
      "metadata.labels.pod-security.kubernetes.io/enforce",
      fmt::format("namespace {} has no pod-security.kubernetes.io/enforce label", o.ref.name)));
}

// For each namespace of the input that runs workloads and holds no object of `kind`: one
// finding at its Namespace object when the input has one, else at its first workload.
void missingPerNamespace(const FnCheck& self, const CheckContext& ctx, FindingSink& sink,
                         std::string_view kind) {
  if (!ctx.index) return;
  std::map<std::string_view, const Object*> first_workload;
  for (const auto& [ns, first] : ctx.index->namespaces())
    if (const auto& w = ctx.index->workloadsIn(ns); !w.empty()) first_workload.emplace(ns, w[0]);
  for (const Object* x : ctx.index->ofKind(kind)) first_workload.erase(x->namespaceOrDefault());
  for (const auto& [ns, workload] : first_workload) {
    const Object* nso = ctx.index->find("Namespace", "", ns);
    const Object& at = nso ? *nso : *workload;
    sink.add(self.finding(at, at.metadata ? at.metadata->pos : at.root->pos, "metadata",
                          fmt::format("namespace {} runs workloads ({} among them) but the input "
                                      "has no {} for it",
                                      ns, workload->displayName(), kind)));
  }
}

}  // namespace

void addNsChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kDefault, defaultNs));
  out.push_back(std::make_unique<FnCheck>(kKubeSystem, kubeSystem));
  out.push_back(std::make_unique<FnCheck>(kPsa, psa));
  out.push_back(std::make_unique<FnCheck>(
      kLimitRange, nullptr, [](const FnCheck& s, const CheckContext& c, FindingSink& k) {
        missingPerNamespace(s, c, k, "LimitRange");
      }));
  out.push_back(std::make_unique<FnCheck>(
      kQuota, nullptr, [](const FnCheck& s, const CheckContext& c, FindingSink& k) {
        missingPerNamespace(s, c, k, "ResourceQuota");
      }));
}

}  // namespace kh
