// `kubeharden audit`: the API server's audit configuration and logs (docs/audit.md).
//   audit policy explain FILE --user U [--group G]... --verb V --resource R [-n NS] [--name N]
//   audit policy explain FILE --user U --verb get --path /healthz
// The first rule of the policy that matches the request, its level, the stages omitted and
// whether managed fields are kept, as the API server decides.
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

#include "audit/events.h"
#include "audit/policy.h"
#include "audit/probes.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "load/loader.h"

namespace kh {
namespace {

// The audit Policy in `file` (read into `f`, which owns what `p` points into); problems the API
// server would refuse it for are warnings on stderr. 0, or the exit code of the failure.
int loadPolicy(const std::string& file, const char* command, SourceFile& f, audit::Policy& p) {
  loadFile(file, LoadOptions{}, f);
  std::string error;
  const Object* policy = nullptr;
  if (f.error) {
    error = f.error->describe();
  } else {
    for (const Object& o : f.objects)
      if (o.ref.kind == "Policy" && o.ref.api_version.starts_with("audit.k8s.io/")) policy = &o;
    if (!policy)
      error =
          fmt::format("{}: no audit Policy (apiVersion audit.k8s.io/v1, kind Policy) in it", file);
  }
  if (!error.empty()) {
    std::fprintf(stderr, "kubeharden audit %s: %s\n", command, error.c_str());
    return kExitInput;
  }
  p = audit::readPolicy(policy->root);
  for (const audit::Policy::Problem& pr : p.problems)
    std::fprintf(stderr, "%s:%u:%u: warning: %s: %s (the API server refuses this policy)\n",
                 file.c_str(), pr.pos.line, pr.pos.col, pr.path.c_str(), pr.message.c_str());
  return 0;
}

struct ExplainArgs {
  std::string file, user, verb, resource, subresource, api_group, namespace_, name, path, format;
  std::vector<std::string> groups;
};

int explain(const ExplainArgs& a) {
  auto fail = [](int code, const std::string& m) {
    std::fprintf(stderr, "kubeharden audit policy explain: %s\n", m.c_str());
    return code;
  };
  if (a.resource.empty() == a.path.empty())
    return fail(kExitUsage, "give a resource request (--resource) or a non-resource one (--path)");
  SourceFile f;
  audit::Policy p;
  if (int rc = loadPolicy(a.file, "explain", f, p); rc != 0) return rc;
  audit::Request r;
  r.user = a.user;
  r.groups = a.groups;
  r.verb = a.verb;
  if (!a.path.empty()) {
    r.resource_request = false;
    r.path = a.path;
  } else {
    // pods/exec, deployments.apps, deployments.apps/scale: resource[.group][/subresource].
    std::string res = a.resource;
    if (size_t slash = res.find('/'); slash != std::string::npos) {
      r.subresource = res.substr(slash + 1);
      res.resize(slash);
    }
    if (size_t dot = res.find('.'); dot != std::string::npos) {
      r.api_group = res.substr(dot + 1);
      res.resize(dot);
    }
    r.resource = res;
    if (!a.subresource.empty()) r.subresource = a.subresource;
    if (!a.api_group.empty()) r.api_group = a.api_group;
    r.namespace_ = a.namespace_;
    r.name = a.name;
  }
  audit::Decision d = audit::evaluate(p, r);
  std::string where =
      d.rule ? fmt::format("{}:{}:{}", a.file, d.rule->node->pos.line, d.rule->node->pos.col)
             : std::string();
  if (a.format == "json") {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("request");
    w.String(audit::describe(r).c_str());
    w.Key("rule");
    if (d.rule)
      w.Uint64(d.rule->index);
    else
      w.Null();
    w.Key("at");
    w.String(where.c_str());
    w.Key("level");
    w.String(std::string(audit::levelName(d.level)).c_str());
    w.Key("omitStages");
    w.StartArray();
    for (std::string_view s : d.omit_stages) w.String(std::string(s).c_str());
    w.EndArray();
    w.Key("omitManagedFields");
    w.Bool(d.omit_managed_fields);
    w.EndObject();
    std::printf("%s\n", b.GetString());
    return kExitClean;
  }
  std::printf("request: %s\n", audit::describe(r).c_str());
  if (d.rule)
    std::printf("rule:    rules[%zu] (%s)\n", d.rule->index, where.c_str());
  else
    std::printf("rule:    none of the %zu rules matches (the default level, None)\n",
                p.rules.size());
  std::printf("level:   %s\n", std::string(audit::levelName(d.level)).c_str());
  if (d.level != audit::Level::kNone) {
    std::vector<std::string> stages;
    for (std::string_view s : d.omit_stages) stages.emplace_back(s);
    std::printf("stages:  %s\n",
                stages.empty() ? "all logged" : ("omitted: " + join(stages, ", ")).c_str());
    std::printf("managedFields: %s\n", d.omit_managed_fields ? "omitted" : "kept");
  }
  return kExitClean;
}

struct CoverageArgs {
  std::string policy, format;
  std::vector<std::string> logs;
};

// A logged request as the policy sees it.
audit::Request requestOf(const audit::Event& e) {
  audit::Request r;
  r.user = e.user;
  r.groups = e.groups;
  r.verb = e.verb;
  r.resource_request = !e.resource.empty();
  r.api_group = e.api_group;
  r.resource = e.resource;
  r.subresource = e.subresource;
  r.namespace_ = e.namespace_;
  r.name = e.name;
  r.path = e.request_uri.substr(0, e.request_uri.find('?'));
  return r;
}

// `audit coverage POLICY LOG...`: each logged request evaluated against POLICY (which rule,
// which level), the rules that matched nothing, and the probe requests' levels.
int coverage(const CoverageArgs& a) {
  SourceFile f;
  audit::Policy p;
  if (int rc = loadPolicy(a.policy, "coverage", f, p); rc != 0) return rc;
  std::vector<uint64_t> by_rule(p.rules.size() + 1, 0);  // the last: no rule
  audit::EventReader reader(a.logs);
  audit::Event e;
  while (reader.next(e)) {
    audit::Decision d = audit::evaluate(p, requestOf(e));
    size_t slot = d.rule ? static_cast<size_t>(d.rule - p.rules.data()) : p.rules.size();
    ++by_rule[slot];
  }
  const audit::ReadStats& st = reader.stats();
  int read_rc = reportReadProblems(st, "coverage");
  // The probes: each category's requests by a person in namespace default.
  struct ProbeRow {
    std::string request;
    const audit::PolicyRule* rule;
    audit::Level level;
  };
  std::vector<ProbeRow> probes;
  for (const auto* list : {&audit::sensitiveProbes(), &audit::activityProbes()})
    for (const audit::Probe& pr : *list) {
      audit::Request r = audit::expandProbe(pr).front();
      audit::Decision d = audit::evaluate(p, r);
      std::string text = r.verb + " " + audit::resourceName(r);
      bool seen = false;
      for (const ProbeRow& row : probes) seen |= row.request == text;
      if (!seen) probes.push_back({text, d.rule, d.level});
    }
  if (a.format == "json") {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("policy");
    w.String(a.policy.c_str());
    w.Key("requests");
    w.Uint64(st.requests);
    w.Key("malformed");
    w.Uint64(st.malformed);
    w.Key("rules");
    w.StartArray();
    for (size_t i = 0; i < p.rules.size(); ++i) {
      w.StartObject();
      w.Key("rule");
      w.Uint64(p.rules[i].index);
      w.Key("line");
      w.Uint(p.rules[i].node->pos.line);
      w.Key("level");
      w.String(std::string(audit::levelName(p.rules[i].level)).c_str());
      w.Key("requests");
      w.Uint64(by_rule[i]);
      w.EndObject();
    }
    w.EndArray();
    w.Key("unmatched");
    w.Uint64(by_rule.back());
    w.Key("probes");
    w.StartArray();
    for (const ProbeRow& row : probes) {
      w.StartObject();
      w.Key("request");
      w.String(row.request.c_str());
      w.Key("rule");
      if (row.rule)
        w.Uint64(row.rule->index);
      else
        w.Null();
      w.Key("level");
      w.String(std::string(audit::levelName(row.level)).c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", b.GetString());
    return read_rc;
  }
  std::printf("policy %s: %zu rules; logs: %llu requests (%llu events, %llu malformed lines)\n\n",
              a.policy.c_str(), p.rules.size(), static_cast<unsigned long long>(st.requests),
              static_cast<unsigned long long>(st.events),
              static_cast<unsigned long long>(st.malformed));
  std::printf("%-10s %-6s %-16s %12s\n", "rule", "line", "level", "requests");
  for (size_t i = 0; i < p.rules.size(); ++i)
    std::printf("%-10s %-6u %-16s %12llu%s\n", fmt::format("rules[{}]", p.rules[i].index).c_str(),
                p.rules[i].node->pos.line, std::string(audit::levelName(p.rules[i].level)).c_str(),
                static_cast<unsigned long long>(by_rule[i]),
                by_rule[i] == 0 ? "  matched nothing" : "");
  std::printf("%-10s %-6s %-16s %12llu\n", "(none)", "", "None",
              static_cast<unsigned long long>(by_rule.back()));
  std::printf("\nprobe requests (by a person, in namespace default):\n");
  for (const ProbeRow& row : probes)
    std::printf("  %-52s %-16s %s\n", row.request.c_str(),
                std::string(audit::levelName(row.level)).c_str(),
                row.rule ? fmt::format("rules[{}]", row.rule->index).c_str() : "no rule");
  return read_rc;
}

}  // namespace

int reportReadProblems(const audit::ReadStats& st, std::string_view command) {
  for (const std::string& err : st.errors)
    std::fprintf(stderr, "kubeharden audit %.*s: %s\n", static_cast<int>(command.size()),
                 command.data(), err.c_str());
  for (const std::string& m : st.malformed_examples)
    std::fprintf(stderr, "%s (not an audit event; skipped)\n", m.c_str());
  if (st.malformed > st.malformed_examples.size())
    std::fprintf(stderr, "... and %llu more malformed lines\n",
                 static_cast<unsigned long long>(st.malformed - st.malformed_examples.size()));
  return st.errors.empty() ? kExitClean : kExitInput;
}

Runner addAuditCommand(CLI::App& app) {
  app.require_subcommand(1);
  CLI::App* policy = app.add_subcommand("policy", "Audit policies (audit.k8s.io Policy)");
  policy->require_subcommand(1);
  auto a = std::make_shared<ExplainArgs>();
  CLI::App* ex = policy->add_subcommand(
      "explain",
      "The rule of an audit policy that decides a request's level, as the API server "
      "evaluates it (first match)");
  ex->add_option("file", a->file, "The audit policy file")->required();
  ex->add_option("--user", a->user, "The requesting user's name")->required();
  ex->add_option("--group", a->groups, "A group of the user (repeatable)")->allow_extra_args(false);
  ex->add_option("--verb", a->verb, "get, list, watch, create, update, patch, delete, ...")
      ->required();
  ex->add_option("--resource", a->resource,
                 "The resource: pods, pods/exec, deployments.apps (resource[.group][/sub])");
  ex->add_option("--subresource", a->subresource, "The subresource (or resource/sub above)");
  ex->add_option("--api-group", a->api_group, "The API group (or resource.group above)");
  ex->add_option("-n,--namespace", a->namespace_, "The namespace (none: cluster-scoped)");
  ex->add_option("--name", a->name, "The object's name (for resourceNames)");
  ex->add_option("--path", a->path, "A non-resource request's path (/healthz, /metrics)");
  ex->add_option("-f,--format", a->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_val("text");
  auto c = std::make_shared<CoverageArgs>();
  CLI::App* cov = app.add_subcommand(
      "coverage",
      "Evaluate an audit policy over logged requests: how many each rule matches, the rules "
      "that match nothing, and the level of the probe requests");
  cov->add_option("policy", c->policy, "The audit policy file")->required();
  cov->add_option("logs", c->logs,
                  "Audit logs (JSON lines or EventList, plain or gzip; - for "
                  "standard input)")
      ->required();
  cov->add_option("-f,--format", c->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_val("text");
  CLI::App* det = app.add_subcommand(
      "detect",
      "Find suspicious requests in audit logs: privileged pods, exec, anonymous access, "
      "risky RBAC changes, Secret reads, ... (the audit-event-* checks)");
  Runner detect = addAuditDetectCommand(*det);
  CLI::App* rb = app.add_subcommand(
      "rbac",
      "The least-privilege Roles, ClusterRoles and bindings that allow exactly the requests a "
      "user, service account or group made in audit logs; with --rbac, what it holds and never "
      "used");
  Runner rbac = addAuditRbacCommand(*rb);
  return [a, ex, c, cov, det, detect, rb, rbac] {
    if (ex->parsed()) return explain(*a);
    if (cov->parsed()) return coverage(*c);
    if (det->parsed()) return detect();
    if (rb->parsed()) return rbac();
    return kExitUsage;
  };
}

}  // namespace kh
