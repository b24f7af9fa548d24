#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/trust.h"

namespace kh {
const char* const kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{"kubeharden: Kubernetes security checks from build to runtime", "kubeharden"};
  app.set_version_flag("--version",
                       std::string("kubeharden ") + kh::kVersion +
                           "\nSigstore trusted root: " + kh::builtInTrustedRootSource());
  app.require_subcommand(1);
  app.fallthrough(false);
  std::vector<std::pair<CLI::App*, kh::Runner>> commands;
  auto add = [&](const char* name, const char* help, kh::Runner (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands.emplace_back(sub, reg(*sub));
  };
  add("scan",
      "Scan Kubernetes manifests and Dockerfiles (files, directories, - for stdin) for "
      "misconfigurations",
      kh::addScanCommand);
  add("dockerfile", "Lint Dockerfiles (dockerfile lint PATH...)", kh::addDockerfileCommand);
  add("cluster", "Review a live cluster read-only (cluster scan)", kh::addClusterCommand);
  add("pss", "Evaluate the Pod Security Standards exactly as Pod Security Admission does",
      kh::addPssCommand);
  add("netpol",
      "Analyse NetworkPolicies: allowed connections (connlist) and single questions (eval)",
      kh::addNetpolCommand);
  add("rbac", "RBAC from manifests: who-can and can, as the API server's authorizer decides",
      kh::addRbacCommand);
  add("serve", "Run the admission webhook (validating and mutating) over HTTPS",
      kh::addServeCommand);
  add("webhook-config",
      "Print the Validating- and MutatingWebhookConfiguration for a kubeharden serve Service",
      kh::addWebhookConfigCommand);
  add("review",
      "Decide one AdmissionReview as the admission webhook would (offline), and print the answer",
      kh::addReviewCommand);
  add("image", "Read container images offline: platform, layers, OS and packages (in progress)",
      kh::addImageCommand);
  add("sigstore", "Verify Sigstore bundles offline (verify-bundle)", kh::addSigstoreCommand);
  add("audit", "The API server's audit policy and logs (audit policy explain, audit coverage)",
      kh::addAuditCommand);
  add("checks", "List every check with its severity and references", kh::addChecksCommand);
  add("explain", "Print the documentation of a check", kh::addExplainCommand);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "kubeharden: %s\nRun 'kubeharden --help' for usage.\n", e.what());
    return kh::kExitUsage;
  }
  for (auto& [sub, run] : commands)
    if (sub->parsed()) return run();
  return kh::kExitUsage;
}
