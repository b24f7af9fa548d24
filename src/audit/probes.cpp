#include "audit/probes.h"

namespace kh::audit {
namespace {

struct Who {
  const char* user;
  std::vector<std::string> groups;
};

bool clusterScoped(std::string_view resource) {
  return resource == "tokenreviews" || resource == "clusterroles" ||
         resource == "clusterrolebindings" || resource == "nodes" || resource == "namespaces";
}

}  // namespace

const std::vector<Probe>& sensitiveProbes() {
  static const std::vector<Probe> kProbes = {
      {"secrets", "get", "", "secrets", ""},
      {"secrets", "list", "", "secrets", ""},
      {"secrets", "watch", "", "secrets", ""},
      {"secrets", "create", "", "secrets", ""},
      {"secrets", "update", "", "secrets", ""},
      {"secrets", "patch", "", "secrets", ""},
      {"configmaps", "get", "", "configmaps", ""},
      {"configmaps", "list", "", "configmaps", ""},
      {"configmaps", "watch", "", "configmaps", ""},
      {"configmaps", "create", "", "configmaps", ""},
      {"configmaps", "update", "", "configmaps", ""},
      {"configmaps", "patch", "", "configmaps", ""},
      {"tokens", "create", "authentication.k8s.io", "tokenreviews", ""},
      {"tokens", "create", "", "serviceaccounts", "token"},
  };
  return kProbes;
}

const std::vector<Probe>& activityProbes() {
  static const std::vector<Probe> kProbes = [] {
    std::vector<Probe> probes = {
        {"exec", "create", "", "pods", "exec"},
        {"exec", "get", "", "pods", "exec"},
        {"exec", "create", "", "pods", "attach"},
        {"exec", "create", "", "pods", "portforward"},
        {"exec", "get", "", "pods", "proxy"},
        {"exec", "get", "", "services", "proxy"},
        {"exec", "patch", "", "pods", "ephemeralcontainers"},
        {"secrets", "get", "", "secrets", ""},
        {"secrets", "list", "", "secrets", ""},
    };
    for (const char* verb : {"create", "update", "patch", "delete"}) {
      probes.push_back({"pods", verb, "", "pods", ""});
      for (const char* r : {"roles", "rolebindings", "clusterroles", "clusterrolebindings"})
        probes.push_back({"rbac", verb, "rbac.authorization.k8s.io", r, ""});
      for (const char* r : {"deployments", "daemonsets", "statefulsets", "replicasets"})
        probes.push_back({"workloads", verb, "apps", r, ""});
      for (const char* r : {"jobs", "cronjobs"})
        probes.push_back({"workloads", verb, "batch", r, ""});
    }
    return probes;
  }();
  return kProbes;
}

std::vector<Request> expandProbe(const Probe& p) {
  static const std::vector<Who> kWho = {
      {"alice", {"system:authenticated"}},
      {"system:serviceaccount:default:app",
       {"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}}};
  std::vector<Request> out;
  bool cluster = clusterScoped(p.resource);
  for (const Who& w : kWho)
    for (const char* ns : {"default", "kube-system"}) {
      Request r;
      r.user = w.user;
      r.groups = w.groups;
      r.verb = std::string(p.verb);
      r.api_group = std::string(p.group);
      r.resource = std::string(p.resource);
      r.subresource = std::string(p.subresource);
      if (!cluster) r.namespace_ = ns;
      out.push_back(std::move(r));
      if (cluster) break;
    }
  return out;
}

}  // namespace kh::audit
