// A generator of API server audit logs for tests and `make bench`: JSON lines of audit.k8s.io/v1
// Events shaped as k8s.io/apiserver writes them (stages RequestReceived, ResponseStarted for
// long-running requests, ResponseComplete; levels Metadata, Request and RequestResponse with
// their bodies; responseStatus as metav1.Status; impersonation; the authorizer's annotations;
// MicroTime timestamps), over a realistic mix of cluster traffic (controllers and kubelets
// watching and listing, node leases and statuses, people using kubectl) with a known number of
// planted suspicious requests, so a reader of the log can be checked against what was planted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace kh::test {

struct AuditGenOptions {
  uint64_t seed = 1;
  uint64_t requests = 10000;  // stop after this many requests...
  uint64_t max_bytes = 0;     // ...or once this many bytes are written (0: no limit)
  // One request in `planted_every` is a suspicious one (cycling through the kinds below).
  uint64_t planted_every = 1000;
};

struct AuditGenStats {
  uint64_t requests = 0, events = 0, bytes = 0;
  // Planted requests by the check that must report them (one finding each).
  std::map<std::string, uint64_t> planted;
};

// Writes the log through `out`, in chunks of about 1 MiB.
AuditGenStats generateAuditLog(const AuditGenOptions& o,
                               const std::function<void(std::string_view)>& out);

}  // namespace kh::test
