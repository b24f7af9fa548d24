// The audit-event-* detections (docs/audit.md, "Detections"; a page per check in docs/checks/).
// Where a rule is about what a request created (a privileged pod, a role with wildcards, a
// ConfigMap with credentials), the request body is judged by the same check `scan` runs on a
// manifest, so "privileged" has one definition.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <span>

#include "base/strings.h"
#include "checks/audit/audit_event_checks.h"
#include "checks/registry.h"
#include "checks/scan_index.h"
#include "rbac/rbac.h"

namespace kh {
namespace {

constexpr std::string_view kEventKinds[] = {"Event"};

// --- what a request was and how it ended ------------------------------------------------------

bool in(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Did the request do what it asked? The response code when logged (101: an upgraded exec or
// port-forward stream), else the authorizer's decision.
bool succeeded(const audit::Event& e) {
  if (e.code != 0) return e.code < 400;
  return e.decision == "allow";
}

// Refused by the authorizer (not by admission, which also answers 403 after an "allow").
bool deniedByAuthorizer(const audit::Event& e) {
  if (!e.decision.empty()) return e.decision == "forbid";
  return e.code == 403 && e.status_reason == "Forbidden";
}

bool isKubeNamespace(std::string_view ns) {
  return in(ns, {"kube-system", "kube-public", "kube-node-lease"});
}

// The control plane's own identities: the API server, the controller manager (and the service
// accounts of its controllers, with --use-service-account-credentials), the scheduler, kube-proxy
// and the kubelets. What they do is the cluster running, not a person acting.
bool isControlPlaneUser(std::string_view user) {
  static constexpr std::array<std::string_view, 5> kUsers = {
      "system:apiserver", "system:kube-controller-manager", "system:kube-scheduler",
      "system:kube-proxy", "system:volume-scheduler"};
  static constexpr std::array<std::string_view, 40> kControllers = {
      "attachdetach-controller",
      "bootstrap-signer",
      "certificate-controller",
      "clusterrole-aggregation-controller",
      "cronjob-controller",
      "daemon-set-controller",
      "deployment-controller",
      "disruption-controller",
      "endpoint-controller",
      "endpointslice-controller",
      "endpointslicemirroring-controller",
      "ephemeral-volume-controller",
      "expand-controller",
      "generic-garbage-collector",
      "horizontal-pod-autoscaler",
      "job-controller",
      "legacy-service-account-token-cleaner",
      "namespace-controller",
      "node-controller",
      "persistent-volume-binder",
      "pod-garbage-collector",
      "pv-protection-controller",
      "pvc-protection-controller",
      "replicaset-controller",
      "replication-controller",
      "resourcequota-controller",
      "root-ca-cert-publisher",
      "route-controller",
      "service-account-controller",
      "service-cidrs-controller",
      "service-controller",
      "statefulset-controller",
      "token-cleaner",
      "ttl-after-finished-controller",
      "ttl-controller",
      "validatingadmissionpolicy-status-controller",
      "volumeattributesclass-protection-controller",
      "selinux-warning-controller",
      "resource-claim-controller",
      "device-taint-eviction-controller",
  };
  if (std::find(kUsers.begin(), kUsers.end(), user) != kUsers.end()) return true;
  if (user.starts_with("system:node:")) return true;
  constexpr std::string_view kSa = "system:serviceaccount:kube-system:";
  if (!user.starts_with(kSa)) return false;
  std::string_view sa = user.substr(kSa.size());
  return std::find(kControllers.begin(), kControllers.end(), sa) != kControllers.end();
}

// Made by the control plane itself (never when someone impersonates: the person counts).
bool byControlPlane(const audit::Event& e) {
  return e.impersonated_user.empty() && isControlPlaneUser(e.user);
}

// A person's account, not a component's or a workload's: `system:` names are the cluster's
// (service accounts, nodes, components, anonymous).
bool isHuman(std::string_view user) {
  return !user.empty() && !user.starts_with("system:");
}

std::string target(const audit::Event& e) {
  if (e.resource.empty()) {
    std::string_view uri = e.request_uri;
    return std::string(uri.substr(0, uri.find('?')));
  }
  std::string res = e.resource;
  if (!e.api_group.empty()) res += "." + e.api_group;
  if (!e.subresource.empty()) res += "/" + e.subresource;
  if (!e.name.empty())
    res += e.namespace_.empty() ? " " + e.name : " " + e.namespace_ + "/" + e.name;
  else if (!e.namespace_.empty())
    res += " in " + e.namespace_;
  return res;
}

std::string outcome(const audit::Event& e) {
  std::string out;
  if (deniedByAuthorizer(e))
    out = "denied by the authorizer";
  else if (e.code >= 400)
    out = fmt::format("failed ({})", e.code);
  else if (succeeded(e))
    out = "allowed";
  else
    out = "outcome not logged";
  if (e.code != 0 && e.code < 400) out += fmt::format(" ({})", e.code);
  return out;
}

bool isPodWorkloadResource(std::string_view r) {
  return in(r, {"pods", "deployments", "daemonsets", "statefulsets", "replicasets", "jobs",
                "cronjobs", "replicationcontrollers", "podtemplates"});
}

bool isRbacResource(std::string_view r) {
  return in(r, {"roles", "clusterroles", "rolebindings", "clusterrolebindings"});
}

// --- judging a request's body with the checks of `scan` ----------------------------------------

// The catalogue's checks by ID, configured with their defaults, built once.
const Check* catalogueCheck(std::string_view id) {
  static const std::vector<std::unique_ptr<Check>> all = [] {
    auto checks = makeCatalogue();
    for (auto& c : checks) (void)c->configure(nullptr);
    return checks;
  }();
  for (const auto& c : all)
    if (c->meta().id == id) return c.get();
  return nullptr;
}

// Runs the checks `ids` on the request's body (the object it created or replaced), as the
// admission webhook does on one object, and hands each of their findings to `fn`.
template <typename Fn>
void judgeBody(const Object& o, std::span<const std::string_view> ids, Fn fn) {
  const Node* body = get(o.root, "requestObject");
  if (!body || !body->isMap()) return;
  Object inner = makeObject(body, {});
  inner.file = o.file;
  ScanIndex index;
  index.add(&inner);
  CheckContext ctx{.index = &index, .single_object = true};
  for (std::string_view id : ids) {
    const Check* c = catalogueCheck(id);
    if (!c || !c->appliesTo(inner)) continue;
    VectorSink sink;
    c->check(inner, ctx, sink);
    for (Finding& f : sink.findings) fn(*c, f);
  }
}

// --- the checks -------------------------------------------------------------------------------

using Wants = bool (*)(const audit::Event& e);
using Judge = void (*)(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                       FindingSink& sink);

class EventFnCheck final : public AuditEventCheck {
 public:
  EventFnCheck(const CheckMeta& meta, Wants wants, Judge judge)
      : meta_(meta), wants_(wants), judge_(judge) {}
  const CheckMeta& meta() const override { return meta_; }
  bool wants(const audit::Event& e) const override { return wants_(e); }

 protected:
  void judge(const audit::Event& e, const Object& o, FindingSink& sink) const override {
    judge_(*this, e, o, sink);
  }

 private:
  const CheckMeta& meta_;
  Wants wants_;
  Judge judge_;
};

// A finding at the event's field `keys` (as far as the event has them), saying `what`.
void reportEvent(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                 FindingSink& sink, std::string_view what,
                 std::initializer_list<std::string_view> keys, std::string_view rule = {}) {
  const Node* node = o.root;
  std::string path;
  for (std::string_view k : keys) {
    const Node* next = get(node, k);
    if (!next) break;
    node = next;
    path += path.empty() ? std::string(k) : "." + std::string(k);
  }
  Finding f = self.at(o, e, node, path, what);
  f.rule = rule;
  sink.add(std::move(f));
}

// The event itself is the finding (the condition is all in wants()), at one of its fields.
struct Simple {
  std::string_view what, key, subkey;
};
template <const Simple& S>
void eventIsFinding(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                    FindingSink& sink) {
  reportEvent(self, e, o, sink, S.what, {S.key, S.subkey});
}

// --- audit-event-pod-insecure ---

constexpr CheckMeta kPodInsecure{
    .id = "audit-event-pod-insecure",
    .title = "Privileged or host-sharing workload created",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Find out who created it and why; delete it if it is not expected, and enforce the "
        "Pod Security Standards (baseline at least) on the namespace so the API server "
        "refuses the next one.",
    .refs = {.nsa =
                 "Privileged containers and privilege escalation,Host namespaces and host access",
             .mitre = "T1610, T1611"},
};

bool wantsWorkloadWrite(const audit::Event& e) {
  return in(e.verb, {"create", "update"}) && e.subresource.empty() &&
         isPodWorkloadResource(e.resource) && succeeded(e) && !byControlPlane(e);
}

constexpr std::string_view kPodRules[] = {"pod-privileged", "pod-host-network", "pod-host-pid",
                                          "pod-host-ipc", "pod-hostpath-sensitive"};

void podInsecure(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                 FindingSink& sink) {
  judgeBody(o, kPodRules, [&](const Check& c, Finding& f) {
    Finding out = self.at(o, e, nullptr, "requestObject." + f.path, f.message);
    out.pos = f.pos;
    out.severity = f.severity;
    out.rule = c.meta().id;
    out.container = f.container;
    sink.add(std::move(out));
  });
}

// --- audit-event-kube-namespace-workload ---

constexpr CheckMeta kKubeNamespaceWorkload{
    .id = "audit-event-kube-namespace-workload",
    .title = "Workload created in a kube- namespace by a user",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "kube-system, kube-public and kube-node-lease belong to the cluster's components: "
        "find out who deployed there and why, and move applications to their own namespaces.",
    .refs = {.nsa = "Namespaces", .mitre = "T1036"},
};

bool wantsKubeNamespaceWorkload(const audit::Event& e) {
  return e.verb == "create" && e.subresource.empty() && isPodWorkloadResource(e.resource) &&
         isKubeNamespace(e.namespace_) && succeeded(e) && !byControlPlane(e);
}

constexpr Simple kKubeNamespaceWorkloadWhat{"a workload created in a namespace of the cluster's",
                                            "objectRef", "namespace"};

// --- audit-event-exec ---

constexpr CheckMeta kExec{
    .id = "audit-event-exec",
    .title = "Command run in, attached to or port-forwarded to a container",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Confirm the session was expected (a person debugging, not a stolen credential); "
        "grant pods/exec, pods/attach, pods/portforward and pods/ephemeralcontainers to as "
        "few subjects as possible, and prefer ephemeral debug containers that are logged.",
    .refs = {.nsa = "Audit logging and threat detection", .mitre = "T1609"},
};

bool wantsExec(const audit::Event& e) {
  if (e.resource != "pods" || !succeeded(e)) return false;
  if (in(e.subresource, {"exec", "attach", "portforward"})) return true;
  return e.subresource == "ephemeralcontainers" && in(e.verb, {"update", "patch"});
}

void exec(const AuditEventCheck& self, const audit::Event& e, const Object& o, FindingSink& sink) {
  // Findings outlive the event: the rule is one of these literals.
  std::string_view rule = e.subresource == "exec"          ? "exec"
                          : e.subresource == "attach"      ? "attach"
                          : e.subresource == "portforward" ? "port-forward"
                                                           : "ephemeral-container";
  std::string_view what = rule == "exec"           ? "a command run in a container"
                          : rule == "attach"       ? "attached to a running container"
                          : rule == "port-forward" ? "a port of a pod forwarded"
                                                   : "an ephemeral container added to a pod";
  reportEvent(self, e, o, sink, what, {"objectRef", "subresource"}, rule);
}

// --- audit-event-anonymous-allowed ---

constexpr CheckMeta kAnonymous{
    .id = "audit-event-anonymous-allowed",
    .title = "Anonymous request allowed",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Remove the bindings that grant system:anonymous or system:unauthenticated anything "
        "beyond the health and discovery endpoints, or run the API server with "
        "--anonymous-auth=false (or an AuthenticationConfiguration limiting anonymous "
        "requests to those endpoints).",
    .refs = {.cis = "1.2.1", .nsa = "Authentication and authorization", .mitre = "T1078"},
};

// What the default roles let anyone read (system:public-info-viewer and
// system:service-account-issuer-discovery): not a finding.
bool isPublicPath(std::string_view uri) {
  std::string_view path = uri.substr(0, uri.find('?'));
  for (std::string_view p : {"/healthz", "/livez", "/readyz"})
    if (path == p || (path.starts_with(p) && path.size() > p.size() && path[p.size()] == '/'))
      return true;
  return in(path,
            {"/version", "/version/", "/.well-known/openid-configuration", "/openid/v1/jwks"});
}

bool wantsAnonymous(const audit::Event& e) {
  bool anonymous =
      e.user == "system:anonymous" ||
      std::find(e.groups.begin(), e.groups.end(), "system:unauthenticated") != e.groups.end();
  if (!anonymous || !succeeded(e) || deniedByAuthorizer(e)) return false;
  return !(e.resource.empty() && isPublicPath(e.request_uri));
}

constexpr Simple kAnonymousWhat{"an unauthenticated request was allowed", "user", "username"};

// --- audit-event-cluster-admin-binding ---

constexpr CheckMeta kClusterAdmin{
    .id = "audit-event-cluster-admin-binding",
    .title = "Binding to cluster-admin created",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Confirm the grant was intended; replace it with a role that allows what the subject "
        "needs (`kubeharden audit rbac` writes one from what it did), and delete the binding.",
    .refs = {.cis = "5.1.1", .nsa = "Authentication and authorization", .mitre = "T1098"},
};

bool wantsBindingWrite(const audit::Event& e) {
  return in(e.resource, {"clusterrolebindings", "rolebindings"}) && e.subresource.empty() &&
         in(e.verb, {"create", "update"}) && succeeded(e) && !byControlPlane(e);
}

void clusterAdmin(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                  FindingSink& sink) {
  const Node* body = get(o.root, "requestObject");
  const Node* ref = get(body, "roleRef");
  if (getStr(ref, "kind") != "ClusterRole" || getStr(ref, "name") != "cluster-admin") return;
  std::vector<std::string> subjects;
  for (const Node* s : seqOf(get(body, "subjects"))) {
    std::string_view ns = getStr(s, "namespace");
    subjects.push_back(ns.empty()
                           ? fmt::format("{} {}", getStr(s, "kind"), getStr(s, "name"))
                           : fmt::format("{} {}/{}", getStr(s, "kind"), ns, getStr(s, "name")));
  }
  Finding f = self.at(o, e, get(ref, "name"), "requestObject.roleRef.name",
                      fmt::format("cluster-admin granted to {}",
                                  subjects.empty() ? "no subject yet" : join(subjects, ", ")));
  sink.add(std::move(f));
}

// --- audit-event-role-risky ---

constexpr CheckMeta kRoleRisky{
    .id = "audit-event-role-risky",
    .title = "Role with wildcards or risky permissions created",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Review the role: list the verbs and resources it needs instead of `*`, and keep exec, "
        "secrets, escalate, bind, impersonate, nodes/proxy and token creation to the few "
        "subjects that need them.",
    .refs = {.cis = "5.1.3", .nsa = "Authentication and authorization", .mitre = "T1098"},
};

bool wantsRoleWrite(const audit::Event& e) {
  return in(e.resource, {"roles", "clusterroles"}) && e.subresource.empty() &&
         in(e.verb, {"create", "update"}) && succeeded(e) && !byControlPlane(e);
}

struct RiskyGrant {
  std::string_view rule, what;
  rbac::Request req;
};

const std::vector<RiskyGrant>& riskyGrants() {
  static const std::vector<RiskyGrant> kGrants = [] {
    auto r = [](std::string verb, std::string group, std::string res, std::string sub = {}) {
      rbac::Request q;
      q.verb = std::move(verb);
      q.api_group = std::move(group);
      q.resource = std::move(res);
      q.subresource = std::move(sub);
      return q;
    };
    return std::vector<RiskyGrant>{
        {"pods-exec", "runs commands in pods (pods/exec)", r("create", "", "pods", "exec")},
        {"pods-attach", "attaches to pods (pods/attach)", r("create", "", "pods", "attach")},
        {"secrets-read", "reads Secrets", r("get", "", "secrets")},
        {"escalate", "escalates roles", r("escalate", "rbac.authorization.k8s.io", "clusterroles")},
        {"bind", "binds any role", r("bind", "rbac.authorization.k8s.io", "clusterroles")},
        {"impersonate", "impersonates users", r("impersonate", "", "users")},
        {"nodes-proxy", "reaches kubelets through nodes/proxy", r("get", "", "nodes", "proxy")},
        {"token-create", "mints service account tokens",
         r("create", "", "serviceaccounts", "token")},
    };
  }();
  return kGrants;
}

void roleRisky(const AuditEventCheck& self, const audit::Event& e, const Object& o,
               FindingSink& sink) {
  static constexpr std::string_view kWildcard[] = {"rbac-wildcard-rule"};
  judgeBody(o, kWildcard, [&](const Check&, Finding& f) {
    Finding out = self.at(o, e, nullptr, "requestObject." + f.path, f.message);
    out.pos = f.pos;
    out.severity = f.severity;
    out.rule = "wildcard";
    sink.add(std::move(out));
  });
  const Node* body = get(o.root, "requestObject");
  if (!body || !body->isMap()) return;
  Object role = makeObject(body, {});
  role.file = o.file;
  if (!rbac::isRbacObject(role)) return;
  rbac::Model m = rbac::buildModel({&role});
  if (m.roles.empty()) return;
  const rbac::Role& r = m.roles.front();
  auto rules = seqOf(get(body, "rules"));
  for (size_t i = 0; i < r.rules.size(); ++i) {
    const rbac::Rule& rule = r.rules[i];
    // Wildcards are the wildcard rule's finding above; here the rules that name what they grant.
    auto star = [](const std::vector<std::string_view>& v) {
      return std::find(v.begin(), v.end(), "*") != v.end();
    };
    if (star(rule.verbs) || star(rule.resources) || !rule.resource_names.empty()) continue;
    for (const RiskyGrant& g : riskyGrants()) {
      if (!rbac::ruleAllows(rule, g.req)) continue;
      const Node* at = i < rules.size() ? rules[i] : nullptr;
      Finding f = self.at(o, e, at, fmt::format("requestObject.rules[{}]", i),
                          fmt::format("a role that {} ({})", g.what, rbac::describeRule(rule)));
      f.rule = g.rule;
      sink.add(std::move(f));
    }
  }
}

// --- audit-event-system-role-modified ---

constexpr CheckMeta kSystemRole{
    .id = "audit-event-system-role-modified",
    .title = "Built-in system: role or binding changed or deleted",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "The system: roles and bindings are the control plane's own; the API server restores "
        "the defaults it knows at its next start, but until then the change holds. Revert it "
        "and find out who made it.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1098"},
};

bool wantsSystemRole(const audit::Event& e) {
  return isRbacResource(e.resource) && e.subresource.empty() &&
         in(e.verb, {"update", "patch", "delete"}) && e.name.starts_with("system:") &&
         succeeded(e) && !byControlPlane(e);
}

constexpr Simple kSystemRoleWhat{"a system: role or binding of the control plane changed",
                                 "objectRef", "name"};

// --- audit-event-secret-read ---

constexpr CheckMeta kSecretRead{
    .id = "audit-event-secret-read",
    .title = "Secrets read by a person",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "People rarely need Secret values: confirm the read was expected, take `get`, `list` "
        "and `watch` on secrets away from roles given to people, and rotate what was read if "
        "it was not.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1552.007"},
};

bool wantsSecretRead(const audit::Event& e) {
  return e.resource == "secrets" && e.subresource.empty() && in(e.verb, {"get", "list", "watch"}) &&
         succeeded(e) && !deniedByAuthorizer(e) && isHuman(e.user);
}

constexpr Simple kSecretReadWhat{"Secret values read by a person", "objectRef", "resource"};

// --- audit-event-secret-read-denied ---

constexpr CheckMeta kSecretDenied{
    .id = "audit-event-secret-read-denied",
    .title = "Secret read refused by the authorizer",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Refused reads of Secrets are how a stolen credential probes what it can reach: "
        "find the client (source IPs, user agent) and, for a service account, the workload "
        "using its token.",
    .refs = {.nsa = "Audit logging and threat detection", .mitre = "T1552.007"},
};

bool wantsSecretDenied(const audit::Event& e) {
  return e.resource == "secrets" && in(e.verb, {"get", "list", "watch"}) && deniedByAuthorizer(e);
}

constexpr Simple kSecretDeniedWhat{"a read of Secrets refused", "annotations",
                                   "authorization.k8s.io/decision"};

// --- audit-event-kube-namespace-serviceaccount ---

constexpr CheckMeta kKubeSa{
    .id = "audit-event-kube-namespace-serviceaccount",
    .title = "Service account created in a kube- namespace",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Service accounts in kube-system look like the control plane's; find out who created "
        "it and what it is bound to, and delete it if it is not a component's.",
    .refs = {.nsa = "Namespaces", .mitre = "T1136"},
};

bool wantsKubeSa(const audit::Event& e) {
  return e.resource == "serviceaccounts" && e.subresource.empty() && e.verb == "create" &&
         isKubeNamespace(e.namespace_) && succeeded(e) && !byControlPlane(e);
}

constexpr Simple kKubeSaWhat{"a service account created in a namespace of the cluster's",
                             "objectRef", "namespace"};

// --- audit-event-service-exposed ---

constexpr CheckMeta kServiceExposed{
    .id = "audit-event-service-exposed",
    .title = "NodePort or LoadBalancer Service created",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Confirm the Service is meant to be reachable from outside the cluster; otherwise make "
        "it a ClusterIP Service behind an Ingress or Gateway with TLS.",
    .refs = {.nsa = "Network separation", .mitre = "T1133"},
};

bool wantsServiceWrite(const audit::Event& e) {
  return e.resource == "services" && e.subresource.empty() && in(e.verb, {"create", "update"}) &&
         succeeded(e) && !byControlPlane(e);
}

void serviceExposed(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                    FindingSink& sink) {
  static constexpr std::string_view kExposed[] = {"network-exposed-service"};
  judgeBody(o, kExposed, [&](const Check&, Finding& f) {
    Finding out = self.at(o, e, nullptr, "requestObject." + f.path, f.message);
    out.pos = f.pos;
    sink.add(std::move(out));
  });
}

// --- audit-event-configmap-credentials ---

constexpr CheckMeta kConfigMapCredentials{
    .id = "audit-event-configmap-credentials",
    .title = "Credentials written into a ConfigMap",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Move the value to a Secret (encrypted at rest, readable by fewer roles), rotate it, "
        "and remove it from the ConfigMap.",
    .refs = {.nsa = "Secrets", .mitre = "T1552"},
};

bool wantsConfigMapWrite(const audit::Event& e) {
  return e.resource == "configmaps" && e.subresource.empty() && in(e.verb, {"create", "update"}) &&
         succeeded(e);
}

void configMapCredentials(const AuditEventCheck& self, const audit::Event& e, const Object& o,
                          FindingSink& sink) {
  static constexpr std::string_view kConfigMap[] = {"secrets-configmap"};
  judgeBody(o, kConfigMap, [&](const Check&, Finding& f) {
    Finding out = self.at(o, e, nullptr, "requestObject." + f.path, f.message);
    out.pos = f.pos;
    out.severity = f.severity;
    sink.add(std::move(out));
  });
}

// --- allow-lists: audit-event-namespace-not-allowed, audit-event-user-not-allowed ---

constexpr CheckMeta kNamespaceNotAllowed{
    .id = "audit-event-namespace-not-allowed",
    .title = "Namespace created outside the allow-list",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Add the namespace to the check's `allow` list if it is expected; otherwise find out "
        "who created it and what runs in it.",
    .refs = {.nsa = "Namespaces", .mitre = "T1036"},
};

constexpr CheckMeta kUserNotAllowed{
    .id = "audit-event-user-not-allowed",
    .title = "Request by a user outside the allow-list",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kEventKinds,
    .remediation =
        "Add the user to the check's `allow` list if it is expected; otherwise treat the "
        "credential as stolen: revoke it and review what it did.",
    .refs = {.nsa = "Audit logging and threat detection", .mitre = "T1078"},
};

// Silent until the config file gives the list (`checks: {ID: {allow: [globs]}}`).
class AllowListCheck final : public AuditEventCheck {
 public:
  explicit AllowListCheck(const CheckMeta& meta) : meta_(meta) {}
  const CheckMeta& meta() const override { return meta_; }

  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "allow" || !e.value->isSeq())
        return Error{fmt::format("check {}: unknown option '{}' (expected 'allow: [...]', "
                                 "names or globs with *)",
                                 meta_.id, e.key),
                     "", e.key_pos};
      for (const Node* n : e.value->seqItems()) {
        if (!n->isString() || trim(n->str()).empty())
          return Error{fmt::format("check {}: '{}' is not a name or glob", meta_.id, n->text), "",
                       n->pos};
        allow_.emplace_back(trim(n->str()));
      }
    }
    return {};
  }

  bool wants(const audit::Event& e) const override {
    if (allow_.empty()) return false;
    if (&meta_ == &kNamespaceNotAllowed)
      return e.resource == "namespaces" && e.subresource.empty() && e.verb == "create" &&
             succeeded(e) && !e.name.empty() && !allowed(e.name);
    return !e.user.empty() && !byControlPlane(e) && !allowed(e.user);
  }

 protected:
  void judge(const audit::Event& e, const Object& o, FindingSink& sink) const override {
    if (&meta_ == &kNamespaceNotAllowed)
      reportEvent(*this, e, o, sink, fmt::format("namespace {} is not in the allow-list", e.name),
                  {"objectRef", "name"});
    else
      reportEvent(*this, e, o, sink, fmt::format("user {} is not in the allow-list", e.user),
                  {"user", "username"});
  }

 private:
  bool allowed(std::string_view name) const {
    return std::any_of(allow_.begin(), allow_.end(),
                       [&](const std::string& p) { return globMatch(p, name); });
  }
  const CheckMeta& meta_;
  std::vector<std::string> allow_;
};

}  // namespace

bool isAuditEvent(const Object& o) {
  return o.ref.kind == "Event" && o.ref.api_version.starts_with("audit.k8s.io/");
}

std::string auditRequester(const audit::Event& e) {
  std::string who = e.user.empty() ? std::string("an unnamed user") : e.user;
  if (!e.impersonated_user.empty())
    return fmt::format("{} (impersonated by {})", e.impersonated_user, who);
  return who;
}

void AuditEventCheck::check(const Object& o, const CheckContext&, FindingSink& sink) const {
  if (!isAuditEvent(o)) return;
  audit::Event e;
  std::string why;
  if (!audit::eventFromNode(o.root, e, &why) || !wants(e)) return;
  judge(e, o, sink);
}

Finding AuditEventCheck::at(const Object& o, const audit::Event& e, const Node* node,
                            std::string path, std::string_view what) const {
  std::string when = e.received.empty() ? e.completed : e.received;
  std::string from = e.source_ips.empty() ? std::string("?") : join(e.source_ips, ", ");
  std::string message =
      fmt::format("{}: {} {} {}, {}, at {}, from {}{}", what, auditRequester(e),
                  e.verb.empty() ? std::string("(no verb)") : e.verb, target(e), outcome(e),
                  when.empty() ? std::string("an unlogged time") : when, from,
                  e.user_agent.empty() ? std::string() : fmt::format(" ({})", e.user_agent));
  return finding(o, node ? node->pos : o.root->pos, std::move(path), std::move(message));
}

void addAuditEventChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<AllowListCheck>(kNamespaceNotAllowed));
  out.push_back(std::make_unique<AllowListCheck>(kUserNotAllowed));
  out.push_back(
      std::make_unique<EventFnCheck>(kAnonymous, wantsAnonymous, eventIsFinding<kAnonymousWhat>));
  out.push_back(std::make_unique<EventFnCheck>(kClusterAdmin, wantsBindingWrite, clusterAdmin));
  out.push_back(std::make_unique<EventFnCheck>(kConfigMapCredentials, wantsConfigMapWrite,
                                               configMapCredentials));
  out.push_back(std::make_unique<EventFnCheck>(kExec, wantsExec, exec));
  out.push_back(std::make_unique<EventFnCheck>(kKubeSa, wantsKubeSa, eventIsFinding<kKubeSaWhat>));
  out.push_back(std::make_unique<EventFnCheck>(kKubeNamespaceWorkload, wantsKubeNamespaceWorkload,
                                               eventIsFinding<kKubeNamespaceWorkloadWhat>));
  out.push_back(std::make_unique<EventFnCheck>(kPodInsecure, wantsWorkloadWrite, podInsecure));
  out.push_back(std::make_unique<EventFnCheck>(kRoleRisky, wantsRoleWrite, roleRisky));
  out.push_back(std::make_unique<EventFnCheck>(kSecretRead, wantsSecretRead,
                                               eventIsFinding<kSecretReadWhat>));
  out.push_back(std::make_unique<EventFnCheck>(kSecretDenied, wantsSecretDenied,
                                               eventIsFinding<kSecretDeniedWhat>));
  out.push_back(std::make_unique<EventFnCheck>(kServiceExposed, wantsServiceWrite, serviceExposed));
  out.push_back(std::make_unique<EventFnCheck>(kSystemRole, wantsSystemRole,
                                               eventIsFinding<kSystemRoleWhat>));
}

}  // namespace kh
