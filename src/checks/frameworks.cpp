#include "checks/frameworks.h"

#include <algorithm>
#include <map>

#include "base/strings.h"
#include "pss/pss.h"

namespace kh {
namespace {

// NSA/CISA Kubernetes Hardening Guide (v1.2): the practices kubeharden checks, by section.
const std::vector<Control>& nsaControls() {
  static const std::vector<Control> c = {
      {"NSA-1", "Non-root containers"},
      {"NSA-2", "Immutable container file systems"},
      {"NSA-3", "Image scanning and provenance"},
      {"NSA-4", "Pod Security enforcement"},
      {"NSA-5", "Protecting Pod service account tokens"},
      {"NSA-6", "Hardening container environments"},
      {"NSA-7", "Privileged containers and privilege escalation"},
      {"NSA-8", "Linux capabilities"},
      {"NSA-9", "Host namespaces and host access"},
      {"NSA-10", "Resource policies"},
      {"NSA-11", "Namespaces"},
      {"NSA-12", "Network separation"},
      {"NSA-13", "Secrets"},
      {"NSA-14", "Authentication and authorization"},
      {"NSA-15", "Control plane hardening"},
      {"NSA-16", "Upgrading and application security practices"},
      {"NSA-17", "Audit logging and threat detection"},
  };
  return c;
}

// CIS Kubernetes Benchmark v1.12: the recommendations kubeharden evaluates from manifests
// (section 1.1 and most of 3 and 4.1 are about node files, out of reach of a manifest scan).
const std::vector<Control>& cisControls() {
  static const std::vector<Control> c = {
      {"1.2.1", "API server: anonymous requests disabled"},
      {"1.2.2", "API server: no static token file"},
      {"1.2.3", "API server: DenyServiceExternalIPs admission plugin"},
      {"1.2.4", "API server: kubelet client certificate and key"},
      {"1.2.5", "API server: kubelet certificate authority"},
      {"1.2.6", "API server: authorization mode is not AlwaysAllow"},
      {"1.2.7", "API server: Node authorization"},
      {"1.2.8", "API server: RBAC authorization"},
      {"1.2.9", "API server: EventRateLimit admission plugin"},
      {"1.2.10", "API server: no AlwaysAdmit admission plugin"},
      {"1.2.11", "API server: AlwaysPullImages admission plugin"},
      {"1.2.12", "API server: ServiceAccount admission plugin"},
      {"1.2.13", "API server: NamespaceLifecycle admission plugin"},
      {"1.2.14", "API server: NodeRestriction admission plugin"},
      {"1.2.15", "API server: profiling disabled"},
      {"1.2.16", "API server: audit log path"},
      {"1.2.17", "API server: audit log retention (days)"},
      {"1.2.18", "API server: audit log backups"},
      {"1.2.19", "API server: audit log size"},
      {"1.2.21", "API server: service account lookup"},
      {"1.2.22", "API server: service account key file"},
      {"1.2.23", "API server: etcd client certificate and key"},
      {"1.2.24", "API server: serving certificate and key"},
      {"1.2.25", "API server: client CA"},
      {"1.2.26", "API server: etcd CA"},
      {"1.2.27", "API server: encryption at rest configured"},
      {"1.2.28", "API server: encryption providers appropriately configured"},
      {"1.2.29", "API server: strong TLS cipher suites"},
      {"1.2.30", "API server: service account token expiration not extended"},
      {"1.3.1", "Controller manager: terminated pod GC threshold"},
      {"1.3.2", "Controller manager: profiling disabled"},
      {"1.3.3", "Controller manager: per-controller service account credentials"},
      {"1.3.4", "Controller manager: service account private key"},
      {"1.3.5", "Controller manager: root CA file"},
      {"1.3.6", "Controller manager: kubelet server certificate rotation"},
      {"1.3.7", "Controller manager: bound to localhost"},
      {"1.4.1", "Scheduler: profiling disabled"},
      {"1.4.2", "Scheduler: bound to localhost"},
      {"2.1", "etcd: serving certificate and key"},
      {"2.2", "etcd: client certificate authentication"},
      {"2.3", "etcd: no self-signed auto TLS"},
      {"2.4", "etcd: peer certificate and key"},
      {"2.5", "etcd: peer client certificate authentication"},
      {"2.6", "etcd: no self-signed peer auto TLS"},
      {"2.7", "etcd: a CA of its own"},
      {"3.2.1", "A minimal audit policy is created"},
      {"3.2.2", "The audit policy covers key security concerns"},
      {"4.2.1", "Kubelet: anonymous requests disabled"},
      {"4.2.2", "Kubelet: authorization mode is not AlwaysAllow"},
      {"4.2.3", "Kubelet: client CA"},
      {"4.2.4", "Kubelet: read-only port disabled"},
      {"4.2.5", "Kubelet: streaming connection idle timeout"},
      {"4.2.6", "Kubelet: iptables utility chains"},
      {"4.2.9", "Kubelet: serving certificate and key"},
      {"4.2.10", "Kubelet: client certificate rotation"},
      {"4.2.11", "Kubelet: server certificate rotation"},
      {"4.2.12", "Kubelet: strong TLS cipher suites"},
      {"4.2.13", "Kubelet: pod PID limit"},
      {"4.2.14", "Kubelet: RuntimeDefault seccomp by default"},
      {"5.1.1", "cluster-admin used only where required"},
      {"5.1.2", "Minimal access to Secrets"},
      {"5.1.3", "Minimal wildcards in Roles and ClusterRoles"},
      {"5.1.4", "Minimal access to create pods"},
      {"5.1.5", "Default service accounts not actively used"},
      {"5.1.6", "Service account tokens mounted only where necessary"},
      {"5.1.7", "No use of the system:masters group"},
      {"5.1.8", "Limited bind, impersonate and escalate permissions"},
      {"5.1.9", "Minimal access to create PersistentVolumes"},
      {"5.1.10", "Minimal access to the nodes/proxy subresource"},
      {"5.1.11", "Minimal access to approve CertificateSigningRequests"},
      {"5.1.12", "Minimal access to webhook configurations"},
      {"5.1.13", "Minimal access to create service account tokens"},
      {"5.2.1", "An active policy control mechanism"},
      {"5.2.2", "No privileged containers"},
      {"5.2.3", "No sharing of the host PID namespace"},
      {"5.2.4", "No sharing of the host IPC namespace"},
      {"5.2.5", "No sharing of the host network namespace"},
      {"5.2.6", "No allowPrivilegeEscalation"},
      {"5.2.7", "No root containers"},
      {"5.2.8", "No NET_RAW capability"},
      {"5.2.9", "No added capabilities"},
      {"5.2.10", "No capabilities assigned"},
      {"5.2.11", "No Windows HostProcess containers"},
      {"5.2.12", "No HostPath volumes"},
      {"5.2.13", "No HostPorts"},
      {"5.3.2", "Every namespace has NetworkPolicies"},
      {"5.4.1", "Secrets as files rather than environment variables"},
      {"5.4.2", "External secret storage"},
      {"5.7.1", "Administrative boundaries with namespaces"},
      {"5.7.2", "seccomp profile RuntimeDefault"},
      {"5.7.3", "Security context on pods and containers"},
      {"5.7.4", "The default namespace is not used"},
  };
  return c;
}

// MITRE ATT&CK techniques of the Containers matrix that kubeharden's checks bear on.
const std::vector<Control>& mitreControls() {
  static const std::vector<Control> c = {
      {"T1021", "Remote Services"},
      {"T1036", "Masquerading"},
      {"T1040", "Network Sniffing"},
      {"T1053.007", "Scheduled Task/Job: Container Orchestration Job"},
      {"T1068", "Exploitation for Privilege Escalation"},
      {"T1078", "Valid Accounts"},
      {"T1090", "Proxy"},
      {"T1098", "Account Manipulation"},
      {"T1133", "External Remote Services"},
      {"T1136", "Create Account"},
      {"T1190", "Exploit Public-Facing Application"},
      {"T1195", "Supply Chain Compromise"},
      {"T1496", "Resource Hijacking"},
      {"T1525", "Implant Internal Image"},
      {"T1528", "Steal Application Access Token"},
      {"T1548", "Abuse Elevation Control Mechanism"},
      {"T1552", "Unsecured Credentials"},
      {"T1552.007", "Unsecured Credentials: Container API"},
      {"T1557", "Adversary-in-the-Middle"},
      {"T1565", "Data Manipulation"},
      {"T1609", "Container Administration Command"},
      {"T1610", "Deploy Container"},
      {"T1611", "Escape to Host"},
  };
  return c;
}

std::vector<Control> pssControls(pss::Level level) {
  std::vector<Control> out;
  pss::Policy p;
  p.level = level;
  for (std::string_view id : pss::checkIds(p)) {
    // Restricted replaces some baseline checks with stricter ones of its own; the ID says which.
    out.push_back({std::string(id), std::string(id)});
  }
  return out;
}

const std::vector<Framework>& all() {
  static const std::vector<Framework> f = {
      {"nsa", "NSA/CISA Kubernetes Hardening Guide v1.2", nsaControls()},
      {"cis", "CIS Kubernetes Benchmark v1.12", cisControls()},
      {"pss-baseline", "Pod Security Standards: baseline (latest)",
       pssControls(pss::Level::kBaseline)},
      {"pss-restricted", "Pod Security Standards: restricted (latest)",
       pssControls(pss::Level::kRestricted)},
      {"mitre", "MITRE ATT&CK for Containers", mitreControls()},
  };
  return f;
}

// Sub-rules that bear on narrower CIS controls than their check's refs.
const std::map<std::string, std::vector<std::string_view>, std::less<>>& cisByRule() {
  static const std::map<std::string, std::vector<std::string_view>, std::less<>> m = {
      // the files the API server's flags name
      {"cp-apiserver-config-files/encryption-provider-config", {"1.2.27"}},
      {"cp-apiserver-config-files/audit-policy-file", {"3.2.1"}},
      // rbac-risky-permission's risks
      {"rbac-risky-permission/cluster-admin", {"5.1.1"}},
      {"rbac-risky-permission/namespace-admin", {"5.1.1"}},
      {"rbac-risky-permission/secrets-read", {"5.1.2"}},
      {"rbac-risky-permission/workload-create", {"5.1.4"}},
      {"rbac-risky-permission/escalate-or-bind", {"5.1.8"}},
      {"rbac-risky-permission/impersonate", {"5.1.8"}},
      {"rbac-risky-permission/rbac-write", {"5.1.8"}},
      {"rbac-risky-permission/persistentvolume-create", {"5.1.9"}},
      {"rbac-risky-permission/nodes-proxy", {"5.1.10"}},
      {"rbac-risky-permission/csr-approve", {"5.1.11"}},
      {"rbac-risky-permission/webhook-config-write", {"5.1.12"}},
      {"rbac-risky-permission/token-create", {"5.1.13"}},
      // PSA checks of pss-baseline and pss-restricted
      {"privileged", {"5.2.2"}},
      {"hostNamespaces", {"5.2.3", "5.2.4", "5.2.5"}},
      {"allowPrivilegeEscalation", {"5.2.6"}},
      {"runAsNonRoot", {"5.2.7"}},
      {"runAsUser", {"5.2.7"}},
      {"capabilities_baseline", {"5.2.9"}},
      {"capabilities_restricted", {"5.2.8", "5.2.10"}},
      {"windowsHostProcess", {"5.2.11"}},
      {"hostPathVolumes", {"5.2.12"}},
      {"hostPorts", {"5.2.13"}},
      {"seccompProfile_baseline", {"5.7.2"}},
      {"seccompProfile_restricted", {"5.7.2"}},
  };
  return m;
}

bool known(const Framework& fw, std::string_view id) {
  for (const Control& c : fw.controls)
    if (c.id == id) return true;
  return false;
}

void addUnique(std::vector<std::string_view>& out, std::string_view id) {
  if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

}  // namespace

std::span<const Framework> frameworks() {
  return all();
}

const Framework* findFramework(std::string_view id) {
  for (const Framework& f : all())
    if (f.id == id) return &f;
  return nullptr;
}

std::vector<std::string_view> controlsOf(const Framework& fw, const CheckMeta& meta,
                                         std::string_view rule) {
  std::vector<std::string_view> out;
  const bool pss_check = meta.id == "pss-baseline" || meta.id == "pss-restricted";
  if (fw.id == "nsa") {
    for (std::string_view t : splitTrimmed(meta.refs.nsa, ','))
      for (const Control& c : fw.controls)
        if (c.title == t) addUnique(out, c.id);
  } else if (fw.id == "mitre") {
    for (std::string_view t : splitTrimmed(meta.refs.mitre, ','))
      if (known(fw, t)) addUnique(out, t);
  } else if (fw.id == "cis") {
    const auto& by_rule = cisByRule();
    std::string key = std::string(meta.id) + "/" + std::string(rule);
    if (!rule.empty()) {
      if (auto it = by_rule.find(key); it != by_rule.end()) return it->second;
      // A check whose sub-rules are mapped one by one: an unmapped rule bears on no control.
      auto next = by_rule.lower_bound(std::string(meta.id) + "/");
      if (next != by_rule.end() && next->first.starts_with(std::string(meta.id) + "/")) return out;
      if (pss_check) {
        if (auto it = by_rule.find(rule); it != by_rule.end()) return it->second;
        return out;  // restrictedVolumes, sysctls, ...: no CIS recommendation of its own
      }
      if (meta.id.starts_with("cp-")) {
        if (known(fw, rule)) out.push_back(rule);
        return out;
      }
    }
    for (std::string_view ref : splitTrimmed(meta.refs.cis, ',')) {
      if (known(fw, ref)) {
        addUnique(out, ref);
        continue;
      }
      // A section ("1.2", "5.2"): every control in it (cp-* and pss-* checks).
      std::string prefix = std::string(ref) + ".";
      for (const Control& c : fw.controls)
        if (c.id.starts_with(prefix)) addUnique(out, c.id);
    }
    if (rule.empty())
      for (const auto& [k, ids] : by_rule)
        if (k.starts_with(std::string(meta.id) + "/"))
          for (std::string_view id : ids) addUnique(out, id);
  } else {  // pss-baseline, pss-restricted
    auto level_ok = [&](std::string_view level) {
      return level == "baseline" || (fw.id == "pss-restricted" && level == "restricted");
    };
    if (pss_check) {
      if (meta.id == "pss-restricted" && fw.id == "pss-baseline") return out;
      if (!rule.empty()) {
        if (known(fw, rule)) out.push_back(rule);
        return out;
      }
      for (const Control& c : fw.controls) out.push_back(c.id);
      return out;
    }
    for (std::string_view ref : splitTrimmed(meta.refs.pss, ',')) {
      size_t colon = ref.find(':');
      if (colon == std::string_view::npos || !level_ok(ref.substr(0, colon))) continue;
      std::string_view id = ref.substr(colon + 1);
      // Restricted replaces four baseline checks with stricter versions of the same control.
      if (fw.id == "pss-restricted") {
        static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
            {"capabilities_baseline", "capabilities_restricted"},
            {"hostPathVolumes", "restrictedVolumes"},
            {"seccompProfile_baseline", "seccompProfile_restricted"},
            {"procMount", "procMount_restricted"}};
        for (const auto& [from, to] : kOverrides)
          if (id == from && !known(fw, id)) id = to;
      }
      if (known(fw, id)) addUnique(out, id);
    }
  }
  return out;
}

}  // namespace kh
