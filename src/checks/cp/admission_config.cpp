// admission-config-*: the API server's AdmissionConfiguration (--admission-control-config-file),
// with the PodSecurity plugin's configuration inline or as a PodSecurityConfiguration file of
// its own, and the EventRateLimit plugin's presence.
#include <fmt/format.h>

#include "checks/cp/cp_checks.h"

namespace kh {
namespace {

constexpr std::string_view kKinds[] = {"AdmissionConfiguration", "PodSecurityConfiguration"};

bool isAdmissionConfig(const Object& o) {
  return o.ref.kind == "AdmissionConfiguration" &&
         (o.ref.api_version.starts_with("apiserver.config.k8s.io/") ||
          o.ref.api_version.starts_with("apiserver.k8s.io/"));
}
bool isPssConfig(const Object& o) {
  return o.ref.kind == "PodSecurityConfiguration" &&
         o.ref.api_version.starts_with("pod-security.admission.config.k8s.io/");
}

// The PodSecurity configurations of an object: the object itself (a PodSecurityConfiguration
// file), or the inline configuration of an AdmissionConfiguration's PodSecurity plugin. With
// the path of each in the object.
std::vector<std::pair<const Node*, std::string>> pssConfigs(const Object& o) {
  std::vector<std::pair<const Node*, std::string>> out;
  if (isPssConfig(o)) {
    out.emplace_back(o.root, "");
  } else if (isAdmissionConfig(o)) {
    size_t i = 0;
    for (const Node* p : seqOf(get(o.root, "plugins"))) {
      if (getStr(p, "name") == "PodSecurity")
        if (const Node* c = get(p, "configuration"))
          out.emplace_back(c, fmt::format("plugins[{}].configuration.", i));
      ++i;
    }
  }
  return out;
}

constexpr CheckRefs kPsaRefs{.cis = "5.2.1", .nsa = "Pod Security enforcement", .pss = "admission"};

// --- admission-config-pss-exemptions ------------------------------------------------------------

constexpr CheckMeta kExemptions{
    .id = "admission-config-pss-exemptions",
    .title = "Pod Security admission exempts namespaces, users or runtime classes",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kKinds,
    .remediation =
        "Remove the exemption; give the namespace a pod-security.kubernetes.io/enforce "
        "label at the level its pods need instead (privileged for the few that must), "
        "so the exception is visible and reviewed with the namespace.",
    .refs = kPsaRefs,
};

void exemptions(const FileCheck& self, const Object& o, FindingSink& sink) {
  for (const auto& [cfg, base] : pssConfigs(o)) {
    const Node* ex = get(cfg, "exemptions");
    struct Kind {
      const char* field;
      const char* rule;
      const char* what;
    };
    for (const Kind& k :
         {Kind{"namespaces", "namespace", "namespace"}, Kind{"usernames", "user", "user"},
          Kind{"runtimeClasses", "runtime-class", "runtime class"}}) {
      size_t i = 0;
      for (const Node* item : seqOf(get(ex, k.field))) {
        std::string_view name = item->str();
        Finding f = self.finding(
            o, item->pos, fmt::format("{}exemptions.{}[{}]", base, k.field, i++),
            fmt::format("Pod Security admission exempts {} {}: {} are never checked against any "
                        "level, whatever the namespace labels say{}",
                        k.what, name,
                        std::string_view(k.rule) == "namespace" ? "pods created there"
                        : std::string_view(k.rule) == "user"    ? "pods this user creates directly"
                                                                : "pods that use it",
                        std::string_view(k.rule) == "namespace" && name == "kube-system"
                            ? " (common for kube-system; its pods still deserve a label that "
                              "documents what they need)"
                            : ""));
        f.rule = k.rule;
        if (std::string_view(k.rule) == "namespace" && name == "kube-system")
          f.severity = Severity::kLow;
        sink.add(std::move(f));
      }
    }
  }
}

// --- admission-config-pss-defaults --------------------------------------------------------------

constexpr CheckMeta kDefaults{
    .id = "admission-config-pss-defaults",
    .title = "Pod Security admission enforces nothing by default",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kKinds,
    .remediation =
        "Set defaults.enforce to baseline (or restricted) and warn/audit to "
        "restricted; namespaces that need more get an explicit privileged label.",
    .refs = kPsaRefs,
};

void defaults(const FileCheck& self, const Object& o, FindingSink& sink) {
  for (const auto& [cfg, base] : pssConfigs(o)) {
    const Node* d = get(cfg, "defaults");
    const Node* enforce = get(d, "enforce");
    std::string_view level = enforce ? enforce->str() : std::string_view();
    if (!level.empty() && level != "privileged") continue;
    const Node* at = enforce ? enforce : d ? d : cfg;
    sink.add(self.finding(
        o, at->pos, base + (enforce ? "defaults.enforce" : "defaults"),
        level.empty() ? std::string("defaults.enforce is not set, so it is privileged: a "
                                    "namespace without a pod-security.kubernetes.io/enforce "
                                    "label admits any pod")
                      : std::string("defaults.enforce is privileged: a namespace without a "
                                    "pod-security.kubernetes.io/enforce label admits any pod")));
  }
}

// --- admission-config-event-rate-limit ----------------------------------------------------------

constexpr std::string_view kAdmissionKind[] = {"AdmissionConfiguration"};

constexpr CheckMeta kEventRateLimit{
    .id = "admission-config-event-rate-limit",
    .title = "Admission configuration has no EventRateLimit limits",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kAdmissionKind,
    .remediation =
        "Configure the EventRateLimit plugin (limits of type Server and Namespace) "
        "and enable it with --enable-admission-plugins.",
    .refs = {.cis = "1.2.9", .nsa = "Control plane hardening", .trivy = "KCV-0010"},
};

void eventRateLimit(const FileCheck& self, const Object& o, FindingSink& sink) {
  size_t i = 0;
  for (const Node* p : seqOf(get(o.root, "plugins"))) {
    if (getStr(p, "name") == "EventRateLimit") {
      if (get(p, "path")) return;  // its limits are in that file
      const Node* limits = get(get(p, "configuration"), "limits");
      if (!seqOf(limits).empty()) return;
      sink.add(self.finding(o, p->pos, fmt::format("plugins[{}]", i),
                            "the EventRateLimit plugin is listed without limits (neither a path "
                            "nor configuration.limits)"));
      return;
    }
    ++i;
  }
  const Node* at = get(o.root, "plugins");
  sink.add(self.finding(o, (at ? at : o.root)->pos, "plugins",
                        "no EventRateLimit configuration: a client can flood the API server and "
                        "etcd with Events"));
}

bool isAdmissionOrPssConfig(const Object& o) {
  return isAdmissionConfig(o) || isPssConfig(o);
}

}  // namespace

void addAdmissionConfigChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FileCheck>(kExemptions, isAdmissionOrPssConfig, exemptions));
  out.push_back(std::make_unique<FileCheck>(kDefaults, isAdmissionOrPssConfig, defaults));
  out.push_back(std::make_unique<FileCheck>(kEventRateLimit, isAdmissionConfig, eventRateLimit));
}

}  // namespace kh
