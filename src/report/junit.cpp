// JUnit XML: one testsuite per file, one testcase per (object, applicable check), failing where
// an unsuppressed finding stands and skipped where only suppressed ones do.
#include <fmt/format.h>

#include <map>

#include "report/report.h"

namespace kh {
namespace {

std::string xmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += ' ';  // not allowed in XML 1.0
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace

std::string renderJunit(const ReportContext& ctx) {
  const ScanResult& r = ctx.scan;
  std::map<std::pair<const Object*, std::string_view>, std::vector<const Finding*>> by_case;
  for (const Finding& f : r.findings) by_case[{f.object, f.check_id}].push_back(&f);

  std::string body;
  size_t total_tests = 0, total_failures = 0;
  for (const auto& file : r.files) {
    std::string cases;
    size_t tests = 0, failures = 0, skipped = 0;
    for (const Object& o : file->objects) {
      std::vector<const Check*> checks = r.registry->applicable(o);
      for (const Check* c : checks) {
        ++tests;
        std::string classname = xmlEscape(o.displayName());
        fmt::format_to(std::back_inserter(cases), "    <testcase classname=\"{}\" name=\"{}\"",
                       classname, c->meta().id);
        auto it = by_case.find({&o, c->meta().id});
        std::vector<const Finding*> open;
        bool any_suppressed = false;
        if (it != by_case.end())
          for (const Finding* f : it->second) {
            if (f->suppressed)
              any_suppressed = true;
            else
              open.push_back(f);
          }
        if (open.empty() && !any_suppressed) {
          cases += "/>\n";
          continue;
        }
        cases += ">\n";
        if (open.empty()) {
          ++skipped;
          cases += "      <skipped message=\"suppressed\"/>\n";
        } else {
          ++failures;
          std::string text;
          for (const Finding* f : open)
            fmt::format_to(std::back_inserter(text), "{}:{}:{} {} {}\n", reportedFile(*f),
                           reportedPos(*f).line, reportedPos(*f).col, f->path, f->message);
          fmt::format_to(std::back_inserter(cases),
                         "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                         xmlEscape(open.front()->message), severityName(open.front()->severity),
                         xmlEscape(text));
        }
        cases += "    </testcase>\n";
      }
    }
    total_tests += tests;
    total_failures += failures;
    fmt::format_to(std::back_inserter(body),
                   "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" "
                   "errors=\"{}\">\n{}  </testsuite>\n",
                   xmlEscape(file->path), tests, failures, skipped, file->error ? 1 : 0, cases);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubeharden\" tests=\"{}\" "
      "failures=\"{}\">\n{}</testsuites>\n",
      total_tests, total_failures, body);
}

}  // namespace kh
