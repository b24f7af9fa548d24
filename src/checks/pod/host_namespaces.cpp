// pod-host-network, pod-host-pid and pod-host-ipc: one class, three metadata records, because
// the three rules differ only in the field they read.
#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kNetwork{
    .id = "pod-host-network",
    .title = "Pod uses the host network namespace",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Remove spec.hostNetwork or set it to false; expose ports through a Service.",
    .refs = {.cis = "5.2.5",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostNamespaces",
             .mitre = "T1611",
             .kube_linter = "host-network",
             .trivy = "KSV-0009",
             .kubescape = "C-0041",
             .polaris = "hostNetworkSet",
             .checkov = "CKV_K8S_19"},
};

constexpr CheckMeta kPid{
    .id = "pod-host-pid",
    .title = "Pod shares the host process namespace",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Remove spec.hostPID or set it to false.",
    .refs = {.cis = "5.2.3",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostNamespaces",
             .mitre = "T1611",
             .kube_linter = "host-pid",
             .trivy = "KSV-0010",
             .kubescape = "C-0038",
             .polaris = "hostPIDSet",
             .checkov = "CKV_K8S_17"},
};

constexpr CheckMeta kIpc{
    .id = "pod-host-ipc",
    .title = "Pod shares the host IPC namespace",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Remove spec.hostIPC or set it to false.",
    .refs = {.cis = "5.2.4",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostNamespaces",
             .mitre = "T1611",
             .kube_linter = "host-ipc",
             .trivy = "KSV-0008",
             .kubescape = "C-0038",
             .polaris = "hostIPCSet",
             .checkov = "CKV_K8S_18"},
};

class HostNamespace final : public Check {
 public:
  HostNamespace(const CheckMeta& meta, std::string_view field, std::string_view what)
      : meta_(meta), field_(field), what_(what) {}
  const CheckMeta& meta() const override { return meta_; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    const MapEntry* e = o.pod->spec->entry(field_);
    if (!e || !e->value->isTrue()) return;
    sink.add(finding(o, e->key_pos, fmt::format("{}.{}", o.pod->path, field_),
                     fmt::format("pod sets {}: true and shares the host's {}", field_, what_)));
  }

 private:
  const CheckMeta& meta_;
  std::string_view field_, what_;
};

}  // namespace

std::unique_ptr<Check> makePodHostNetwork() {
  return std::make_unique<HostNamespace>(kNetwork, "hostNetwork",
                                         "network stack (node interfaces and localhost services)");
}
std::unique_ptr<Check> makePodHostPid() {
  return std::make_unique<HostNamespace>(kPid, "hostPID", "process namespace");
}
std::unique_ptr<Check> makePodHostIpc() {
  return std::make_unique<HostNamespace>(kIpc, "hostIPC", "IPC namespace (shared memory)");
}

}  // namespace kh
