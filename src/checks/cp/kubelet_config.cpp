// cp-kubelet-config: CIS Kubernetes Benchmark v1.12 section 4.2 over KubeletConfiguration files
// (/var/lib/kubelet/config.yaml). A missing field is judged by the configuration file's own
// default (kubelet.config.k8s.io/v1beta1), which differs from the command-line flag's: a file
// without readOnlyPort means 0, without rotateCertificates means false.
#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "checks/cp/cp_checks.h"
#include "checks/cp/flags.h"

namespace kh {
namespace {

constexpr std::string_view kKinds[] = {"KubeletConfiguration"};

constexpr CheckMeta kKubeletConfigMeta{
    .id = "cp-kubelet-config",
    .title = "KubeletConfiguration breaks a CIS recommendation",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kKinds,
    .remediation =
        "Set the field in the kubelet's configuration file as the finding says and "
        "restart the kubelet.",
    .refs =
        {.cis = "4.2",
         .nsa = "Control plane hardening",
         .mitre = "T1609",
         .trivy = "KCV-0079,KCV-0080,KCV-0081,KCV-0082,KCV-0083,KCV-0084,KCV-0085,KCV-0086,KCV-"
                  "0087,KCV-0088,KCV-0089,KCV-0090,KCV-0091,KCV-0092",
         .kubescape = "C-0069,C-0070",
         .checkov =
             "CKV_K8S_138,CKV_K8S_139,CKV_K8S_140,CKV_K8S_141,CKV_K8S_142,CKV_K8S_143,CKV_K8S_144,"
             "CKV_K8S_145,CKV_K8S_146,CKV_K8S_147,CKV_K8S_148,CKV_K8S_149,CKV_K8S_150,CKV_K8S_151"},
};

struct Item {
  std::string_view cis;
  Severity severity;
  std::string_view path;  // dotted field path in the file
  std::string message;
};

const Node* at(const Node* root, std::string_view dotted) {
  const Node* n = root;
  for (std::string_view part : splitTrimmed(dotted, '.')) n = get(n, part);
  return n;
}

std::vector<Item> evaluate(const Node* r) {
  std::vector<Item> out;
  auto is_true = [&](std::string_view p) { return at(r, p) && at(r, p)->isTrue(); };
  auto is_false = [&](std::string_view p) { return at(r, p) && at(r, p)->isFalse(); };
  auto str = [&](std::string_view p) {
    const Node* n = at(r, p);
    return n ? n->text : std::string_view();
  };
  if (is_true("authentication.anonymous.enabled"))
    out.push_back({"4.2.1", Severity::kHigh, "authentication.anonymous.enabled",
                   "anonymous requests to the kubelet API are allowed"});
  if (str("authorization.mode") == "AlwaysAllow")
    out.push_back({"4.2.2", Severity::kHigh, "authorization.mode",
                   "authorization.mode is AlwaysAllow: anyone who reaches the kubelet can run "
                   "commands in its pods"});
  if (str("authentication.x509.clientCAFile").empty())
    out.push_back({"4.2.3", Severity::kMedium, "authentication.x509.clientCAFile",
                   "authentication.x509.clientCAFile is not set: client certificates are not "
                   "verified"});
  if (const Node* p = at(r, "readOnlyPort"); p && p->asInt() && *p->asInt() != 0)
    out.push_back(
        {"4.2.4", Severity::kMedium, "readOnlyPort",
         fmt::format("readOnlyPort is {}: an unauthenticated read-only API is open", *p->asInt())});
  if (std::string_view t = str("streamingConnectionIdleTimeout"); t == "0" || t == "0s")
    out.push_back({"4.2.5", Severity::kLow, "streamingConnectionIdleTimeout",
                   "streamingConnectionIdleTimeout is 0: exec and port-forward sessions never "
                   "time out"});
  if (is_false("makeIPTablesUtilChains"))
    out.push_back(
        {"4.2.6", Severity::kLow, "makeIPTablesUtilChains", "makeIPTablesUtilChains is false"});
  if (!is_true("serverTLSBootstrap") &&
      (str("tlsCertFile").empty() || str("tlsPrivateKeyFile").empty()))
    out.push_back({"4.2.9", Severity::kLow, "tlsCertFile",
                   "tlsCertFile and tlsPrivateKeyFile are not both set (and serverTLSBootstrap is "
                   "off): the kubelet serves a self-signed certificate"});
  if (!is_true("rotateCertificates"))
    out.push_back({"4.2.10", Severity::kMedium, "rotateCertificates",
                   at(r, "rotateCertificates")
                       ? "rotateCertificates is false"
                       : "rotateCertificates is not set and defaults to false in the "
                         "configuration file: client certificates expire unrotated"});
  if (is_false("featureGates.RotateKubeletServerCertificate"))
    out.push_back({"4.2.11", Severity::kLow, "featureGates.RotateKubeletServerCertificate",
                   "the RotateKubeletServerCertificate feature gate is off"});
  if (const Node* suites = at(r, "tlsCipherSuites"); !suites) {
    out.push_back({"4.2.12", Severity::kLow, "tlsCipherSuites",
                   "tlsCipherSuites is not set: Go's default list includes CBC-mode suites"});
  } else {
    std::vector<std::string_view> weak;
    for (const Node* s : suites->seqItems())
      if (!strongCipherSuite(s->text)) weak.push_back(s->text);
    if (!weak.empty())
      out.push_back({"4.2.12", Severity::kLow, "tlsCipherSuites",
                     fmt::format("weak cipher suites allowed: {}", join(weak, ", "))});
  }
  if (const Node* p = at(r, "podPidsLimit"); !p || !p->asInt() || *p->asInt() <= 0)
    out.push_back({"4.2.13", Severity::kLow, "podPidsLimit",
                   "podPidsLimit is not set (-1): one pod can exhaust the node's process IDs"});
  if (!is_true("seccompDefault"))
    out.push_back({"4.2.14", Severity::kLow, "seccompDefault",
                   "seccompDefault is not true: containers without a profile run unconfined"});
  return out;
}

void kubelet(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (Item& it : evaluate(o.root)) {
    // At the field when present, else at its nearest existing parent.
    SourcePos pos = o.root->pos;
    const Node* n = o.root;
    for (std::string_view part : splitTrimmed(it.path, '.')) {
      const MapEntry* e = getEntry(n, part);
      if (!e) break;
      pos = e->key_pos;
      n = e->value;
    }
    Finding f = self.finding(o, pos, std::string(it.path),
                             fmt::format("kubelet (CIS {}): {}", it.cis, it.message));
    f.rule = it.cis;
    f.severity = it.severity;
    sink.add(std::move(f));
  }
}

}  // namespace

void addCpKubeletChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kKubeletConfigMeta, kubelet));
}

void addCpChecks(std::vector<std::unique_ptr<Check>>& out) {
  addCpComponentChecks(out);
  addCpKubeletChecks(out);
  addAuditPolicyChecks(out);
  addEncryptionChecks(out);
  addAdmissionConfigChecks(out);
  addKubeconfigChecks(out);
}

}  // namespace kh
