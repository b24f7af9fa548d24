#include "rbac/rbac.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "rbac/defaults.h"

namespace kh::rbac {
namespace {

constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io/v1";

std::vector<std::string_view> strings(const Node* n) {
  std::vector<std::string_view> out;
  for (const Node* i : seqOf(n)) out.push_back(i->text);
  return out;
}

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool sameRule(const Rule& a, const Rule& b) {
  return a.verbs == b.verbs && a.api_groups == b.api_groups && a.resources == b.resources &&
         a.resource_names == b.resource_names && a.urls == b.urls;
}

}  // namespace

std::string_view kindName(Subject::Kind k) {
  switch (k) {
    case Subject::Kind::kUser:
      return "User";
    case Subject::Kind::kGroup:
      return "Group";
    case Subject::Kind::kServiceAccount:
      return "ServiceAccount";
  }
  return "User";
}

namespace {
std::string roleKey(bool cluster, std::string_view ns, std::string_view name) {
  return cluster ? fmt::format("C\x1f{}", name) : fmt::format("R\x1f{}\x1f{}", ns, name);
}
}  // namespace

const Role* Model::role(bool cluster, std::string_view ns, std::string_view name) const {
  auto it = role_index.find(roleKey(cluster, ns, name));
  return it == role_index.end() ? nullptr : &roles[it->second];
}

const Role* Model::roleOf(const Binding& b) const {
  if (b.role_kind == "ClusterRole") return role(true, "", b.role_name);
  if (b.role_kind == "Role" && !b.cluster) return role(false, b.ns, b.role_name);
  return nullptr;  // a ClusterRoleBinding cannot reference a Role
}

bool isRbacObject(const Object& o) {
  std::string_view k = o.ref.kind;
  return o.ref.api_version == kRbacGroup &&
         (k == "Role" || k == "ClusterRole" || k == "RoleBinding" || k == "ClusterRoleBinding");
}

Model buildModel(const std::vector<const Object*>& objects) {
  Model m;
  for (const Object* o : objects) {
    if (o->ref.api_version != kRbacGroup) continue;
    std::string_view kind = o->ref.kind;
    if (kind == "Role" || kind == "ClusterRole") {
      Role r;
      r.object = o;
      r.builtin = isDefault(o);
      r.cluster = kind == "ClusterRole";
      r.ns = r.cluster ? std::string_view() : o->namespaceOrDefault();
      r.name = o->ref.name;
      r.labels = labelsOf(o->labels);
      const Node* rules = get(o->root, "rules");
      for (const Node* n : seqOf(rules)) {
        r.rules.push_back({strings(get(n, "verbs")), strings(get(n, "apiGroups")),
                           strings(get(n, "resources")), strings(get(n, "resourceNames")),
                           strings(get(n, "nonResourceURLs"))});
      }
      if (const Node* agg = get(o->root, "aggregationRule"); r.cluster && agg) {
        r.aggregating = true;
        const Node* sels = get(agg, "clusterRoleSelectors");
        for (const Node* s : seqOf(sels))
          if (auto sel = parseSelector(s, m.warnings, fmt::format("ClusterRole {}", r.name)))
            r.aggregation.push_back(std::move(*sel));
      }
      m.roles.push_back(std::move(r));
    } else if (kind == "RoleBinding" || kind == "ClusterRoleBinding") {
      Binding b;
      b.object = o;
      b.builtin = isDefault(o);
      b.cluster = kind == "ClusterRoleBinding";
      b.ns = b.cluster ? std::string_view() : o->namespaceOrDefault();
      b.name = o->ref.name;
      const Node* ref = get(o->root, "roleRef");
      b.role_kind = getStr(ref, "kind");
      b.role_name = getStr(ref, "name");
      const Node* subjects = get(o->root, "subjects");
      for (const Node* s : seqOf(subjects)) {
        std::string_view k = getStr(s, "kind");
        Subject sub{Subject::Kind::kUser, getStr(s, "name"), getStr(s, "namespace")};
        if (k == "Group")
          sub.kind = Subject::Kind::kGroup;
        else if (k == "ServiceAccount")
          sub.kind = Subject::Kind::kServiceAccount;
        else if (k != "User") {
          m.warnings.push_back(fmt::format("{} {}: unknown subject kind '{}'", kind, b.name, k));
          continue;
        }
        // A ServiceAccount subject without a namespace defaults to the RoleBinding's; in a
        // ClusterRoleBinding it stays empty and never matches.
        if (sub.kind == Subject::Kind::kServiceAccount && sub.ns.empty() && !b.cluster)
          sub.ns = b.ns;
        b.subjects.push_back(sub);
      }
      m.bindings.push_back(std::move(b));
    }
  }
  for (size_t i = 0; i < m.roles.size(); ++i)
    m.role_index.emplace(roleKey(m.roles[i].cluster, m.roles[i].ns, m.roles[i].name), i);
  // Aggregation as the controller does it, to a fixpoint: an aggregating ClusterRole's rules are
  // the ordered, de-duplicated union of the rules of every other ClusterRole that one of its
  // selectors matches (taken in name order); its own rules are replaced.
  std::vector<size_t> order;
  for (size_t i = 0; i < m.roles.size(); ++i)
    if (m.roles[i].cluster) order.push_back(i);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return m.roles[a].name < m.roles[b].name; });
  for (size_t round = 0; round < order.size() + 1; ++round) {
    bool changed = false;
    for (size_t i : order) {
      Role& agg = m.roles[i];
      if (!agg.aggregating) continue;
      std::vector<Rule> rules;
      for (size_t j : order) {
        if (j == i) continue;
        const Role& src = m.roles[j];
        bool match = false;
        for (const LabelSelector& s : agg.aggregation) match = match || s.matches(src.labels);
        if (!match) continue;
        for (const Rule& r : src.rules) {
          bool dup = false;
          for (const Rule& have : rules) dup = dup || sameRule(have, r);
          if (!dup) rules.push_back(r);
        }
      }
      bool same = rules.size() == agg.rules.size();
      for (size_t k = 0; same && k < rules.size(); ++k) same = sameRule(rules[k], agg.rules[k]);
      if (!same) {
        agg.rules = std::move(rules);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return m;
}

bool ruleAllows(const Rule& r, const Request& req) {
  if (!contains(r.verbs, "*") && !contains(r.verbs, req.verb)) return false;
  if (req.non_resource) {
    for (std::string_view u : r.urls) {
      if (u == "*" || u == req.path) return true;
      if (u.ends_with("*") && std::string_view(req.path).starts_with(u.substr(0, u.size() - 1)))
        return true;
    }
    return false;
  }
  if (!contains(r.api_groups, "*") && !contains(r.api_groups, req.api_group)) return false;
  std::string combined =
      req.subresource.empty() ? req.resource : req.resource + "/" + req.subresource;
  bool res = false;
  for (std::string_view x : r.resources) {
    if (x == "*" || x == combined)
      res = true;
    else if (!req.subresource.empty() && x.starts_with("*/") && x.substr(2) == req.subresource)
      res = true;
  }
  if (!res) return false;
  if (r.resource_names.empty()) return true;
  return !req.name.empty() && contains(r.resource_names, req.name);
}

std::optional<Identity> Identity::parse(std::string_view s) {
  Identity id;
  if (s.starts_with("user:") && s.size() > 5) {
    id.user = std::string(s.substr(5));
    if (id.user == "system:anonymous")
      id.groups = {"system:unauthenticated"};
    else
      id.groups = {"system:authenticated"};
    return id;
  }
  if (s.starts_with("group:") && s.size() > 6) {
    id.user = "(a member of " + std::string(s.substr(6)) + ")";
    id.groups = {std::string(s.substr(6))};
    if (id.groups[0] != "system:unauthenticated") id.groups.push_back("system:authenticated");
    return id;
  }
  if (s.starts_with("sa:")) {
    std::string_view rest = s.substr(3);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size())
      return std::nullopt;
    std::string ns(rest.substr(0, slash)), name(rest.substr(slash + 1));
    id.user = fmt::format("system:serviceaccount:{}:{}", ns, name);
    id.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
    return id;
  }
  return std::nullopt;
}

std::string subjectName(const Subject& s) {
  return s.kind == Subject::Kind::kServiceAccount
             ? fmt::format("ServiceAccount {}/{}", s.ns, s.name)
             : fmt::format("{} {}", kindName(s.kind), s.name);
}

bool Identity::superuser() const {
  return std::find(groups.begin(), groups.end(), "system:masters") != groups.end();
}

bool appliesTo(const Binding& b, const Subject& s, const Identity& id) {
  switch (s.kind) {
    case Subject::Kind::kUser:
      return s.name == id.user;
    case Subject::Kind::kGroup:
      return std::find(id.groups.begin(), id.groups.end(), s.name) != id.groups.end();
    case Subject::Kind::kServiceAccount:
      (void)b;
      return !s.ns.empty() && id.user == fmt::format("system:serviceaccount:{}:{}", s.ns, s.name);
  }
  return false;
}

namespace {

// Calls fn(binding, role, rule index) for every rule of every binding that can apply to `req`.
template <typename Fn>
void visitGrants(const Model& m, const Request& req, Fn fn) {
  for (const Binding& b : m.bindings) {
    // RoleBindings grant only inside their namespace; non-resource URLs only via cluster bindings.
    if (!b.cluster && (req.non_resource || req.ns.empty() || b.ns != req.ns)) continue;
    const Role* role = m.roleOf(b);
    if (!role) continue;
    for (size_t i = 0; i < role->rules.size(); ++i)
      if (ruleAllows(role->rules[i], req)) fn(b, *role, i);
  }
}

}  // namespace

std::vector<Grant> grantsFor(const Model& m, const Identity& id, const Request& req) {
  std::vector<Grant> out;
  visitGrants(m, req, [&](const Binding& b, const Role& r, size_t i) {
    for (const Subject& s : b.subjects)
      if (appliesTo(b, s, id)) {
        out.push_back({&b, &r, i});
        break;
      }
  });
  return out;
}

std::vector<WhoCan> whoCan(const Model& m, const Request& req) {
  std::vector<WhoCan> out;
  auto key = [](const Subject& s) {
    return fmt::format("{}\x1f{}\x1f{}", kindName(s.kind), s.ns, s.name);
  };
  std::map<std::string, size_t> index;
  visitGrants(m, req, [&](const Binding& b, const Role& r, size_t i) {
    for (const Subject& s : b.subjects) {
      if (s.kind == Subject::Kind::kServiceAccount && s.ns.empty()) continue;  // never matches
      auto [it, fresh] = index.emplace(key(s), out.size());
      if (fresh) out.push_back({s, {}});
      out[it->second].via.push_back({&b, &r, i});
    }
  });
  std::sort(out.begin(), out.end(), [&](const WhoCan& a, const WhoCan& b) {
    return std::tuple(kindName(a.subject.kind), a.subject.ns, a.subject.name) <
           std::tuple(kindName(b.subject.kind), b.subject.ns, b.subject.name);
  });
  return out;
}

Permissions permissionsOf(const Model& m, const Identity& id, std::string_view ns) {
  Permissions p;
  auto add = [](std::vector<Permissions::Entry>& list, const Permissions::Entry& e) {
    for (const auto& have : list)
      if (sameRule(*have.rule, *e.rule)) return;
    list.push_back(e);
  };
  for (const Binding& b : m.bindings) {
    if (!b.cluster && !ns.empty() && b.ns != ns) continue;
    bool applies = false;
    for (const Subject& s : b.subjects) applies = applies || appliesTo(b, s, id);
    if (!applies) continue;
    const Role* role = m.roleOf(b);
    if (!role) continue;
    for (const Rule& r : role->rules)
      add(b.cluster ? p.cluster : p.namespaced[b.ns], {&r, &b, role});
  }
  return p;
}

std::string describeRule(const Rule& r) {
  auto join = [](const std::vector<std::string_view>& v) {
    std::string out;
    for (std::string_view s : v) {
      if (!out.empty()) out += ", ";
      out += s.empty() ? std::string_view("\"\"") : s;
    }
    return out;
  };
  if (!r.urls.empty()) return fmt::format("{} on URLs {}", join(r.verbs), join(r.urls));
  std::vector<std::string_view> groups;
  for (std::string_view g : r.api_groups)
    groups.push_back(g.empty() ? std::string_view("core") : g);
  std::string out = fmt::format("{} on {} ({})", join(r.verbs), join(r.resources), join(groups));
  if (!r.resource_names.empty()) out += " named " + join(r.resource_names);
  return out;
}

std::string_view defaultGroup(std::string_view resource) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 30> kGroups = {{
      {"deployments", "apps"},
      {"daemonsets", "apps"},
      {"statefulsets", "apps"},
      {"replicasets", "apps"},
      {"controllerrevisions", "apps"},
      {"jobs", "batch"},
      {"cronjobs", "batch"},
      {"roles", "rbac.authorization.k8s.io"},
      {"rolebindings", "rbac.authorization.k8s.io"},
      {"clusterroles", "rbac.authorization.k8s.io"},
      {"clusterrolebindings", "rbac.authorization.k8s.io"},
      {"networkpolicies", "networking.k8s.io"},
      {"ingresses", "networking.k8s.io"},
      {"ingressclasses", "networking.k8s.io"},
      {"customresourcedefinitions", "apiextensions.k8s.io"},
      {"validatingwebhookconfigurations", "admissionregistration.k8s.io"},
      {"mutatingwebhookconfigurations", "admissionregistration.k8s.io"},
      {"validatingadmissionpolicies", "admissionregistration.k8s.io"},
      {"validatingadmissionpolicybindings", "admissionregistration.k8s.io"},
      {"certificatesigningrequests", "certificates.k8s.io"},
      {"poddisruptionbudgets", "policy"},
      {"storageclasses", "storage.k8s.io"},
      {"volumeattachments", "storage.k8s.io"},
      {"csidrivers", "storage.k8s.io"},
      {"horizontalpodautoscalers", "autoscaling"},
      {"leases", "coordination.k8s.io"},
      {"priorityclasses", "scheduling.k8s.io"},
      {"tokenreviews", "authentication.k8s.io"},
      {"subjectaccessreviews", "authorization.k8s.io"},
      {"signers", "certificates.k8s.io"},
  }};
  for (const auto& [r, g] : kGroups)
    if (r == resource) return g;
  return "";
}

}  // namespace kh::rbac
