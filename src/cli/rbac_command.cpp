// `kubeharden rbac`: RBAC questions answered from manifests, as the API server's authorizer
// would answer them. `who-can` lists every subject allowed, with the chains that grant it;
// `can` answers yes or no for one subject (exit 0 / 1, like `kubectl auth can-i`).
#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <set>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/output.h"
#include "load/loader.h"
#include "rbac/defaults.h"
#include "rbac/escalation.h"
#include "rbac/rbac.h"
#include "rbac/risks.h"
#include "report/json_writer.h"

namespace kh {
namespace {

struct RbacArgs {
  std::vector<std::string> args;  // VERB [RESOURCE] [PATH...]  (can: SUBJECT first)
  std::string api_group;
  bool api_group_set = false;
  std::string name, ns, url, format = "text";
  std::string fail_on = "high";
  bool no_defaults = false;  // leave out the cluster's built-in roles and bindings
};

rbac::Model modelOf(const RbacArgs& a, const LoadedInputs& l) {
  return rbac::buildModel(a.no_defaults ? l.objects : rbac::withDefaults(l.objects));
}

// 0 when the input holds RBAC objects to analyse, else the exit code (said on stderr): the
// built-in roles alone would answer every question as if the input had granted nothing.
int checkInputs(const LoadedInputs& l, std::string_view command) {
  if (l.error && l.objects.empty()) return l.error;
  for (const Object* o : l.objects)
    if (rbac::isRbacObject(*o)) return 0;
  return nothingToJudge(command,
                        "RBAC objects (Roles, ClusterRoles, RoleBindings, ClusterRoleBindings)");
}

int usage(const std::string& msg) {
  std::fprintf(stderr, "kubeharden rbac: %s\n", msg.c_str());
  return kExitUsage;
}

// Builds the request from VERB and RESOURCE[/SUB] (or --url); returns the index of the first path.
std::optional<rbac::Request> makeRequest(const RbacArgs& a, size_t first, size_t& paths_from,
                                         std::string& err) {
  rbac::Request req;
  if (a.args.size() <= first) {
    err = "missing VERB";
    return std::nullopt;
  }
  req.verb = a.args[first];
  req.name = a.name;
  req.ns = a.ns;
  if (!a.url.empty()) {
    req.non_resource = true;
    req.path = a.url;
    paths_from = first + 1;
    return req;
  }
  if (a.args.size() <= first + 1) {
    err = "missing RESOURCE (or --url /PATH)";
    return std::nullopt;
  }
  std::string res = a.args[first + 1];
  if (size_t slash = res.find('/'); slash != std::string::npos) {
    req.subresource = res.substr(slash + 1);
    res = res.substr(0, slash);
  }
  // kubectl's RESOURCE.GROUP shorthand, e.g. deployments.apps.
  if (size_t dot = res.find('.'); dot != std::string::npos) {
    req.api_group = res.substr(dot + 1);
    res = res.substr(0, dot);
  } else {
    req.api_group = a.api_group_set ? a.api_group : std::string(rbac::defaultGroup(res));
  }
  req.resource = res;
  paths_from = first + 2;
  return req;
}

std::string describeRequest(const rbac::Request& r) {
  if (r.non_resource) return fmt::format("{} {}", r.verb, r.path);
  std::string res = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  if (!r.api_group.empty()) res += "." + r.api_group;
  std::string out = fmt::format("{} {}", r.verb, res);
  if (!r.name.empty()) out += fmt::format(" named {}", r.name);
  out += r.ns.empty() ? " cluster-wide" : fmt::format(" in namespace {}", r.ns);
  return out;
}

std::string chain(const rbac::Grant& g) {
  const rbac::Binding& b = *g.binding;
  if (!g.role)
    return fmt::format("{} {}{} -> {} {} (not in the input)",
                       b.cluster ? "ClusterRoleBinding" : "RoleBinding",
                       b.cluster ? "" : std::string(b.ns) + "/", b.name, b.role_kind, b.role_name);
  return fmt::format("{} {}{} -> {} {}{} rule {}", b.cluster ? "ClusterRoleBinding" : "RoleBinding",
                     b.cluster ? "" : std::string(b.ns) + "/", b.name,
                     g.role->cluster ? "ClusterRole" : "Role",
                     g.role->cluster ? "" : std::string(g.role->ns) + "/", g.role->name, g.rule);
}

int runWhoCan(const RbacArgs& a) {
  std::string err;
  size_t paths_from = 0;
  auto req = makeRequest(a, 0, paths_from, err);
  if (!req) return usage(err);
  LoadedInputs l = loadInputs(
      std::vector<std::string>(a.args.begin() + static_cast<long>(paths_from), a.args.end()),
      "rbac");
  if (int rc = checkInputs(l, "rbac who-can")) return rc;
  rbac::Model m = modelOf(a, l);
  for (const std::string& w : m.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  auto who = rbac::whoCan(m, *req);
  if (a.format == "json") {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    json::str(w, "schema", "kubeharden/rbac-who-can/v1");
    json::str(w, "request", describeRequest(*req));
    json::key(w, "subjects");
    w.StartArray();
    auto ref = [&](std::string_view k, std::string_view kind, std::string_view ns,
                   std::string_view name) {
      json::key(w, k);
      w.StartObject();
      json::str(w, "kind", kind);
      json::str(w, "namespace", ns);
      json::str(w, "name", name);
      w.EndObject();
    };
    for (const auto& s : who) {
      w.StartObject();
      json::str(w, "kind", rbac::kindName(s.subject.kind));
      json::str(w, "namespace", s.subject.ns);
      json::str(w, "name", s.subject.name);
      json::key(w, "via");
      w.StartArray();
      for (const auto& g : s.via) {
        w.StartObject();
        ref("binding", g.binding->cluster ? "ClusterRoleBinding" : "RoleBinding", g.binding->ns,
            g.binding->name);
        ref("role", g.role->cluster ? "ClusterRole" : "Role", g.role->ns, g.role->name);
        json::num(w, "rule", g.rule);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    json::key(w, "superusers");
    w.StartArray();
    w.String("Group system:masters");
    w.EndArray();
    w.EndObject();
    (void)writeOutput("", std::string(buf.GetString(), buf.GetSize()) + "\n");
  } else {
    std::string out = fmt::format("who can {}:\n", describeRequest(*req));
    for (const auto& s : who) {
      fmt::format_to(std::back_inserter(out), "  {}\n", rbac::subjectName(s.subject));
      for (const auto& g : s.via) fmt::format_to(std::back_inserter(out), "    via {}\n", chain(g));
    }
    out += "  Group system:masters (superuser: allowed without any binding)\n";
    (void)writeOutput("", out);
  }
  return l.error;
}

int runCan(const RbacArgs& a) {
  if (a.args.empty()) return usage("missing SUBJECT (user:NAME, group:NAME or sa:NAMESPACE/NAME)");
  auto id = rbac::Identity::parse(a.args[0]);
  if (!id)
    return usage(fmt::format("'{}' is not a subject (user:NAME, group:NAME or sa:NAMESPACE/NAME)",
                             a.args[0]));
  std::string err;
  size_t paths_from = 0;
  auto req = makeRequest(a, 1, paths_from, err);
  if (!req) return usage(err);
  LoadedInputs l = loadInputs(
      std::vector<std::string>(a.args.begin() + static_cast<long>(paths_from), a.args.end()),
      "rbac");
  if (int rc = checkInputs(l, "rbac can")) return rc;
  rbac::Model m = modelOf(a, l);
  std::string out;
  bool yes = id->superuser();
  if (yes) {
    out = fmt::format("yes: {} may {}: system:masters is not subject to RBAC\n", a.args[0],
                      describeRequest(*req));
  } else {
    auto grants = rbac::grantsFor(m, *id, *req);
    yes = !grants.empty();
    if (yes) {
      out = fmt::format("yes: {} may {}\n", a.args[0], describeRequest(*req));
      for (const auto& g : grants) fmt::format_to(std::back_inserter(out), "  via {}\n", chain(g));
    } else {
      out = fmt::format("no: no binding in the input grants {} to {}\n", describeRequest(*req),
                        a.args[0]);
    }
  }
  (void)writeOutput("", out);
  if (l.error) return l.error;
  return yes ? kExitClean : kExitFindings;
}

int runPermissions(const RbacArgs& a) {
  if (a.args.empty()) return usage("missing SUBJECT (user:NAME, group:NAME or sa:NAMESPACE/NAME)");
  auto id = rbac::Identity::parse(a.args[0]);
  if (!id)
    return usage(fmt::format("'{}' is not a subject (user:NAME, group:NAME or sa:NAMESPACE/NAME)",
                             a.args[0]));
  LoadedInputs l = loadInputs(std::vector<std::string>(a.args.begin() + 1, a.args.end()), "rbac");
  if (int rc = checkInputs(l, "rbac permissions")) return rc;
  rbac::Model m = modelOf(a, l);
  auto p = rbac::permissionsOf(m, *id, a.ns);
  std::string out;
  if (id->superuser())
    out += "superuser: system:masters is allowed everything, with or without the rules below\n";
  auto section = [&](std::string_view title, const std::vector<rbac::Permissions::Entry>& entries) {
    fmt::format_to(std::back_inserter(out), "{}:\n", title);
    if (entries.empty()) out += "  (nothing)\n";
    for (const auto& e : entries)
      fmt::format_to(
          std::back_inserter(out), "  {}    [via {}]\n", rbac::describeRule(*e.rule),
          chain({e.binding, e.role, static_cast<size_t>(e.rule - e.role->rules.data())}));
  };
  section("cluster-wide", p.cluster);
  for (const auto& [ns, entries] : p.namespaced) section(fmt::format("namespace {}", ns), entries);
  (void)writeOutput("", out);
  return l.error;
}

int severityRank(std::string_view s) {
  return s == "critical" ? 4 : s == "high" ? 3 : s == "medium" ? 2 : s == "low" ? 1 : 0;
}

int runRisks(const RbacArgs& a) {
  int fail_rank = a.fail_on == "none" ? 99 : severityRank(a.fail_on);
  if (fail_rank == 0) return usage(fmt::format("--fail-on: unknown severity '{}'", a.fail_on));
  LoadedInputs l = loadInputs(a.args, "rbac");
  if (int rc = checkInputs(l, "rbac risks")) return rc;
  rbac::Model m = modelOf(a, l);
  auto risks = rbac::analyzeRisks(m);
  std::stable_sort(risks.begin(), risks.end(), [](const rbac::Risk& x, const rbac::Risk& y) {
    return severityRank(x.severity) > severityRank(y.severity);
  });
  bool failing = false;
  for (const auto& r : risks) failing |= severityRank(r.severity) >= fail_rank;
  if (a.format == "json") {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    json::str(w, "schema", "kubeharden/rbac-risks/v1");
    json::key(w, "risks");
    w.StartArray();
    for (const auto& r : risks) {
      w.StartObject();
      json::str(w, "id", r.id);
      json::str(w, "title", r.title);
      json::str(w, "severity", r.severity);
      json::key(w, "subject");
      w.StartObject();
      json::str(w, "kind", rbac::kindName(r.subject.kind));
      json::str(w, "namespace", r.subject.ns);
      json::str(w, "name", r.subject.name);
      w.EndObject();
      json::str(w, "scope", r.scope);
      json::str(w, "message", r.message);
      json::key(w, "via");
      w.StartArray();
      for (const auto& g : r.via) w.String(chain(g).c_str());
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    (void)writeOutput("", std::string(buf.GetString(), buf.GetSize()) + "\n");
  } else {
    std::string out;
    for (const auto& r : risks) {
      fmt::format_to(std::back_inserter(out), "{} {}: {}\n", r.severity, r.id, r.message);
      for (const auto& g : r.via) fmt::format_to(std::back_inserter(out), "    via {}\n", chain(g));
    }
    fmt::format_to(std::back_inserter(out), "{} risks\n", risks.size());
    (void)writeOutput("", out);
  }
  if (l.error) return l.error;
  return failing ? kExitFindings : kExitClean;
}

int runEscalation(const RbacArgs& a) {
  if (a.format != "text" && a.format != "json" && a.format != "dot")
    return usage("--format must be text, json or dot");
  LoadedInputs l = loadInputs(a.args, "rbac");
  if (int rc = checkInputs(l, "rbac escalation")) return rc;
  rbac::Model m = modelOf(a, l);
  auto risks = rbac::analyzeRisks(m);
  std::vector<std::pair<std::string, std::string>> accounts;
  for (const Object* o : l.objects) {
    if (!o->pod) continue;
    accounts.emplace_back(o->namespaceOrDefault(), o->pod->serviceAccount());
  }
  auto paths = rbac::escalationPaths(m, risks, accounts);
  std::string out;
  if (a.format == "json") {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    json::str(w, "schema", "kubeharden/rbac-escalation/v1");
    json::key(w, "paths");
    w.StartArray();
    for (const auto& p : paths) {
      w.StartObject();
      json::str(w, "start", p.start);
      json::key(w, "steps");
      w.StartArray();
      for (const auto& s : p.steps) {
        w.StartObject();
        json::str(w, "from", s.from);
        json::str(w, "to", s.to);
        json::str(w, "how", s.how);
        json::key(w, "via");
        w.StartArray();
        for (const auto& g : s.via) w.String(chain(g).c_str());
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    out = std::string(buf.GetString(), buf.GetSize()) + "\n";
  } else if (a.format == "dot") {
    out =
        "digraph escalation {\n  rankdir=LR;\n  \"cluster-admin\" [shape=doubleoctagon, "
        "color=red];\n";
    std::set<std::string> edges;
    for (const auto& p : paths)
      for (const auto& s : p.steps)
        edges.insert(fmt::format("  \"{}\" -> \"{}\" [label=\"{}\"];\n", s.from, s.to, s.how));
    for (const auto& e : edges) out += e;
    out += "}\n";
  } else {
    for (const auto& p : paths) {
      fmt::format_to(std::back_inserter(out), "{} reaches cluster-admin in {} {}:\n", p.start,
                     p.steps.size(), p.steps.size() == 1 ? "step" : "steps");
      for (const auto& s : p.steps) {
        fmt::format_to(std::back_inserter(out), "  -> {}: {}\n", s.to, s.how);
        if (!s.via.empty())
          fmt::format_to(std::back_inserter(out), "       via {}\n", chain(s.via.front()));
      }
    }
    fmt::format_to(std::back_inserter(out), "{} subjects can reach cluster-admin\n", paths.size());
  }
  (void)writeOutput("", out);
  if (l.error) return l.error;
  return paths.empty() ? kExitClean : kExitFindings;
}

void noDefaults(CLI::App* sub, RbacArgs& a) {
  sub->add_flag("--no-defaults", a.no_defaults,
                fmt::format("Leave out the built-in roles and bindings of a Kubernetes {} cluster "
                            "(cluster-admin, admin, edit, view, system:*)",
                            rbac::kDefaultsVersion));
}

void common(CLI::App* sub, RbacArgs& a) {
  sub->add_option("--api-group", a.api_group,
                  "API group of the resource (default: the resource's usual group, core otherwise)")
      ->each([&a](const std::string&) { a.api_group_set = true; });
  sub->add_option("--name", a.name, "Resource name (resourceNames)");
  sub->add_option("-n,--namespace", a.ns, "Namespace of the request (default: cluster-wide)");
  sub->add_option("--url", a.url, "A non-resource URL instead of a resource, e.g. /metrics");
  noDefaults(sub, a);
}

}  // namespace

Runner addRbacCommand(CLI::App& app) {
  return addRbacCommand(app, nullptr, nullptr);
}

Runner addRbacCommand(CLI::App& app,
                      std::function<int(std::vector<std::string>& paths, bool& no_defaults)> before,
                      std::function<void()> after) {
  app.require_subcommand(1);
  auto w = std::make_shared<RbacArgs>();
  CLI::App* who = app.add_subcommand(
      "who-can", "Every subject allowed to do something, with the chains that grant it");
  who->add_option("args", w->args, "VERB RESOURCE[/SUBRESOURCE] [PATH...]")->required();
  who->add_option("-f,--format", w->format, "text or json")->capture_default_str();
  common(who, *w);
  auto c = std::make_shared<RbacArgs>();
  CLI::App* can =
      app.add_subcommand("can", "Can SUBJECT do it? yes (exit 0) or no (exit 1), with the reason");
  can->add_option("args", c->args, "SUBJECT VERB RESOURCE[/SUBRESOURCE] [PATH...]")->required();
  common(can, *c);
  auto p = std::make_shared<RbacArgs>();
  CLI::App* perms = app.add_subcommand(
      "permissions", "A subject's effective rules, cluster-wide and per namespace");
  perms->add_option("args", p->args, "SUBJECT [PATH...]")->required();
  perms->add_option("-n,--namespace", p->ns, "Only this namespace (and cluster-wide)");
  noDefaults(perms, *p);
  auto k = std::make_shared<RbacArgs>();
  CLI::App* risks = app.add_subcommand(
      "risks", "Risky permissions of every subject, with the chains that grant them");
  risks->add_option("paths", k->args, "Files, directories or - for stdin")->type_name("PATH...");
  risks->add_option("-f,--format", k->format, "text or json")->capture_default_str();
  risks
      ->add_option("--fail-on", k->fail_on, "Exit 1 at or above: critical, high, medium, low, none")
      ->capture_default_str();
  noDefaults(risks, *k);
  auto e = std::make_shared<RbacArgs>();
  CLI::App* esc = app.add_subcommand(
      "escalation", "Paths from subjects to cluster-admin-equivalent power, shortest first");
  esc->add_option("paths", e->args, "Files, directories or - for stdin")->type_name("PATH...");
  esc->add_option("-f,--format", e->format, "text, json or dot")->capture_default_str();
  noDefaults(esc, *e);
  return [=] {
    if (before) {
      RbacArgs* args = who->parsed()     ? w.get()
                       : can->parsed()   ? c.get()
                       : perms->parsed() ? p.get()
                       : risks->parsed() ? k.get()
                                         : e.get();
      if (int rc = before(args->args, args->no_defaults); rc != 0) return rc;
    }
    struct After {
      const std::function<void()>& fn;
      ~After() {
        if (fn) fn();
      }
    } done{after};
    if (who->parsed())
      return w->format == "text" || w->format == "json" ? runWhoCan(*w)
                                                        : usage("--format must be text or json");
    if (can->parsed()) return runCan(*c);
    if (perms->parsed()) return runPermissions(*p);
    if (risks->parsed()) return runRisks(*k);
    if (esc->parsed()) return runEscalation(*e);
    return kExitUsage;
  };
}

}  // namespace kh
