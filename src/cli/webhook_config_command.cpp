// kubeharden webhook-config: prints the ValidatingWebhookConfiguration and
// MutatingWebhookConfiguration for a `kubeharden serve` behind a Service, for users who deploy
// without the Helm chart (see admission/webhook_config.h).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "admission/webhook_config.h"
#include "cli/commands.h"

namespace kh {

Runner addWebhookConfigCommand(CLI::App& app) {
  struct Args {
    admission::WebhookConfigOptions o;
    std::string service, ca_bundle;
    std::vector<std::string> exclude;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--service", a->service, "The webhook's Service, NAMESPACE/NAME")->required();
  app.add_option("--ca-bundle", a->ca_bundle,
                 "PEM file of the CA that signed the serving certificate");
  app.add_option("--cert-manager", a->o.cert_manager_certificate,
                 "Instead of --ca-bundle: the cert-manager Certificate NAMESPACE/NAME whose CA "
                 "cainjector injects");
  app.add_option("--port", a->o.port, "The Service's port")->capture_default_str();
  app.add_option("--name", a->o.name, "Name of both configuration objects")->capture_default_str();
  app.add_option("--service-account", a->o.service_account,
                 "The webhook's ServiceAccount, whose requests are not sent to it (default: the "
                 "service's name)");
  app.add_option("--failure-policy", a->o.validating_failure_policy,
                 "Validating webhook failurePolicy (Fail or Ignore)")
      ->capture_default_str();
  app.add_option("--mutating-failure-policy", a->o.mutating_failure_policy,
                 "Mutating webhook failurePolicy (Fail or Ignore)")
      ->capture_default_str();
  app.add_option("--exclude-namespace", a->exclude,
                 "Namespaces never sent to the webhook (default kube-system; the webhook's own "
                 "namespace is always left out)");
  app.add_flag("--mutate-all-namespaces", a->o.mutate_all_namespaces,
               "Mutate wherever kubeharden.io/mutate is not \"false\" (otherwise only where it "
               "is \"true\")");
  return [a] {
    auto fail = [](int code, const std::string& msg) {
      std::fprintf(stderr, "kubeharden webhook-config: %s\n", msg.c_str());
      return code;
    };
    size_t slash = a->service.find('/');
    if (slash == std::string::npos)
      return fail(kExitUsage, fmt::format("--service {}: expected NAMESPACE/NAME", a->service));
    a->o.service_namespace = a->service.substr(0, slash);
    a->o.service_name = a->service.substr(slash + 1);
    if (!a->exclude.empty()) a->o.excluded_namespaces = a->exclude;
    if (!a->ca_bundle.empty()) {
      std::ifstream in(a->ca_bundle, std::ios::binary);
      if (!in) return fail(kExitInput, fmt::format("{}: cannot read", a->ca_bundle));
      std::ostringstream ss;
      ss << in.rdbuf();
      a->o.ca_bundle_pem = ss.str();
      if (a->o.ca_bundle_pem.empty())
        return fail(kExitInput, fmt::format("{}: empty file", a->ca_bundle));
    }
    auto yaml = admission::webhookConfigYaml(a->o);
    if (!yaml) {
      bool input = !a->ca_bundle.empty() && yaml.error().message.starts_with("the CA bundle");
      return fail(input ? kExitInput : kExitUsage,
                  (input ? a->ca_bundle + ": " : std::string()) + yaml.error().message);
    }
    std::fwrite(yaml.value().data(), 1, yaml.value().size(), stdout);
    return kExitClean;
  };
}

}  // namespace kh
