// kubeharden review: the admission webhook's decision for one AdmissionReview, offline. Reads
// the request body (a file or - for stdin), decides it with the webhook's engine and prints the
// AdmissionReview the server would answer. For testing policies and for CI of admission rules.
#include <fmt/format.h>

#include <cstdio>

#include "admission/handler.h"
#include "admission/mutate.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "load/loader.h"
#include "scan/scan.h"

namespace kh {
namespace {

struct ReviewArgs {
  std::string request = "-";
  std::string config;
  std::vector<std::string> labels;  // namespace labels, k=v
  bool mutate = false;
  bool enforce_on_controllers = false;
};

int runReview(const ReviewArgs& a) {
  auto fail = [](int code, const std::string& msg) {
    std::fprintf(stderr, "kubeharden review: %s\n", msg.c_str());
    return code;
  };
  Config cfg;
  if (!a.config.empty()) {
    auto c = loadConfig(a.config);
    if (!c) return fail(kExitUsage, c.error().describe());
    cfg = std::move(c.value());
  }
  auto registry = buildRegistry(cfg);
  if (!registry) return fail(kExitUsage, registry.error().describe());

  // Namespace labels as a JSON map for the engine.
  std::string labels = "{";
  for (const std::string& kv : a.labels) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(kExitUsage, fmt::format("--namespace-label {}: expected KEY=VALUE", kv));
    labels += fmt::format("{}\"{}\":\"{}\"", labels.size() > 1 ? "," : "", kv.substr(0, eq),
                          kv.substr(eq + 1));
  }
  labels += "}";

  SourceFile src;
  if (!readSource(a.request, LoadOptions{}, src)) return fail(kExitInput, src.error->describe());
  Arena arena;
  auto req = admission::decodeRequest(src.buffer, arena);
  if (!req) {
    Error e = req.error();
    e.file = src.path;
    return fail(kExitInput, e.describe());
  }
  auto label_node = parseJson(labels, arena);
  if (!label_node) return fail(kExitUsage, "--namespace-label: bad key or value");

  admission::Policy policy = admission::policyFromConfig(cfg, registry.value().get(), todayUtc());
  if (a.enforce_on_controllers) policy.enforce_on_controllers = true;
  admission::AdmissionResponse resp;
  if (a.mutate) {
    resp.uid = std::string(req.value().uid);
    resp.patch = admission::mutationPatch(
        req.value(), {.default_on = cfg.admission.mutate_by_default}, label_node.value());
  } else {
    resp = admission::decide(req.value(), policy, label_node.value());
  }
  (void)writeOutput("", admission::encodeResponse(req.value().api_version, resp, a.mutate) + "\n");
  return resp.allowed ? kExitClean : kExitFindings;
}

}  // namespace

Runner addReviewCommand(CLI::App& app) {
  auto a = std::make_shared<ReviewArgs>();
  app.add_option("request", a->request, "AdmissionReview request body (JSON file, - for stdin)")
      ->capture_default_str();
  app.add_option("-c,--config", a->config,
                 "Config file: its admission section, checks, options and exceptions");
  app.add_option("--namespace-label", a->labels,
                 "A label of the request's namespace, KEY=VALUE (repeatable), e.g. "
                 "kubeharden.io/enforce=restricted")
      ->expected(1)
      ->allow_extra_args(false);
  app.add_flag("--mutate", a->mutate, "Answer as the mutating endpoint (secure-default patch)");
  app.add_flag("--enforce-on-controllers", a->enforce_on_controllers,
               "Enforce the Pod Security level on workload controllers too");
  return [a] { return runReview(*a); };
}

}  // namespace kh
