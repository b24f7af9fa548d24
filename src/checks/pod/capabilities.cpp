// pod-capabilities-drop-all and pod-capabilities-dangerous.
#include "checks/util/capabilities.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kDropAll{
    .id = "pod-capabilities-drop-all",
    .title = "Container does not drop all capabilities",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set securityContext.capabilities.drop: [ALL] and add back only what the "
        "program needs (usually nothing, or NET_BIND_SERVICE).",
    .refs = {.cis = "5.2.10",
             .nsa = "Linux capabilities",
             .pss = "restricted:capabilities_restricted",
             .mitre = "T1611",
             .kube_linter = "",
             .trivy = "KSV-0003,KSV-0004,KSV-0106",
             .kubescape = "C-0201",
             .polaris = "insecureCapabilities",
             .checkov = "CKV_K8S_37"},
};

constexpr CheckMeta kDangerous{
    .id = "pod-capabilities-dangerous",
    .title = "Container adds a dangerous capability",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove the capability from securityContext.capabilities.add; most of these "
        "amount to root on the node.",
    .refs = {.cis = "5.2.9",
             .nsa = "Linux capabilities",
             .pss = "baseline:capabilities_baseline",
             .mitre = "T1611",
             .kube_linter = "privilege-escalation-container",
             .trivy = "KSV-0005,KSV-0022,KSV-0106,KSV-0119,KSV-0120",
             .kubescape = "C-0046",
             .polaris = "dangerousCapabilities",
             .checkov = "CKV_K8S_39"},
};

class PodCapabilitiesDropAll final : public Check {
 public:
  const CheckMeta& meta() const override { return kDropAll; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;  // Linux capabilities do not exist on Windows
    for (const ContainerRef& c : o.pod->containers) {
      if (dropsAll(c.node)) continue;
      sink.add(finding(o, nearestPos(c.node, {"securityContext", "capabilities", "drop"}),
                       c.path + ".securityContext.capabilities.drop",
                       fmt::format("container \"{}\" does not drop ALL capabilities", c.name),
                       c.name));
    }
  }
};

class PodCapabilitiesDangerous final : public Check {
 public:
  const CheckMeta& meta() const override { return kDangerous; }

  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "capabilities" || !e.value->isSeq())
        return Error{fmt::format("check {}: unknown option '{}' (expected 'capabilities: [...]')",
                                 kDangerous.id, e.key),
                     "", e.key_pos};
      dangerous_.clear();
      for (const Node* n : e.value->seqItems()) dangerous_.push_back(canonicalCapability(n->text));
    }
    return {};
  }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (o.pod->windows) return;
    for (const ContainerRef& c : o.pod->containers) {
      const MapEntry* add = nullptr;
      if (const Node* caps = get(get(c.node, "securityContext"), "capabilities"))
        add = caps->entry("add");
      if (!add) continue;
      uint32_t i = 0;
      for (const Node* cap : add->value->seqItems()) {
        std::string name = canonicalCapability(cap->text);
        if (std::find(dangerous_.begin(), dangerous_.end(), name) != dangerous_.end()) {
          sink.add(finding(
              o, cap->pos, fmt::format("{}.securityContext.capabilities.add[{}]", c.path, i),
              fmt::format("container \"{}\" adds capability {}", c.name, name), c.name));
        }
        ++i;
      }
    }
  }

 private:
  std::vector<std::string> dangerous_{defaultDangerousCapabilities().begin(),
                                      defaultDangerousCapabilities().end()};
};

}  // namespace

std::unique_ptr<Check> makePodCapabilitiesDropAll() {
  return std::make_unique<PodCapabilitiesDropAll>();
}
std::unique_ptr<Check> makePodCapabilitiesDangerous() {
  return std::make_unique<PodCapabilitiesDangerous>();
}

}  // namespace kh
