#include "audit/rbac_gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "base/strings.h"
#include "load/loader.h"

namespace kh::audit {
namespace {

constexpr std::string_view kSaPrefix = "system:serviceaccount:";

// The order a person lists verbs in; others follow alphabetically.
constexpr std::array<std::string_view, 9> kVerbOrder = {
    "get",        "list", "watch", "create", "update", "patch", "delete", "deletecollection",
    "impersonate"};

size_t verbRank(std::string_view v) {
  for (size_t i = 0; i < kVerbOrder.size(); ++i)
    if (kVerbOrder[i] == v) return i;
  return kVerbOrder.size();
}

struct VerbLess {
  bool operator()(const std::string& a, const std::string& b) const {
    size_t ra = verbRank(a), rb = verbRank(b);
    return ra != rb ? ra < rb : a < b;
  }
};
using VerbSet = std::set<std::string, VerbLess>;

// Verbs whose requests never carry a name (so resourceNames cannot allow them).
bool unnameable(std::string_view verb) {
  return verb == "list" || verb == "watch" || verb == "create" || verb == "deletecollection";
}

// Is `s` free of everything a JSON writer might escape (Go's encoding/json escapes <, >, & and
// U+2028/2029; others escape all non-ASCII)? Then it appears in a log line as it is.
bool jsonVerbatim(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
      return false;
  return true;
}

std::string requestKey(const rbac::Request& r) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", r.ns, r.non_resource ? 1 : 0,
                     r.path, r.api_group, r.resource, r.subresource, r.verb, r.name);
}

// A YAML double-quoted scalar.
std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string flow(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quoted(v[i]);
  return out + "]";
}

template <typename List>
bool inList(const List& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

RbacSubject RbacSubject::user(std::string_view name) {
  if (name.starts_with(kSaPrefix)) {
    std::string_view rest = name.substr(kSaPrefix.size());
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && colon > 0 && colon + 1 < rest.size() &&
        rest.find(':', colon + 1) == std::string_view::npos)
      return {Kind::kServiceAccount, std::string(rest.substr(colon + 1)),
              std::string(rest.substr(0, colon))};
  }
  return {Kind::kUser, std::string(name), {}};
}

std::optional<RbacSubject> RbacSubject::serviceAccount(std::string_view s) {
  size_t sep = s.find_first_of(":/");
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == s.size() ||
      s.find_first_of(":/", sep + 1) != std::string_view::npos)
    return std::nullopt;
  return RbacSubject{Kind::kServiceAccount, std::string(s.substr(sep + 1)),
                     std::string(s.substr(0, sep))};
}

RbacSubject RbacSubject::group(std::string_view name) {
  return {Kind::kGroup, std::string(name), {}};
}

std::string RbacSubject::userName() const {
  return kind == Kind::kServiceAccount ? fmt::format("{}{}:{}", kSaPrefix, ns, name) : name;
}

std::string RbacSubject::describe() const {
  switch (kind) {
    case Kind::kServiceAccount:
      return fmt::format("ServiceAccount {}/{}", ns, name);
    case Kind::kGroup:
      return "Group " + name;
    default:
      return "User " + name;
  }
}

rbac::Identity RbacSubject::identity(const std::set<std::string>& groups_seen) const {
  rbac::Identity id;
  if (kind == Kind::kGroup) {
    id = *rbac::Identity::parse("group:" + name);
    return id;
  }
  id.user = userName();
  std::set<std::string> groups = groups_seen;
  if (kind == Kind::kServiceAccount) {
    groups.insert("system:serviceaccounts");
    groups.insert("system:serviceaccounts:" + ns);
  }
  groups.insert(name == "system:anonymous" ? "system:unauthenticated" : "system:authenticated");
  id.groups.assign(groups.begin(), groups.end());
  return id;
}

RbacCollector::RbacCollector(RbacSubject subject, std::string only_ns)
    : subject_(std::move(subject)), user_(subject_.userName()), only_ns_(std::move(only_ns)) {}

std::string RbacCollector::lineFilter() const {
  return jsonVerbatim(subject_.name) && jsonVerbatim(subject_.ns) ? "\"" + user_ + "\""
                                                                  : std::string();
}

bool RbacCollector::take(rbac::Request&& r, bool denied, bool impersonation) {
  if (!only_ns_.empty() && (r.non_resource || r.ns != only_ns_)) return false;
  // What RBAC cannot name exactly: a `*` there is a wildcard (a path ending in one, a verb, a
  // group or a resource that is one). The API server never logs such a resource request; a
  // non-resource path can end in `*`. Granting it would grant more: it is left out, and said.
  // Nor can an object hold what is not UTF-8 (the API server's encoder never writes it).
  auto text = [](const std::string& v) { return invalidUtf8At(v) == std::string::npos; };
  if (r.verb == "*" || r.api_group == "*" || r.resource == "*" ||
      (r.non_resource && r.path.ends_with('*')) || !text(r.verb) || !text(r.api_group) ||
      !text(r.resource) || !text(r.subresource) || !text(r.ns) || !text(r.name) || !text(r.path)) {
    ++usage_.inexact;
    if (usage_.inexact_examples.size() < 5)
      usage_.inexact_examples.push_back(
          r.non_resource
              ? fmt::format("{} {}", r.verb, r.path)
              : fmt::format("{} {}/{} in '{}'", r.verb, r.resource, r.subresource, r.ns));
    return false;
  }
  auto [it, fresh] = seen_.try_emplace(requestKey(r));
  LoggedRequest& l = it->second;
  if (fresh) {
    l.request = std::move(r);
    l.impersonation = impersonation;
  } else {
    l.impersonation = l.impersonation && impersonation;
  }
  ++l.count;
  if (denied) ++l.denied;
  return true;
}

void RbacCollector::add(const Event& e) {
  const bool impersonating = !e.impersonated_user.empty();
  const std::string& user = impersonating ? e.impersonated_user : e.user;
  const std::vector<std::string>& groups = impersonating ? e.impersonated_groups : e.groups;
  auto member = [&](const std::vector<std::string>& gs) {
    return std::find(gs.begin(), gs.end(), subject_.name) != gs.end();
  };
  bool own = subject_.kind == RbacSubject::Kind::kGroup ? member(groups) : user == user_;
  bool impersonator =
      impersonating &&
      (subject_.kind == RbacSubject::Kind::kGroup ? member(e.groups) : e.user == user_);
  if (!own && !impersonator) return;
  uint64_t taken = 0;
  if (own) {
    rbac::Request r;
    r.verb = e.verb;
    if (e.resource.empty()) {
      r.non_resource = true;
      r.path = e.request_uri.substr(0, e.request_uri.find('?'));
    } else {
      r.api_group = e.api_group;
      r.resource = e.resource;
      r.subresource = e.subresource;
      r.ns = e.namespace_;
      // A create's objectRef name is the body's (copied there by the audit layer); the
      // authorizer saw the collection's URL, without a name.
      if (!(e.verb == "create" && e.subresource.empty())) r.name = e.name;
    }
    // Refused by the authorizer (its annotation, or the RBAC refusal's message when the
    // annotation is not logged); a 403 from admission is not a refusal of these permissions.
    bool denied =
        e.decision == "forbid" || (e.decision.empty() && e.code == 403 &&
                                   e.status_message.find("\" cannot ") != std::string::npos);
    if (take(std::move(r), denied, false)) {
      ++taken;
      for (const std::string& g : groups) usage_.groups.insert(g);
      if (denied) ++usage_.denied;
    }
  }
  if (impersonator) {
    // The checks the API server's impersonation filter makes before the request: the user (a
    // service account by its own resource) and each group asked for. Groups it adds itself
    // (system:authenticated, a service account's groups) are not checked, and an audit event
    // does not say which were asked for: those are left out.
    RbacSubject as = RbacSubject::user(e.impersonated_user);
    rbac::Request r;
    r.verb = "impersonate";
    if (as.kind == RbacSubject::Kind::kServiceAccount) {
      r.resource = "serviceaccounts";
      r.ns = as.ns;
      r.name = as.name;
    } else {
      r.resource = "users";
      r.name = e.impersonated_user;
    }
    taken += take(std::move(r), false, true);
    for (const std::string& g : e.impersonated_groups) {
      if (g == "system:authenticated") continue;
      if (as.kind == RbacSubject::Kind::kServiceAccount &&
          (g == "system:serviceaccounts" || g == "system:serviceaccounts:" + as.ns))
        continue;
      rbac::Request gr;
      gr.verb = "impersonate";
      gr.resource = "groups";
      gr.name = g;
      taken += take(std::move(gr), false, true);
    }
  }
  if (taken == 0) return;
  ++usage_.total;
  if (usage_.first.empty() || e.received < usage_.first) usage_.first = e.received;
  if (e.received > usage_.last) usage_.last = e.received;
}

RbacUsage RbacCollector::finish() && {
  for (auto& [key, l] : seen_) usage_.requests.push_back(std::move(l));
  seen_.clear();
  auto order = [](const LoggedRequest& l) {
    const rbac::Request& r = l.request;
    using S = const std::string&;
    return std::tuple<S, bool, S, S, S, S, size_t, S, S>(r.ns, r.non_resource, r.path, r.api_group,
                                                         r.resource, r.subresource,
                                                         verbRank(r.verb), r.verb, r.name);
  };
  std::sort(usage_.requests.begin(), usage_.requests.end(),
            [&](const LoggedRequest& a, const LoggedRequest& b) { return order(a) < order(b); });
  return std::move(usage_);
}

GeneratedRbac generateRbac(const RbacUsage& usage, const RbacSubject& subject,
                           const RbacGenOptions& opts) {
  // What one verb on one resource needs: the names it touched, or every name.
  struct VerbUse {
    std::set<std::string> names;
    bool unnamed = false;
  };
  using ResourceKey = std::pair<std::string, std::string>;  // group, resource[/sub]
  struct Scope {
    std::map<ResourceKey, std::map<std::string, VerbUse, VerbLess>> resources;
    std::map<std::string, VerbSet> urls;
  };
  std::map<std::string, Scope> scopes;  // "" first: the cluster scope
  for (const LoggedRequest& l : usage.requests) {
    const rbac::Request& r = l.request;
    Scope& s = scopes[r.non_resource ? std::string() : r.ns];
    if (r.non_resource) {
      s.urls[r.path].insert(r.verb);
      continue;
    }
    std::string res = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
    VerbUse& v = s.resources[{r.api_group, res}][r.verb];
    if (r.name.empty())
      v.unnamed = true;
    else
      v.names.insert(r.name);
  }
  if (opts.expand_verbs) {
    static const std::vector<std::vector<std::string>> kSets = {
        {"get", "list", "watch"}, {"create", "update", "patch", "delete"}};
    for (auto& [scope, s] : scopes)
      for (auto& [key, verbs] : s.resources) {
        if (key.second.find('/') != std::string::npos) continue;  // a subresource
        for (const auto& set : kSets) {
          bool used = false, all_named = true, any_nameable = false;
          std::set<std::string> names;
          for (const std::string& v : set) {
            auto it = verbs.find(v);
            if (it == verbs.end()) continue;
            used = true;
            if (unnameable(v)) continue;
            any_nameable = true;
            all_named = all_named && !it->second.unnamed;
            names.insert(it->second.names.begin(), it->second.names.end());
          }
          if (!used) continue;
          // Reading: list and watch return every object, so a get kept to names would guard
          // nothing: the read set is granted without names.
          bool read = set.front() == "get";
          for (const std::string& v : set) {
            VerbUse& use = verbs[v];
            if (read || unnameable(v) || !any_nameable || !all_named) {
              use.unnamed = true;
              use.names.clear();
            } else if (!use.unnamed) {
              use.names = names;
            }
          }
        }
      }
  }
  GeneratedRbac g;
  g.subject = subject;
  std::string base = opts.name;
  if (base.empty()) {
    switch (subject.kind) {
      case RbacSubject::Kind::kServiceAccount:
        base = fmt::format("kubeharden-audit:sa:{}:{}", subject.ns, subject.name);
        break;
      case RbacSubject::Kind::kGroup:
        base = "kubeharden-audit:group:" + subject.name;
        break;
      default:
        base = "kubeharden-audit:user:" + subject.name;
    }
    // An RBAC object's name is a path segment: no '/' or '%'.
    for (char& c : base)
      if (c == '/' || c == '%') c = '-';
  }
  for (auto& [scope, s] : scopes) {
    GenRole role;
    role.cluster = scope.empty();
    role.ns = scope;
    role.name = base;
    // Per resource: its unnamed verbs as one rule, its named verbs grouped by the same names.
    // Then rules of one group with the same verbs and names become one rule on several resources.
    using RuleKey = std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>;
    std::map<RuleKey, std::vector<std::string>> merged;  // group, verbs, names -> resources
    std::vector<RuleKey> order;
    for (const auto& entry : s.resources) {
      const ResourceKey& key = entry.first;
      std::vector<std::string> unnamed;
      std::map<std::set<std::string>, std::vector<std::string>> by_names;
      for (const auto& [verb, use] : entry.second) {
        if (use.unnamed)
          unnamed.push_back(verb);
        else
          by_names[use.names].push_back(verb);
      }
      auto add = [&](std::vector<std::string> vs, std::vector<std::string> names) {
        RuleKey k{key.first, std::move(vs), std::move(names)};
        auto [it, fresh] = merged.try_emplace(k);
        if (fresh) order.push_back(k);
        it->second.push_back(key.second);
      };
      if (!unnamed.empty()) add(unnamed, {});
      for (auto& [names, vs] : by_names) add(vs, {names.begin(), names.end()});
    }
    std::sort(order.begin(), order.end(), [&](const RuleKey& a, const RuleKey& b) {
      return std::tie(std::get<0>(a), merged[a], std::get<1>(a), std::get<2>(a)) <
             std::tie(std::get<0>(b), merged[b], std::get<1>(b), std::get<2>(b));
    });
    for (const RuleKey& k : order) {
      GenRule r;
      r.api_groups = {std::get<0>(k)};
      r.resources = merged[k];
      r.verbs = std::get<1>(k);
      r.resource_names = std::get<2>(k);
      role.rules.push_back(std::move(r));
    }
    std::map<std::vector<std::string>, std::vector<std::string>> urls;  // verbs -> paths
    for (const auto& [path, verbs] : s.urls) urls[{verbs.begin(), verbs.end()}].push_back(path);
    for (auto& [verbs, paths] : urls) {
      GenRule r;
      r.urls = paths;
      r.verbs = verbs;
      role.rules.push_back(std::move(r));
    }
    if (!role.rules.empty()) g.roles.push_back(std::move(role));
  }
  return g;
}

std::string toYaml(const GeneratedRbac& g, const std::vector<std::string>& header,
                   std::string_view annotation) {
  std::string out;
  for (const std::string& h : header) out += h.empty() ? "#\n" : "# " + h + "\n";
  auto metadata = [&](const GenRole& r) {
    out += "metadata:\n";
    out += "  name: " + quoted(r.name) + "\n";
    if (!r.cluster) out += "  namespace: " + quoted(r.ns) + "\n";
    out += "  labels:\n    app.kubernetes.io/managed-by: kubeharden\n";
    if (!annotation.empty())
      out += "  annotations:\n    kubeharden.io/audit-rbac: " + quoted(annotation) + "\n";
  };
  bool first = true;
  for (const GenRole& r : g.roles) {
    if (!first) out += "---\n";
    first = false;
    out += "apiVersion: rbac.authorization.k8s.io/v1\n";
    out += r.cluster ? "kind: ClusterRole\n" : "kind: Role\n";
    metadata(r);
    out += "rules:\n";
    for (const GenRule& rule : r.rules) {
      if (!rule.urls.empty()) {
        out += "- nonResourceURLs: " + flow(rule.urls) + "\n";
      } else {
        out += "- apiGroups: " + flow(rule.api_groups) + "\n";
        out += "  resources: " + flow(rule.resources) + "\n";
        if (!rule.resource_names.empty())
          out += "  resourceNames: " + flow(rule.resource_names) + "\n";
      }
      out += "  verbs: " + flow(rule.verbs) + "\n";
    }
    out += "---\napiVersion: rbac.authorization.k8s.io/v1\n";
    out += r.cluster ? "kind: ClusterRoleBinding\n" : "kind: RoleBinding\n";
    metadata(r);
    out += "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n";
    out += r.cluster ? "  kind: ClusterRole\n" : "  kind: Role\n";
    out += "  name: " + quoted(r.name) + "\n";
    out += "subjects:\n";
    switch (g.subject.kind) {
      case RbacSubject::Kind::kServiceAccount:
        out += "- kind: ServiceAccount\n  name: " + quoted(g.subject.name) +
               "\n  namespace: " + quoted(g.subject.ns) + "\n";
        break;
      case RbacSubject::Kind::kGroup:
        out += "- apiGroup: rbac.authorization.k8s.io\n  kind: Group\n  name: " +
               quoted(g.subject.name) + "\n";
        break;
      default:
        out += "- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: " +
               quoted(g.subject.name) + "\n";
    }
  }
  return out;
}

std::string checkGenerated(const GeneratedRbac& g, const RbacUsage& usage) {
  SourceFile f;
  f.path = "<generated>";
  f.buffer = toYaml(g, {}, {});
  parseSource(LoadOptions{}, f);
  if (f.error) return "the generated YAML does not parse: " + f.error->describe();
  std::vector<const Object*> objects;
  for (const Object& o : f.objects) objects.push_back(&o);
  rbac::Model m = rbac::buildModel(objects);
  rbac::Identity id = g.subject.identity(usage.groups);
  for (const LoggedRequest& l : usage.requests) {
    if (!rbac::grantsFor(m, id, l.request).empty()) continue;
    const rbac::Request& r = l.request;
    return r.non_resource
               ? fmt::format("{} {} is not allowed", r.verb, r.path)
               : fmt::format("{} {}{}{} '{}' in namespace '{}' is not allowed", r.verb, r.resource,
                             r.subresource.empty() ? "" : "/", r.subresource, r.name, r.ns);
  }
  return {};
}

std::vector<RuleUse> ruleUsage(const rbac::Model& m, const rbac::Identity& id,
                               const RbacUsage& usage) {
  std::vector<RuleUse> out;
  for (const rbac::Binding& b : m.bindings) {
    bool applies = false;
    for (const rbac::Subject& s : b.subjects) applies = applies || rbac::appliesTo(b, s, id);
    if (!applies) continue;
    const rbac::Role* role = m.roleOf(b);
    if (!role) {  // bound to a role the manifests do not hold: nothing to compare
      RuleUse u;
      u.binding = &b;
      if (!b.cluster) u.ns = b.ns;
      out.push_back(std::move(u));
      continue;
    }
    for (size_t i = 0; i < role->rules.size(); ++i) {
      const rbac::Rule& rule = role->rules[i];
      RuleUse u;
      u.binding = &b;
      u.role = role;
      u.rule = i;
      if (!b.cluster) u.ns = b.ns;
      std::vector<std::string_view> verbs, resources, names, urls;
      for (const LoggedRequest& l : usage.requests) {
        const rbac::Request& r = l.request;
        if (!b.cluster && (r.non_resource || r.ns != b.ns)) continue;
        if (!rbac::ruleAllows(rule, r)) continue;
        ++u.requests;
        verbs.push_back(r.verb);
        if (r.non_resource) {
          for (std::string_view x : rule.urls)
            if (x == r.path || (x.ends_with("*") &&
                                std::string_view(r.path).starts_with(x.substr(0, x.size() - 1))))
              urls.push_back(x);
          continue;
        }
        std::string combined =
            r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
        for (std::string_view x : rule.resources)
          if (x == combined || (!r.subresource.empty() && x == "*/" + r.subresource))
            resources.push_back(x);
        if (!r.name.empty()) names.push_back(r.name);
      }
      auto unused = [](const std::vector<std::string_view>& named,
                       const std::vector<std::string_view>& used, std::vector<std::string>& to) {
        for (std::string_view x : named)
          if (x != "*" && !x.starts_with("*/") && !x.ends_with("*") && !inList(used, x) &&
              !inList(to, x))
            to.emplace_back(x);
      };
      unused(rule.verbs, verbs, u.unused_verbs);
      unused(rule.resources, resources, u.unused_resources);
      unused(rule.resource_names, names, u.unused_names);
      for (std::string_view x : rule.urls)
        if (!inList(urls, x) && !inList(u.unused_urls, x)) u.unused_urls.emplace_back(x);
      out.push_back(std::move(u));
    }
  }
  return out;
}

}  // namespace kh::audit
