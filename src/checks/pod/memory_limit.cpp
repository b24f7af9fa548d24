#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kMeta{
    .id = "pod-memory-limit",
    .title = "Container has no memory limit",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set resources.limits.memory so one container cannot exhaust the node's "
        "memory (a namespace LimitRange can supply a default).",
    .refs = {.cis = "",
             .nsa = "Pod security: resource limits (denial of service)",
             .pss = "",
             .mitre = "T1496",
             .kube_linter = "unset-memory-requirements",
             .trivy = "KSV-0018",
             .kubescape = "C-0271",
             .polaris = "memoryLimitsMissing",
             .checkov = "CKV_K8S_13"},
};

class PodMemoryLimit final : public Check {
 public:
  const CheckMeta& meta() const override { return kMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      if (c.list == ContainerList::kEphemeral) continue;  // ephemeral containers take no resources
      const Node* mem = get(get(get(c.node, "resources"), "limits"), "memory");
      if (mem && !mem->isNull()) continue;
      sink.add(finding(o, nearestPos(c.node, {"resources", "limits"}),
                       c.path + ".resources.limits.memory",
                       fmt::format("container \"{}\" has no memory limit", c.name), c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodMemoryLimit() {
  return std::make_unique<PodMemoryLimit>();
}

}  // namespace kh
