#include <fmt/format.h>

#include "checks/pod/pod_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr CheckMeta kSaTokenAutomountMeta{
    .id = "pod-sa-token-automount",
    .title = "Service account token is mounted",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set automountServiceAccountToken: false on the pod (or on its ServiceAccount) "
        "unless the program calls the Kubernetes API.",
    .refs = {.cis = "5.1.6",
             .nsa = "Protecting Pod service account tokens",
             .pss = "",
             .mitre = "T1528",
             .kube_linter = "",
             .trivy = "KSV-0036",
             .kubescape = "C-0034",
             .polaris = "automountServiceAccountToken",
             .checkov = "CKV_K8S_38"},
    .whole_input = true,
};

class PodSaTokenAutomount final : public Check {
 public:
  const CheckMeta& meta() const override { return kSaTokenAutomountMeta; }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const override {
    const PodSpecView& pod = *o.pod;
    std::string path = pod.path + ".automountServiceAccountToken";
    std::string_view sa = pod.serviceAccount();
    // A ServiceAccount that the input binds to a role exists to call the API: its token is
    // meant to be there. How much it can do is a question for the RBAC checks.
    bool bound = ctx.index && ctx.index->isBoundServiceAccount(o.ref.namespace_, sa);

    // The pod's own setting overrides its ServiceAccount's.
    if (const MapEntry* e = pod.spec->entry("automountServiceAccountToken")) {
      if (e->value->isFalse()) return;
      if (e->value->isTrue()) {
        if (bound) return;
        sink.add(finding(o, e->key_pos, path,
                         fmt::format("pod sets automountServiceAccountToken: true, but no role "
                                     "binding in the input names service account \"{}\"",
                                     sa)));
        return;
      }
    }
    const Object* sa_obj =
        ctx.index ? ctx.index->find("ServiceAccount", o.ref.namespace_, sa) : nullptr;
    if (sa_obj) {
      const Node* v = sa_obj->root->get("automountServiceAccountToken");
      if (v && v->isFalse()) return;  // the ServiceAccount opts out and the pod does not override
    }
    if (bound) return;
    sink.add(
        finding(o, nearestPos(pod.spec, {"automountServiceAccountToken"}), path,
                fmt::format("the token of service account \"{}\" is mounted into the pod "
                            "(neither the pod nor {} sets automountServiceAccountToken: "
                            "false)",
                            sa, sa_obj ? "the ServiceAccount" : "a ServiceAccount in the input")));
  }
};

}  // namespace

std::unique_ptr<Check> makePodSaTokenAutomount() {
  return std::make_unique<PodSaTokenAutomount>();
}

}  // namespace kh
