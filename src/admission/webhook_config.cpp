#include "admission/webhook_config.h"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "admission/review.h"

namespace kh::admission {
namespace {

// RFC 1123 label, as Kubernetes requires of namespace, service and service-account names.
bool dnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

// RFC 1123 subdomain (object names of the configurations and the Certificate).
bool dnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    if (!dnsLabel(s.substr(start, dot - start))) return false;
    start = dot + 1;
  }
  return true;
}

// The number of PEM certificates in `pem`, or 0 when any block is not a certificate.
int pemCertificates(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                &BIO_free);
  int n = 0;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(x);
    ++n;
  }
  return n;
}

// Workload controllers, judged (validation) and given defaults (mutation) on CREATE and UPDATE.
constexpr const char* kControllerRules = R"(      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
        scope: "Namespaced"
      - apiGroups: ["batch"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["jobs", "cronjobs"]
        scope: "Namespaced"
)";

// The kinds the webhook judges. Core: pods (and their ephemeral containers), the older
// controllers, Services, ConfigMaps (credentials in data), ServiceAccounts and Namespaces (their
// mode labels); apps and batch controllers; Ingresses and NetworkPolicies; RBAC writes.
// Secrets are not sent: their content is the cluster's most sensitive and nothing to judge.
constexpr const char* kValidatingRules = R"(    rules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates", "services", "configmaps", "serviceaccounts", "namespaces"]
        scope: "*"
)";
constexpr const char* kValidatingRulesRest = R"(      - apiGroups: ["networking.k8s.io"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["ingresses", "networkpolicies"]
        scope: "Namespaced"
      - apiGroups: ["rbac.authorization.k8s.io"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]
        scope: "*"
)";

// Mutation: Pods when created (secure defaults) and updated or given ephemeral containers (the
// digest pins of verifyImages), controllers when created or updated (their templates).
constexpr const char* kMutatingRules = R"(    rules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods", "pods/ephemeralcontainers"]
        scope: "Namespaced"
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["replicationcontrollers", "podtemplates"]
        scope: "Namespaced"
)";

}  // namespace

Result<std::string> webhookConfigYaml(const WebhookConfigOptions& o) {
  auto bad = [](std::string m) { return Error{std::move(m), {}, {}}; };
  if (!dnsLabel(o.service_namespace) || !dnsLabel(o.service_name))
    return bad(fmt::format("--service {}/{}: expected NAMESPACE/NAME (RFC 1123 labels)",
                           o.service_namespace, o.service_name));
  if (!dnsSubdomain(o.name)) return bad(fmt::format("--name {}: not a valid object name", o.name));
  std::string sa = o.service_account.empty() ? o.service_name : o.service_account;
  if (!dnsSubdomain(sa)) return bad(fmt::format("--service-account {}: not a valid name", sa));
  for (const auto& p : {o.validating_failure_policy, o.mutating_failure_policy})
    if (p != "Fail" && p != "Ignore")
      return bad(fmt::format("failure policy {}: expected Fail or Ignore", p));
  for (int t : {o.validating_timeout_seconds, o.mutating_timeout_seconds})
    if (t < 1 || t > 30) return bad(fmt::format("timeout {}s: must be 1 to 30 seconds", t));
  if (o.port < 1 || o.port > 65535) return bad(fmt::format("--port {}: out of range", o.port));
  for (const auto& ns : o.excluded_namespaces)
    if (!dnsLabel(ns)) return bad(fmt::format("excluded namespace {}: not a valid name", ns));
  if (o.ca_bundle_pem.empty() == o.cert_manager_certificate.empty())
    return bad("give either a CA bundle or a cert-manager Certificate (NAMESPACE/NAME)");
  std::string annotations, ca;
  if (!o.cert_manager_certificate.empty()) {
    size_t slash = o.cert_manager_certificate.find('/');
    if (slash == std::string::npos || !dnsLabel(o.cert_manager_certificate.substr(0, slash)) ||
        !dnsSubdomain(o.cert_manager_certificate.substr(slash + 1)))
      return bad(
          fmt::format("--cert-manager {}: expected NAMESPACE/NAME", o.cert_manager_certificate));
    annotations = fmt::format("  annotations:\n    cert-manager.io/inject-ca-from: \"{}\"\n",
                              o.cert_manager_certificate);
  } else {
    if (pemCertificates(o.ca_bundle_pem) == 0) return bad("the CA bundle holds no PEM certificate");
    ca = fmt::format("      caBundle: \"{}\"\n", base64(o.ca_bundle_pem));
  }

  std::vector<std::string> excluded = o.excluded_namespaces;
  if (std::find(excluded.begin(), excluded.end(), o.service_namespace) == excluded.end())
    excluded.push_back(o.service_namespace);
  std::string excluded_list;
  for (const auto& ns : excluded)
    excluded_list += fmt::format("{}\"{}\"", excluded_list.empty() ? "" : ", ", ns);

  auto common = [&](std::string_view path, int timeout, std::string_view policy) {
    return fmt::format(
        "    admissionReviewVersions: [\"v1\"]\n"
        "    sideEffects: None\n"
        "    timeoutSeconds: {}\n"
        "    failurePolicy: {}\n"
        "    matchPolicy: Equivalent\n"
        "    clientConfig:\n"
        "      service:\n"
        "        namespace: \"{}\"\n"
        "        name: \"{}\"\n"
        "        path: \"{}\"\n"
        "        port: {}\n"
        "{}"
        "    matchConditions:\n"
        "      - name: not-the-webhook-itself\n"
        "        expression: \"request.userInfo.username != "
        "'system:serviceaccount:{}:{}'\"\n",
        timeout, policy, o.service_namespace, o.service_name, path, o.port, ca, o.service_namespace,
        sa);
  };
  auto selector = [&](bool mutating) {
    std::string s = fmt::format(
        "    namespaceSelector:\n"
        "      matchExpressions:\n"
        "        - key: kubernetes.io/metadata.name\n"
        "          operator: NotIn\n"
        "          values: [{}]\n",
        excluded_list);
    if (mutating)
      s += o.mutate_all_namespaces ? "        - key: kubeharden.io/mutate\n"
                                     "          operator: NotIn\n"
                                     "          values: [\"false\"]\n"
                                   : "        - key: kubeharden.io/mutate\n"
                                     "          operator: In\n"
                                     "          values: [\"true\"]\n";
    return s;
  };

  std::string out;
  out += fmt::format(
      "apiVersion: admissionregistration.k8s.io/v1\n"
      "kind: ValidatingWebhookConfiguration\n"
      "metadata:\n"
      "  name: \"{}\"\n"
      "{}"
      "webhooks:\n"
      "  - name: validate.kubeharden.io\n",
      o.name, annotations);
  out += common("/validate", o.validating_timeout_seconds, o.validating_failure_policy);
  out += selector(false);
  out += kValidatingRules;
  out += kControllerRules;
  out += kValidatingRulesRest;
  out += fmt::format(
      "---\n"
      "apiVersion: admissionregistration.k8s.io/v1\n"
      "kind: MutatingWebhookConfiguration\n"
      "metadata:\n"
      "  name: \"{}\"\n"
      "{}"
      "webhooks:\n"
      "  - name: mutate.kubeharden.io\n",
      o.name, annotations);
  out += common("/mutate", o.mutating_timeout_seconds, o.mutating_failure_policy);
  out += "    reinvocationPolicy: IfNeeded\n";
  out += selector(true);
  out += kMutatingRules;
  out += kControllerRules;
  return out;
}

}  // namespace kh::admission
