// pod-hostpath, pod-hostpath-sensitive and pod-runtime-socket. Each hostPath volume belongs to
// exactly one of them (classifyHostPath), so one volume never yields three findings.
#include "checks/util/host_path.h"

#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kAny{
    .id = "pod-hostpath",
    .title = "Pod mounts a host directory",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Replace the hostPath volume with an emptyDir, a ConfigMap, or a "
        "PersistentVolumeClaim; if a host path is unavoidable, mount it readOnly.",
    .refs = {.cis = "5.2.12",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostPathVolumes",
             .mitre = "T1611",
             .kube_linter = "host-mounts",
             .trivy = "KSV-0023",
             .kubescape = "C-0048",
             .polaris = "hostPathSet",
             .checkov = ""},
};

constexpr CheckMeta kHostpathSensitiveMeta{
    .id = "pod-hostpath-sensitive",
    .title = "Pod mounts a sensitive host directory",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Do not mount host system directories (/, /etc, /proc, /sys, /var/lib/kubelet, "
        "...); use the Kubernetes API or a narrowly scoped volume instead.",
    .refs = {.cis = "5.2.12",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostPathVolumes",
             .mitre = "T1611",
             .kube_linter = "sensitive-host-mounts",
             .trivy = "KSV-0121,KSV-0023",
             .kubescape = "C-0020",
             .polaris = "",
             .checkov = ""},
};

constexpr CheckMeta kSocket{
    .id = "pod-runtime-socket",
    .title = "Pod mounts the container runtime socket",
    .severity = Severity::kCritical,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Never mount docker.sock, containerd.sock or crio.sock (or the directories "
        "holding them): whoever reaches the runtime controls every container on the "
        "node.",
    .refs = {.cis = "",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:hostPathVolumes",
             .mitre = "T1610,T1611",
             .kube_linter = "docker-sock",
             .trivy = "KSV-0006,KSV-0023",
             .kubescape = "C-0074",
             .polaris = "",
             .checkov = "CKV_K8S_27"},
};

class HostPathCheck final : public Check {
 public:
  HostPathCheck(const CheckMeta& meta, HostPathClass cls) : meta_(meta), cls_(cls) {}
  const CheckMeta& meta() const override { return meta_; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    const Node* volumes = o.pod->spec->get("volumes");
    if (!volumes) return;
    uint32_t i = 0;
    for (const Node* v : volumes->seqItems()) {
      VolumeSource src = volumeSource(v);  // `hostPath: null` is an emptyDir to the server
      const MapEntry* hp = src.type == "hostPath" ? src.entry : nullptr;
      std::string_view path = hp ? getStr(hp->value, "path") : std::string_view();
      if (hp && classifyHostPath(path) == cls_) {
        std::string_view name = getStr(v, "name");
        std::string msg;
        switch (cls_) {
          case HostPathClass::kRuntimeSocket:
            msg = fmt::format("volume \"{}\" mounts the container runtime socket from host path {}",
                              name, path);
            break;
          case HostPathClass::kSensitive:
            msg = fmt::format("volume \"{}\" mounts sensitive host path {}", name, path);
            break;
          case HostPathClass::kOther:
            msg = fmt::format("volume \"{}\" mounts host path {}", name, path);
            break;
        }
        sink.add(finding(o, hp->key_pos, fmt::format("{}.volumes[{}].hostPath", o.pod->path, i),
                         std::move(msg)));
      }
      ++i;
    }
  }

 private:
  const CheckMeta& meta_;
  HostPathClass cls_;
};

}  // namespace

std::unique_ptr<Check> makePodHostpath() {
  return std::make_unique<HostPathCheck>(kAny, HostPathClass::kOther);
}
std::unique_ptr<Check> makePodHostpathSensitive() {
  return std::make_unique<HostPathCheck>(kHostpathSensitiveMeta, HostPathClass::kSensitive);
}
std::unique_ptr<Check> makePodRuntimeSocket() {
  return std::make_unique<HostPathCheck>(kSocket, HostPathClass::kRuntimeSocket);
}

}  // namespace kh
