#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>

#include "checks/frameworks.h"
#include "checks/registry.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "docs/check_docs.h"
#include "report/json_writer.h"

namespace kh {
namespace {

void refsText(std::string& out, const CheckRefs& r) {
  std::pair<std::string_view, std::string_view> items[] = {
      {"CIS", r.cis},           {"PSS", r.pss},
      {"MITRE", r.mitre},       {"kube-linter", r.kube_linter},
      {"Trivy", r.trivy},       {"Kubescape", r.kubescape},
      {"Polaris", r.polaris},   {"Checkov", r.checkov},
      {"hadolint", r.hadolint},
  };
  bool first = true;
  for (auto [k, v] : items) {
    if (v.empty()) continue;
    fmt::format_to(std::back_inserter(out), "{}{} {}", first ? "" : "; ", k, v);
    first = false;
  }
}

std::string renderChecksJson(const std::vector<std::unique_ptr<Check>>& checks) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  auto str = [&](std::string_view k, std::string_view v) { json::str(w, k, v); };
  w.StartObject();
  str("schema", "kubeharden/checks/v1");
  w.Key("checks");
  w.StartArray();
  for (const auto& c : checks) {
    const CheckMeta& m = c->meta();
    w.StartObject();
    str("id", m.id);
    str("title", m.title);
    str("severity", severityName(m.severity));
    str("group", m.group);
    w.Key("enabledByDefault");
    w.Bool(m.enabled_by_default);
    // Judged on the rest of the input, so not run by the admission webhook.
    w.Key("wholeInput");
    w.Bool(m.whole_input);
    w.Key("appliesTo");
    w.StartArray();
    if (m.scope == Scope::kPodSpec) w.String("pod specs (every workload and pod template)");
    if (m.scope == Scope::kAll) w.String("every object");
    for (std::string_view k : m.kinds)
      w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.EndArray();
    str("remediation", m.remediation);
    w.Key("refs");
    w.StartObject();
    str("cis", m.refs.cis);
    str("nsa", m.refs.nsa);
    str("pss", m.refs.pss);
    str("mitre", m.refs.mitre);
    str("kubeLinter", m.refs.kube_linter);
    str("trivy", m.refs.trivy);
    str("kubescape", m.refs.kubescape);
    str("polaris", m.refs.polaris);
    str("checkov", m.refs.checkov);
    str("hadolint", m.refs.hadolint);
    w.EndObject();
    // The controls of each framework the check serves (as `scan --framework` counts them).
    w.Key("controls");
    w.StartObject();
    for (const Framework& fw : frameworks()) {
      w.Key(fw.id.data(), static_cast<rapidjson::SizeType>(fw.id.size()));
      w.StartArray();
      for (std::string_view id : controlsOf(fw, m))
        w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
      w.EndArray();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace

Runner addChecksCommand(CLI::App& app) {
  auto format = std::make_shared<std::string>("text");
  app.add_option("-f,--format", *format, "text or json")->capture_default_str();
  return [format] {
    Registry reg(makeCatalogue());
    std::string out;
    if (*format == "json") {
      out = renderChecksJson(reg.checks());
    } else if (*format == "text") {
      for (const auto& c : reg.checks()) {
        const CheckMeta& m = c->meta();
        fmt::format_to(std::back_inserter(out), "{:<28} {:<8} {}{}\n    ", m.id,
                       severityName(m.severity), m.title, m.enabled_by_default ? "" : " (opt-in)");
        refsText(out, m.refs);
        out += '\n';
      }
      fmt::format_to(std::back_inserter(out), "{} checks\n", reg.checks().size());
    } else {
      std::fprintf(stderr, "kubeharden checks: unknown format '%s' (expected text or json)\n",
                   format->c_str());
      return kExitUsage;
    }
    (void)writeOutput("", out);
    return kExitClean;
  };
}

Runner addExplainCommand(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  app.add_option("check", *id, "Check ID, e.g. pod-privileged")->required();
  return [id] {
    Registry reg(makeCatalogue());
    const Check* c = reg.find(*id);
    std::string_view doc = checkDoc(*id);
    if (!c || doc.empty()) {
      std::string near;
      for (const auto& k : reg.checks())
        if (k->meta().id.find(*id) != std::string_view::npos ||
            id->find(k->meta().id) != std::string::npos)
          near += fmt::format(" {}", k->meta().id);
      std::fprintf(stderr, "kubeharden explain: unknown check '%s'%s%s\n", id->c_str(),
                   near.empty() ? "; see `kubeharden checks`" : "; did you mean:", near.c_str());
      return kExitUsage;
    }
    const CheckRefs& r = c->meta().refs;
    std::string out(doc);
    out += "\n## References\n";
    std::pair<std::string_view, std::string_view> items[] = {
        {"CIS Kubernetes Benchmark", r.cis},
        {"NSA/CISA Kubernetes Hardening Guide", r.nsa},
        {"Pod Security Standards", r.pss},
        {"MITRE ATT&CK", r.mitre},
        {"kube-linter", r.kube_linter},
        {"Trivy", r.trivy},
        {"Kubescape", r.kubescape},
        {"Polaris", r.polaris},
        {"Checkov", r.checkov},
        {"hadolint", r.hadolint},
    };
    for (auto [k, v] : items)
      if (!v.empty()) fmt::format_to(std::back_inserter(out), "- {}: {}\n", k, v);
    (void)writeOutput("", out);
    return kExitClean;
  };
}

}  // namespace kh
