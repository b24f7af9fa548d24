#include "model/pod_spec.h"

#include <fmt/format.h>

#include <array>

#include "base/strings.h"

namespace kh {
namespace {

// Fields of SecurityContext that PodSecurityContext also has; container values override.
constexpr std::array<std::string_view, 7> kInheritedFields = {
    "runAsUser",      "runAsGroup",     "runAsNonRoot",    "seLinuxOptions",
    "seccompProfile", "windowsOptions", "appArmorProfile",
};

const Node* walk(const Node* n, std::string_view dotted) {
  for (std::string_view part : splitTrimmed(dotted, '.')) n = get(n, part);
  return n;
}

bool hasContainers(const Node* spec) {
  const Node* c = get(spec, "containers");
  return c && c->isSeq();
}

PodSpecView build(const Node* spec, const Node* meta, std::string path, std::string meta_path) {
  PodSpecView v;
  v.spec = spec;
  v.template_meta = meta;
  v.path = std::move(path);
  v.meta_path = std::move(meta_path);
  v.windows = getStr(get(spec, "os"), "name") == "windows";
  constexpr std::array<ContainerList, 3> lists = {ContainerList::kInit, ContainerList::kRegular,
                                                  ContainerList::kEphemeral};
  for (ContainerList l : lists) {
    std::string_view field = containerListField(l);
    const Node* seq = get(spec, field);
    if (!seq) continue;
    uint32_t i = 0;
    for (const Node* c : seq->seqItems()) {
      if (c->isMap()) {
        v.containers.push_back(
            {c, l, i, getStr(c, "name"), fmt::format("{}.{}[{}]", v.path, field, i)});
      }
      ++i;
    }
  }
  return v;
}

// `tmpl` is a pod template (map with metadata and spec) at `path`.
std::optional<PodSpecView> fromTemplate(const Node* tmpl, std::string_view path, bool require) {
  const Node* spec = get(tmpl, "spec");
  if (!spec || !spec->isMap()) return std::nullopt;
  if (require && !hasContainers(spec)) return std::nullopt;
  return build(spec, get(tmpl, "metadata"), fmt::format("{}.spec", path),
               fmt::format("{}.metadata", path));
}

}  // namespace

std::string_view containerListField(ContainerList l) {
  switch (l) {
    case ContainerList::kInit:
      return "initContainers";
    case ContainerList::kRegular:
      return "containers";
    case ContainerList::kEphemeral:
      return "ephemeralContainers";
  }
  return "containers";
}

bool builtinApiGroup(std::string_view api_version) {
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) return true;  // "v1": the core group
  std::string_view group = api_version.substr(0, slash);
  static constexpr std::string_view kGroups[] = {"admissionregistration.k8s.io",
                                                 "apiextensions.k8s.io",
                                                 "apiregistration.k8s.io",
                                                 "apps",
                                                 "authentication.k8s.io",
                                                 "authorization.k8s.io",
                                                 "autoscaling",
                                                 "batch",
                                                 "certificates.k8s.io",
                                                 "coordination.k8s.io",
                                                 "discovery.k8s.io",
                                                 "events.k8s.io",
                                                 "extensions",
                                                 "flowcontrol.apiserver.k8s.io",
                                                 "internal.apiserver.k8s.io",
                                                 "networking.k8s.io",
                                                 "node.k8s.io",
                                                 "policy",
                                                 "rbac.authorization.k8s.io",
                                                 "resource.k8s.io",
                                                 "scheduling.k8s.io",
                                                 "storage.k8s.io",
                                                 "storagemigration.k8s.io"};
  for (std::string_view g : kGroups)
    if (g == group) return true;
  return false;
}

std::optional<PodSpecView> discoverPodSpec(const Node* root, std::string_view kind,
                                           std::span<const std::string> extra_paths) {
  if (kind == "Pod") {
    const Node* spec = get(root, "spec");
    if (!spec || !spec->isMap()) return std::nullopt;
    PodSpecView v = build(spec, get(root, "metadata"), "spec", "metadata");
    v.is_pod = true;
    return v;
  }
  if (kind == "PodTemplate") return fromTemplate(get(root, "template"), "template", false);
  if (kind == "CronJob")
    return fromTemplate(walk(root, "spec.jobTemplate.spec.template"),
                        "spec.jobTemplate.spec.template", false);
  bool known = kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" ||
               kind == "DaemonSet" || kind == "Job" || kind == "ReplicationController" ||
               kind == "DeploymentConfig";
  // Every kind of the built-in API groups is known: the workloads here, and none other carries a
  // pod template (a ConfigMap with a `spec.template` is just data).
  if (!known && builtinApiGroup(getStr(root, "apiVersion"))) return std::nullopt;
  if (auto v = fromTemplate(walk(root, "spec.template"), "spec.template", !known)) return v;
  if (known) return std::nullopt;
  // Any other kind (CRDs such as Argo Rollouts, Knative Services, KEDA ScaledJobs, Agent
  // Sandboxes) that embeds a pod template with containers at a well-known or configured place.
  if (auto v = fromTemplate(walk(root, "spec.jobTemplate.spec.template"),
                            "spec.jobTemplate.spec.template", true))
    return v;
  if (auto v = fromTemplate(walk(root, "spec.podTemplate"), "spec.podTemplate", true)) return v;
  for (const std::string& p : extra_paths)
    if (auto v = fromTemplate(walk(root, p), p, true)) return v;
  return std::nullopt;
}

std::optional<FieldHit> effectiveField(const PodSpecView& pod, const ContainerRef& c,
                                       std::string_view field) {
  if (const MapEntry* sc = c.node->entry("securityContext")) {
    if (const MapEntry* e = sc->value->entry(field); e && !e->value->isNull())
      return FieldHit{e->value, e->key_pos, fmt::format("{}.securityContext.{}", c.path, field),
                      false};
  }
  bool inherited = false;
  for (std::string_view f : kInheritedFields) inherited |= (f == field);
  if (!inherited) return std::nullopt;
  if (const Node* psc = pod.podSecurityContext()) {
    if (const MapEntry* e = psc->entry(field); e && !e->value->isNull())
      return FieldHit{e->value, e->key_pos, fmt::format("{}.securityContext.{}", pod.path, field),
                      true};
  }
  return std::nullopt;
}

SourcePos nearestPos(const Node* node, std::initializer_list<std::string_view> keys) {
  SourcePos pos = node ? node->pos : SourcePos{};
  for (std::string_view k : keys) {
    const MapEntry* e = node ? node->entry(k) : nullptr;
    if (!e) break;
    pos = e->key_pos;
    node = e->value;
  }
  return pos;
}

namespace {
// core/v1 VolumeSource, in the API's order.
constexpr std::string_view kVolumeSources[] = {"hostPath",
                                               "emptyDir",
                                               "gcePersistentDisk",
                                               "awsElasticBlockStore",
                                               "gitRepo",
                                               "secret",
                                               "nfs",
                                               "iscsi",
                                               "glusterfs",
                                               "persistentVolumeClaim",
                                               "rbd",
                                               "flexVolume",
                                               "cinder",
                                               "cephfs",
                                               "flocker",
                                               "downwardAPI",
                                               "fc",
                                               "azureFile",
                                               "configMap",
                                               "vsphereVolume",
                                               "quobyte",
                                               "azureDisk",
                                               "photonPersistentDisk",
                                               "projected",
                                               "portworxVolume",
                                               "scaleIO",
                                               "storageos",
                                               "csi",
                                               "ephemeral",
                                               "image"};
}  // namespace

bool isVolumeSourceField(std::string_view key) {
  for (std::string_view k : kVolumeSources)
    if (k == key) return true;
  return false;
}

VolumeSource volumeSource(const Node* volume) {
  for (const MapEntry& e : mapOf(volume))
    if (!e.value->isNull() && isVolumeSourceField(e.key)) return {e.key, &e};
  return {"emptyDir", nullptr};
}

}  // namespace kh
