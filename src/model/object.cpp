#include "model/object.h"

#include <fmt/format.h>

namespace kh {

Object makeObject(const Node* root, std::span<const std::string> extra_pod_paths) {
  Object o;
  o.root = root;
  o.ref.api_version = getStr(root, "apiVersion");
  o.ref.kind = getStr(root, "kind");
  o.metadata = get(root, "metadata");
  o.ref.namespace_ = getStr(o.metadata, "namespace");
  o.ref.name = getStr(o.metadata, "name");
  if (o.ref.name.empty()) o.ref.name = getStr(o.metadata, "generateName");
  // An audit Event has no metadata: its auditID names it (findings, fingerprints, baselines), and
  // the namespace of the object it is about places it.
  if (o.ref.kind == "Event" && o.ref.api_version.starts_with("audit.k8s.io/") && !o.metadata) {
    o.ref.name = getStr(root, "auditID");
    o.ref.namespace_ = getStr(get(root, "objectRef"), "namespace");
  }
  const Node* labels = get(o.metadata, "labels");
  o.labels = labels && labels->isMap() ? labels : nullptr;
  const Node* ann = get(o.metadata, "annotations");
  o.annotations = ann && ann->isMap() ? ann : nullptr;
  o.pod = discoverPodSpec(root, o.ref.kind, extra_pod_paths);
  return o;
}

bool isClusterScopedKind(std::string_view kind) {
  static constexpr std::string_view kCluster[] = {
      "APIService",
      "CSIDriver",
      "CSINode",
      "CertificateSigningRequest",
      "ClusterInfo",
      "ClusterIssuer",
      "ClusterPolicy",
      "ClusterRole",
      "ClusterRoleBinding",
      "ComponentStatus",
      "CustomResourceDefinition",
      "FlowSchema",
      "ImageScan",
      "IngressClass",
      "MutatingAdmissionPolicy",
      "MutatingAdmissionPolicyBinding",
      "MutatingWebhookConfiguration",
      "Namespace",
      "Node",
      "PersistentVolume",
      "PodSecurityPolicy",
      "PriorityClass",
      "PriorityLevelConfiguration",
      "RuntimeClass",
      "SecurityContextConstraints",
      "StorageClass",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
      "ValidatingWebhookConfiguration",
      "VolumeAttachment",
      "VolumeSnapshotClass",
  };
  for (std::string_view k : kCluster)
    if (k == kind) return true;
  return kind.starts_with("Cluster") || kind.ends_with("List");
}

std::string Object::displayName() const {
  if (ref.name.empty()) return std::string(ref.kind);  // e.g. a KubeletConfiguration file
  if (ref.namespace_.empty()) return fmt::format("{} {}", ref.kind, ref.name);
  return fmt::format("{} {}/{}", ref.kind, ref.namespace_, ref.name);
}

}  // namespace kh
