// The labels of every namespace, kept current from the Kubernetes API (LIST, then WATCH from the
// list's resourceVersion, with bookmarks; a 410 Gone or a broken stream re-lists), so the webhook
// knows each namespace's kubeharden.io modes. Each change publishes a new immutable snapshot;
// requests read whichever snapshot is current. The API client speaks HTTPS with the pod's
// service-account token (re-read on every request, as the kubelet rotates it) and CA.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "model/node.h"

namespace kh::admission {

struct NamespaceEntry {
  std::shared_ptr<const void> owner;  // keeps the labels' storage alive
  const Node* labels = nullptr;       // the namespace's metadata.labels (may be null)
  const Node* object = nullptr;       // the whole Namespace (CEL's namespaceObject)
};

struct NamespaceSnapshot {
  std::map<std::string, NamespaceEntry, std::less<>> namespaces;
  const Node* labels(std::string_view ns) const {
    auto it = namespaces.find(ns);
    return it == namespaces.end() ? nullptr : it->second.labels;
  }
  const Node* object(std::string_view ns) const {
    auto it = namespaces.find(ns);
    return it == namespaces.end() ? nullptr : it->second.object;
  }
};

// Reads a file of Namespace objects (YAML or JSON): the static source of `serve --namespaces`.
Result<std::shared_ptr<const NamespaceSnapshot>> loadNamespaceFile(const std::string& path);

struct KubeApiOptions {
  // https://HOST:PORT; empty: in cluster, from KUBERNETES_SERVICE_HOST and _PORT. http:// is
  // accepted for tests only.
  std::string server;
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  int page_size = 500;
  int watch_timeout_seconds = 300;  // asked of the API server per watch request
  int idle_timeout_seconds = 330;   // a watch silent this long is re-established
};

class NamespaceWatch {
 public:
  using Publish = std::function<void(std::shared_ptr<const NamespaceSnapshot>)>;
  using Log = std::function<void(const std::string&)>;
  // Checks the options (server address, readable CA); the thread starts with start().
  static Result<std::unique_ptr<NamespaceWatch>> create(const KubeApiOptions& o, Publish publish,
                                                        Log log);
  virtual ~NamespaceWatch() = default;
  virtual void start() = 0;
  // Stops and joins; wakes a blocked read.
  virtual void stop() = 0;
  // The first LIST has been published.
  virtual bool synced() const = 0;
  virtual uint64_t relists() const = 0;
  virtual uint64_t events() const = 0;
};

}  // namespace kh::admission
