#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kRunAsNonRootMeta{
    .id = "pod-run-as-non-root",
    .title = "Container may run as root",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set securityContext.runAsNonRoot: true (pod level covers every container) "
        "or a non-zero runAsUser, and build the image with a non-root USER.",
    .refs = {.cis = "5.2.7",
             .nsa = "Non-root containers",
             .pss = "restricted:runAsNonRoot",
             .mitre = "T1611",
             .kube_linter = "run-as-non-root",
             .trivy = "KSV-0012",
             .kubescape = "C-0013",
             .polaris = "runAsRootAllowed",
             .checkov = "CKV_K8S_23"},
};

class PodRunAsNonRoot final : public Check {
 public:
  const CheckMeta& meta() const override { return kRunAsNonRootMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;  // Windows uses runAsUserName, not UIDs
    for (const ContainerRef& c : o.pod->containers) {
      auto nonroot = effectiveField(*o.pod, c, "runAsNonRoot");
      if (nonroot && nonroot->value->isTrue()) continue;
      auto user = effectiveField(*o.pod, c, "runAsUser");
      auto uid = user ? user->value->asInt() : std::nullopt;
      if (uid && *uid > 0) continue;   // a non-zero UID cannot be root, whatever the image says
      if (uid && *uid == 0) continue;  // explicit UID 0 is pod-run-as-root-user's finding
      if (nonroot && nonroot->value->isFalse()) {
        sink.add(finding(o, nonroot->pos, nonroot->path,
                         fmt::format("container \"{}\" sets runAsNonRoot: false{}", c.name,
                                     nonroot->from_pod ? " (inherited from the pod)" : ""),
                         c.name));
        continue;
      }
      sink.add(finding(o, nearestPos(c.node, {"securityContext", "runAsNonRoot"}),
                       c.path + ".securityContext.runAsNonRoot",
                       fmt::format("container \"{}\" sets neither runAsNonRoot: true nor a "
                                   "non-zero runAsUser, so it runs as root if the image does",
                                   c.name),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodRunAsNonRoot() {
  return std::make_unique<PodRunAsNonRoot>();
}

}  // namespace kh
