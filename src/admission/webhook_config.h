// The ValidatingWebhookConfiguration and MutatingWebhookConfiguration that route the API server
// to `kubeharden serve`, as YAML: what `kubeharden webhook-config` prints and what the Helm
// chart (deploy/helm/kubeharden) renders; a test holds the two to the same objects.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace kh::admission {

struct WebhookConfigOptions {
  std::string name = "kubeharden";  // of both configuration objects
  std::string service_namespace, service_name;
  int port = 443;
  // Exactly one of: the CA bundle (PEM) that signed the serving certificate, or a cert-manager
  // Certificate ("NAMESPACE/NAME") whose CA cert-manager's cainjector fills in.
  std::string ca_bundle_pem;
  std::string cert_manager_certificate;
  std::string validating_failure_policy = "Fail";
  std::string mutating_failure_policy = "Ignore";
  int validating_timeout_seconds = 3, mutating_timeout_seconds = 2;
  // The webhook's own ServiceAccount (its requests are never sent to it); default: the service's
  // name in the service's namespace.
  std::string service_account;
  // Mutate in every namespace not labelled kubeharden.io/mutate=false (otherwise only where it is
  // "true"); mirrors the config's admission.mutateByDefault.
  bool mutate_all_namespaces = false;
  // Never sent to the webhook (the webhook's own namespace is always added).
  std::vector<std::string> excluded_namespaces = {"kube-system"};
};

// Checks the options (service NS/NAME given, policies Fail or Ignore, timeouts 1..30, a CA bundle
// that is PEM certificates) and renders the two objects as one YAML stream.
Result<std::string> webhookConfigYaml(const WebhookConfigOptions& o);

}  // namespace kh::admission
