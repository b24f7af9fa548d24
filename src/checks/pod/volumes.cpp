// Volumes beyond the hostPath classes: pod-hostpath-writable, pod-volume-type,
// pod-gitrepo-volume and pod-sts-volume-claims (opt-in).
#include <fmt/format.h>

#include <algorithm>

#include "checks/pod/pod_checks.h"

namespace kh {
namespace {

constexpr CheckMeta kWritable{
    .id = "pod-hostpath-writable",
    .title = "Container mounts a host path writable",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Mount the hostPath volume with readOnly: true, or replace it with an "
        "emptyDir, a ConfigMap or a PersistentVolumeClaim.",
    .refs = {.nsa = "Immutable container file systems",
             .pss = "baseline:hostPathVolumes",
             .mitre = "T1611",
             .kube_linter = "writable-host-mount",
             .kubescape = "C-0045"},
};

constexpr CheckMeta kType{
    .id = "pod-volume-type",
    .title = "Pod uses a volume type outside the restricted set",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Use a PersistentVolumeClaim (or csi, ephemeral, configMap, secret, "
        "projected, downwardAPI, emptyDir, image); inline volume plugins bypass "
        "the storage class and its access controls.",
    .refs = {.nsa = "Hardening container environments",
             .pss = "restricted:restrictedVolumes",
             .mitre = "T1611",
             .trivy = "KSV-0028"},
};

constexpr CheckMeta kGitRepo{
    .id = "pod-gitrepo-volume",
    .title = "Pod uses a gitRepo volume",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Clone the repository in an init container into an emptyDir; the kubelet "
        "runs git on the node for gitRepo volumes (CVE-2018-11235, CVE-2024-10220).",
    .refs = {.pss = "restricted:restrictedVolumes",
             .mitre = "T1611",
             .trivy = "KSV-0028",
             .checkov = "CKV_K8S_159"},
};

constexpr std::string_view kStsKinds[] = {"StatefulSet"};

constexpr CheckMeta kClaims{
    .id = "pod-sts-volume-claims",
    .title = "StatefulSet volume claim template lacks access mode or size",
    .severity = Severity::kInfo,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kKinds,
    .kinds = kStsKinds,
    .remediation =
        "Give each volumeClaimTemplate accessModes: [ReadWriteOnce] (or "
        "ReadWriteOncePod) and resources.requests.storage.",
    .refs = {},
};

// The volume types the restricted level allows (restrictedVolumes).
bool coreVolumeKey(std::string_view k) {
  for (std::string_view t : {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                             "persistentVolumeClaim", "projected", "secret"})
    if (k == t) return true;
  return false;
}

void writable(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* volumes = get(o.pod->spec, "volumes");
  std::vector<std::string_view> host;
  for (const Node* v : seqOf(volumes))
    if (get(v, "hostPath")) host.push_back(getStr(v, "name"));
  if (host.empty()) return;
  for (const ContainerRef& c : o.pod->containers) {
    const Node* mounts = get(c.node, "volumeMounts");
    uint32_t i = 0;
    for (const Node* m : seqOf(mounts)) {
      std::string_view name = getStr(m, "name");
      uint32_t idx = i++;
      if (std::find(host.begin(), host.end(), name) == host.end() || getTrue(m, "readOnly"))
        continue;
      sink.add(
          self.finding(o, m->pos, fmt::format("{}.volumeMounts[{}]", c.path, idx),
                       fmt::format("container \"{}\" mounts host path volume \"{}\" at {} writable",
                                   c.name, name, getStr(m, "mountPath")),
                       c.name));
    }
  }
}

void type(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* volumes = get(o.pod->spec, "volumes");
  uint32_t i = 0;
  for (const Node* v : seqOf(volumes)) {
    uint32_t idx = i++;
    for (const MapEntry& e : v->mapEntries()) {
      // hostPath and gitRepo have checks of their own; fields that are no volume source are
      // dropped by the API server (a volume left with none is an emptyDir, see volumeSource).
      if (!isVolumeSourceField(e.key) || coreVolumeKey(e.key) || e.key == "hostPath" ||
          e.key == "gitRepo")
        continue;
      if (e.value->isNull()) continue;
      sink.add(self.finding(o, e.key_pos, fmt::format("{}.volumes[{}].{}", o.pod->path, idx, e.key),
                            fmt::format("volume \"{}\" is of type {}", getStr(v, "name"), e.key)));
    }
  }
}

void gitRepo(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* volumes = get(o.pod->spec, "volumes");
  uint32_t i = 0;
  for (const Node* v : seqOf(volumes)) {
    uint32_t idx = i++;
    const MapEntry* e = v->entry("gitRepo");
    if (!e || e->value->isNull()) continue;
    sink.add(self.finding(o, e->key_pos, fmt::format("{}.volumes[{}].gitRepo", o.pod->path, idx),
                          fmt::format("volume \"{}\" clones {} with git on the node",
                                      getStr(v, "name"), getStr(e->value, "repository"))));
  }
}

void claims(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  const Node* list = get(get(o.root, "spec"), "volumeClaimTemplates");
  uint32_t i = 0;
  for (const Node* t : seqOf(list)) {
    std::string path = fmt::format("spec.volumeClaimTemplates[{}]", i++);
    const Node* spec = get(t, "spec");
    const Node* modes = get(spec, "accessModes");
    bool single = false;
    for (const Node* m : seqOf(modes))
      single |= m->str() == "ReadWriteOnce" || m->str() == "ReadWriteOncePod";
    std::string_view name = getStr(get(t, "metadata"), "name");
    if (!single)
      sink.add(self.finding(o, nearestPos(t, {"spec", "accessModes"}), path + ".spec.accessModes",
                            fmt::format("claim template \"{}\" is not ReadWriteOnce", name)));
    if (!get(get(get(spec, "resources"), "requests"), "storage"))
      sink.add(self.finding(o, nearestPos(t, {"spec", "resources", "requests"}),
                            path + ".spec.resources.requests.storage",
                            fmt::format("claim template \"{}\" requests no storage size", name)));
  }
}

}  // namespace

void addPodVolumeChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kWritable, writable));
  out.push_back(std::make_unique<FnCheck>(kType, type));
  out.push_back(std::make_unique<FnCheck>(kGitRepo, gitRepo));
  out.push_back(std::make_unique<FnCheck>(kClaims, claims));
}

}  // namespace kh
