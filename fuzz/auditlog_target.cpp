#include "fuzz/auditlog_target.h"

#include <string>

#include "audit/events.h"

namespace kh {

void fuzzAuditLogOnce(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool merge : {true, false}) {
    audit::ReaderOptions o;
    o.merge = merge;
    o.max_in_flight = 3;
    audit::EventReader r("fuzz.log", text, o);
    audit::Event e;
    uint64_t n = 0;
    while (r.next(e)) {
      if (e.audit_id.empty() || e.stages.empty()) __builtin_trap();
      // What `audit detect` hands the checks: valid JSON that reads back as the same request.
      audit::Event back;
      std::string why;
      if (!audit::parseEvent(audit::eventToJson(e), back, &why)) __builtin_trap();
      if (back.audit_id != e.audit_id || back.user != e.user || back.verb != e.verb ||
          back.resource != e.resource || back.namespace_ != e.namespace_ ||
          back.impersonated_user != e.impersonated_user || back.code != e.code ||
          back.decision != e.decision || back.request_object != e.request_object ||
          back.source_ips != e.source_ips)
        __builtin_trap();
      ++n;
    }
    const audit::ReadStats& s = r.stats();
    if (n != s.requests || s.requests > s.events) __builtin_trap();
    if (!merge && s.requests != s.events) __builtin_trap();
  }
}

}  // namespace kh
