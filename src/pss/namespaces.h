// Namespace policies the way Pod Security Admission reads them from namespace labels
// (pod-security.kubernetes.io/{enforce,audit,warn}[-version]), with PSA's fallbacks: an
// unset mode uses the cluster default (privileged:latest unless configured otherwise), an
// invalid enforce level fails closed to restricted, an invalid audit or warn level fails open
// to privileged, and an invalid version means latest. Pure functions; no I/O.
#pragma once

#include <string>
#include <vector>

#include "model/node.h"
#include "pss/pss.h"

namespace kh::pss {

struct ModePolicy {
  Policy policy;
  bool labelled = false;  // the level label is present (otherwise the default applies)
};

struct NamespacePolicy {
  ModePolicy enforce, audit, warn;
  std::vector<std::string> errors;  // invalid label values, in PSA's words
};

// `labels` is the namespace's metadata.labels map (may be null: every mode is the default).
NamespacePolicy policyFromLabels(const Node* labels);

// The same for another label prefix (kubeharden.io for the admission webhook) with other
// defaults for unlabelled modes. An invalid version label falls back to the mode's default
// version.
struct DefaultPolicies {
  Policy enforce, audit, warn;
};
NamespacePolicy policyFromLabels(const Node* labels, std::string_view prefix,
                                 const DefaultPolicies& defaults);

}  // namespace kh::pss
