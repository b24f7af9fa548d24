#include "pss/namespaces.h"

#include <fmt/format.h>

namespace kh::pss {
namespace {

Policy privilegedLatest() {
  Policy p;
  p.level = Level::kPrivileged;
  return p;
}

void readMode(const Node* labels, std::string_view mode, bool fail_closed, ModePolicy& out,
              std::vector<std::string>& errors) {
  std::string level_key = fmt::format("pod-security.kubernetes.io/{}", mode);
  std::string version_key = level_key + "-version";
  out.policy = privilegedLatest();
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
  NamespacePolicy p;
  readMode(labels, "enforce", true, p.enforce, p.errors);
  readMode(labels, "audit", false, p.audit, p.errors);
  readMode(labels, "warn", false, p.warn, p.errors);
  return p;
}

}  // namespace kh::pss
