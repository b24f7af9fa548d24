// misc-unknown-field: fields of a pod spec, container or security context that the Kubernetes API
// does not know. The API server drops them (with a warning at best), so a misspelled
// `securityContex` or `runAsNonroot` silently leaves the workload unhardened.
#include <fmt/format.h>

#include <algorithm>

#include "checks/misc/misc_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kSchemaMeta{
    .id = "misc-unknown-field",
    .title = "Pod spec has a field the API does not know",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Fix the field name (the finding suggests the closest known one); the API "
        "server drops unknown fields, so the setting never takes effect.",
    .refs = {.kube_linter = "schema-validation"},
};

// Field names of the core/v1 types (Kubernetes 1.34), sorted.
constexpr std::string_view kPodSpec[] = {
    "activeDeadlineSeconds",
    "affinity",
    "automountServiceAccountToken",
    "containers",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "ephemeralContainers",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostUsers",
    "hostname",
    "hostnameOverride",
    "imagePullSecrets",
    "initContainers",
    "nodeName",
    "nodeSelector",
    "os",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "resourceClaims",
    "resources",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "schedulingGates",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "setHostnameAsFQDN",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "tolerations",
    "topologySpreadConstraints",
    "volumes",
};
constexpr std::string_view kContainer[] = {
    "args",
    "command",
    "env",
    "envFrom",
    "image",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "name",
    "ports",
    "readinessProbe",
    "resizePolicy",
    "resources",
    "restartPolicy",
    "restartPolicyRules",
    "securityContext",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "targetContainerName",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
};
constexpr std::string_view kSecurityContext[] = {
    "allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
    "readOnlyRootFilesystem",   "runAsGroup",      "runAsNonRoot", "runAsUser",  "seLinuxOptions",
    "seccompProfile",           "windowsOptions",
};
constexpr std::string_view kPodSecurityContext[] = {
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
    "windowsOptions",
};
constexpr std::string_view kCapabilities[] = {"add", "drop"};

// Edit distance (case-insensitive), for "did you mean".
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void unknown(const FnCheck& self, const Object& o, const Node* map, const std::string& path,
             std::span<const std::string_view> known, std::string_view what,
             std::string_view container, FindingSink& sink) {
  for (const MapEntry& e : mapOf(map)) {
    if (std::binary_search(known.begin(), known.end(), e.key)) continue;
    std::string_view best;
    size_t best_d = 4;  // suggest only close names
    for (std::string_view k : known)
      if (size_t d = distance(e.key, k); d < best_d) best_d = d, best = k;
    sink.add(self.finding(
        o, e.key_pos, fmt::format("{}.{}", path, e.key),
        best.empty() ? fmt::format("{} has no field {}; the API server drops it", what, e.key)
                     : fmt::format("{} has no field {} (did you mean {}?); "
                                   "the API server drops it",
                                   what, e.key, best),
        container));
  }
}

void schemaCheck(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const PodSpecView& pod = *o.pod;
  if (!pod.spec->isMap()) return;
  unknown(self, o, pod.spec, pod.path, kPodSpec, "the pod spec", {}, sink);
  if (const Node* sc = pod.podSecurityContext(); sc && sc->isMap())
    unknown(self, o, sc, pod.path + ".securityContext", kPodSecurityContext,
            "the pod's securityContext", {}, sink);
  for (const ContainerRef& c : pod.containers) {
    unknown(self, o, c.node, c.path, kContainer, fmt::format("container \"{}\"", c.name), c.name,
            sink);
    const Node* sc = get(c.node, "securityContext");
    if (!sc || !sc->isMap()) continue;
    unknown(self, o, sc, c.path + ".securityContext", kSecurityContext,
            fmt::format("the securityContext of container \"{}\"", c.name), c.name, sink);
    if (const Node* caps = get(sc, "capabilities"); caps && caps->isMap())
      unknown(self, o, caps, c.path + ".securityContext.capabilities", kCapabilities,
              fmt::format("the capabilities of container \"{}\"", c.name), c.name, sink);
  }
}

}  // namespace

void addMiscSchemaChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kSchemaMeta, schemaCheck));
}

}  // namespace kh
