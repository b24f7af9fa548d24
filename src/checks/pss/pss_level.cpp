// pss-baseline and pss-restricted: one class, two metadata records (they differ in the level).
#include <fmt/format.h>

#include "checks/pss/pss_checks.h"
#include "pss/pss.h"

namespace kh {
namespace {

constexpr CheckMeta kBaseline{
    .id = "pss-baseline",
    .title = "Pod violates the Pod Security Standards baseline level",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Change the pod spec until `kubeharden pss --level baseline` allows it; the "
        "message names each PSA check and the fields to change.",
    .refs = {.cis = "5.2",
             .nsa = "Pod Security enforcement",
             .pss = "baseline",
             .mitre = "T1611",
             .kube_linter = "",
             .trivy = "",
             .kubescape = "",
             .polaris = "",
             .checkov = ""},
};

constexpr CheckMeta kRestricted{
    .id = "pss-restricted",
    .title = "Pod violates the Pod Security Standards restricted level",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Change the pod spec until `kubeharden pss --level restricted` allows it; the "
        "message names each PSA check and the fields to change.",
    .refs = {.cis = "5.2",
             .nsa = "Pod Security enforcement",
             .pss = "restricted",
             .mitre = "T1611",
             .kube_linter = "",
             .trivy = "",
             .kubescape = "",
             .polaris = "",
             .checkov = ""},
};

class PssLevelCheck final : public Check {
 public:
  PssLevelCheck(const CheckMeta& meta, pss::Level level) : meta_(meta) { policy_.level = level; }
  const CheckMeta& meta() const override { return meta_; }

  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      if (e.key != "version")
        return Error{
            fmt::format("check {} has no option '{}' (expected 'version')", meta_.id, e.key), "",
            e.key_pos};
      auto v = pss::parseVersion(e.value->text, policy_.level);
      if (!v)
        return Error{fmt::format("check {}: version '{}' must be \"latest\" or \"v1.x\"", meta_.id,
                                 e.value->text),
                     "", e.value->pos};
      policy_ = *v;
    }
    return {};
  }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    thread_local pss::Scratch scratch;
    thread_local std::vector<pss::Violation> violations;
    violations.clear();
    pss::evaluate(policy_, *o.pod, scratch, violations);
    for (pss::Violation& v : violations) {
      Finding f =
          finding(o, o.pod->spec->pos, o.pod->path,
                  fmt::format("{}: {} ({})", pss::policyLabel(policy_), v.reason, v.detail));
      f.rule = v.check;
      sink.add(std::move(f));
    }
  }

 private:
  const CheckMeta& meta_;
  pss::Policy policy_;
};

}  // namespace

std::unique_ptr<Check> makePssBaseline() {
  return std::make_unique<PssLevelCheck>(kBaseline, pss::Level::kBaseline);
}
std::unique_ptr<Check> makePssRestricted() {
  return std::make_unique<PssLevelCheck>(kRestricted, pss::Level::kRestricted);
}

}  // namespace kh
