// Object: a Kubernetes object found in the input, as a view over its document's root node.
//
// An Object knows its identity (apiVersion, kind, namespace, name), where it came from (file,
// document index, Helm template), and, when it embeds one, its pod spec (see pod_spec.h).
// Objects are created by the loader and immutable afterwards; the Document that owns the nodes
// outlives them. Thread-safe to read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/node.h"
#include "model/pod_spec.h"

namespace kh {

namespace dockerfile {
struct Dockerfile;
}

struct ObjectRef {
  std::string_view api_version, kind, namespace_, name;
};

struct Object {
  const Node* root = nullptr;  // the object's map
  ObjectRef ref;
  std::string_view file;         // input path as given on the command line (or "<stdin>")
  std::string_view helm_source;  // from a `# Source:` comment, empty when none
  uint32_t doc_index = 0;        // 0-based document in the file
  uint32_t item_index = 0;       // index within a List, 0 otherwise
  const Node* metadata = nullptr;
  const Node* labels = nullptr;
  const Node* annotations = nullptr;
  std::optional<PodSpecView> pod;  // set when the object carries a pod spec
  // Set for a Dockerfile (kind "Dockerfile", name its path): the parsed file (dockerfile/model.h)
  // that the checks of kind Dockerfile read; `root` is then a small map naming it.
  const dockerfile::Dockerfile* dockerfile = nullptr;

  std::string_view annotation(std::string_view key) const {
    return annotations ? getStr(annotations, key) : std::string_view();
  }
  // The namespace a namespaced object lands in: its own, or "default" when the manifest has none
  // (as kubectl applies it without -n).
  std::string_view namespaceOrDefault() const {
    return ref.namespace_.empty() ? std::string_view("default") : ref.namespace_;
  }
  // "Kind namespace/name" or "Kind name" for messages.
  std::string displayName() const;
};

// Is `kind` a cluster-scoped kind (Namespace, ClusterRole, StorageClass, ..., and custom kinds
// named Cluster*)? Everything else is taken as namespaced.
bool isClusterScopedKind(std::string_view kind);

// Builds the view of `root` (a map with apiVersion and kind) and discovers its pod spec.
// `extra_pod_paths` are dotted paths to a pod template (a map with `spec`) for custom kinds.
Object makeObject(const Node* root, std::span<const std::string> extra_pod_paths);

}  // namespace kh
