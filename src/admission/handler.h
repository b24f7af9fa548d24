// The admission decision: a pure function from a decoded AdmissionRequest, the webhook's policy
// and the labels of the request's namespace to the AdmissionResponse. No I/O, no clock, no
// globals: the server (and the tests) supply everything. The same engine as `scan` and `pss`:
// the Pod Security Standards evaluator for the enforce/warn/audit modes, mirroring Pod Security
// Admission, and the scan catalogue for everything else.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admission/image_policy.h"
#include "admission/review.h"
#include "checks/check.h"
#include "checks/registry.h"
#include "config/config.h"
#include "model/object.h"
#include "policy/vap.h"
#include "pss/namespaces.h"

namespace kh::admission {

struct Policy {
  // Modes for namespaces without kubeharden.io/{enforce,warn,audit} labels.
  pss::DefaultPolicies defaults = defaultModes();
  // Enforce the PSS level on workload controllers' templates too (PSA only warns and audits).
  bool enforce_on_controllers = false;
  // Catalogue findings at or above this severity deny in enforce mode (none by default: they
  // warn and audit), and these check/rule pairs always deny there.
  std::optional<Severity> deny_at;
  std::vector<std::string> deny_rules = {"rbac-risky-permission/anonymous-binding"};
  // Exemptions: requests from these are allowed without evaluation (audited).
  std::vector<std::string> exempt_namespaces, exempt_usernames, exempt_groups,
      exempt_runtime_classes;
  const Registry* registry = nullptr;  // the enabled, configured scan checks (may be null)
  // Exceptions of the config file (by kind, namespace, name, container and check, with reason
  // and expiry) suppress catalogue findings; annotations on the object never do.
  const Config* config = nullptr;
  std::string today;  // YYYY-MM-DD, for exception expiry (the caller's clock)
  // admission.verifyImages, compiled (null: no rules). Verdicts needing a registry are passed
  // to decide() by the caller.
  std::shared_ptr<const ImagePolicy> images;
  // admission.policies: ValidatingAdmissionPolicies with their bindings and params, compiled
  // once per configuration (null: none).
  std::shared_ptr<const policy::Bundle> vap;

  static pss::DefaultPolicies defaultModes();
};

// The policy a config file describes (its `admission:` section, its exceptions and checks).
Policy policyFromConfig(const Config& cfg, const Registry* registry, std::string today);

// `images`: the verdicts on the request's images that verify rules govern (image_verifier.h);
// an image a verify rule governs with no verdict here is refused as unverified.
// `uses`: the images imagesToVerify() found for this request (validating), when the caller has
// them already (the server, which verified them); computed here otherwise.
// `namespace_object`: the request's Namespace (CEL's namespaceObject for the
// ValidatingAdmissionPolicies), when known.
AdmissionResponse decide(const AdmissionRequest& req, const Policy& policy,
                         const Node* namespace_labels, const ImageVerdicts* images = nullptr,
                         const std::vector<ImageUse>* uses = nullptr,
                         const Node* namespace_object = nullptr);

// The ValidatingAdmissionPolicies' verdict on a request (policy.vap must be set): merged into
// decide()'s response, exposed for tests and `review`.
policy::Verdict admitPolicies(const AdmissionRequest& req, const Policy& policy,
                              const Node* namespace_labels, const Node* namespace_object);

// Why the request is exempt from evaluation ("namespace", "user", "group", "runtimeClass"), or
// empty.
std::string_view exemption(const AdmissionRequest& req, const Policy& policy, const Object& obj);

// PSA's warning budget: each warning cut to 120 characters (UTF-8 aware), duplicates dropped,
// and no more warnings once their total would pass 4,096 characters.
std::vector<std::string> budgetWarnings(const std::vector<std::string>& in);

}  // namespace kh::admission
