#include <fmt/format.h>

#include <set>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kRunAsRootUserMeta{
    .id = "pod-run-as-root-user",
    .title = "Container runs as UID 0",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Set runAsUser to a non-zero UID (above 10000 avoids host UID collisions).",
    .refs = {.cis = "5.2.7",
             .nsa = "Non-root containers",
             .pss = "restricted:runAsUser",
             .mitre = "T1611",
             .kube_linter = "run-as-non-root",
             .trivy = "KSV-0105,KSV-0012,KSV-0020",
             .kubescape = "C-0013",
             .polaris = "",
             .checkov = "CKV_K8S_23"},
};

class PodRunAsRootUser final : public Check {
 public:
  const CheckMeta& meta() const override { return kRunAsRootUserMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;
    for (const ContainerRef& c : o.pod->containers) {
      auto user = effectiveField(*o.pod, c, "runAsUser");
      if (!user) continue;
      auto uid = user->value->asInt();
      if (!uid || *uid != 0) continue;
      sink.add(finding(o, user->pos, user->path,
                       fmt::format("container \"{}\" runs as UID 0 (root){}", c.name,
                                   user->from_pod ? ", set at pod level" : ""),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodRunAsRootUser() {
  return std::make_unique<PodRunAsRootUser>();
}

}  // namespace kh
