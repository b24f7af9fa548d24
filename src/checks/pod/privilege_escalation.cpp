#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kPrivilegeEscalationMeta{
    .id = "pod-privilege-escalation",
    .title = "Container allows privilege escalation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Set securityContext.allowPrivilegeEscalation: false on every container.",
    .refs = {.cis = "5.2.6",
             .nsa = "Privileged containers and privilege escalation",
             .pss = "restricted:allowPrivilegeEscalation",
             .mitre = "T1068",
             .kube_linter = "privilege-escalation-container",
             .trivy = "KSV-0001",
             .kubescape = "C-0016",
             .polaris = "privilegeEscalationAllowed",
             .checkov = "CKV_K8S_20"},
};

class PodPrivilegeEscalation final : public Check {
 public:
  const CheckMeta& meta() const override { return kPrivilegeEscalationMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;  // no setuid escalation on Windows; PSA exempts these pods too
    for (const ContainerRef& c : o.pod->containers) {
      auto hit = effectiveField(*o.pod, c, "allowPrivilegeEscalation");
      if (hit && hit->value->isFalse()) continue;
      if (hit && hit->value->isTrue()) {
        Finding f = finding(
            o, hit->pos, hit->path,
            fmt::format("container \"{}\" sets allowPrivilegeEscalation: true", c.name), c.name);
        f.severity = Severity::kHigh;
        sink.add(std::move(f));
        continue;
      }
      sink.add(finding(o, nearestPos(c.node, {"securityContext", "allowPrivilegeEscalation"}),
                       c.path + ".securityContext.allowPrivilegeEscalation",
                       fmt::format("container \"{}\" does not set allowPrivilegeEscalation: false, "
                                   "so setuid binaries can gain privileges",
                                   c.name),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodPrivilegeEscalation() {
  return std::make_unique<PodPrivilegeEscalation>();
}

}  // namespace kh
