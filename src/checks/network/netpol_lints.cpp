// network-*: one class, seven metadata records; the analysis itself is netpol::lint().
#include <array>

#include "checks/network/network_checks.h"
#include "checks/scan_index.h"

namespace kh {
namespace {

constexpr std::string_view kNetpolKinds[] = {"NetworkPolicy", "Namespace"};

constexpr CheckMeta meta(std::string_view id, std::string_view title, Severity sev, bool on,
                         std::string_view remediation, CheckRefs refs) {
  return CheckMeta{.id = id,
                   .title = title,
                   .severity = sev,
                   .group = "security",
                   .enabled_by_default = on,
                   .scope = Scope::kKinds,
                   .kinds = kNetpolKinds,
                   .remediation = remediation,
                   .refs = refs};
}

constexpr std::array<CheckMeta, 7> kMetas = {{
    meta("network-allow-all", "NetworkPolicy rule allows everything", Severity::kLow, true,
         "Name the peers and ports the workload needs; replace 0.0.0.0/0 with the ranges it talks "
         "to.",
         {.nsa = "Network separation", .trivy = "KSV-0038", .kubescape = "C-0260"}),
    wholeInput(
        meta("network-egress-blocks-dns", "Egress isolation blocks DNS", Severity::kMedium, true,
             "Add an egress rule allowing UDP (and TCP) port 53 to the cluster DNS (kube-system, "
             "k8s-app: kube-dns).",
             {.nsa = "Network separation"})),
    wholeInput(
        meta("network-named-port-unresolved", "Named port resolves nowhere", Severity::kLow, true,
             "Use a port name that the destination pods define (same protocol), or a number.",
             {.nsa = "Network separation"})),
    wholeInput(meta(
        "network-no-default-deny", "Namespace has no default-deny NetworkPolicy", Severity::kMedium,
        true,
        "Add a policy with podSelector: {} and policyTypes [Ingress, Egress] and no rules, then "
        "allow what "
        "each workload needs.",
        {.cis = "5.3.2",
         .nsa = "Network separation",
         .mitre = "T1021",
         .kube_linter = "non-isolated-pod",
         .kubescape = "C-0260",
         .polaris = "missingNetworkPolicy",
         .checkov = "CKV2_K8S_6"})),
    wholeInput(meta(
        "network-peer-matches-nothing", "NetworkPolicy peer matches nothing", Severity::kLow, true,
        "Fix the selector's labels (a typo leaves the intended peer blocked) or remove the peer.",
        {.nsa = "Network separation"})),
    wholeInput(meta(
        "network-policy-selects-nothing", "NetworkPolicy selects no workload", Severity::kLow, true,
        "Fix spec.podSelector so that it matches the intended pods, or remove the policy.",
        {.nsa = "Network separation", .kube_linter = "dangling-networkpolicy"})),
    wholeInput(meta(
        "network-workload-not-isolated", "Workload is not isolated by any NetworkPolicy",
        Severity::kLow, false,
        "Select the workload with a NetworkPolicy for both directions (a namespace default-deny "
        "does it).",
        {.cis = "5.3.2",
         .nsa = "Network separation",
         .kube_linter = "non-isolated-pod",
         .kubescape = "C-0260",
         .polaris = "missingNetworkPolicy",
         .checkov = "CKV2_K8S_6"})),
}};

class NetpolLintCheck final : public Check {
 public:
  explicit NetpolLintCheck(const CheckMeta& m) : meta_(m) {}
  const CheckMeta& meta() const override { return meta_; }
  void check(const Object&, const CheckContext&, FindingSink&) const override {}
  void finish(const CheckContext& ctx, FindingSink& sink) const override {
    if (!ctx.index) return;
    for (const netpol::LintFinding& l : ctx.index->netpolLints()) {
      if (l.check != meta_.id) continue;
      Finding f = finding(*l.object, l.pos, l.path, l.message);
      f.rule = l.rule;
      sink.add(std::move(f));
    }
  }

 private:
  const CheckMeta& meta_;
};

}  // namespace

void addNetworkChecks(std::vector<std::unique_ptr<Check>>& out) {
  for (const CheckMeta& m : kMetas) out.push_back(std::make_unique<NetpolLintCheck>(m));
  addNetworkExposureChecks(out);
}

}  // namespace kh
