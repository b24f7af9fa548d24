// pod-seccomp-missing and pod-seccomp-unconfined.
#include <fmt/format.h>

#include <set>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kMissing{
    .id = "pod-seccomp-missing",
    .title = "Container has no seccomp profile",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set securityContext.seccompProfile.type: RuntimeDefault at pod level (or a "
        "Localhost profile).",
    .refs = {.cis = "5.7.2",
             .nsa = "Hardening container environments",
             .pss = "restricted:seccompProfile_restricted",
             .mitre = "T1611",
             .kube_linter = "",
             .trivy = "KSV-0030,KSV-0104",
             .kubescape = "C-0210",
             .polaris = "linuxHardening",
             .checkov = "CKV_K8S_31"},
};

constexpr CheckMeta kUnconfined{
    .id = "pod-seccomp-unconfined",
    .title = "Seccomp is explicitly disabled",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Replace seccompProfile.type: Unconfined with RuntimeDefault (or a Localhost "
        "profile that allows the extra system calls).",
    .refs = {.cis = "5.7.2",
             .nsa = "Hardening container environments",
             .pss = "baseline:seccompProfile_baseline",
             .mitre = "T1611",
             .kube_linter = "",
             .trivy = "KSV-0104",
             .kubescape = "",
             .polaris = "",
             .checkov = ""},
};

std::string_view profileType(const FieldHit& hit) {
  return getStr(hit.value, "type");
}

class PodSeccompMissing final : public Check {
 public:
  const CheckMeta& meta() const override { return kMissing; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;  // seccomp is Linux-only
    for (const ContainerRef& c : o.pod->containers) {
      auto hit = effectiveField(*o.pod, c, "seccompProfile");
      std::string_view type = hit ? profileType(*hit) : std::string_view();
      if (type == "RuntimeDefault" || type == "Localhost" || type == "Unconfined") continue;
      SourcePos pos = hit ? hit->pos : nearestPos(c.node, {"securityContext", "seccompProfile"});
      sink.add(finding(o, pos, c.path + ".securityContext.seccompProfile.type",
                       fmt::format("container \"{}\" runs without a seccomp profile (neither it "
                                   "nor the pod sets RuntimeDefault or Localhost)",
                                   c.name),
                       c.name));
    }
  }
};

class PodSeccompUnconfined final : public Check {
 public:
  const CheckMeta& meta() const override { return kUnconfined; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    // A pod-level Unconfined shared by several containers is one finding, at the pod level.
    std::set<std::string> seen;
    for (const ContainerRef& c : o.pod->containers) {
      auto hit = effectiveField(*o.pod, c, "seccompProfile");
      if (!hit || profileType(*hit) != "Unconfined") continue;
      std::string path = hit->path + ".type";
      if (!seen.insert(path).second) continue;
      sink.add(finding(
          o, nearestPos(hit->value, {"type"}), path,
          hit->from_pod
              ? std::string("pod sets seccompProfile.type: Unconfined")
              : fmt::format("container \"{}\" sets seccompProfile.type: Unconfined", c.name),
          hit->from_pod ? std::string_view() : c.name));
    }
    // Legacy annotations (before the field existed); still a statement of intent.
    const Node* ann = get(o.pod->template_meta, "annotations");
    for (const MapEntry& e : mapOf(ann)) {
      bool pod_key = e.key == "seccomp.security.alpha.kubernetes.io/pod";
      bool ctr_key = e.key.starts_with("container.seccomp.security.alpha.kubernetes.io/");
      if ((pod_key || ctr_key) && e.value->str() == "unconfined") {
        std::string path = fmt::format("{}.annotations.{}", o.pod->meta_path, e.key);
        sink.add(finding(o, e.key_pos, path, fmt::format("annotation {} disables seccomp", e.key),
                         ctr_key ? e.key.substr(e.key.find('/') + 1) : std::string_view()));
      }
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodSeccompMissing() {
  return std::make_unique<PodSeccompMissing>();
}
std::unique_ptr<Check> makePodSeccompUnconfined() {
  return std::make_unique<PodSeccompUnconfined>();
}

}  // namespace kh
