// SARIF 2.1.0 as GitHub code scanning reads it: rules with help and helpUri, results with
// physical locations relative to the scan root (%SRCROOT%, the working directory), levels and
// security-severity from our severities, suppressed findings under `suppressions`.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <map>

#include "base/strings.h"
#include "docs/check_docs.h"
#include "report/json_writer.h"
#include "report/report.h"

namespace kh {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using json::str;

std::string_view levelOf(Severity s) {
  switch (s) {
    case Severity::kCritical:
    case Severity::kHigh:
      return "error";
    case Severity::kMedium:
      return "warning";
    default:
      return "note";
  }
}

// GitHub maps >= 9.0 to critical, 7.0-8.9 high, 4.0-6.9 medium, below that low.
std::string_view securitySeverity(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "9.5";
    case Severity::kHigh:
      return "8.0";
    case Severity::kMedium:
      return "5.5";
    case Severity::kLow:
      return "3.0";
    case Severity::kInfo:
      return "1.0";
  }
  return "5.5";
}

std::string percentEncode(std::string_view p) {
  std::string out;
  for (unsigned char c : p) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// URI of a scanned file: relative to the working directory when inside it.
std::string artifactUri(std::string_view file, bool& relative) {
  namespace fs = std::filesystem;
  relative = true;
  if (file == "<stdin>") return "stdin";
  std::error_code ec;
  fs::path p(file);
  fs::path abs = fs::weakly_canonical(fs::absolute(p, ec), ec);
  fs::path cwd = fs::current_path(ec);
  fs::path rel = abs.lexically_relative(cwd);
  if (!rel.empty() && *rel.begin() != "..") return percentEncode(rel.generic_string());
  relative = false;
  return "file://" + percentEncode(abs.generic_string());
}

}  // namespace

std::string renderSarif(const ReportContext& ctx) {
  const ScanResult& r = ctx.scan;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  std::map<std::string_view, size_t> rule_index;
  for (const auto& c : r.registry->checks()) rule_index.emplace(c->meta().id, rule_index.size());
  // The policies' findings (vap:NAME, vpol:NAME) are rules too, after the checks: their
  // severity is the first finding's (the binding's actions decide it).
  std::vector<const Finding*> policy_rules;
  for (const Finding& f : r.findings)
    if ((f.check_id.starts_with("vap:") || f.check_id.starts_with("vpol:")) &&
        rule_index.emplace(f.check_id, rule_index.size()).second)
      policy_rules.push_back(&f);

  w.StartObject();
  str(w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
  str(w, "version", "2.1.0");
  w.Key("runs");
  w.StartArray();
  w.StartObject();
  w.Key("tool");
  w.StartObject();
  w.Key("driver");
  w.StartObject();
  str(w, "name", "kubeharden");
  str(w, "version", ctx.version);
  str(w, "semanticVersion", ctx.version);
  str(w, "informationUri", ctx.docs_url);
  w.Key("rules");
  w.StartArray();
  for (const auto& c : r.registry->checks()) {
    const CheckMeta& m = c->meta();
    w.StartObject();
    str(w, "id", m.id);
    str(w, "name", m.id);
    w.Key("shortDescription");
    w.StartObject();
    str(w, "text", m.title);
    w.EndObject();
    w.Key("fullDescription");
    w.StartObject();
    str(w, "text", fmt::format("{}. {}", m.title, m.remediation));
    w.EndObject();
    std::string_view doc = checkDoc(m.id);
    w.Key("help");
    w.StartObject();
    str(w, "text", m.remediation);
    if (!doc.empty()) str(w, "markdown", doc);
    w.EndObject();
    str(w, "helpUri", fmt::format("{}{}.md", ctx.docs_url, m.id));
    w.Key("defaultConfiguration");
    w.StartObject();
    str(w, "level", levelOf(m.severity));
    w.EndObject();
    w.Key("properties");
    w.StartObject();
    w.Key("tags");
    w.StartArray();
    w.String(m.group.data(), static_cast<rapidjson::SizeType>(m.group.size()));
    w.String("kubernetes");
    w.EndArray();
    str(w, "security-severity", securitySeverity(m.severity));
    str(w, "precision", "high");
    w.EndObject();
    w.EndObject();
  }
  for (const Finding* f : policy_rules) {
    bool kyverno = f->check_id.starts_with("vpol:");
    std::string_view name = f->check_id.substr(f->check_id.find(':') + 1);
    std::string title = fmt::format(
        "{} {}", kyverno ? "Kyverno ValidatingPolicy" : "ValidatingAdmissionPolicy", name);
    w.StartObject();
    str(w, "id", f->check_id);
    str(w, "name", f->check_id);
    w.Key("shortDescription");
    w.StartObject();
    str(w, "text", title);
    w.EndObject();
    w.Key("help");
    w.StartObject();
    str(w, "text",
        "The policy's validations failed for the object; its message says which "
        "(docs/policies.md).");
    w.EndObject();
    str(w, "helpUri", fmt::format("{}../policies.md", ctx.docs_url));
    w.Key("defaultConfiguration");
    w.StartObject();
    str(w, "level", levelOf(f->severity));
    w.EndObject();
    w.Key("properties");
    w.StartObject();
    w.Key("tags");
    w.StartArray();
    w.String("policy");
    w.String("kubernetes");
    w.EndArray();
    str(w, "security-severity", securitySeverity(f->severity));
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();  // driver
  w.EndObject();  // tool
  w.Key("results");
  w.StartArray();
  for (const Finding& f : r.findings) {
    w.StartObject();
    str(w, "ruleId", f.check_id);
    if (auto it = rule_index.find(f.check_id); it != rule_index.end()) {
      w.Key("ruleIndex");
      w.Uint64(it->second);
    }
    str(w, "level", levelOf(f.severity));
    w.Key("message");
    w.StartObject();
    str(w, "text", fmt::format("{} ({})", f.message, f.object->displayName()));
    w.EndObject();
    w.Key("locations");
    w.StartArray();
    w.StartObject();
    w.Key("physicalLocation");
    w.StartObject();
    w.Key("artifactLocation");
    w.StartObject();
    bool relative = true;
    str(w, "uri", artifactUri(reportedFile(f), relative));
    if (relative) str(w, "uriBaseId", "%SRCROOT%");
    w.EndObject();
    // A rendered object's finding sits on its template's line (no region when the template
    // could not be read).
    if (SourcePos pos = reportedPos(f); pos.line > 0 || !f.source) {
      w.Key("region");
      w.StartObject();
      w.Key("startLine");
      w.Uint(std::max<uint32_t>(1, pos.line));
      w.Key("startColumn");
      w.Uint(std::max<uint32_t>(1, pos.col));
      w.EndObject();
    }
    w.EndObject();  // physicalLocation
    w.Key("logicalLocations");
    w.StartArray();
    w.StartObject();
    str(w, "fullyQualifiedName", fmt::format("{}/{}", f.object->displayName(), f.path));
    str(w, "kind", "object");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndArray();  // locations
    w.Key("partialFingerprints");
    w.StartObject();
    str(w, "kubeharden/v1", f.fingerprint);
    w.EndObject();
    w.Key("properties");
    w.StartObject();
    str(w, "severity", severityName(f.severity));
    str(w, "path", f.path);
    if (!f.container.empty()) str(w, "container", f.container);
    if (!f.object->helm_source.empty()) str(w, "template", f.object->helm_source);
    if (f.source) {
      const RenderReport& rep = r.renders[f.source->render];
      str(w, "rendered", fmt::format("{}:{}:{}", rep.name, f.pos.line, f.pos.col));
      str(w, "renderCommand", render::shellQuote(rep.command));
      if (!f.source->values.empty()) str(w, "values", join(f.source->values, ", "));
    }
    w.EndObject();
    if (f.suppressed) {
      w.Key("suppressions");
      w.StartArray();
      w.StartObject();
      str(w, "kind", f.suppression_kind == "annotation" ? "inSource" : "external");
      str(w, "status", "accepted");
      if (!f.suppression_reason.empty()) str(w, "justification", f.suppression_reason);
      w.EndObject();
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  // A partial cluster read: what was not read, and each check it kept from judging, as
  // warnings of the run's invocation (the results alone would read as complete).
  if (r.cluster && !r.cluster->not_read.empty()) {
    w.Key("invocations");
    w.StartArray();
    w.StartObject();
    w.Key("executionSuccessful");
    w.Bool(true);
    w.Key("toolExecutionNotifications");
    w.StartArray();
    auto note = [&](const std::string& text, std::string_view rule) {
      w.StartObject();
      str(w, "level", "warning");
      w.Key("message");
      w.StartObject();
      str(w, "text", text);
      w.EndObject();
      if (!rule.empty()) {
        w.Key("associatedRule");
        w.StartObject();
        str(w, "id", rule);
        if (auto it = rule_index.find(rule); it != rule_index.end()) {
          w.Key("index");
          w.Uint64(it->second);
        }
        w.EndObject();
      }
      w.EndObject();
    };
    for (const std::string& n : r.cluster->not_read) note("not read: " + n, {});
    for (const ClusterSource::NotEvaluated& ne : r.cluster->not_evaluated)
      note(fmt::format("{} could not judge what it needs of {} (not read)", ne.check,
                       fmt::join(ne.kinds, ", ")),
           ne.check);
    w.EndArray();
    w.EndObject();
    w.EndArray();
  }
  w.Key("columnKind");
  w.String("unicodeCodePoints");
  w.EndObject();  // run
  w.EndArray();
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out += '\n';
  return out;
}

}  // namespace kh
