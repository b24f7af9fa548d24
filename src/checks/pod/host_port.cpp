#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kHostPortMeta{
    .id = "pod-host-port",
    .title = "Container binds a host port",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Remove ports[].hostPort and expose the port through a Service.",
    .refs = {.cis = "5.2.13",
             .nsa = "Network separation",
             .pss = "baseline:hostPorts",
             .mitre = "",
             .kube_linter = "",
             .trivy = "KSV-0024",
             .kubescape = "C-0044",
             .polaris = "hostPortSet",
             .checkov = "CKV_K8S_26"},
};

class PodHostPort final : public Check {
 public:
  const CheckMeta& meta() const override { return kHostPortMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      const Node* ports = c.node->get("ports");
      if (!ports) continue;
      uint32_t i = 0;
      for (const Node* p : ports->seqItems()) {
        const MapEntry* hp = p->entry("hostPort");
        auto v = hp ? hp->value->asInt() : std::nullopt;
        if (v && *v != 0) {
          sink.add(finding(o, hp->key_pos, fmt::format("{}.ports[{}].hostPort", c.path, i),
                           fmt::format("container \"{}\" binds host port {}", c.name, *v), c.name));
        }
        ++i;
      }
    }
  }
};

}  // namespace

std::unique_ptr<Check> makePodHostPort() {
  return std::make_unique<PodHostPort>();
}

}  // namespace kh
