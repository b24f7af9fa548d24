// Pod-spec discovery and the effective security context.
//
// PodSpecView finds the pod spec inside any workload (Pod, Deployment, ..., CronJob, PodTemplate)
// or custom resource that embeds a pod template, and lists every container of all three lists
// (initContainers, containers, ephemeralContainers) with its field path. Checks use it and never
// walk containers themselves. effectiveField() gives the value a container really runs with:
// the container's securityContext setting when present, else the pod's.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/node.h"

namespace kh {

enum class ContainerList : uint8_t { kInit, kRegular, kEphemeral };

struct ContainerRef {
  const Node* node = nullptr;
  ContainerList list = ContainerList::kRegular;
  uint32_t index = 0;
  std::string_view name;
  std::string path;  // e.g. "spec.template.spec.containers[1]"
};

struct PodSpecView {
  const Node* spec = nullptr;           // the pod spec map
  const Node* template_meta = nullptr;  // metadata of the pod (template), may be null
  std::string path;                     // e.g. "spec.template.spec"
  std::string meta_path;                // e.g. "spec.template.metadata" ("metadata" for a Pod)
  bool windows = false;                 // spec.os.name == windows
  bool is_pod = false;                  // a Pod's own spec, not a pod template
  std::vector<ContainerRef> containers;

  const Node* podSecurityContext() const { return get(spec, "securityContext"); }
  // The pod's ServiceAccount: serviceAccountName, else the deprecated serviceAccount, else
  // "default", as the API server's ServiceAccount admission fills it in.
  std::string_view serviceAccount() const {
    std::string_view sa = getStr(spec, "serviceAccountName");
    if (sa.empty()) sa = getStr(spec, "serviceAccount");
    return sa.empty() ? std::string_view("default") : sa;
  }
};

// A field found in the input: its value, where its key is, and its path.
struct FieldHit {
  const Node* value = nullptr;
  SourcePos pos;
  std::string path;
  bool from_pod = false;  // inherited from the pod-level securityContext
};

// The container's own securityContext.<field>, else the pod's securityContext.<field> (for the
// fields that exist at both levels). Empty when neither sets it (or the value is null).
std::optional<FieldHit> effectiveField(const PodSpecView& pod, const ContainerRef& c,
                                       std::string_view field);

// Position of the deepest existing key along `keys` below `node` (the node's own position when
// none exists). Findings about missing fields point there.
SourcePos nearestPos(const Node* node, std::initializer_list<std::string_view> keys);

// The source of a pod volume as the API server stores it. A volume names one source field
// (hostPath, emptyDir, ...); one with none set (only a name, or sources that are null) is
// defaulted to `emptyDir: {}` by the server (SetDefaults_Volume) before admission, Pod Security
// Admission or the kubelet see it, so it is an emptyDir here too. `entry` is the source field in
// the input, null for such a defaulted volume. Fields that are no volume source (typos, unknown
// fields) are dropped by the server and do not count.
struct VolumeSource {
  std::string_view type;            // "hostPath", "emptyDir", ...
  const MapEntry* entry = nullptr;  // null when defaulted
};
VolumeSource volumeSource(const Node* volume);

// Is `key` one of the source fields of core/v1 VolumeSource?
bool isVolumeSourceField(std::string_view key);

// Discovers the pod spec of an object (see the file comment). Returns nothing for kinds without
// one, such as ConfigMap or Service.
std::optional<PodSpecView> discoverPodSpec(const Node* root, std::string_view kind,
                                           std::span<const std::string> extra_paths);

std::string_view containerListField(ContainerList l);

// Is the apiVersion's group one of Kubernetes' built-in API groups ("v1", "apps/v1", ...)?
bool builtinApiGroup(std::string_view api_version);

}  // namespace kh
