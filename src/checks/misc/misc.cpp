// misc-deprecated-api, misc-naked-pod, misc-cronjob-inventory (opt-in),
// misc-gatekeeper-open-prefix, misc-scc-privileged, misc-psp-permissive and
// misc-legacy-admin-component.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checks/misc/misc_checks.h"

namespace kh {
namespace {

constexpr std::string_view kPod[] = {"Pod"};
constexpr std::string_view kCronJob[] = {"CronJob"};
constexpr std::string_view kAllowedRepos[] = {"K8sAllowedRepos"};
constexpr std::string_view kScc[] = {"SecurityContextConstraints"};
constexpr std::string_view kPsp[] = {"PodSecurityPolicy"};

constexpr CheckMeta kDeprecatedApi{
    .id = "misc-deprecated-api",
    .title = "Object uses an API version that Kubernetes removed",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kAll,
    .kinds = {},
    .remediation =
        "Move the manifest to the replacement API version (kubectl convert, or "
        "pluto, shows the changes); clusters that removed the version reject it.",
    .refs = {.nsa = "Upgrading and application security practices",
             .kube_linter = "no-extensions-v1beta",
             .trivy = "KSV-0107",
             .kubescape = "C-0273"},
};

constexpr CheckMeta kNaked{
    .id = "misc-naked-pod",
    .title = "Pod is not managed by a controller",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPod,
    .remediation =
        "Run the pod from a Deployment, StatefulSet, DaemonSet or Job, so it is "
        "recreated, rolled out and replaced with reviewed changes.",
    .refs = {.kubescape = "C-0073"},
};

constexpr CheckMeta kCron{
    .id = "misc-cronjob-inventory",
    .title = "CronJob runs on a schedule",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kKinds,
    .kinds = kCronJob,
    .remediation =
        "Review that each scheduled job is expected: CronJobs are a common way to "
        "persist in a cluster.",
    .refs = {.mitre = "T1053.007", .kubescape = "C-0026"},
};

constexpr CheckMeta kOpenPrefix{
    .id = "misc-gatekeeper-open-prefix",
    .title = "Gatekeeper allowed-repos entry is an open prefix",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kAllowedRepos,
    .remediation =
        "End each repository prefix with \"/\" (\"registry.example.com/\"): the "
        "template compares strings, so \"registry.example.com\" also allows "
        "\"registry.example.com.evil.io/\".",
    .refs = {.mitre = "T1525", .trivy = "KSV-0124"},
};

constexpr CheckMeta kSccPrivileged{
    .id = "misc-scc-privileged",
    .title = "OpenShift SecurityContextConstraints allow privileged or host access",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kScc,
    .remediation =
        "Grant such SCCs only to the service accounts of node agents; use "
        "restricted-v2 for everything else.",
    .refs = {.mitre = "T1611", .kube_linter = "scc-deny-privileged-container"},
};

constexpr CheckMeta kPspPermissive{
    .id = "misc-psp-permissive",
    .title = "PodSecurityPolicy allows privileged or host access",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPsp,
    .remediation =
        "PodSecurityPolicy was removed in Kubernetes 1.25: replace it with Pod "
        "Security Admission labels (pod-security.kubernetes.io/enforce) or a policy "
        "engine.",
    .refs = {.pss = "admission",
             .kubescape = "C-0068",
             .checkov = "CKV_K8S_1,CKV_K8S_2,CKV_K8S_3,CKV_K8S_4,CKV_K8S_5,CKV_K8S_6,CKV_K8S_7"},
};

constexpr CheckMeta kLegacy{
    .id = "misc-legacy-admin-component",
    .title = "Workload runs Helm v2 Tiller or the Kubernetes dashboard",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Remove Tiller (Helm 3 needs no in-cluster component). Run the dashboard "
        "only with a read-only account, behind authentication, or not at all.",
    .refs = {.mitre = "T1133",
             .trivy = "KSV-0102",
             .kubescape = "C-0014",
             .checkov = "CKV_K8S_33,CKV_K8S_34,CKV_K8S_44,CKV_K8S_45"},
};

struct Removed {
  std::string_view api_version;
  std::string_view kind;  // empty: every kind of the version
  std::string_view removed_in, replacement;
};

// Kubernetes' deprecated API migration guide: API versions no longer served, and since when.
constexpr Removed kRemoved[] = {
    {"extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1"},
    {"extensions/v1beta1", "NetworkPolicy", "1.16", "networking.k8s.io/v1"},
    {"extensions/v1beta1", "PodSecurityPolicy", "1.16", "(none: use Pod Security Admission)"},
    {"extensions/v1beta1", "", "1.16", "apps/v1"},
    {"apps/v1beta1", "", "1.16", "apps/v1"},
    {"apps/v1beta2", "", "1.16", "apps/v1"},
    {"networking.k8s.io/v1beta1", "", "1.22", "networking.k8s.io/v1"},
    {"rbac.authorization.k8s.io/v1beta1", "", "1.22", "rbac.authorization.k8s.io/v1"},
    {"rbac.authorization.k8s.io/v1alpha1", "", "1.22", "rbac.authorization.k8s.io/v1"},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", "1.22",
     "admissionregistration.k8s.io/v1"},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", "1.22",
     "admissionregistration.k8s.io/v1"},
    {"apiextensions.k8s.io/v1beta1", "", "1.22", "apiextensions.k8s.io/v1"},
    {"apiregistration.k8s.io/v1beta1", "", "1.22", "apiregistration.k8s.io/v1"},
    {"certificates.k8s.io/v1beta1", "", "1.22", "certificates.k8s.io/v1"},
    {"coordination.k8s.io/v1beta1", "", "1.22", "coordination.k8s.io/v1"},
    {"storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27", "storage.k8s.io/v1"},
    {"storage.k8s.io/v1beta1", "", "1.22", "storage.k8s.io/v1"},
    {"batch/v1beta1", "", "1.25", "batch/v1"},
    {"discovery.k8s.io/v1beta1", "", "1.25", "discovery.k8s.io/v1"},
    {"events.k8s.io/v1beta1", "", "1.25", "events.k8s.io/v1"},
    {"autoscaling/v2beta1", "", "1.25", "autoscaling/v2"},
    {"autoscaling/v2beta2", "", "1.26", "autoscaling/v2"},
    {"policy/v1beta1", "PodSecurityPolicy", "1.25", "(none: use Pod Security Admission)"},
    {"policy/v1beta1", "", "1.25", "policy/v1"},
    {"node.k8s.io/v1beta1", "", "1.25", "node.k8s.io/v1"},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "", "1.26", "flowcontrol.apiserver.k8s.io/v1"},
    {"flowcontrol.apiserver.k8s.io/v1beta2", "", "1.29", "flowcontrol.apiserver.k8s.io/v1"},
    {"flowcontrol.apiserver.k8s.io/v1beta3", "", "1.32", "flowcontrol.apiserver.k8s.io/v1"},
};

void deprecatedApi(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const Removed& r : kRemoved) {
    if (r.api_version != o.ref.api_version || (!r.kind.empty() && r.kind != o.ref.kind)) continue;
    const MapEntry* e = o.root->entry("apiVersion");
    sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "apiVersion",
                          fmt::format("{} {} is no longer served since Kubernetes {}; use {}",
                                      o.ref.api_version, o.ref.kind, r.removed_in, r.replacement)));
    return;
  }
}

void naked(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* owners = get(o.metadata, "ownerReferences");
  if (owners && !owners->seqItems().empty()) return;
  // Static pods of the control plane (/etc/kubernetes/manifests) are bare by design.
  if (getStr(o.labels, "tier") == "control-plane" && o.ref.namespace_ == "kube-system") return;
  sink.add(self.finding(o, o.metadata ? o.metadata->pos : o.root->pos, "metadata",
                        fmt::format("Pod {} has no controller: nothing recreates it when its "
                                    "node fails",
                                    o.ref.name)));
}

void cron(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const MapEntry* e = getEntry(get(o.root, "spec"), "schedule");
  std::vector<std::string> images;
  if (o.pod)
    for (const ContainerRef& c : o.pod->containers) images.emplace_back(getStr(c.node, "image"));
  sink.add(self.finding(o, e ? e->key_pos : o.root->pos, "spec.schedule",
                        fmt::format("CronJob {} runs {} on schedule \"{}\"", o.ref.name,
                                    images.empty() ? std::string("nothing")
                                                   : fmt::format("{}", fmt::join(images, ", ")),
                                    e ? e->value->text : "")));
}

void openPrefix(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* repos = get(get(get(o.root, "spec"), "parameters"), "repos");
  uint32_t i = 0;
  for (const Node* r : seqOf(repos)) {
    uint32_t idx = i++;
    std::string_view v = r->str();
    if (v.empty() || v.ends_with('/') || v.find('@') != std::string_view::npos) continue;
    sink.add(self.finding(o, r->pos, fmt::format("spec.parameters.repos[{}]", idx),
                          fmt::format("\"{}\" also allows \"{}.evil.example/...\" and "
                                      "\"{}-other/...\"; end it with \"/\"",
                                      v, v, v)));
  }
}

void scc(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (std::string_view f : {"allowPrivilegedContainer", "allowHostNetwork", "allowHostPID",
                             "allowHostIPC", "allowHostDirVolumePlugin", "allowHostPorts"}) {
    const MapEntry* e = o.root->entry(f);
    if (!e || !e->value->isTrue()) continue;
    Finding fi =
        self.finding(o, e->key_pos, std::string(f),
                     fmt::format("SecurityContextConstraints {} sets {}: true", o.ref.name, f));
    fi.rule = f;
    if (f == "allowHostPorts") fi.severity = Severity::kMedium;
    sink.add(std::move(fi));
  }
}

void psp(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* spec = get(o.root, "spec");
  auto report = [&](const MapEntry* e, std::string path, std::string what) {
    sink.add(self.finding(o, e ? e->key_pos : (spec ? spec->pos : o.root->pos), std::move(path),
                          fmt::format("PodSecurityPolicy {} {}", o.ref.name, what)));
  };
  for (std::string_view f : {"privileged", "hostNetwork", "hostPID", "hostIPC"})
    if (const MapEntry* e = getEntry(spec, f); e && e->value->isTrue())
      report(e, fmt::format("spec.{}", f), fmt::format("allows {}", f));
  const MapEntry* ape = getEntry(spec, "allowPrivilegeEscalation");
  if (!ape || !ape->value->isFalse())
    report(ape, "spec.allowPrivilegeEscalation", "allows privilege escalation");
  if (const MapEntry* e = getEntry(get(spec, "runAsUser"), "rule");
      !e || e->value->str() == "RunAsAny")
    report(e, "spec.runAsUser.rule", "lets containers run as root (runAsUser RunAsAny)");
  for (std::string_view f : {"allowedCapabilities", "volumes"}) {
    const MapEntry* e = getEntry(spec, f);
    const Node* list = e ? e->value : nullptr;
    for (const Node* n : seqOf(list))
      if (n->str() == "*") {
        report(e, fmt::format("spec.{}", f), fmt::format("allows every entry of {}", f));
        break;
      }
  }
}

void legacy(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    const MapEntry* e = c.node->entry("image");
    std::string_view image = e ? e->value->str() : std::string_view();
    std::string_view what;
    if (image.find("kubernetes-helm/tiller") != std::string_view::npos ||
        image.find("helm/tiller") != std::string_view::npos)
      what = "Helm v2 Tiller, which runs every release with cluster-admin-like rights";
    else if (image.find("kubernetesui/dashboard") != std::string_view::npos ||
             image.find("kubernetes-dashboard-amd64") != std::string_view::npos)
      what = "the Kubernetes dashboard";
    if (what.empty()) continue;
    sink.add(self.finding(o, e->key_pos, c.path + ".image",
                          fmt::format("container \"{}\" runs {} ({})", c.name, what, image),
                          c.name));
  }
}

}  // namespace

void addMiscChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kDeprecatedApi, deprecatedApi));
  out.push_back(std::make_unique<FnCheck>(kNaked, naked));
  out.push_back(std::make_unique<FnCheck>(kCron, cron));
  out.push_back(std::make_unique<FnCheck>(kOpenPrefix, openPrefix));
  out.push_back(std::make_unique<FnCheck>(kSccPrivileged, scc));
  out.push_back(std::make_unique<FnCheck>(kPspPermissive, psp));
  out.push_back(std::make_unique<FnCheck>(kLegacy, legacy));
  addMiscSchemaChecks(out);
  addMiscAgentSandboxChecks(out);
}

}  // namespace kh
