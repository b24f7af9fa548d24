#include "fuzz/auditlog_target.h"

#include <algorithm>
#include <string>
#include <vector>

#include "audit/events.h"
#include "audit/rbac_gen.h"
#include "base/strings.h"

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
  // audit rbac: for the first users the log names, the generated RBAC allows every request they
  // made (its own self-check, which must never fail), and reading with the line filter gives the
  // same requests as reading every line (when nothing is escaped: the filter relies on names
  // appearing verbatim, as the API server writes them).
  std::vector<std::string> users;
  {
    audit::EventReader r("fuzz.log", text);
    audit::Event e;
    while (r.next(e) && users.size() < 2) {
      const std::string& u = e.impersonated_user.empty() ? e.user : e.impersonated_user;
      // (the CLI refuses a name that is not UTF-8: no object could hold it)
      if (!u.empty() && invalidUtf8At(u) == std::string::npos &&
          std::find(users.begin(), users.end(), u) == users.end())
        users.push_back(u);
    }
  }
  for (const std::string& u : users) {
    audit::RbacSubject subject = audit::RbacSubject::user(u);
    bool filtered_compare = false;
    auto collect = [&](bool filtered) {
      audit::RbacCollector c(subject);
      audit::ReaderOptions o;
      // Stages are merged by auditID; here two users' lines may share one, which the API server
      // never writes, and the filter (which skips the other user's stage) would rightly differ.
      // The comparison is made on events as they are, the rest on merged requests.
      o.merge = !filtered_compare;
      if (filtered) o.line_must_contain = c.lineFilter();
      audit::EventReader r("fuzz.log", text, o);
      audit::Event e;
      while (r.next(e)) c.add(e);
      return std::move(c).finish();
    };
    audit::RbacUsage all = collect(false);
    if (all.requests.empty() && all.inexact == 0) __builtin_trap();  // the user made a request
    audit::GeneratedRbac g = audit::generateRbac(all, subject, {});
    if (!audit::checkGenerated(g, all).empty()) __builtin_trap();
    audit::RbacGenOptions wide;
    wide.expand_verbs = true;
    if (!audit::checkGenerated(audit::generateRbac(all, subject, wide), all).empty())
      __builtin_trap();
    if (text.find('\\') == std::string::npos) {
      filtered_compare = true;
      all = collect(false);
      audit::RbacUsage some = collect(true);
      if (some.requests.size() != all.requests.size() || some.total != all.total) __builtin_trap();
    }
  }
}

}  // namespace kh
