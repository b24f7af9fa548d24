#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "report/report.h"

namespace kh {
namespace {

std::string_view colorOf(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "\x1b[1;31m";
    case Severity::kHigh:
      return "\x1b[31m";
    case Severity::kMedium:
      return "\x1b[33m";
    case Severity::kLow:
      return "\x1b[36m";
    case Severity::kInfo:
      return "\x1b[2m";
  }
  return "";
}

}  // namespace

std::array<size_t, 5> countBySeverity(const ScanResult& r) {
  std::array<size_t, 5> n{};
  for (const Finding& f : r.findings)
    if (!f.suppressed) ++n[static_cast<size_t>(f.severity)];
  return n;
}

// One table per framework: control, status, objects failing of objects checked, and the first
// failing objects.
void renderCompliance(const ComplianceResult& c, std::string& out) {
  fmt::format_to(std::back_inserter(out),
                 "\n{}: score {:.1f}% ({} controls pass, {} fail, {} not applicable, {} not "
                 "evaluated)\n",
                 c.framework->title, c.score, c.passed, c.failed, c.not_applicable,
                 c.not_evaluated);
  size_t id_width = 2, title_width = 0;
  for (const ControlResult& cr : c.controls) {
    id_width = std::max(id_width, cr.control->id.size());
    if (cr.control->title != cr.control->id)
      title_width = std::max(title_width, std::min<size_t>(cr.control->title.size(), 60));
  }
  for (const ControlResult& cr : c.controls) {
    // PSS controls are named by their PSA check ID alone.
    std::string title = cr.control->title == cr.control->id ? std::string()
                        : cr.control->title.size() > 60 ? cr.control->title.substr(0, 57) + "..."
                                                        : cr.control->title;
    fmt::format_to(std::back_inserter(out), "  {:<{}}  {:<{}}  {:<14}", cr.control->id, id_width,
                   title, title_width, cr.status);
    if (cr.status == "pass" || cr.status == "fail")
      fmt::format_to(std::back_inserter(out), "  {} of {} objects failing", cr.failing.size(),
                     cr.checked);
    for (size_t i = 0; i < cr.failing.size() && i < 3; ++i)
      fmt::format_to(std::back_inserter(out), "{}{}", i ? ", " : ": ",
                     cr.failing[i]->displayName());
    if (cr.failing.size() > 3)
      fmt::format_to(std::back_inserter(out), ", and {} more", cr.failing.size() - 3);
    out += '\n';
  }
}

std::string renderText(const ReportContext& ctx) {
  const ScanResult& r = ctx.scan;
  std::string out;
  std::string_view reset = ctx.color ? "\x1b[0m" : "";
  if (r.cluster) {
    const ClusterSource& c = *r.cluster;
    fmt::format_to(std::back_inserter(out),
                   "cluster {} ({}, Kubernetes {}){}{}: {} objects of {} resource types\n",
                   c.context, c.server, c.kubernetes_version, c.identity.empty() ? "" : ", as ",
                   c.identity, c.objects, c.types);
    if (c.control_plane_checked)
      fmt::format_to(std::back_inserter(out), "{}\n",
                     c.apiserver_pods > 0
                         ? fmt::format("control plane: {} kube-apiserver pod{} judged by the cp-* "
                                       "checks",
                                       c.apiserver_pods, c.apiserver_pods == 1 ? "" : "s")
                         : std::string("control plane: not visible (managed by the provider, or "
                                       "not run as pods): its configuration is not judged"));
    if (!c.snapshot.empty())
      fmt::format_to(std::back_inserter(out), "from the snapshot {}{}{}\n", c.snapshot,
                     c.snapshot_taken.empty() ? "" : " taken ", c.snapshot_taken);
    if (!c.not_read.empty()) {
      fmt::format_to(std::back_inserter(out),
                     "INCOMPLETE: {} resource types were not read; the checks that need them "
                     "could not judge them:\n",
                     c.not_read.size());
      for (const std::string& n : c.not_read) fmt::format_to(std::back_inserter(out), "  {}\n", n);
      // Per unread kind, the checks it kept from judging (all of them: a list, wrapped).
      for (const auto& [kind, why] : c.unread_kinds) {
        std::vector<std::string_view> ids;
        for (const ClusterSource::NotEvaluated& ne : c.not_evaluated)
          if (std::find(ne.kinds.begin(), ne.kinds.end(), kind) != ne.kinds.end())
            ids.push_back(ne.check);
        if (ids.empty()) continue;
        std::string line = fmt::format("  not judged for lack of {} ({}), {} check{}:", kind, why,
                                       ids.size(), ids.size() == 1 ? "" : "s");
        for (size_t i = 0; i < ids.size(); ++i) {
          if (line.size() + ids[i].size() + 2 > 100) {
            out += line + "\n";
            line = "   ";
          }
          line += fmt::format(" {}{}", ids[i], i + 1 < ids.size() ? "," : "");
        }
        out += line + "\n";
      }
    }
    out += '\n';
  }
  if (r.audit) {
    const AuditSource& a = *r.audit;
    fmt::format_to(std::back_inserter(out),
                   "audit log{} {}: {} requests ({} events on {} lines), {} judged by the "
                   "detections\n",
                   a.logs.size() == 1 ? "" : "s", join(a.logs, ", "), a.requests, a.events, a.lines,
                   a.judged);
    if (!a.first.empty())
      fmt::format_to(std::back_inserter(out), "from {} to {}\n", a.first, a.last);
    if (!a.since.empty() || !a.until.empty())
      fmt::format_to(std::back_inserter(out), "window: {} to {} ({} requests outside it)\n",
                     a.since.empty() ? "the start" : a.since, a.until.empty() ? "the end" : a.until,
                     a.outside_window);
    if (a.malformed > 0) {
      fmt::format_to(std::back_inserter(out), "{} lines are not audit events, not judged:\n",
                     a.malformed);
      for (const std::string& m : a.malformed_examples)
        fmt::format_to(std::back_inserter(out), "  {}\n", m);
    }
    out += '\n';
  }
  if (ctx.verbose)
    for (const RenderReport& rr : r.renders)
      fmt::format_to(std::back_inserter(out), "rendered {}: {} ({}){}\n", rr.name,
                     render::shellQuote(rr.command),
                     rr.ok ? fmt::format("{} objects", rr.objects) : std::string("failed"),
                     &rr == &r.renders.back() ? "\n" : "");
  std::string_view last_file;
  for (const Finding& f : r.findings) {
    if (f.suppressed) continue;
    if (f.object->file != last_file) {
      if (!last_file.empty()) out += '\n';
      last_file = f.object->file;
    }
    std::string sev(severityName(f.severity));
    if (ctx.color) sev = fmt::format("{}{}{}", colorOf(f.severity), sev, reset);
    SourcePos pos = reportedPos(f);
    fmt::format_to(std::back_inserter(out), "{}:{}:{} {} {} {} [{}", reportedFile(f), pos.line,
                   pos.col, sev, f.check_id, f.message, f.object->displayName());
    if (f.source) {
      fmt::format_to(std::back_inserter(out), ", rendered {}:{}", f.object->file, f.pos.line);
      if (!f.source->values.empty())
        fmt::format_to(std::back_inserter(out), ", values {}", join(f.source->values, ", "));
    } else if (!f.object->helm_source.empty()) {
      fmt::format_to(std::back_inserter(out), ", template {}", f.object->helm_source);
    }
    out += "]\n";
  }
  if (!r.findings.empty() && r.suppressed < r.findings.size()) out += '\n';
  for (const Diagnostic& d : r.diagnostics) {
    if (d.pos.line == 0)
      fmt::format_to(std::back_inserter(out), "warning: {}: {} [{}]\n", d.file, d.message, d.code);
    else
      fmt::format_to(std::back_inserter(out), "warning: {}:{}:{}: {} [{}]\n", d.file, d.pos.line,
                     d.pos.col, d.message, d.code);
  }
  for (const Error& e : r.errors)
    fmt::format_to(std::back_inserter(out), "error: {}\n", e.describe());
  auto n = countBySeverity(r);
  size_t total = n[0] + n[1] + n[2] + n[3] + n[4];
  std::string what = r.audit ? fmt::format("{} requests", r.audit->requests)
                             : fmt::format("{} files, {} objects", r.files.size(), r.objects);
  fmt::format_to(std::back_inserter(out),
                 "{}: {} findings ({} critical, {} high, {} medium, {} low, {} info), {} "
                 "suppressed",
                 what, total, n[4], n[3], n[2], n[1], n[0], r.suppressed);
  if (r.baselined) fmt::format_to(std::back_inserter(out), ", {} in baseline", r.baselined);
  if (r.skipped_documents)
    fmt::format_to(std::back_inserter(out), ", {} documents skipped", r.skipped_documents);
  if (!r.errors.empty())
    fmt::format_to(std::back_inserter(out), ", {} files with errors", r.errors.size());
  out += '\n';
  for (const ComplianceResult& c : r.compliance) renderCompliance(c, out);
  return out;
}

}  // namespace kh
