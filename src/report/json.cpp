#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "report/json_writer.h"
#include "report/report.h"

namespace kh {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using json::num;
using json::str;

}  // namespace

std::string renderJson(const ReportContext& ctx) {
  const ScanResult& r = ctx.scan;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  str(w, "schema", "kubeharden/scan/v1");
  w.Key("tool");
  w.StartObject();
  str(w, "name", "kubeharden");
  str(w, "version", ctx.version);
  w.EndObject();
  num(w, "files", r.files.size());
  num(w, "objects", r.objects);
  if (r.audit) {
    const AuditSource& a = *r.audit;
    w.Key("audit");
    w.StartObject();
    w.Key("logs");
    w.StartArray();
    for (const std::string& l : a.logs) w.String(l.c_str());
    w.EndArray();
    num(w, "lines", a.lines);
    num(w, "events", a.events);
    num(w, "requests", a.requests);
    num(w, "judged", a.judged);
    num(w, "outsideWindow", a.outside_window);
    num(w, "malformed", a.malformed);
    num(w, "bytes", a.bytes);
    str(w, "since", a.since);
    str(w, "until", a.until);
    str(w, "first", a.first);
    str(w, "last", a.last);
    w.Key("malformedExamples");
    w.StartArray();
    for (const std::string& m : a.malformed_examples) w.String(m.c_str());
    w.EndArray();
    w.EndObject();
  }
  if (r.cluster) {
    // cluster scan: where the objects came from, and what could not be read (first, since a
    // partial read qualifies every finding below).
    const ClusterSource& c = *r.cluster;
    w.Key("cluster");
    w.StartObject();
    str(w, "context", c.context);
    str(w, "server", c.server);
    str(w, "kubernetesVersion", c.kubernetes_version);
    str(w, "identity", c.identity);
    if (!c.snapshot.empty()) {
      str(w, "snapshot", c.snapshot);
      str(w, "snapshotTaken", c.snapshot_taken);
    }
    num(w, "resourceTypes", c.types);
    num(w, "objects", c.objects);
    num(w, "pages", c.pages);
    num(w, "requests", c.requests);
    num(w, "bytes", c.bytes);
    w.Key("controlPlane");
    w.StartObject();
    num(w, "apiServerPods", c.apiserver_pods);
    w.Key("visible");
    w.Bool(c.apiserver_pods > 0);
    w.Key("judged");
    w.Bool(c.control_plane_checked && c.apiserver_pods > 0);
    w.EndObject();
    w.Key("complete");
    w.Bool(c.not_read.empty());
    w.Key("notRead");
    w.StartArray();
    for (const std::string& n : c.not_read) w.String(n.c_str());
    w.EndArray();
    // The checks that types not read kept from judging, and which kinds.
    w.Key("notEvaluated");
    w.StartArray();
    for (const ClusterSource::NotEvaluated& ne : c.not_evaluated) {
      w.StartObject();
      str(w, "check", ne.check);
      w.Key("kinds");
      w.StartArray();
      for (const std::string& k : ne.kinds) w.String(k.c_str());
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.Key("findings");
  w.StartArray();
  for (const Finding& f : r.findings) {
    w.StartObject();
    str(w, "check", f.check_id);
    if (!f.rule.empty()) str(w, "rule", f.rule);
    str(w, "severity", severityName(f.severity));
    w.Key("object");
    w.StartObject();
    str(w, "apiVersion", f.object->ref.api_version);
    str(w, "kind", f.object->ref.kind);
    str(w, "namespace", f.object->ref.namespace_);
    str(w, "name", f.object->ref.name);
    w.EndObject();
    str(w, "container", f.container);
    str(w, "path", f.path);
    str(w, "file", reportedFile(f));
    num(w, "line", reportedPos(f).line);
    num(w, "column", reportedPos(f).col);
    str(w, "template", f.object->helm_source);
    if (f.source) {
      // Where the finding is in the tool's output (the run's name stands for the file).
      w.Key("rendered");
      w.StartObject();
      str(w, "run", f.object->file);
      num(w, "render", f.source->render);
      num(w, "line", f.pos.line);
      num(w, "column", f.pos.col);
      w.EndObject();
      w.Key("lineExact");
      w.Bool(f.source->exact);
      if (!f.source->values.empty()) {
        w.Key("values");
        w.StartArray();
        for (const std::string& v : f.source->values)
          w.String(v.c_str(), static_cast<unsigned>(v.size()));
        w.EndArray();
      }
    }
    str(w, "message", f.message);
    str(w, "remediation", f.remediation);
    w.Key("suppressed");
    w.Bool(f.suppressed);
    if (f.suppressed) {
      w.Key("suppression");
      w.StartObject();
      str(w, "kind", f.suppression_kind);
      str(w, "reason", f.suppression_reason);
      w.EndObject();
    }
    str(w, "fingerprint", f.fingerprint);
    w.EndObject();
  }
  w.EndArray();
  w.Key("renders");
  w.StartArray();
  for (const RenderReport& rr : r.renders) {
    w.StartObject();
    str(w, "tool", rr.tool);
    str(w, "root", rr.root);
    str(w, "run", rr.name);
    if (!rr.variant.empty()) str(w, "variant", rr.variant);
    w.Key("command");
    w.StartArray();
    for (const std::string& a : rr.command) w.String(a.c_str(), static_cast<unsigned>(a.size()));
    w.EndArray();
    w.Key("ok");
    w.Bool(rr.ok);
    num(w, "objects", rr.objects);
    w.EndObject();
  }
  w.EndArray();
  w.Key("diagnostics");
  w.StartArray();
  for (const Diagnostic& d : r.diagnostics) {
    w.StartObject();
    str(w, "code", d.code);
    str(w, "message", d.message);
    str(w, "file", d.file);
    num(w, "line", d.pos.line);
    num(w, "column", d.pos.col);
    w.EndObject();
  }
  w.EndArray();
  w.Key("errors");
  w.StartArray();
  for (const Error& e : r.errors) {
    w.StartObject();
    str(w, "message", e.message);
    str(w, "file", e.file);
    num(w, "line", e.pos.line);
    num(w, "column", e.pos.col);
    w.EndObject();
  }
  w.EndArray();
  if (!r.compliance.empty()) {
    w.Key("compliance");
    w.StartArray();
    for (const ComplianceResult& c : r.compliance) {
      w.StartObject();
      str(w, "framework", c.framework->id);
      str(w, "title", c.framework->title);
      w.Key("score");
      w.Double(std::round(c.score * 10) / 10);
      num(w, "passed", c.passed);
      num(w, "failed", c.failed);
      num(w, "notApplicable", c.not_applicable);
      num(w, "notEvaluated", c.not_evaluated);
      w.Key("controls");
      w.StartArray();
      for (const ControlResult& cr : c.controls) {
        w.StartObject();
        str(w, "id", cr.control->id);
        str(w, "title", cr.control->title);
        str(w, "status", cr.status);
        num(w, "checked", cr.checked);
        num(w, "failing", cr.failing.size());
        w.Key("checks");
        w.StartArray();
        for (std::string_view id : cr.checks) w.String(id.data(), static_cast<unsigned>(id.size()));
        w.EndArray();
        w.Key("failingObjects");
        w.StartArray();
        for (const Object* o : cr.failing) {
          w.StartObject();
          str(w, "kind", o->ref.kind);
          str(w, "namespace", o->ref.namespace_);
          str(w, "name", o->ref.name);
          str(w, "file", o->file);
          w.EndObject();
        }
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  auto n = countBySeverity(r);
  w.Key("summary");
  w.StartObject();
  num(w, "findings", n[0] + n[1] + n[2] + n[3] + n[4]);
  w.Key("bySeverity");
  w.StartObject();
  for (int s = 4; s >= 0; --s)
    num(w, severityName(static_cast<Severity>(s)), n[static_cast<size_t>(s)]);
  w.EndObject();
  num(w, "suppressed", r.suppressed);
  num(w, "baselined", r.baselined);
  num(w, "skippedDocuments", r.skipped_documents);
  num(w, "filesWithErrors", r.errors.size());
  w.EndObject();
  w.EndObject();
  std::string out(buf.GetString(), buf.GetSize());
  out += '\n';
  return out;
}

}  // namespace kh
