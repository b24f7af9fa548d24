#include "checks/scan_index.h"

#include <fmt/format.h>

#include "rbac/defaults.h"

namespace kh {

namespace {
thread_local ConsultRecorder* tl_recorder = nullptr;
thread_local std::string_view tl_check;
}  // namespace

void ConsultRecorder::note(std::string_view check, std::string_view kind) {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.emplace(std::string(check), std::string(kind));
}

std::map<std::string, std::set<std::string>> ConsultRecorder::byCheck() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [check, kind] : seen_) out[check].insert(kind);
  return out;
}

ConsultScope::ConsultScope(ConsultRecorder* recorder, std::string_view check)
    : prev_recorder_(tl_recorder), prev_check_(tl_check) {
  tl_recorder = recorder;
  tl_check = check;
}

ConsultScope::~ConsultScope() {
  tl_recorder = prev_recorder_;
  tl_check = prev_check_;
}

void noteConsulted(std::string_view kind) {
  if (tl_recorder) tl_recorder->note(tl_check, kind);
}

std::string ScanIndex::key(std::string_view kind, std::string_view ns, std::string_view name) {
  return fmt::format("{}\x1f{}\x1f{}", kind, ns, name);
}

void ScanIndex::add(const Object* o) {
  all_.push_back(o);
  by_key_.emplace(key(o->ref.kind, o->ref.namespace_, o->ref.name), o);
  by_kind_[o->ref.kind].push_back(o);
  if (o->pod) workloads_by_ns_[o->namespaceOrDefault()].push_back(o);
  if (o->ref.kind == "Namespace")
    namespaces_.emplace(o->ref.name, o);
  else if (!o->ref.namespace_.empty() || !isClusterScopedKind(o->ref.kind))
    namespaces_.emplace(o->namespaceOrDefault(), o);
  if (o->ref.kind != "RoleBinding" && o->ref.kind != "ClusterRoleBinding") return;
  const Node* subjects = o->root->get("subjects");
  for (const Node* s : seqOf(subjects)) {
    if (getStr(s, "kind") != "ServiceAccount") continue;
    std::string_view ns = getStr(s, "namespace");
    if (ns.empty()) ns = o->ref.namespace_;
    bound_service_accounts_.insert(key("ServiceAccount", ns, getStr(s, "name")));
  }
}

const std::vector<const Object*>& ScanIndex::ofKind(std::string_view kind) const {
  static const std::vector<const Object*> kNone;
  noteConsulted(kind);
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? kNone : it->second;
}

const std::vector<const Object*>& ScanIndex::workloadsIn(std::string_view ns) const {
  static const std::vector<const Object*> kNone;
  for (std::string_view k : kWorkloadKinds) noteConsulted(k);
  auto it = workloads_by_ns_.find(ns);
  return it == workloads_by_ns_.end() ? kNone : it->second;
}

bool ScanIndex::isBoundServiceAccount(std::string_view ns, std::string_view name) const {
  noteConsulted("RoleBinding");
  noteConsulted("ClusterRoleBinding");
  return bound_service_accounts_.count(key("ServiceAccount", ns, name)) > 0;
}

const Object* ScanIndex::find(std::string_view kind, std::string_view ns,
                              std::string_view name) const {
  noteConsulted(kind);
  auto it = by_key_.find(key(kind, ns, name));
  return it == by_key_.end() ? nullptr : it->second;
}

}  // namespace kh

namespace kh {

const std::vector<netpol::LintFinding>& ScanIndex::netpolLints() const {
  noteConsulted("NetworkPolicy");
  noteConsulted("Namespace");
  for (std::string_view k : kWorkloadKinds) noteConsulted(k);
  netpol_->once.call([this] {
    netpol_->model = std::make_unique<netpol::Model>(netpol::buildModel(all_));
    netpol::Analyzer analyzer(*netpol_->model);
    netpol_->lints = netpol::lint(analyzer);
  });
  return netpol_->lints;
}

}  // namespace kh

namespace kh {

void ScanIndex::buildRbac() const {
  for (std::string_view k : {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
    noteConsulted(k);
  rbac_->once.call([this] {
    rbac_->model = std::make_unique<rbac::Model>(rbac::buildModel(rbac::withDefaults(all_)));
    rbac_->risks = rbac::analyzeRisks(*rbac_->model);
  });
}

const rbac::Model& ScanIndex::rbacModel() const {
  buildRbac();
  return *rbac_->model;
}

const std::vector<rbac::Risk>& ScanIndex::rbacRisks() const {
  // Risks are what bindings of the input grant: without one there are none, and the model
  // (with every built-in role) need not be built. The admission webhook's common case.
  static const std::vector<rbac::Risk> kNone;
  if (!by_kind_.count("RoleBinding") && !by_kind_.count("ClusterRoleBinding")) return kNone;
  buildRbac();
  return rbac_->risks;
}

}  // namespace kh
