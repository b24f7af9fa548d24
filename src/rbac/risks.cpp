#include "rbac/risks.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace kh::rbac {
namespace {

struct Probe {
  std::string_view verb, group, resource, sub;
  std::string_view name = {};  // a named object (resourceNames-limited rules grant it too)
};

// Resources a RoleBinding can never grant (they have no namespace).
bool clusterScoped(std::string_view resource) {
  static constexpr std::string_view kCluster[] = {"nodes",
                                                  "persistentvolumes",
                                                  "certificatesigningrequests",
                                                  "mutatingwebhookconfigurations",
                                                  "validatingwebhookconfigurations",
                                                  "clusterroles",
                                                  "clusterrolebindings",
                                                  "users",
                                                  "groups",
                                                  "*"};
  for (std::string_view c : kCluster)
    if (c == resource) return true;
  return false;
}

// A risk holds when, in one scope, every probe group has at least one allowed probe.
// Where a risk counts: in any scope, only cluster-wide, or cluster-wide and in kube-system
// (where the cluster's own configuration lives).
enum class Where { kAny, kCluster, kClusterOrKubeSystem };

struct RiskDef {
  std::string_view id, title, severity;
  std::vector<std::vector<Probe>> all_of;  // AND of ORs
  std::string_view why;
  Where where = Where::kAny;
};

const std::vector<RiskDef>& catalogue() {
  static const std::vector<RiskDef> defs = {
      {"cluster-admin",
       "Full control (every verb on every resource)",
       "critical",
       {{{"*", "*", "*", ""}}},
       "can do anything the API allows in this scope"},
      {"impersonate",
       "Impersonation of users, groups or service accounts",
       "critical",
       {{{"impersonate", "", "users", ""},
         {"impersonate", "", "groups", ""},
         {"impersonate", "", "serviceaccounts", ""}}},
       "can act as another identity it names (a user or group such as system:masters, or a service "
       "account) and so hold its permissions"},
      {"escalate-or-bind",
       "Role escalation or binding without holding the permissions",
       "critical",
       {{{"escalate", "rbac.authorization.k8s.io", "roles", ""},
         {"escalate", "rbac.authorization.k8s.io", "clusterroles", ""},
         {"bind", "rbac.authorization.k8s.io", "roles", ""},
         {"bind", "rbac.authorization.k8s.io", "clusterroles", ""}}},
       "can write or bind roles with permissions it does not hold"},
      {"webhook-config-write",
       "Write access to admission webhook configurations",
       "critical",
       {{{"create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""},
         {"update", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""},
         {"patch", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""},
         {"create", "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""},
         {"update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""},
         {"patch", "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""}}},
       "can read or rewrite every object the API server admits"},
      {"nodes-proxy",
       "Kubelet API through nodes/proxy",
       "high",
       {{{"get", "", "nodes", "proxy"}, {"create", "", "nodes", "proxy"}}},
       "can run commands in any pod on a node, bypassing admission and audit"},
      {"csr-approve",
       "Approval of certificate signing requests",
       "high",
       {{{"update", "certificates.k8s.io", "certificatesigningrequests", "approval"},
         {"patch", "certificates.k8s.io", "certificatesigningrequests", "approval"}},
        {{"create", "certificates.k8s.io", "certificatesigningrequests", ""}}},
       "can issue client certificates for any user or group"},
      {"secrets-read",
       "Read access to secrets",
       "high",
       {{{"get", "", "secrets", ""}, {"list", "", "secrets", ""}, {"watch", "", "secrets", ""}}},
       "can read credentials, including service account tokens stored as secrets"},
      {"pods-exec",
       "Exec or attach into pods",
       "high",
       {{{"create", "", "pods", "exec"},
         {"get", "", "pods", "exec"},
         {"create", "", "pods", "attach"},
         {"get", "", "pods", "attach"}}},
       "can run commands in running pods and take their tokens and secrets"},
      {"rbac-write",
       "Create role bindings",
       "high",
       {{{"create", "rbac.authorization.k8s.io", "rolebindings", ""},
         {"create", "rbac.authorization.k8s.io", "clusterrolebindings", ""}}},
       "can grant roles (within anti-escalation limits; critical together with bind)"},
      {"workload-create",
       "Create or modify pods or pod controllers",
       "medium",
       {{{"create", "", "pods", ""},
         {"create", "apps", "deployments", ""},
         {"create", "apps", "daemonsets", ""},
         {"create", "apps", "statefulsets", ""},
         {"create", "apps", "replicasets", ""},
         {"create", "batch", "jobs", ""},
         {"create", "batch", "cronjobs", ""},
         {"create", "", "replicationcontrollers", ""},
         // A pod's image is mutable, and a controller's template can be rewritten whole.
         {"update", "", "pods", ""},
         {"patch", "", "pods", ""},
         {"update", "apps", "deployments", ""},
         {"patch", "apps", "deployments", ""},
         {"update", "apps", "daemonsets", ""},
         {"patch", "apps", "daemonsets", ""},
         {"update", "apps", "statefulsets", ""},
         {"patch", "apps", "statefulsets", ""},
         {"update", "batch", "cronjobs", ""},
         {"patch", "batch", "cronjobs", ""}}},
       "can run (or swap the image of) a pod with any service account of the namespace, and "
       "mount host paths where admission allows"},
      {"token-create",
       "Mint service account tokens",
       "medium",
       {{{"create", "", "serviceaccounts", "token"}}},
       "can obtain a token for any service account in scope"},
      {"ephemeral-containers",
       "Add ephemeral containers to pods",
       "medium",
       {{{"update", "", "pods", "ephemeralcontainers"},
         {"patch", "", "pods", "ephemeralcontainers"}}},
       "can inject a debug container into any pod in scope"},
      {"persistentvolume-create",
       "Create PersistentVolumes",
       "medium",
       {{{"create", "", "persistentvolumes", ""}}},
       "can create a hostPath PersistentVolume and mount the node"},
      {"services-status-write",
       "Write services/status",
       "medium",
       {{{"update", "", "services", "status"}, {"patch", "", "services", "status"}}},
       "can set a load balancer IP and intercept traffic (CVE-2020-8554)"},
      {"pods-portforward",
       "Port-forwarding into pods in every namespace",
       "medium",
       {{{"create", "", "pods", "portforward"}, {"get", "", "pods", "portforward"}}},
       "can open a tunnel to any pod's ports, past NetworkPolicies and Services",
       Where::kCluster},
      {"configmap-write",
       "Write access to ConfigMaps of the cluster's components",
       "high",
       {{{"create", "", "configmaps", ""},
         {"update", "", "configmaps", ""},
         {"patch", "", "configmaps", ""}}},
       "can rewrite configuration read by cluster components in kube-system: CoreDNS (redirect "
       "traffic), kube-proxy, and on EKS aws-auth (map any IAM identity to system:masters)",
       Where::kClusterOrKubeSystem},
      {"networking-write",
       "Write access to networking objects in every namespace",
       "high",
       {{{"create", "networking.k8s.io", "networkpolicies", ""},
         {"update", "networking.k8s.io", "networkpolicies", ""},
         {"patch", "networking.k8s.io", "networkpolicies", ""},
         {"delete", "networking.k8s.io", "networkpolicies", ""},
         {"update", "", "services", ""},
         {"patch", "", "services", ""},
         {"create", "", "endpoints", ""},
         {"update", "", "endpoints", ""},
         {"create", "discovery.k8s.io", "endpointslices", ""},
         {"update", "discovery.k8s.io", "endpointslices", ""}}},
       "can remove network isolation or redirect Service traffic in every namespace",
       Where::kCluster},
      {"delete-rights",
       "Deletion of workloads, namespaces or events in every namespace",
       "medium",
       {{{"delete", "", "namespaces", ""},
         {"delete", "apps", "deployments", ""},
         {"delete", "apps", "daemonsets", ""},
         {"delete", "apps", "statefulsets", ""},
         {"deletecollection", "", "pods", ""},
         {"delete", "", "events", ""},
         {"deletecollection", "", "events", ""}}},
       "can take workloads down cluster-wide or erase the events that record an attack",
       Where::kCluster},
  };
  return defs;
}

Request toRequest(const Probe& p, std::string_view ns) {
  Request r;
  r.verb = std::string(p.verb);
  r.api_group = std::string(p.group);
  r.resource = std::string(p.resource);
  r.subresource = std::string(p.sub);
  r.name = std::string(p.name);
  r.ns = std::string(ns);
  return r;
}

// The probe "*" on "*" only holds for a rule that is all wildcards.
bool allowsProbe(const Rule& rule, const Probe& p, std::string_view ns) {
  if (p.verb == "*") {
    auto has = [](const std::vector<std::string_view>& v) {
      return std::find(v.begin(), v.end(), "*") != v.end();
    };
    return has(rule.verbs) && has(rule.api_groups) && has(rule.resources);
  }
  return ruleAllows(rule, toRequest(p, ns));
}

}  // namespace

std::vector<Risk> analyzeRisks(const Model& m) {
  // Each distinct subject with its bindings, grouped by scope (cluster-wide, or a namespace).
  struct Scoped {
    Subject subject;
    std::map<std::string, std::vector<const Binding*>> scopes;  // "" = cluster-wide
  };
  std::map<std::string, Scoped> subjects;
  // The cluster's own default bindings are not findings: nobody can remove them. Bindings in the
  // input to default roles are judged like any other.
  for (const Binding& b : m.bindings) {
    if (b.builtin) continue;
    for (const Subject& s : b.subjects) {
      if (s.kind == Subject::Kind::kServiceAccount && s.ns.empty()) continue;
      std::string key = fmt::format("{}\x1f{}\x1f{}", kindName(s.kind), s.ns, s.name);
      auto& e = subjects.try_emplace(key, Scoped{s, {}}).first->second;
      e.scopes[b.cluster ? std::string() : std::string(b.ns)].push_back(&b);
    }
  }
  std::vector<Risk> out;
  for (const auto& [key, sc] : subjects) {
    const size_t first = out.size();  // this subject's risks start here ("" scope comes first)
    const auto cluster_it = sc.scopes.find("");
    for (const auto& [scope, bindings] : sc.scopes) {
      // Effective permissions in a namespace include the cluster-wide ones.
      std::vector<const Binding*> all = bindings;
      if (!scope.empty() && cluster_it != sc.scopes.end())
        all.insert(all.end(), cluster_it->second.begin(), cluster_it->second.end());
      for (const RiskDef& d : catalogue()) {
        if (d.where == Where::kCluster && !scope.empty()) continue;
        if (d.where == Where::kClusterOrKubeSystem && !scope.empty() && scope != "kube-system")
          continue;
        std::vector<Grant> via;
        bool holds = true;
        for (const auto& any_of : d.all_of) {
          bool group_ok = false;
          for (const Binding* b : all) {
            const Role* role = m.roleOf(*b);
            if (!role) continue;
            for (size_t i = 0; i < role->rules.size(); ++i) {
              bool hit = false;
              for (const Probe& p : any_of) {
                if (!scope.empty() && clusterScoped(p.resource) && p.verb != "*") continue;
                hit = hit || allowsProbe(role->rules[i], p, scope.empty() ? "kube-system" : scope);
              }
              if (hit) {
                group_ok = true;
                via.push_back({b, role, i});
              }
            }
          }
          holds = holds && group_ok;
        }
        if (!holds) continue;
        // A namespace scope adds nothing when the same risk already holds cluster-wide.
        bool cluster_has = false;
        if (!scope.empty())
          for (size_t i = first; i < out.size(); ++i)
            cluster_has |= out[i].id == d.id && out[i].scope == "cluster-wide";
        if (cluster_has) continue;
        std::string scope_text = scope.empty() ? "cluster-wide" : "namespace " + scope;
        if (d.id == "cluster-admin" && !scope.empty()) {
          // Every verb on every resource through a RoleBinding is full control of one namespace.
          out.push_back({"namespace-admin", "Full control of a namespace", "high", sc.subject,
                         scope_text, std::move(via),
                         fmt::format("{} can do anything in {} (but nothing cluster-scoped)",
                                     subjectName(sc.subject), scope_text)});
          continue;
        }
        out.push_back({d.id, d.title, d.severity, sc.subject, scope_text, std::move(via),
                       fmt::format("{} {} ({})", subjectName(sc.subject), d.why, scope_text)});
      }
    }
  }
  // Bindings that give power to everyone.
  for (const Binding& b : m.bindings) {
    if (b.builtin) continue;
    for (const Subject& s : b.subjects) {
      if (s.kind != Subject::Kind::kGroup &&
          !(s.kind == Subject::Kind::kUser && s.name == "system:anonymous"))
        continue;
      bool anonymous = s.name == "system:anonymous" || s.name == "system:unauthenticated";
      if (!anonymous && s.name != "system:authenticated") continue;
      const Role* role = m.roleOf(b);
      out.push_back(
          {anonymous ? "anonymous-binding" : "authenticated-binding",
           anonymous ? "Binding to unauthenticated users" : "Binding to every authenticated user",
           anonymous ? "critical" : "high",
           s,
           b.cluster ? "cluster-wide" : "namespace " + std::string(b.ns),
           {{&b, role, 0}},
           fmt::format("{} {} binds {} to {}", b.cluster ? "ClusterRoleBinding" : "RoleBinding",
                       b.name, b.role_name, s.name)});
    }
  }
  return out;
}

}  // namespace kh::rbac
