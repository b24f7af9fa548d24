// Detections over the API server's audit events (docs/audit.md, "Detections"): ordinary checks of
// objects of kind Event and apiVersion audit.k8s.io/*, so `kubeharden scan` judges an event file
// as `kubeharden audit detect` judges a log, with one definition of each rule.
#pragma once

#include <memory>
#include <vector>

#include "audit/events.h"
#include "checks/check.h"

namespace kh {

// An audit.k8s.io Event (the Kubernetes Event of core/v1 and events.k8s.io is another kind).
bool isAuditEvent(const Object& o);

class AuditEventCheck : public Check {
 public:
  // Could this request be a finding? Decided on the fields the log reader parses (verb, user,
  // object, outcome), never on a body: `audit detect` loads an event into the model only when an
  // enabled check wants it, so most of a log is read once and dropped.
  virtual bool wants(const audit::Event& e) const = 0;
  bool appliesTo(const Object& o) const override { return isAuditEvent(o); }
  void check(const Object& o, const CheckContext& ctx, FindingSink& sink) const final;
  // A finding at `node` (the event itself when null): `what`, then who made the request, what
  // it was, how it ended, when, from where and with what client.
  Finding at(const Object& o, const audit::Event& e, const Node* node, std::string path,
             std::string_view what) const;

 protected:
  // Called for the events wants() takes, with the event read from `o`.
  virtual void judge(const audit::Event& e, const Object& o, FindingSink& sink) const = 0;
};

// Who made the request, as findings name them: "alice", or "alice (impersonated by bob)".
std::string auditRequester(const audit::Event& e);

void addAuditEventChecks(std::vector<std::unique_ptr<Check>>& out);

}  // namespace kh
