// Reading a cluster: discovery (every listable resource type at its group's preferred version)
// and paginated lists of each type (docs/cluster.md). Lists only, never a per-object GET; an
// expired continue token (410) restarts that type's list once; a type the identity may not list
// (403) or that fails is recorded in the coverage and the rest goes on.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cluster/api.h"

namespace kh::cluster {

struct ResourceType {
  std::string group, version, resource, kind;
  bool namespaced = true;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // The list path: /api/v1/pods, /apis/apps/v1/namespaces/NS/deployments.
  std::string listPath(const std::string& ns = "") const;
};

struct Discovery {
  std::string git_version;                                          // the server's (/version)
  std::vector<std::pair<std::string, std::string>> version_fields;  // /version's, as served
  std::vector<ResourceType> types;
  // Group versions whose discovery failed (an aggregated API that is down): listed, not fatal.
  std::vector<std::pair<std::string, std::string>> unavailable;  // (group/version, why)
  bool aggregated = false;  // the server answered aggregated discovery (two requests in all)
};

// The ClusterInfo document a cluster read adds to what it read (and a snapshot keeps): the
// server, the context, and /version, for the cluster-version-* checks.
std::string clusterInfoDocument(const Discovery& d, const std::string& context,
                                const std::string& server);

// Discovery: /version, then aggregated discovery (/api and /apis as APIGroupDiscoveryLists, v2
// or v2beta1), else the legacy walk (/api/v1, /apis, each group's preferred version).
Result<Discovery> discover(Api& api);

struct TypeCoverage {
  ResourceType type;
  enum class State { kRead, kForbidden, kFailed } state = State::kRead;
  std::string message;  // the server's, for forbidden and failed types
  size_t objects = 0, pages = 0;
  bool restarted = false;  // an expired continue token made it start over
};

struct ListOptions {
  size_t page_size = 500;
  std::string label_selector;
  std::string field_selector;  // e.g. metadata.namespace!=kube-system
  std::string namespace_;      // list in this namespace only (namespaced types)
  std::string accept = "application/json";
};

// What Secrets are read as: object metadata only (the server is asked for a
// PartialObjectMetadataList), and the answer reduced to that whatever the server sent.
inline constexpr const char* kMetadataAccept =
    "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json";

// A page of Secrets as a SecretList of metadata alone: no data, stringData or type, and
// kubectl's last-applied-configuration annotation (a copy of the values) replaced by a marker
// that says only whether it held data. No value survives into the model, a report or a
// snapshot.
std::string secretsAsMetadata(std::string_view page);

// The pages of one list as one List (the first page's kind and apiVersion, every page's items):
// what a snapshot keeps per type.
std::string mergePages(const std::vector<std::string_view>& pages);

// Lists every object of `t`, page by page; `on_page` gets each page (a typed List as the
// server wrote it) once the whole list succeeded, so a restarted list is never half delivered.
TypeCoverage listType(Api& api, const ResourceType& t, const ListOptions& o,
                      const std::function<void(std::string page)>& on_page);

}  // namespace kh::cluster
