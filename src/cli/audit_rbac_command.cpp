// `kubeharden audit rbac LOG... --user U | --serviceaccount NS:NAME | --group G`: the
// least-privilege RBAC that allows exactly the requests the subject made in the logs (allowed
// and refused), as YAML for `kubectl apply` or JSON; with `--rbac PATH`, what the subject holds
// in those manifests that the logs never used. The objects are checked with kubeharden's own
// authorizer before they are written: every logged request must be allowed (docs/audit.md).
#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <set>

#include "audit/events.h"
#include "audit/rbac_gen.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/inputs.h"
#include "load/loader.h"
#include "rbac/defaults.h"
#include "rbac/rbac.h"
#include "report/json_writer.h"

namespace kh {
namespace {

// A self-check of the generated objects failed: a bug, never the input's fault.
constexpr int kExitInternal = 70;

struct AuditRbacArgs {
  std::vector<std::string> logs, rbac;
  std::string user, service_account, group, namespace_, name, since, until, format = "yaml";
  bool expand_verbs = false;
};

int fail(int code, const std::string& m) {
  std::fprintf(stderr, "kubeharden audit rbac: %s\n", m.c_str());
  return code;
}

std::string thousands(uint64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// "file:line" of rule `i` of a role (its own rules; an aggregated rule points at the role).
std::string ruleAt(const rbac::Role& r, size_t i) {
  if (!r.object) return "(built in)";
  const Node* rules = get(r.object->root, "rules");
  auto items = seqOf(rules);
  const Node* at = i < items.size() && !r.aggregating ? items[i] : r.object->root;
  return fmt::format("{}:{}", r.object->file, at->pos.line);
}

std::string bindingName(const rbac::Binding& b) {
  return b.cluster ? fmt::format("ClusterRoleBinding {}", b.name)
                   : fmt::format("RoleBinding {}/{}", b.ns, b.name);
}
std::string roleName(const rbac::Role& r) {
  return r.cluster ? fmt::format("ClusterRole {}", r.name)
                   : fmt::format("Role {}/{}", r.ns, r.name);
}

void writeStrings(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w, std::string_view k,
                  const std::vector<std::string>& v) {
  json::key(w, k);
  w.StartArray();
  for (const std::string& s : v) w.String(s.data(), static_cast<unsigned>(s.size()));
  w.EndArray();
}

void writeObjects(rapidjson::PrettyWriter<rapidjson::StringBuffer>& w,
                  const audit::GeneratedRbac& g, std::string_view annotation) {
  auto metadata = [&](const audit::GenRole& r) {
    json::key(w, "metadata");
    w.StartObject();
    json::str(w, "name", r.name);
    if (!r.cluster) json::str(w, "namespace", r.ns);
    json::key(w, "labels");
    w.StartObject();
    json::str(w, "app.kubernetes.io/managed-by", "kubeharden");
    w.EndObject();
    json::key(w, "annotations");
    w.StartObject();
    json::str(w, "kubeharden.io/audit-rbac", annotation);
    w.EndObject();
    w.EndObject();
  };
  for (const audit::GenRole& r : g.roles) {
    w.StartObject();
    json::str(w, "apiVersion", "rbac.authorization.k8s.io/v1");
    json::str(w, "kind", r.cluster ? "ClusterRole" : "Role");
    metadata(r);
    json::key(w, "rules");
    w.StartArray();
    for (const audit::GenRule& rule : r.rules) {
      w.StartObject();
      if (!rule.urls.empty()) {
        writeStrings(w, "nonResourceURLs", rule.urls);
      } else {
        writeStrings(w, "apiGroups", rule.api_groups);
        writeStrings(w, "resources", rule.resources);
        if (!rule.resource_names.empty()) writeStrings(w, "resourceNames", rule.resource_names);
      }
      writeStrings(w, "verbs", rule.verbs);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.StartObject();
    json::str(w, "apiVersion", "rbac.authorization.k8s.io/v1");
    json::str(w, "kind", r.cluster ? "ClusterRoleBinding" : "RoleBinding");
    metadata(r);
    json::key(w, "roleRef");
    w.StartObject();
    json::str(w, "apiGroup", "rbac.authorization.k8s.io");
    json::str(w, "kind", r.cluster ? "ClusterRole" : "Role");
    json::str(w, "name", r.name);
    w.EndObject();
    json::key(w, "subjects");
    w.StartArray();
    w.StartObject();
    const audit::RbacSubject& s = g.subject;
    if (s.kind == audit::RbacSubject::Kind::kServiceAccount) {
      json::str(w, "kind", "ServiceAccount");
      json::str(w, "name", s.name);
      json::str(w, "namespace", s.ns);
    } else {
      json::str(w, "apiGroup", "rbac.authorization.k8s.io");
      json::str(w, "kind", s.kind == audit::RbacSubject::Kind::kGroup ? "Group" : "User");
      json::str(w, "name", s.name);
    }
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
}

// "verbs never used: delete; resources never used: statefulsets" (empty: every part used).
std::string unusedParts(const audit::RuleUse& u) {
  std::vector<std::string> parts;
  auto part = [&](const char* what, const std::vector<std::string>& v) {
    if (!v.empty()) parts.push_back(fmt::format("{} never used: {}", what, fmt::join(v, ", ")));
  };
  part("verbs", u.unused_verbs);
  part("resources", u.unused_resources);
  part("names", u.unused_names);
  part("URLs", u.unused_urls);
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string plural(uint64_t n, std::string_view what) {
  return fmt::format("{} {}{}", thousands(n), what, n == 1 ? "" : "s");
}

int run(const AuditRbacArgs& a) {
  int given = !a.user.empty() + !a.service_account.empty() + !a.group.empty();
  if (given != 1)
    return fail(kExitUsage, "name one subject: --user, --serviceaccount NS:NAME or --group");
  audit::RbacSubject subject;
  if (!a.user.empty()) {
    subject = audit::RbacSubject::user(a.user);
  } else if (!a.group.empty()) {
    subject = audit::RbacSubject::group(a.group);
  } else if (auto sa = audit::RbacSubject::serviceAccount(a.service_account)) {
    subject = *sa;
  } else {
    return fail(kExitUsage,
                fmt::format("--serviceaccount: '{}' is not NAMESPACE:NAME", a.service_account));
  }
  if (invalidUtf8At(subject.name) != std::string::npos ||
      invalidUtf8At(subject.ns) != std::string::npos)
    return fail(kExitUsage, "the subject's name is not UTF-8");
  std::optional<int64_t> since, until;
  if (!a.since.empty() && !(since = parseTime(a.since)))
    return fail(
        kExitUsage,
        fmt::format("--since: '{}' is not a time (2026-12-07T10:00:00Z, or a date)", a.since));
  if (!a.until.empty() && !(until = parseTime(a.until)))
    return fail(
        kExitUsage,
        fmt::format("--until: '{}' is not a time (2026-12-07T10:00:00Z, or a date)", a.until));

  // The cluster's current RBAC, read first: a bad file stops the run before the logs are read.
  LoadedInputs current;
  if (!a.rbac.empty()) {
    current = loadInputs(a.rbac, "audit rbac");
    if (current.error) return current.error;
    bool any = false;
    for (const Object* o : current.objects) any = any || rbac::isRbacObject(*o);
    if (!any)
      return nothingToJudge(
          "audit rbac --rbac",
          "RBAC objects (Roles, ClusterRoles, RoleBindings, ClusterRoleBindings)");
  }

  audit::RbacCollector collector(subject, a.namespace_);
  audit::ReaderOptions ro;
  ro.line_must_contain = collector.lineFilter();
  audit::EventReader reader(a.logs, ro);
  audit::Event e;
  uint64_t outside = 0;
  while (reader.next(e)) {
    if (since || until) {
      std::optional<int64_t> t = e.received.empty() ? std::nullopt : parseTime(e.received);
      if (!t || (since && *t < *since) || (until && *t >= *until)) {
        ++outside;
        continue;
      }
    }
    collector.add(e);
  }
  const audit::ReadStats& st = reader.stats();
  int read_rc = reportReadProblems(st, "rbac");

  audit::RbacUsage usage = std::move(collector).finish();
  std::string scope = a.namespace_.empty() ? "" : fmt::format(" in namespace {}", a.namespace_);
  if (usage.inexact)
    std::fprintf(stderr,
                 "kubeharden audit rbac: %s left out: RBAC cannot allow them exactly (a "
                 "wildcard, or text that is not UTF-8): %s\n",
                 plural(usage.inexact, "request").c_str(),
                 fmt::format("{}", fmt::join(usage.inexact_examples, "; ")).c_str());
  if (usage.requests.empty())
    return fail(kExitInput,
                fmt::format("no request by {}{} in the logs ({} lines read{}); nothing to grant",
                            subject.describe(), scope, thousands(st.lines),
                            outside ? fmt::format(", {} requests outside --since/--until",
                                                  thousands(outside))
                                    : ""));
  size_t impersonation = 0;
  for (const audit::LoggedRequest& l : usage.requests) impersonation += l.impersonation;
  audit::RbacGenOptions go;
  go.expand_verbs = a.expand_verbs;
  go.name = a.name;
  audit::GeneratedRbac g = audit::generateRbac(usage, subject, go);
  std::string annotation =
      fmt::format("{}, {} to {}", plural(usage.total, "request"), usage.first, usage.last);
  std::vector<std::string> header = {
      fmt::format("kubeharden audit rbac: the least privilege for {}{}, from {} audit log{}:",
                  subject.describe(), scope, a.logs.size(), a.logs.size() == 1 ? "" : "s"),
      fmt::format("{} ({} distinct checks by the authorizer{}; {} refused), {} to {}.",
                  plural(usage.total, "request"), thousands(usage.requests.size()),
                  impersonation ? fmt::format(", {} for impersonation", impersonation) : "",
                  thousands(usage.denied), usage.first, usage.last),
      "Checked with kubeharden's authorizer: these objects allow every one of those requests."};
  if (usage.inexact)
    header.push_back(fmt::format("Left out: {} that RBAC cannot allow exactly (e.g. {}).",
                                 plural(usage.inexact, "request"), usage.inexact_examples.front()));
  if (a.expand_verbs)
    header.push_back("--expand-verbs: read and write verbs widened to their usual sets.");
  std::string yaml = audit::toYaml(g, {}, annotation);
  if (std::string bad = audit::checkGenerated(g, usage); !bad.empty())
    return fail(kExitInternal, "internal error: the generated RBAC fails its own check (" + bad +
                                   "); please report this");

  // What the subject holds and never used.
  std::vector<audit::RuleUse> uses;
  std::optional<rbac::Model> model;
  size_t default_rules = 0;
  if (!a.rbac.empty()) {
    // With the cluster's default roles, so that bindings to view, edit or admin resolve (the
    // manifests' own objects win). The default bindings themselves (system:basic-user,
    // system:discovery, ... to every authenticated user) are not reported: they are every
    // subject's, whether from the defaults or from an export that holds them.
    model = rbac::buildModel(rbac::withDefaults(current.objects));
    std::set<std::string_view> default_bindings;
    for (const Object* o : rbac::defaultObjects())
      if (o->ref.kind == "ClusterRoleBinding") default_bindings.insert(o->ref.name);
    for (audit::RuleUse& u : audit::ruleUsage(*model, subject.identity(usage.groups), usage)) {
      if (u.binding->cluster && default_bindings.count(u.binding->name)) {
        ++default_rules;
        continue;
      }
      uses.push_back(std::move(u));
    }
  }

  if (a.format == "json") {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    json::str(w, "schema", "kubeharden/audit-rbac/v1");
    json::key(w, "subject");
    w.StartObject();
    json::str(w, "kind",
              subject.kind == audit::RbacSubject::Kind::kServiceAccount ? "ServiceAccount"
              : subject.kind == audit::RbacSubject::Kind::kGroup        ? "Group"
                                                                        : "User");
    json::str(w, "name", subject.name);
    if (!subject.ns.empty()) json::str(w, "namespace", subject.ns);
    w.EndObject();
    if (!a.namespace_.empty()) json::str(w, "namespace", a.namespace_);
    json::num(w, "requests", usage.total);
    json::num(w, "denied", usage.denied);
    json::num(w, "leftOut", usage.inexact);  // requests RBAC cannot allow exactly
    json::str(w, "first", usage.first);
    json::str(w, "last", usage.last);
    json::key(w, "distinct");
    w.StartArray();
    for (const audit::LoggedRequest& l : usage.requests) {
      const rbac::Request& r = l.request;
      w.StartObject();
      json::str(w, "verb", r.verb);
      if (r.non_resource) {
        json::str(w, "path", r.path);
      } else {
        json::str(w, "apiGroup", r.api_group);
        json::str(w, "resource", r.resource);
        if (!r.subresource.empty()) json::str(w, "subresource", r.subresource);
        if (!r.ns.empty()) json::str(w, "namespace", r.ns);
        if (!r.name.empty()) json::str(w, "name", r.name);
      }
      json::num(w, "count", l.count);
      json::num(w, "denied", l.denied);
      if (l.impersonation) {
        json::key(w, "impersonation");
        w.Bool(true);
      }
      w.EndObject();
    }
    w.EndArray();
    json::key(w, "objects");
    w.StartArray();
    writeObjects(w, g, annotation);
    w.EndArray();
    if (model) {
      json::key(w, "held");
      w.StartArray();
      for (const audit::RuleUse& u : uses) {
        w.StartObject();
        json::str(w, "binding", bindingName(*u.binding));
        if (!u.role) {  // bound to a role not in the manifests
          json::str(w, "missingRole",
                    fmt::format("{} {}", u.binding->role_kind, u.binding->role_name));
          w.EndObject();
          continue;
        }
        json::str(w, "role", roleName(*u.role));
        json::num(w, "rule", u.rule);
        json::str(w, "at", ruleAt(*u.role, u.rule));
        json::str(w, "grants", rbac::describeRule(u.role->rules[u.rule]));
        json::num(w, "requests", u.requests);
        writeStrings(w, "unusedVerbs", u.unused_verbs);
        writeStrings(w, "unusedResources", u.unused_resources);
        writeStrings(w, "unusedNames", u.unused_names);
        writeStrings(w, "unusedURLs", u.unused_urls);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
    std::printf("%s\n", buf.GetString());
    return read_rc;
  }

  std::string out;
  for (const std::string& h : header) out += "# " + h + "\n";
  out += yaml;
  if (model) {
    size_t rules = 0, unused = 0, partly = 0;
    for (const audit::RuleUse& u : uses) {
      if (!u.role) continue;
      ++rules;
      unused += u.unused();
      partly += !u.unused() && !unusedParts(u).empty();
    }
    out += fmt::format(
        "#\n# Held through the RBAC given (--rbac): {} rules, {} never used, {} used in part{}.\n",
        rules, unused, partly,
        default_rules ? fmt::format(" ({} more through the cluster's default bindings, not listed)",
                                    default_rules)
                      : "");
    for (const audit::RuleUse& u : uses) {
      if (!u.role) {
        out += fmt::format("#   {} -> {} {}: not in the RBAC given; not judged\n",
                           bindingName(*u.binding), u.binding->role_kind, u.binding->role_name);
        continue;
      }
      std::string parts = unusedParts(u);
      if (!u.unused() && parts.empty()) continue;
      out += fmt::format(
          "#   {} -> {} rules[{}] ({}): {}: {}\n", bindingName(*u.binding), roleName(*u.role),
          u.rule, ruleAt(*u.role, u.rule), rbac::describeRule(u.role->rules[u.rule]),
          u.unused() ? std::string("never used")
                     : fmt::format("{}; {}", plural(u.requests, "distinct request"), parts));
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return read_rc;
}

}  // namespace

Runner addAuditRbacCommand(CLI::App& app) {
  auto a = std::make_shared<AuditRbacArgs>();
  app.add_option("logs", a->logs,
                 "Audit logs (JSON lines or EventList, plain or gzip; - for standard input)")
      ->required();
  app.add_option("--user", a->user, "The user (system:serviceaccount:NS:NAME is that account)");
  app.add_option("--serviceaccount", a->service_account, "The service account, NAMESPACE:NAME");
  app.add_option("--group", a->group, "A group: the requests of its members");
  app.add_option("-n,--namespace", a->namespace_, "Only the requests in this namespace");
  app.add_flag("--expand-verbs", a->expand_verbs,
               "Grant get/list/watch together, and create/update/patch/delete together");
  app.add_option("--name", a->name,
                 "The generated objects' name (default kubeharden-audit:<kind>:<name>)");
  app.add_option("--rbac", a->rbac,
                 "The cluster's current RBAC manifests (files or directories, repeatable): "
                 "report what the subject holds there and never used")
      ->allow_extra_args(false);
  app.add_option("--since", a->since, "Only requests at or after this time (RFC 3339, or a date)");
  app.add_option("--until", a->until, "Only requests before this time");
  app.add_option("-f,--format", a->format, "yaml or json")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->default_val("yaml");
  return [a] { return run(*a); };
}

}  // namespace kh
