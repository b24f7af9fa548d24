// ScanIndex: every object of one scan, looked up by (kind, namespace, name). Built once before
// the checks run (DESIGN.md §5: cross-object facts are computed once per scan, never per check).
// Immutable after build(); thread-safe to read.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/once.h"
#include "model/object.h"
#include "netpol/lint.h"
#include "rbac/risks.h"

namespace kh {

// Which kinds each check looked up in the index: a cluster read that could not list a type
// makes every check that looked for that type unable to judge (docs/cluster.md, "Coverage").
// Off (no cost but a thread-local test) unless a scan gives a recorder; thread-safe.
class ConsultRecorder {
 public:
  void note(std::string_view check, std::string_view kind);
  // check ID -> kinds consulted ("*": every kind, through ScanIndex::all()).
  std::map<std::string, std::set<std::string>> byCheck() const;

 private:
  mutable std::mutex mu_;
  std::set<std::pair<std::string, std::string>> seen_;
};

// While alive, index lookups on this thread are recorded as `check`'s (with a recorder).
class ConsultScope {
 public:
  ConsultScope(ConsultRecorder* recorder, std::string_view check);
  ~ConsultScope();
  ConsultScope(const ConsultScope&) = delete;
  ConsultScope& operator=(const ConsultScope&) = delete;

 private:
  ConsultRecorder* prev_recorder_;
  std::string_view prev_check_;
};

// Records a lookup of `kind` for the check running on this thread, if recording.
void noteConsulted(std::string_view kind);

// The kinds whose objects carry a pod spec in the API (workloads).
inline constexpr std::string_view kWorkloadKinds[] = {
    "Pod",        "Deployment", "ReplicaSet", "StatefulSet",
    "DaemonSet",  "Job",        "CronJob",    "ReplicationController",
    "PodTemplate"};

class ScanIndex {
 public:
  void add(const Object* o);
  const Object* find(std::string_view kind, std::string_view ns, std::string_view name) const;
  const std::vector<const Object*>& all() const {
    noteConsulted("*");
    return all_;
  }
  // Every object of `kind`, in input order (empty when none).
  const std::vector<const Object*>& ofKind(std::string_view kind) const;
  // The objects with a pod spec placed in namespace `ns` ("default" for those without one).
  const std::vector<const Object*>& workloadsIn(std::string_view ns) const;
  // Every namespace the input mentions: Namespace objects and the namespaces of namespaced
  // objects ("default" for those without one), sorted, each with the first object naming it.
  const std::map<std::string_view, const Object*>& namespaces() const {
    noteConsulted("Namespace");
    return namespaces_;
  }
  // Is the ServiceAccount ns/name a subject of some RoleBinding or ClusterRoleBinding in the
  // scan? (A subject without a namespace defaults to its RoleBinding's namespace.)
  bool isBoundServiceAccount(std::string_view ns, std::string_view name) const;
  // The NetworkPolicy lints of the whole scan, computed once on first use (thread-safe).
  const std::vector<netpol::LintFinding>& netpolLints() const;
  // The RBAC model and its risks for the whole scan, computed once on first use (thread-safe).
  const rbac::Model& rbacModel() const;
  const std::vector<rbac::Risk>& rbacRisks() const;

 private:
  static std::string key(std::string_view kind, std::string_view ns, std::string_view name);
  std::unordered_map<std::string, const Object*> by_key_;
  std::vector<const Object*> all_;
  std::unordered_map<std::string_view, std::vector<const Object*>> by_kind_;
  std::map<std::string_view, const Object*> namespaces_;
  std::unordered_map<std::string_view, std::vector<const Object*>> workloads_by_ns_;
  std::unordered_set<std::string> bound_service_accounts_;
  struct NetpolCache {
    Once once;
    std::unique_ptr<netpol::Model> model;
    std::vector<netpol::LintFinding> lints;
  };
  mutable std::unique_ptr<NetpolCache> netpol_ = std::make_unique<NetpolCache>();
  struct RbacCache {
    Once once;
    std::unique_ptr<rbac::Model> model;
    std::vector<rbac::Risk> risks;
  };
  mutable std::unique_ptr<RbacCache> rbac_ = std::make_unique<RbacCache>();
  void buildRbac() const;
};

}  // namespace kh
