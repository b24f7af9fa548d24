#include "rbac/escalation.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace kh::rbac {
namespace {

constexpr std::string_view kAdmin = "cluster-admin";

std::string_view scopeNs(const Risk& r) {
  return r.scope == "cluster-wide" ? std::string_view() : std::string_view(r.scope).substr(10);
}

}  // namespace

std::vector<EscalationPath> escalationPaths(
    const Model& m, const std::vector<Risk>& risks,
    const std::vector<std::pair<std::string, std::string>>& workload_accounts) {
  (void)m;
  // Risks by holder; service accounts by namespace (every one that holds something, plus the
  // accounts workloads run as).
  std::map<std::string, std::vector<const Risk*>> by_holder;
  std::map<std::string, std::set<std::string>> accounts;  // ns -> node names
  std::map<std::string, std::set<std::string>> running;   // ns -> accounts of running pods
  for (const Risk& r : risks) {
    by_holder[subjectName(r.subject)].push_back(&r);
    if (r.subject.kind == Subject::Kind::kServiceAccount)
      accounts[std::string(r.subject.ns)].insert(subjectName(r.subject));
  }
  for (const auto& [ns, sa] : workload_accounts) {
    std::string n = fmt::format("ServiceAccount {}/{}", ns, sa);
    accounts[ns].insert(n);
    running[ns].insert(n);
  }
  auto accountsIn = [&](std::string_view ns,
                        const std::map<std::string, std::set<std::string>>& from) {
    std::set<std::string> out;
    for (const auto& [n, set] : from)
      if (ns.empty() || n == ns) out.insert(set.begin(), set.end());
    return out;
  };
  // Outgoing steps of a node, including its implicit groups' risks for service accounts.
  auto steps = [&](const std::string& node) {
    std::vector<const Risk*> held =
        by_holder.count(node) ? by_holder[node] : std::vector<const Risk*>{};
    if (node.starts_with("ServiceAccount ")) {
      std::string ns = node.substr(15, node.find('/') - 15);
      for (const std::string& g : std::vector<std::string>{"Group system:serviceaccounts",
                                                           "Group system:serviceaccounts:" + ns,
                                                           "Group system:authenticated"})
        if (by_holder.count(g)) held.insert(held.end(), by_holder[g].begin(), by_holder[g].end());
    }
    std::vector<Step> out;
    bool bind = false, write = false;
    std::vector<Grant> bind_via;
    for (const Risk* r : held) {
      bool cluster = r->scope == "cluster-wide";
      std::string_view id = r->id;
      if (cluster && (id == "cluster-admin" || id == "impersonate" ||
                      id == "webhook-config-write" || id == "csr-approve" || id == "nodes-proxy")) {
        out.push_back(
            {node, std::string(kAdmin), fmt::format("{} ({})", r->title, r->scope), r->via});
      } else if (cluster && (id == "escalate-or-bind" || id == "rbac-write")) {
        (id == "escalate-or-bind" ? bind : write) = true;
        bind_via.insert(bind_via.end(), r->via.begin(), r->via.end());
      }
      std::string_view ns = scopeNs(*r);
      std::string where = ns.empty() ? "every namespace" : fmt::format("namespace {}", ns);
      if (id == "workload-create" || id == "token-create" || id == "secrets-read" ||
          id == "namespace-admin" || id == "cluster-admin") {
        std::string how =
            id == "workload-create"
                ? fmt::format("create pods in {} and run as its service accounts", where)
            : id == "token-create"
                ? fmt::format("mint tokens for the service accounts of {}", where)
            : id == "secrets-read" ? fmt::format("read the token secrets of {}", where)
                                   : fmt::format("full control of {}", where);
        for (const std::string& to : accountsIn(ns, accounts))
          if (to != node) out.push_back({node, to, how, r->via});
      }
      if (id == "pods-exec" || id == "ephemeral-containers") {
        std::string how =
            fmt::format("{} the running pods of {}",
                        id == "pods-exec" ? "exec into" : "inject containers into", where);
        for (const std::string& to : accountsIn(ns, running))
          if (to != node) out.push_back({node, to, how, r->via});
      }
    }
    if (bind && write)
      out.push_back({node, std::string(kAdmin),
                     "bind any ClusterRole (bind or escalate) with new ClusterRoleBindings",
                     bind_via});
    return out;
  };
  // Shortest path from every holder to admin (BFS).
  std::vector<EscalationPath> paths;
  for (const auto& [start, held] : by_holder) {
    std::map<std::string, Step> parent;
    std::deque<std::string> queue = {start};
    std::set<std::string> seen = {start};
    bool found = false;
    while (!queue.empty() && !found) {
      std::string node = queue.front();
      queue.pop_front();
      for (Step& s : steps(node)) {
        if (seen.count(s.to)) continue;
        seen.insert(s.to);
        std::string to = s.to;
        parent.emplace(to, std::move(s));
        if (to == kAdmin) {
          found = true;
          break;
        }
        queue.push_back(to);
      }
    }
    if (!found) continue;
    EscalationPath p{start, {}};
    for (std::string at(kAdmin); at != start;) {
      const Step& s = parent.at(at);
      p.steps.push_back(s);
      at = s.from;
    }
    std::reverse(p.steps.begin(), p.steps.end());
    paths.push_back(std::move(p));
  }
  std::stable_sort(paths.begin(), paths.end(),
                   [](const EscalationPath& a, const EscalationPath& b) {
                     return a.steps.size() < b.steps.size();
                   });
  return paths;
}

}  // namespace kh::rbac
