// `kubeharden pss`: what Pod Security Admission of a given level and version says about every
// pod and pod template in the input; with --namespaces, what PSA would do at each workload's
// namespace according to the namespace labels.
#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/inputs.h"
#include "cli/output.h"
#include "load/loader.h"
#include "pss/namespaces.h"
#include "pss/pss.h"
#include "report/json_writer.h"

namespace kh {
namespace {

struct PssArgs {
  std::vector<std::string> paths;
  std::string level = "restricted";
  std::string version = "latest";
  std::string format = "text";
  bool namespaces = false;
};

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;
using json::str;

void objectJson(Writer& w, const Object& o) {
  w.Key("object");
  w.StartObject();
  str(w, "apiVersion", o.ref.api_version);
  str(w, "kind", o.ref.kind);
  str(w, "namespace", o.ref.namespace_);
  str(w, "name", o.ref.name);
  w.EndObject();
  str(w, "file", o.file);
  w.Key("line");
  w.Uint(o.root->pos.line);
  if (!o.helm_source.empty()) str(w, "template", o.helm_source);
}

void violationsJson(Writer& w, const std::vector<pss::Violation>& vs) {
  w.Key("violations");
  w.StartArray();
  for (const pss::Violation& v : vs) {
    w.StartObject();
    str(w, "check", v.check);
    str(w, "reason", v.reason);
    str(w, "detail", v.detail);
    w.EndObject();
  }
  w.EndArray();
}

// PSA's wording: "violates PodSecurity ..." for enforce, "would violate PodSecurity ..." for
// warnings and audit annotations.
std::string violationMessage(const pss::Policy& p, const std::vector<pss::Violation>& vs,
                             bool would = false) {
  return fmt::format("{} PodSecurity \"{}\": {}", would ? "would violate" : "violates",
                     pss::policyLabel(p), pss::joinViolations(vs));
}

int runObjects(const PssArgs& a, const pss::Policy& policy) {
  LoadedInputs l = loadInputs(a.paths, "pss");
  if (l.error && l.objects.empty()) return l.error;
  pss::Scratch scratch;
  size_t evaluated = 0, denied = 0;
  std::string text;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  str(w, "schema", "kubeharden/pss/v1");
  str(w, "level", pss::levelName(policy.level));
  str(w, "version", pss::effectiveVersion(policy));
  str(w, "policy", pss::policyLabel(policy));
  w.Key("results");
  w.StartArray();
  std::vector<pss::Violation> vs;
  for (const Object* o : l.objects) {
    if (!o->pod) continue;
    ++evaluated;
    vs.clear();
    pss::evaluate(policy, *o->pod, scratch, vs);
    denied += !vs.empty();
    w.StartObject();
    objectJson(w, *o);
    w.Key("allowed");
    w.Bool(vs.empty());
    violationsJson(w, vs);
    if (!vs.empty()) str(w, "message", violationMessage(policy, vs));
    w.EndObject();
    fmt::format_to(std::back_inserter(text), "{}:{}:{} {}: {}\n", o->file, o->root->pos.line,
                   o->root->pos.col, o->displayName(),
                   vs.empty() ? std::string("allowed") : violationMessage(policy, vs));
  }
  w.EndArray();
  w.Key("summary");
  w.StartObject();
  w.Key("evaluated");
  w.Uint64(evaluated);
  w.Key("allowed");
  w.Uint64(evaluated - denied);
  w.Key("denied");
  w.Uint64(denied);
  w.EndObject();
  w.EndObject();
  if (a.format == "json") {
    (void)writeOutput("", std::string(buf.GetString(), buf.GetSize()) + "\n");
  } else {
    fmt::format_to(std::back_inserter(text),
                   "{} pods and pod templates at {} (rules of {}): {} allowed, {} not allowed\n",
                   evaluated, pss::policyLabel(policy), pss::effectiveVersion(policy),
                   evaluated - denied, denied);
    (void)writeOutput("", text);
  }
  if (l.error) return kExitInput;
  if (evaluated == 0) {
    std::fprintf(
        stderr,
        "kubeharden pss: no pods or pod templates found in the input; nothing was evaluated\n");
    return kExitInput;
  }
  return denied ? kExitFindings : kExitClean;
}

// --- --namespaces -------------------------------------------------------------------------

struct ModeResult {
  std::string_view mode;
  const pss::ModePolicy* policy;
  std::vector<pss::Violation> violations;
  std::string outcome;  // human sentence
};

int runNamespaces(const PssArgs& a) {
  LoadedInputs l = loadInputs(a.paths, "pss");
  if (l.error && l.objects.empty()) return l.error;
  // Declared namespaces, and every namespace an object lives in (unset means "default").
  std::map<std::string, const Object*, std::less<>> declared;
  std::map<std::string, std::vector<const Object*>, std::less<>> workloads;
  for (const Object* o : l.objects) {
    if (o->ref.kind == "Namespace" && o->ref.api_version == "v1")
      declared[std::string(o->ref.name)] = o;
  }
  for (const Object* o : l.objects) {
    if (!o->pod) continue;
    std::string ns(o->namespaceOrDefault());
    workloads[ns].push_back(o);
  }
  std::map<std::string, pss::NamespacePolicy, std::less<>> policies;
  for (const auto& [name, obj] : declared)
    policies[name] = pss::policyFromLabels(obj ? obj->labels : nullptr);
  for (const auto& [name, objs] : workloads)
    if (!policies.count(name)) policies[name] = pss::policyFromLabels(nullptr);
  if (policies.empty())
    return nothingToJudge("pss --namespaces", "Namespaces, pods or pod templates");

  pss::Scratch scratch;
  std::string text;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  str(w, "schema", "kubeharden/pss-namespaces/v1");
  w.Key("namespaces");
  w.StartArray();
  bool any_rejected = false;
  for (const auto& [name, np] : policies) {
    bool is_declared = declared.count(name) > 0;
    std::vector<std::string> flags;
    if (!np.enforce.labelled)
      flags.push_back(
          "no pod-security.kubernetes.io/enforce label: PSA's default (privileged) admits every "
          "pod");
    else if (np.enforce.policy.level == pss::Level::kPrivileged)
      flags.push_back("enforce level is privileged: PSA admits every pod");
    auto label = [](const pss::ModePolicy& m) {
      return pss::policyLabel(m.policy) + (m.labelled ? "" : " (default)");
    };
    fmt::format_to(std::back_inserter(text), "namespace {}{}: enforce={} audit={} warn={}\n", name,
                   is_declared ? "" : " (not in the input)", label(np.enforce), label(np.audit),
                   label(np.warn));
    for (const std::string& e : np.errors)
      fmt::format_to(std::back_inserter(text), "  error: {}\n", e);
    for (const std::string& f : flags)
      fmt::format_to(std::back_inserter(text), "  warning: {}\n", f);
    w.StartObject();
    str(w, "name", name);
    w.Key("declared");
    w.Bool(is_declared);
    str(w, "enforce", pss::policyLabel(np.enforce.policy));
    str(w, "audit", pss::policyLabel(np.audit.policy));
    str(w, "warn", pss::policyLabel(np.warn.policy));
    w.Key("enforceLabelled");
    w.Bool(np.enforce.labelled);
    w.Key("errors");
    w.StartArray();
    for (const std::string& e : np.errors) w.String(e.c_str());
    w.EndArray();
    w.Key("warnings");
    w.StartArray();
    for (const std::string& f : flags) w.String(f.c_str());
    w.EndArray();
    w.Key("workloads");
    w.StartArray();
    auto it = workloads.find(name);
    for (const Object* o : it == workloads.end() ? std::vector<const Object*>() : it->second) {
      bool is_pod = o->ref.kind == "Pod";
      std::vector<ModeResult> results = {{"enforce", &np.enforce, {}, {}},
                                         {"warn", &np.warn, {}, {}},
                                         {"audit", &np.audit, {}, {}}};
      for (ModeResult& r : results) pss::evaluate(r.policy->policy, *o->pod, scratch, r.violations);
      bool rejected = !results[0].violations.empty();
      any_rejected |= rejected;
      for (ModeResult& r : results) {
        std::string msg = violationMessage(r.policy->policy, r.violations, r.mode != "enforce");
        if (r.mode == "enforce") {
          if (!rejected)
            r.outcome = is_pod ? "admitted" : "its pods will be admitted";
          else if (is_pod)
            r.outcome = fmt::format("rejected: pods \"{}\" is forbidden: {}", o->ref.name, msg);
          else
            r.outcome = fmt::format(
                "its pods will be rejected when created (PSA enforces on pods, "
                "not on {}s): {}",
                o->ref.kind, msg);
        } else if (r.violations.empty()) {
          r.outcome = "no " + std::string(r.mode == "warn" ? "warning" : "audit annotation");
        } else if (r.mode == "warn") {
          r.outcome =
              (is_pod && rejected) ? "no warning (the request is rejected)" : "warning: " + msg;
        } else {
          r.outcome = "audit annotation: " + msg;
        }
      }
      fmt::format_to(std::back_inserter(text), "  {}:{}:{} {}\n", o->file, o->root->pos.line,
                     o->root->pos.col, o->displayName());
      for (const ModeResult& r : results)
        fmt::format_to(std::back_inserter(text), "    {}: {}\n", r.mode, r.outcome);
      w.StartObject();
      objectJson(w, *o);
      for (const ModeResult& r : results) {
        w.Key(r.mode.data(), static_cast<rapidjson::SizeType>(r.mode.size()));
        w.StartObject();
        str(w, "policy", pss::policyLabel(r.policy->policy));
        w.Key("allowed");
        w.Bool(r.violations.empty());
        str(w, "outcome", r.outcome);
        violationsJson(w, r.violations);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  (void)writeOutput("",
                    a.format == "json" ? std::string(buf.GetString(), buf.GetSize()) + "\n" : text);
  if (l.error) return kExitInput;
  return any_rejected ? kExitFindings : kExitClean;
}

int runPssCommand(const PssArgs& a) {
  if (a.format != "text" && a.format != "json") {
    std::fprintf(stderr, "kubeharden pss: unknown format '%s' (expected text or json)\n",
                 a.format.c_str());
    return kExitUsage;
  }
  if (a.namespaces) return runNamespaces(a);
  auto level = pss::parseLevel(a.level);
  if (!level || *level == pss::Level::kPrivileged) {
    std::fprintf(stderr, "kubeharden pss: --level must be baseline or restricted, not '%s'\n",
                 a.level.c_str());
    return kExitUsage;
  }
  auto policy = pss::parseVersion(a.version, *level);
  if (!policy) {
    std::fprintf(stderr, "kubeharden pss: --version must be \"latest\" or \"v1.x\", not '%s'\n",
                 a.version.c_str());
    return kExitUsage;
  }
  return runObjects(a, *policy);
}

}  // namespace

Runner addPssCommand(CLI::App& app) {
  auto a = std::make_shared<PssArgs>();
  app.add_option("paths", a->paths, "Files, directories or - for stdin")->type_name("PATH...");
  app.add_option("-l,--level", a->level, "baseline or restricted")->capture_default_str();
  app.add_option("-V,--version", a->version, "Policy version: latest or v1.0 ... v1.37")
      ->capture_default_str();
  app.add_option("-f,--format", a->format, "text or json")->capture_default_str();
  app.add_flag("--namespaces", a->namespaces,
               "Judge each workload by its namespace's pod-security.kubernetes.io labels");
  return [a] { return runPssCommand(*a); };
}

}  // namespace kh
