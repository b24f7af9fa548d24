#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kPrivilegedMeta{
    .id = "pod-privileged",
    .title = "Container runs privileged",
    .severity = Severity::kCritical,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove securityContext.privileged or set it to false; grant only the "
        "specific capabilities the workload needs.",
    .refs = {.cis = "5.2.2",
             .nsa = "Privileged containers and privilege escalation",
             .pss = "baseline:privileged",
             .mitre = "T1611",
             .kube_linter = "privileged-container",
             .trivy = "KSV-0017",
             .kubescape = "C-0057",
             .polaris = "runAsPrivileged",
             .checkov = "CKV_K8S_16"},
};

class PodPrivileged final : public Check {
 public:
  const CheckMeta& meta() const override { return kPrivilegedMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      auto hit = effectiveField(*o.pod, c, "privileged");
      if (!hit || !hit->value->isTrue()) continue;
      sink.add(finding(o, hit->pos, hit->path,
                       fmt::format("container \"{}\" runs privileged: it has every capability "
                                   "and full access to the host's devices",
                                   c.name),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodPrivileged() {
  return std::make_unique<PodPrivileged>();
}

}  // namespace kh
