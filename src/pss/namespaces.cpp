#include "pss/namespaces.h"

#include <fmt/format.h>

namespace kh::pss {
namespace {

Policy privilegedLatest() {
  Policy p;
  p.level = Level::kPrivileged;
  return p;
}

void readMode(const Node* labels, std::string_view prefix, std::string_view mode,
              const Policy& dflt, bool fail_closed, ModePolicy& out,
              std::vector<std::string>& errors) {
  std::string level_key = fmt::format("{}/{}", prefix, mode);
  std::string version_key = level_key + "-version";
  out.policy = dflt;
  if (const Node* level = get(labels, level_key)) {
    out.labelled = true;
    if (auto l = parseLevel(level->text)) {
      out.policy.level = *l;
    } else {
      out.policy.level = fail_closed ? Level::kRestricted : Level::kPrivileged;
      errors.push_back(fmt::format(
          "label {}: {} is invalid (must be one of privileged, baseline, restricted); PSA uses {}",
          level_key, level->text, fail_closed ? "restricted" : "privileged"));
    }
  }
  if (const Node* version = get(labels, version_key)) {
    if (auto v = parseVersion(version->text, out.policy.level)) {
      out.policy.minor = v->minor;
      out.policy.latest = v->latest;
    } else {
      errors.push_back(
          fmt::format("label {}: {} is invalid (must be \"latest\" or \"v1.x\"); PSA uses latest",
                      version_key, version->text));
    }
  }
}

}  // namespace

NamespacePolicy policyFromLabels(const Node* labels) {
  return policyFromLabels(labels, "pod-security.kubernetes.io",
                          {privilegedLatest(), privilegedLatest(), privilegedLatest()});
}

NamespacePolicy policyFromLabels(const Node* labels, std::string_view prefix,
                                 const DefaultPolicies& defaults) {
  NamespacePolicy p;
  readMode(labels, prefix, "enforce", defaults.enforce, true, p.enforce, p.errors);
  readMode(labels, prefix, "audit", defaults.audit, false, p.audit, p.errors);
  readMode(labels, prefix, "warn", defaults.warn, false, p.warn, p.errors);
  return p;
}

}  // namespace kh::pss
