// Policies as code in `kubeharden scan` (docs/policies.md): the ValidatingAdmissionPolicies and
// bindings of the input and of --policy paths applied to every object of the input as the API
// server would apply them to its CREATE (or, with --old, its UPDATE). A verdict is a finding
// `vap:<policy name>` at the object; a policy's errors are diagnostics at the policy.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kh {

struct ScanResult;

struct PolicyScanOptions {
  // Files and directories of policies, bindings and their params: applied, not scanned.
  std::vector<std::string> paths;
  // Earlier versions of the input's objects (matched by apiVersion, kind, namespace and name):
  // those objects are judged as an UPDATE from them.
  std::vector<std::string> old_paths;
  int k8s_minor = 0;  // --k8s-version 1.N; 0: the newest supported
  // Labels of the namespaces the input does not define (a Namespace object's own labels win).
  std::vector<std::pair<std::string, std::string>> namespace_labels;
};

// Adds the policies' findings and diagnostics to `r` (and their files to r.policy_files).
// Unreadable --policy or --old files are input errors of `r`.
void applyPolicies(ScanResult& r, const PolicyScanOptions& opts, unsigned threads);

}  // namespace kh
