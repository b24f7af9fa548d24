// Kernel and mandatory access control settings: pod-apparmor-unconfined, pod-selinux-custom,
// pod-proc-mount-unmasked, pod-unsafe-sysctls and pod-linux-hardening-missing (opt-in).
#include <fmt/format.h>

#include "checks/pod/pod_checks.h"
#include "checks/util/capabilities.h"
#include "pss/pss.h"

namespace kh {
namespace {

constexpr CheckMeta kAppArmor{
    .id = "pod-apparmor-unconfined",
    .title = "Container runs without AppArmor confinement",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Use appArmorProfile.type: RuntimeDefault (or Localhost with a reviewed "
        "profile), or drop the annotation that unconfines the container.",
    .refs = {.cis = "5.7.2",
             .nsa = "Hardening container environments",
             .pss = "baseline:appArmorProfile",
             .mitre = "T1611",
             .trivy = "KSV-0002"},
};

constexpr CheckMeta kSeLinux{
    .id = "pod-selinux-custom",
    .title = "Pod sets a custom SELinux type, user or role",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove seLinuxOptions, or keep only `level` and a container type "
        "(container_t, container_init_t, container_kvm_t, container_engine_t).",
    .refs = {.cis = "5.7.2",
             .nsa = "Hardening container environments",
             .pss = "baseline:seLinuxOptions",
             .mitre = "T1611",
             .trivy = "KSV-0025"},
};

constexpr CheckMeta kProcMount{
    .id = "pod-proc-mount-unmasked",
    .title = "Container mounts /proc unmasked",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove securityContext.procMount (the Default masks kernel interfaces "
        "under /proc and /sys).",
    .refs = {.nsa = "Hardening container environments",
             .pss = "baseline:procMount,restricted:procMount_restricted",
             .mitre = "T1611",
             .kube_linter = "unsafe-proc-mount",
             .trivy = "KSV-0027",
             .polaris = "procMount"},
};

constexpr CheckMeta kSysctls{
    .id = "pod-unsafe-sysctls",
    .title = "Pod sets a sysctl outside the safe set",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove the sysctl, or set it on the node: unsafe sysctls are not isolated "
        "per pod and affect every workload on the node.",
    .refs = {.nsa = "Hardening container environments",
             .pss = "baseline:sysctls",
             .mitre = "T1611",
             .kube_linter = "unsafe-sysctls",
             .trivy = "KSV-0026"},
};

constexpr CheckMeta kHardening{
    .id = "pod-linux-hardening-missing",
    .title = "Container uses no Linux hardening mechanism",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Apply at least one of seccomp (RuntimeDefault), AppArmor, SELinux options "
        "or a capability drop list.",
    .refs = {.nsa = "Hardening container environments",
             .mitre = "T1611",
             .kubescape = "C-0055",
             .polaris = "linuxHardening"},
};

constexpr std::string_view kAppArmorPrefix = "container.apparmor.security.beta.kubernetes.io/";

bool confinedAnnotation(std::string_view v) {
  return v.empty() || v == "runtime/default" || v.starts_with("localhost/");
}

void appArmor(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (pod.windows) return;
  auto field = [&](const Node* sc, const std::string& path, std::string_view container) {
    const MapEntry* e = getEntry(get(sc, "appArmorProfile"), "type");
    if (!e || !e->value->isString()) return;
    std::string_view t = e->value->text;
    if (t == "RuntimeDefault" || t == "Localhost") return;
    std::string who =
        container.empty() ? std::string("pod") : fmt::format("container \"{}\"", container);
    sink.add(self.finding(o, e->key_pos, path + ".appArmorProfile.type",
                          fmt::format("{} sets appArmorProfile.type: {}", who, t), container));
  };
  field(pod.podSecurityContext(), pod.path + ".securityContext", {});
  for (const ContainerRef& c : pod.containers)
    field(get(c.node, "securityContext"), c.path + ".securityContext", c.name);
  const Node* ann = get(pod.template_meta, "annotations");
  for (const MapEntry& e : mapOf(ann)) {
    if (!e.key.starts_with(kAppArmorPrefix) || confinedAnnotation(e.value->str())) continue;
    std::string_view container = e.key.substr(kAppArmorPrefix.size());
    sink.add(self.finding(o, e.key_pos, fmt::format("{}.annotations.{}", pod.meta_path, e.key),
                          fmt::format("annotation sets AppArmor profile \"{}\" for container "
                                      "\"{}\"",
                                      e.value->text, container),
                          container));
  }
}

void seLinux(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  auto opts = [&](const Node* sc, const std::string& path, std::string_view container) {
    const Node* se = get(sc, "seLinuxOptions");
    if (!se) return;
    std::string who =
        container.empty() ? std::string("pod") : fmt::format("container \"{}\"", container);
    if (const MapEntry* t = se->entry("type");
        t && !pss::allowedSeLinuxType(t->value->str(), pss::kLatestMinor))
      sink.add(self.finding(o, t->key_pos, path + ".seLinuxOptions.type",
                            fmt::format("{} runs with SELinux type {}", who, t->value->text),
                            container));
    for (std::string_view f : {"user", "role"}) {
      const MapEntry* e = se->entry(f);
      if (!e || e->value->str().empty()) continue;
      sink.add(self.finding(o, e->key_pos, fmt::format("{}.seLinuxOptions.{}", path, f),
                            fmt::format("{} sets SELinux {} {}", who, f, e->value->text),
                            container));
    }
  };
  opts(pod.podSecurityContext(), pod.path + ".securityContext", {});
  for (const ContainerRef& c : pod.containers)
    opts(get(c.node, "securityContext"), c.path + ".securityContext", c.name);
}

void procMount(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    const MapEntry* e = getEntry(get(c.node, "securityContext"), "procMount");
    if (!e || e->value->isNull() || e->value->str() == "Default") continue;
    sink.add(self.finding(
        o, e->key_pos, c.path + ".securityContext.procMount",
        fmt::format("container \"{}\" sets procMount: {}", c.name, e->value->text), c.name));
  }
}

void sysctls(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* list = get(o.pod->podSecurityContext(), "sysctls");
  uint32_t i = 0;
  for (const Node* s : seqOf(list)) {
    std::string_view name = getStr(s, "name");
    if (!name.empty() && !pss::safeSysctl(name, pss::kLatestMinor)) {
      const MapEntry* e = s->entry("name");
      sink.add(self.finding(
          o, e->key_pos, fmt::format("{}.securityContext.sysctls[{}].name", o.pod->path, i),
          fmt::format("pod sets sysctl {}, which is not namespaced safely", name)));
    }
    ++i;
  }
}

void hardening(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (pod.windows) return;
  const Node* psc = pod.podSecurityContext();
  auto seccomp = [](const Node* sc) {
    std::string_view t = getStr(get(sc, "seccompProfile"), "type");
    return t == "RuntimeDefault" || t == "Localhost";
  };
  auto apparmor = [](const Node* sc) {
    std::string_view t = getStr(get(sc, "appArmorProfile"), "type");
    return t == "RuntimeDefault" || t == "Localhost";
  };
  bool pod_level = seccomp(psc) || apparmor(psc) || get(psc, "seLinuxOptions");
  if (pod_level) return;
  const Node* ann = get(pod.template_meta, "annotations");
  for (const ContainerRef& c : pod.containers) {
    const Node* sc = get(c.node, "securityContext");
    const Node* drop = get(get(sc, "capabilities"), "drop");
    if (seccomp(sc) || apparmor(sc) || get(sc, "seLinuxOptions") ||
        (drop && !drop->seqItems().empty()))
      continue;
    std::string aa_key = fmt::format("{}{}", kAppArmorPrefix, c.name);
    std::string_view aa = getStr(ann, aa_key);
    if (aa == "runtime/default" || aa.starts_with("localhost/")) continue;
    sink.add(self.finding(o, nearestPos(c.node, {"securityContext"}), c.path + ".securityContext",
                          fmt::format("container \"{}\" uses none of seccomp, AppArmor, SELinux "
                                      "or a capability drop list",
                                      c.name),
                          c.name));
  }
}

}  // namespace

void addPodKernelChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kAppArmor, appArmor));
  out.push_back(std::make_unique<FnCheck>(kSeLinux, seLinux));
  out.push_back(std::make_unique<FnCheck>(kProcMount, procMount));
  out.push_back(std::make_unique<FnCheck>(kSysctls, sysctls));
  out.push_back(std::make_unique<FnCheck>(kHardening, hardening));
}

}  // namespace kh
