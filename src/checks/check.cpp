#include "checks/check.h"

#include <fmt/format.h>

namespace kh {

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "medium";
}

std::optional<Severity> parseSeverity(std::string_view s) {
  for (Severity v :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical})
    if (severityName(v) == s) return v;
  return std::nullopt;
}

Status Check::configure(const Node* options) {
  if (options && options->isMap() && options->size > 0) {
    const MapEntry& e = options->entries[0];
    return Error{fmt::format("check {} has no option '{}'", meta().id, e.key), "", e.key_pos};
  }
  return {};
}

Finding Check::finding(const Object& obj, SourcePos pos, std::string path, std::string message,
                       std::string_view container) const {
  Finding f;
  f.check_id = meta().id;
  f.severity = meta().severity;
  f.object = &obj;
  f.container = std::string(container);
  f.path = std::move(path);
  f.pos = pos;
  f.message = std::move(message);
  f.remediation = meta().remediation;
  return f;
}

}  // namespace kh
