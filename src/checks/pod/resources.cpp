// Resource requests and limits: pod-memory-limit, pod-memory-request, pod-cpu-request and
// pod-cpu-limit (opt-in). A value counts as set when the API server would fill it in: a request
// defaults to the container's own limit, and a LimitRange of the namespace (in the input)
// supplies defaults as its API defaulting does (default from max, defaultRequest from default,
// then from min).
#include <fmt/format.h>

#include "checks/pod/pod_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr CheckMeta kMemLimit{
    .id = "pod-memory-limit",
    .title = "Container has no memory limit",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set resources.limits.memory so one container cannot exhaust the node's "
        "memory (a namespace LimitRange can supply a default).",
    .refs = {.cis = "",
             .nsa = "Resource policies",
             .pss = "",
             .mitre = "T1496",
             .kube_linter = "unset-memory-requirements",
             .trivy = "KSV-0018",
             .kubescape = "C-0271,C-0004",
             .polaris = "memoryLimitsMissing",
             .checkov = "CKV_K8S_13"},
};

constexpr CheckMeta kMemRequest{
    .id = "pod-memory-request",
    .title = "Container has no memory request",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set resources.requests.memory so the scheduler places the pod where the "
        "memory exists and the kubelet evicts it last.",
    .refs = {.nsa = "Resource policies",
             .mitre = "T1496",
             .kube_linter = "unset-memory-requirements",
             .trivy = "KSV-0016",
             .kubescape = "C-0269,C-0004",
             .polaris = "memoryRequestsMissing",
             .checkov = "CKV_K8S_12"},
};

constexpr CheckMeta kCpuRequest{
    .id = "pod-cpu-request",
    .title = "Container has no CPU request",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set resources.requests.cpu so the container gets its share of CPU under "
        "contention.",
    .refs = {.nsa = "Resource policies",
             .mitre = "T1496",
             .kube_linter = "unset-cpu-requirements",
             .trivy = "KSV-0015",
             .kubescape = "C-0268,C-0050",
             .polaris = "cpuRequestsMissing",
             .checkov = "CKV_K8S_10"},
};

constexpr CheckMeta kCpuLimit{
    .id = "pod-cpu-limit",
    .title = "Container has no CPU limit",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Set resources.limits.cpu where a runaway container must not take a node's "
        "spare CPU (a CPU request already guarantees each container its share).",
    .refs = {.nsa = "Resource policies",
             .mitre = "T1496",
             .kube_linter = "unset-cpu-requirements",
             .trivy = "KSV-0011",
             .kubescape = "C-0270,C-0050",
             .polaris = "cpuLimitsMissing",
             .checkov = "CKV_K8S_11"},
};

bool hasValue(const Node* map, std::string_view resource) {
  const Node* v = get(map, resource);
  return v && !v->isNull();
}

// Does a LimitRange of namespace `ns` in the input give containers a default for the resource?
bool limitRangeDefault(const CheckContext& ctx, std::string_view ns, std::string_view resource,
                       bool request) {
  if (!ctx.index) return false;
  for (const Object* lr : ctx.index->ofKind("LimitRange")) {
    if (lr->namespaceOrDefault() != ns) continue;
    const Node* limits = get(get(lr->root, "spec"), "limits");
    for (const Node* item : seqOf(limits)) {
      if (getStr(item, "type") != "Container") continue;
      if (hasValue(get(item, "default"), resource) || hasValue(get(item, "max"), resource))
        return true;
      if (request &&
          (hasValue(get(item, "defaultRequest"), resource) || hasValue(get(item, "min"), resource)))
        return true;
    }
  }
  return false;
}

template <bool kRequest>
void missing(const FnCheck& self, const Object& o, const CheckContext& ctx, FindingSink& sink,
             std::string_view resource) {
  std::string_view field = kRequest ? "requests" : "limits";
  bool defaulted = false, looked = false;
  for (const ContainerRef& c : o.pod->containers) {
    if (c.list == ContainerList::kEphemeral) continue;  // ephemeral containers take no resources
    const Node* res = get(c.node, "resources");
    if (hasValue(get(res, field), resource)) continue;
    if (kRequest && hasValue(get(res, "limits"), resource)) continue;  // request := limit
    if (!looked) {
      defaulted = limitRangeDefault(ctx, o.namespaceOrDefault(), resource, kRequest);
      looked = true;
    }
    if (defaulted) return;
    sink.add(self.finding(
        o, nearestPos(c.node, {"resources", field}),
        fmt::format("{}.resources.{}.{}", c.path, field, resource),
        fmt::format("container \"{}\" has no {} {}", c.name, resource == "cpu" ? "CPU" : resource,
                    kRequest ? "request" : "limit"),
        c.name));
  }
}

}  // namespace

void addPodResourceChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(
      kMemLimit, [](const FnCheck& s, const Object& o, const CheckContext& c, FindingSink& k) {
        missing<false>(s, o, c, k, "memory");
      }));
  out.push_back(std::make_unique<FnCheck>(
      kMemRequest, [](const FnCheck& s, const Object& o, const CheckContext& c, FindingSink& k) {
        missing<true>(s, o, c, k, "memory");
      }));
  out.push_back(std::make_unique<FnCheck>(
      kCpuRequest, [](const FnCheck& s, const Object& o, const CheckContext& c, FindingSink& k) {
        missing<true>(s, o, c, k, "cpu");
      }));
  out.push_back(std::make_unique<FnCheck>(
      kCpuLimit, [](const FnCheck& s, const Object& o, const CheckContext& c, FindingSink& k) {
        missing<false>(s, o, c, k, "cpu");
      }));
}

}  // namespace kh
