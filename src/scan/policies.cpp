#include "scan/policies.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/parallel.h"
#include "load/loader.h"
#include "policy/vap.h"
#include "rbac/rbac.h"
#include "scan/scan.h"

namespace kh {

namespace {

std::string_view intern(ScanResult& r, std::string s) {
  return *r.interned.insert(std::move(s)).first;
}

// Loads every file of `paths` into `out` (input errors into r.errors).
void loadAll(ScanResult& r, const std::vector<std::string>& paths, const std::string& flag,
             std::vector<std::unique_ptr<SourceFile>>& out) {
  if (paths.empty()) return;
  auto files = collectInputs(paths);
  if (!files) {
    Error e = files.error();
    e.message = flag + ": " + e.message;
    r.errors.push_back(std::move(e));
    return;
  }
  for (const std::string& path : *files) {
    auto f = std::make_unique<SourceFile>();
    loadFile(path, LoadOptions{}, *f);
    if (f->error) r.errors.push_back(*f->error);
    for (Diagnostic& d : f->diagnostics) r.diagnostics.push_back(d);
    out.push_back(std::move(f));
  }
}

Severity severityOf(uint8_t actions) {
  using policy::ActionBits;
  if (actions & static_cast<uint8_t>(ActionBits::kDeny)) return Severity::kHigh;
  if (actions & static_cast<uint8_t>(ActionBits::kWarn)) return Severity::kMedium;
  return Severity::kLow;
}

std::string where(const policy::Outcome& o) {
  std::string at = o.pos.line ? fmt::format("{}:{}", o.file, o.pos.line) : o.file;
  if (o.validation >= 0) return fmt::format("validations[{}] at {}", o.validation, at);
  return at;
}

// The RBAC authorizer's answer and reason, in its words: `RBAC: allowed by ClusterRoleBinding
// "NAME" of ClusterRole "ROLE" to User "alice"`; no grant: denied without a reason.
std::shared_ptr<const cel::kubernetes::Authorize> rbacAuthorizer(const rbac::Model& model) {
  return std::make_shared<const cel::kubernetes::Authorize>(
      [&model](const cel::kubernetes::AuthorizationRequest& q)
          -> std::optional<cel::kubernetes::AuthorizationDecision> {
        rbac::Identity id{q.user, q.groups};
        if (std::find(id.groups.begin(), id.groups.end(), "system:authenticated") ==
                id.groups.end() &&
            q.user != "system:anonymous")
          id.groups.push_back("system:authenticated");
        rbac::Request req;
        req.verb = q.verb;
        req.api_group = q.group;
        req.resource = q.resource;
        req.subresource = q.subresource;
        req.name = q.name;
        req.ns = q.namespace_;
        req.non_resource = q.non_resource;
        req.path = q.path;
        std::vector<rbac::Grant> grants = rbac::grantsFor(model, id, req);
        if (grants.empty()) return cel::kubernetes::AuthorizationDecision{false, ""};
        const rbac::Binding& b = *grants[0].binding;
        std::string subject;
        for (const rbac::Subject& s : b.subjects)
          if (subject.empty() && rbac::appliesTo(b, s, id))
            subject = s.kind == rbac::Subject::Kind::kServiceAccount
                          ? fmt::format("ServiceAccount \"{}/{}\"", s.name, s.ns)
                          : fmt::format("{} \"{}\"", rbac::kindName(s.kind), s.name);
        std::string binding = b.cluster ? fmt::format("ClusterRoleBinding \"{}\"", b.name)
                                        : fmt::format("RoleBinding \"{}/{}\"", b.name, b.ns);
        return cel::kubernetes::AuthorizationDecision{
            true, fmt::format("RBAC: allowed by {} of {} \"{}\" to {}", binding, b.role_kind,
                              b.role_name, subject)};
      });
}

}  // namespace

void applyPolicies(ScanResult& r, const PolicyScanOptions& opts, unsigned threads) {
  std::vector<std::unique_ptr<SourceFile>> old_files;
  loadAll(r, opts.paths, "--policy", r.policy_files);
  loadAll(r, opts.old_paths, "--old", old_files);

  // Policies, bindings and params: from the input and from --policy.
  std::vector<const Object*> config;
  std::vector<const Object*> subjects;
  for (const auto& f : r.files)
    for (const Object& o : f->objects) {
      config.push_back(&o);
      if (!o.dockerfile && !policy::isPolicyKind(o.ref.api_version, o.ref.kind))
        subjects.push_back(&o);
    }
  for (const auto& f : r.policy_files)
    for (const Object& o : f->objects) config.push_back(&o);
  policy::PolicyOptions po;
  po.k8s_minor = opts.k8s_minor;
  policy::PolicySet set = policy::PolicySet::build(config, po, r.diagnostics);
  r.policies = set.policies();
  r.policy_bindings = set.bindings();
  if (set.empty()) return;

  std::map<std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>,
           const Object*>
      olds;
  for (const auto& f : old_files)
    for (const Object& o : f->objects)
      olds.emplace(std::make_tuple(o.ref.api_version, o.ref.kind, o.ref.namespace_, o.ref.name),
                   &o);

  // authorizer checks: decided by the RBAC authorizer over the input's RBAC objects, when there
  // are any (and the check names its user: authorizer.serviceAccount(...); a scan has no
  // requesting user), else unknown.
  std::shared_ptr<const cel::kubernetes::Authorize> authorize;
  if (!r.index.ofKind("RoleBinding").empty() || !r.index.ofKind("ClusterRoleBinding").empty())
    authorize = rbacAuthorizer(r.index.rbacModel());
  std::vector<policy::Verdict> verdicts(subjects.size());
  parallelFor(subjects.size(), threads, [&](size_t i) {
    const Object& o = *subjects[i];
    policy::Attributes a = policy::createOf(o);
    if (!a.namespace_.empty()) {
      if (const Object* ns = r.index.find("Namespace", "", a.namespace_))
        a.namespace_object = ns->root;
      if (!a.namespace_object) a.namespace_labels = opts.namespace_labels;
    }
    if (auto it =
            olds.find(std::make_tuple(o.ref.api_version, o.ref.kind, o.ref.namespace_, o.ref.name));
        it != olds.end()) {
      a.operation = "UPDATE";
      a.old_object = it->second->root;
    }
    a.authorize = authorize;
    verdicts[i] = set.admit(a, config);
  });

  for (size_t i = 0; i < subjects.size(); ++i) {
    const Object& o = *subjects[i];
    for (const policy::Outcome& out : verdicts[i].outcomes) {
      if (out.error) {
        r.diagnostics.push_back(
            {out.unevaluable ? "vap-unevaluable" : "vap-error",
             fmt::format("{} {}{} on {}: {}{}",
                         out.kyverno ? "ValidatingPolicy" : "ValidatingAdmissionPolicy", out.policy,
                         out.kyverno ? "" : " (binding " + out.binding + ")", o.displayName(),
                         out.message, out.actions ? "" : " (failurePolicy Ignore: admitted)"),
             out.file, out.pos});
      }
      if (out.actions == 0) continue;
      Finding f;
      f.check_id = intern(r, (out.kyverno ? "vpol:" : "vap:") + out.policy);
      f.rule = intern(r, out.binding);
      f.severity = severityOf(out.actions);
      f.object = &o;
      f.pos = o.root->pos;
      bool deny = out.actions & static_cast<uint8_t>(policy::ActionBits::kDeny);
      f.message = fmt::format("{} ({})", deny ? policy::denialText(out) : policy::warningText(out),
                              where(out));
      r.findings.push_back(std::move(f));
    }
  }
}

}  // namespace kh
