#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kReadonlyRootFsMeta{
    .id = "pod-readonly-root-fs",
    .title = "Container root filesystem is writable",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir "
        "where the program must write.",
    .refs = {.cis = "",
             .nsa = "Immutable container file systems",
             .pss = "",
             .mitre = "T1525",
             .kube_linter = "no-read-only-root-fs",
             .trivy = "KSV-0014",
             .kubescape = "C-0017",
             .polaris = "notReadOnlyRootFilesystem",
             .checkov = "CKV_K8S_22"},
};

class PodReadonlyRootFs final : public Check {
 public:
  const CheckMeta& meta() const override { return kReadonlyRootFsMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;  // not supported by Windows containers
    for (const ContainerRef& c : o.pod->containers) {
      auto hit = effectiveField(*o.pod, c, "readOnlyRootFilesystem");
      if (hit && hit->value->isTrue()) continue;
      SourcePos pos =
          hit ? hit->pos : nearestPos(c.node, {"securityContext", "readOnlyRootFilesystem"});
      sink.add(finding(o, pos, c.path + ".securityContext.readOnlyRootFilesystem",
                       fmt::format("container \"{}\" can write to its root filesystem", c.name),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodReadonlyRootFs() {
  return std::make_unique<PodReadonlyRootFs>();
}

}  // namespace kh
