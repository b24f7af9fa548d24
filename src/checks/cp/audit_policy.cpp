// audit-policy-*: an audit Policy (audit.k8s.io) simulated with the API server's first-match
// semantics (audit/policy.h) over a table of probe requests (a person and a workload's service
// account, in an ordinary namespace and in kube-system): what would end up in the log, what would
// never be logged, and what the API server would refuse.
#include <fmt/format.h>

#include <functional>
#include <map>

#include "audit/policy.h"
#include "audit/probes.h"
#include "base/strings.h"
#include "checks/cp/cp_checks.h"

namespace kh {
namespace {

constexpr std::string_view kPolicy[] = {"Policy"};

bool isAuditPolicy(const Object& o) {
  return o.ref.kind == "Policy" &&
         (o.ref.api_version == "audit.k8s.io/v1" || o.ref.api_version == "audit.k8s.io/v1beta1");
}

constexpr CheckRefs kAuditRefs{
    .cis = "3.2.1,3.2.2", .nsa = "Audit logging and threat detection", .kubescape = "C-0067"};

// Findings grouped by (category, deciding rule): one per group, naming its requests.
struct Group {
  const audit::PolicyRule* rule = nullptr;
  audit::Level level = audit::Level::kNone;
  std::vector<std::string> ops, namespaces, users;  // each in the order first met, once
  void add(const audit::Decision& d, const audit::Request& r) {
    rule = d.rule;
    level = d.level;
    auto once = [](std::vector<std::string>& v, std::string x) {
      if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(std::move(x));
    };
    once(ops, r.verb + " " + audit::resourceName(r));
    once(namespaces, r.namespace_.empty() ? "(cluster-scoped)" : r.namespace_);
    once(users, r.user);
  }
};

void report(const FileCheck& self, const Object& o, const audit::Policy& p,
            std::map<std::pair<std::string_view, size_t>, Group>& groups,
            const std::function<std::string(std::string_view category, const Group&)>& message,
            FindingSink& sink) {
  for (const auto& [key, g] : groups) {
    const Node* at = g.rule ? g.rule->node : get(o.root, "rules");
    if (!at) at = o.root;
    std::string path = g.rule ? fmt::format("rules[{}].level", g.rule->index) : "rules";
    if (g.rule && get(g.rule->node, "level")) at = get(g.rule->node, "level");
    Finding f = self.finding(o, at->pos, path, message(key.first, g));
    f.rule = key.first;
    sink.add(std::move(f));
  }
  (void)p;
}

std::string decidedBy(const Group& g) {
  return g.rule ? fmt::format("rules[{}] logs at {}", g.rule->index, audit::levelName(g.level))
                : std::string("no rule matches (level None)");
}

// The requests of a group, in words: "create pods/exec, get pods/exec (and 2 more) in namespace
// kube-system, by alice and system:serviceaccount:default:app".
std::string some(const Group& g) {
  auto first = [](const std::vector<std::string>& v, size_t n) {
    std::vector<std::string> head(v.begin(), v.begin() + std::min(v.size(), n));
    return join(head, ", ") + (v.size() > n ? fmt::format(" (and {} more)", v.size() - n) : "");
  };
  std::vector<std::string> ns;
  for (const std::string& n : g.namespaces)
    if (n != "(cluster-scoped)") ns.push_back(n);
  return fmt::format("{}{}, by {}", first(g.ops, 4),
                     ns.empty() ? "" : fmt::format(" in namespace {}", join(ns, " and ")),
                     join(g.users, " and "));
}

// --- audit-policy-sensitive-data-logged ---------------------------------------------------------

constexpr CheckMeta kSensitive{
    .id = "audit-policy-sensitive-data-logged",
    .title = "Audit policy writes Secret, ConfigMap or token contents to the log",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPolicy,
    .remediation =
        "Put a rule at level Metadata for secrets, configmaps and tokenreviews "
        "(group authentication.k8s.io) and serviceaccounts/token before any rule that "
        "logs at Request or RequestResponse.",
    .refs = kAuditRefs,
};

void sensitive(const FileCheck& self, const Object& o, FindingSink& sink) {
  audit::Policy p = audit::readPolicy(o.root);
  std::map<std::pair<std::string_view, size_t>, Group> groups;
  for (const audit::Probe& probe : audit::sensitiveProbes())
    for (const audit::Request& r : audit::expandProbe(probe)) {
      audit::Decision d = audit::evaluate(p, r);
      bool write = r.verb == "create" || r.verb == "update" || r.verb == "patch";
      bool request_body = write && d.level >= audit::Level::kRequest &&
                          r.resource != "serviceaccounts";  // a TokenRequest's body is no token
      bool response_body = d.level == audit::Level::kRequestResponse;
      if (!request_body && !response_body) continue;
      Group& g = groups[{probe.category, d.rule ? d.rule->index : SIZE_MAX}];
      g.add(d, r);
    }
  report(
      self, o, p, groups,
      [](std::string_view category, const Group& g) {
        std::string_view what = category == "secrets"      ? "Secrets' values"
                                : category == "configmaps" ? "ConfigMaps' data"
                                                           : "bearer tokens";
        return fmt::format("{}: {} end up in the audit log, for {}", decidedBy(g), what, some(g));
      },
      sink);
}

// --- audit-policy-activity-not-logged -----------------------------------------------------------

constexpr CheckMeta kNotLogged{
    .id = "audit-policy-activity-not-logged",
    .title = "Audit policy does not log exec, pod, RBAC, workload or Secret activity",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPolicy,
    .remediation =
        "Log exec/attach/port-forward/proxy, changes to pods, workloads and RBAC, and "
        "Secret access at least at Metadata: move the rule that silences them below "
        "one that logs them, or narrow it.",
    .refs = kAuditRefs,
};

void notLogged(const FileCheck& self, const Object& o, FindingSink& sink) {
  audit::Policy p = audit::readPolicy(o.root);
  std::map<std::pair<std::string_view, size_t>, Group> groups;
  for (const audit::Probe& probe : audit::activityProbes())
    for (const audit::Request& r : audit::expandProbe(probe)) {
      audit::Decision d = audit::evaluate(p, r);
      if (d.level != audit::Level::kNone) continue;
      Group& g = groups[{probe.category, d.rule ? d.rule->index : SIZE_MAX}];
      g.add(d, r);
    }
  report(
      self, o, p, groups,
      [](std::string_view category, const Group& g) {
        std::string_view what = category == "exec"      ? "exec, attach, port-forward and proxy"
                                : category == "pods"    ? "pod changes"
                                : category == "rbac"    ? "RBAC changes"
                                : category == "secrets" ? "Secret reads"
                                                        : "workload changes";
        return fmt::format("{}: {} are never logged: {}",
                           g.rule ? fmt::format("rules[{}] sets level None", g.rule->index)
                                  : std::string("no rule matches (level None)"),
                           what, some(g));
      },
      sink);
}

// --- audit-policy-response-started-omitted ------------------------------------------------------

constexpr CheckMeta kStarted{
    .id = "audit-policy-response-started-omitted",
    .title = "Audit policy logs exec sessions only when they end",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPolicy,
    .remediation =
        "Keep the ResponseStarted stage for pods/exec, pods/attach and "
        "pods/portforward (omit only RequestReceived), so a session is logged when it "
        "starts.",
    .refs = kAuditRefs,
};

void started(const FileCheck& self, const Object& o, FindingSink& sink) {
  audit::Policy p = audit::readPolicy(o.root);
  std::map<std::pair<std::string_view, size_t>, Group> groups;
  for (const char* sub : {"exec", "attach", "portforward"})
    for (const audit::Request& r :
         audit::expandProbe({"long-running", "create", "", "pods", sub})) {
      audit::Decision d = audit::evaluate(p, r);
      if (d.level == audit::Level::kNone) continue;  // activity-not-logged's
      auto omitted = [&](std::string_view s) {
        return std::find(d.omit_stages.begin(), d.omit_stages.end(), s) != d.omit_stages.end();
      };
      if (!omitted("ResponseStarted") || !omitted("RequestReceived")) continue;
      Group& g = groups[{"long-running", d.rule ? d.rule->index : SIZE_MAX}];
      g.add(d, r);
    }
  report(
      self, o, p, groups,
      [](std::string_view, const Group& g) {
        return fmt::format(
            "rules[{}] (with the policy's omitStages) omits both RequestReceived and "
            "ResponseStarted: an exec, attach or port-forward session appears in the log only "
            "when it ends, hours later if it is kept open, e.g. {}",
            g.rule ? g.rule->index : 0, some(g));
      },
      sink);
}

// --- audit-policy-no-catch-all ------------------------------------------------------------------

constexpr CheckMeta kCatchAll{
    .id = "audit-policy-no-catch-all",
    .title = "Audit policy has no final rule that logs everything else",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPolicy,
    .remediation =
        "End the rules with `- level: Metadata` (no other field), so requests the "
        "rules above do not name are still logged.",
    .refs = kAuditRefs,
};

void catchAll(const FileCheck& self, const Object& o, FindingSink& sink) {
  audit::Policy p = audit::readPolicy(o.root);
  for (const audit::PolicyRule& r : p.rules)
    if (r.users.empty() && r.user_groups.empty() && r.verbs.empty() && r.namespaces.empty() &&
        r.resources.empty() && r.non_resource_urls.empty() && r.level != audit::Level::kNone)
      return;
  const Node* at = get(o.root, "rules");
  sink.add(self.finding(o, (at ? at : o.root)->pos, "rules",
                        p.rules.empty()
                            ? std::string("the policy has no rules: nothing is logged")
                            : "no rule matches every request at a level above None: requests the "
                              "rules do not name (new resources, custom resources) are not "
                              "logged"));
}

// --- audit-policy-invalid -----------------------------------------------------------------------

constexpr CheckMeta kInvalid{
    .id = "audit-policy-invalid",
    .title = "Audit policy the API server refuses",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kPolicy,
    .remediation =
        "Fix the field named: the API server validates the policy at start and does "
        "not start with an invalid one.",
    .refs = kAuditRefs,
};

void invalid(const FileCheck& self, const Object& o, FindingSink& sink) {
  audit::Policy p = audit::readPolicy(o.root);
  for (const audit::Policy::Problem& pr : p.problems)
    sink.add(self.finding(o, pr.pos, pr.path, pr.message));
}

}  // namespace

void addAuditPolicyChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FileCheck>(kSensitive, isAuditPolicy, sensitive));
  out.push_back(std::make_unique<FileCheck>(kNotLogged, isAuditPolicy, notLogged));
  out.push_back(std::make_unique<FileCheck>(kStarted, isAuditPolicy, started));
  out.push_back(std::make_unique<FileCheck>(kCatchAll, isAuditPolicy, catchAll));
  out.push_back(std::make_unique<FileCheck>(kInvalid, isAuditPolicy, invalid));
}

}  // namespace kh
