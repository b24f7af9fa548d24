// Host access beyond the namespaces: pod-windows-hostprocess, pod-host-probe, pod-host-aliases
// and pod-host-users (opt-in).
#include <fmt/format.h>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kHostProcess{
    .id = "pod-windows-hostprocess",
    .title = "Windows container runs as a HostProcess",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove windowsOptions.hostProcess (or set it to false); a HostProcess "
        "container is a process on the Windows node with the node's privileges.",
    .refs = {.cis = "5.2.11",
             .nsa = "Host namespaces and host access",
             .pss = "baseline:windowsHostProcess",
             .mitre = "T1611",
             .trivy = "KSV-0103",
             .kubescape = "C-0202",
             .polaris = "hostProcess"},
};

constexpr CheckMeta kProbe{
    .id = "pod-host-probe",
    .title = "Probe or lifecycle handler targets another host",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove `host` from the probe or lifecycle handler: the kubelet then "
        "connects to the pod's own IP.",
    .refs = {.pss = "baseline:hostProbesAndHostLifecycle", .mitre = "T1090"},
};

constexpr CheckMeta kAliases{
    .id = "pod-host-aliases",
    .title = "Pod rewrites /etc/hosts with hostAliases",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Resolve names through DNS (a Service, or an ExternalName Service) instead "
        "of spec.hostAliases.",
    .refs = {.mitre = "T1565", .trivy = "KSV-0007"},
};

constexpr CheckMeta kUsers{
    .id = "pod-host-users",
    .title = "Pod does not use a user namespace",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set spec.hostUsers: false (Kubernetes 1.33+ with a supporting runtime) so "
        "root in the container maps to an unprivileged user on the node.",
    .refs = {.nsa = "Non-root containers", .mitre = "T1611"},
};

void hostProcess(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  auto report = [&](const Node* sc, const std::string& sc_path, std::string_view container) {
    const MapEntry* e = getEntry(get(sc, "windowsOptions"), "hostProcess");
    if (!e || !e->value->isTrue()) return;
    std::string who =
        container.empty() ? std::string("pod") : fmt::format("container \"{}\"", container);
    sink.add(self.finding(o, e->key_pos, sc_path + ".windowsOptions.hostProcess",
                          fmt::format("{} sets windowsOptions.hostProcess: true", who), container));
  };
  report(pod.podSecurityContext(), pod.path + ".securityContext", {});
  for (const ContainerRef& c : pod.containers)
    report(get(c.node, "securityContext"), c.path + ".securityContext", c.name);
}

void hostProbe(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    auto handler = [&](const Node* h, const std::string& path) {
      for (std::string_view kind : {"httpGet", "tcpSocket"}) {
        const MapEntry* host = getEntry(get(h, kind), "host");
        if (!host || host->value->str().empty()) continue;
        sink.add(self.finding(
            o, host->key_pos, fmt::format("{}.{}.host", path, kind),
            fmt::format("container \"{}\" {} connects to host \"{}\" instead of the pod", c.name,
                        path.substr(c.path.size() + 1), host->value->str()),
            c.name));
      }
    };
    for (std::string_view probe : {"livenessProbe", "readinessProbe", "startupProbe"})
      handler(get(c.node, probe), fmt::format("{}.{}", c.path, probe));
    for (std::string_view hook : {"postStart", "preStop"})
      handler(get(get(c.node, "lifecycle"), hook), fmt::format("{}.lifecycle.{}", c.path, hook));
  }
}

void hostAliases(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = o.pod->spec->entry("hostAliases");
  if (!e || !e->value->isSeq() || e->value->seqItems().empty()) return;
  sink.add(self.finding(
      o, e->key_pos, o.pod->path + ".hostAliases",
      fmt::format("pod adds {} entr{} to /etc/hosts with hostAliases", e->value->seqItems().size(),
                  e->value->seqItems().size() == 1 ? "y" : "ies")));
}

void hostUsers(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (pod.windows) return;  // user namespaces are a Linux feature
  const MapEntry* e = pod.spec->entry("hostUsers");
  if (e && e->value->isFalse()) return;
  // Pods sharing a host namespace cannot have a user namespace; other checks report those.
  for (std::string_view f : {"hostNetwork", "hostPID", "hostIPC"})
    if (const Node* n = get(pod.spec, f); n && n->isTrue()) return;
  sink.add(self.finding(o, e ? e->key_pos : pod.spec->pos, pod.path + ".hostUsers",
                        e ? "pod sets hostUsers: true; root in a container is root on the node"
                          : "pod does not set hostUsers: false; root in a container is root on "
                            "the node"));
}

}  // namespace

void addPodHostExtraChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kHostProcess, hostProcess));
  out.push_back(std::make_unique<FnCheck>(kProbe, hostProbe));
  out.push_back(std::make_unique<FnCheck>(kAliases, hostAliases));
  out.push_back(std::make_unique<FnCheck>(kUsers, hostUsers));
}

}  // namespace kh
