// kubeharden review: the admission webhook's decision for one AdmissionReview, offline. Reads
// the request body (a file or - for stdin), decides it with the webhook's engine and prints the
// AdmissionReview the server would answer. For testing policies and for CI of admission rules.
#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "admission/handler.h"
#include "admission/image_verifier.h"
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
  std::vector<std::string> layouts;   // OCI layouts holding images and their signatures
  std::vector<std::string> policies;  // ValidatingAdmissionPolicies, bindings and params
  std::string k8s_version;
  std::string namespace_file;  // the request's Namespace object (CEL's namespaceObject)
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

  // Namespace labels as a JSON map for the engine (keys and values escaped).
  rapidjson::StringBuffer label_buf;
  rapidjson::Writer<rapidjson::StringBuffer> lw(label_buf);
  lw.StartObject();
  for (const std::string& kv : a.labels) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(kExitUsage, fmt::format("--namespace-label {}: expected KEY=VALUE", kv));
    lw.Key(kv.data(), static_cast<rapidjson::SizeType>(eq));
    lw.String(kv.data() + eq + 1, static_cast<rapidjson::SizeType>(kv.size() - eq - 1));
  }
  lw.EndObject();
  std::string labels(label_buf.GetString(), label_buf.GetSize());

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
  if (!cfg.admission.verify_images.rules.empty()) {
    auto images = admission::compileImagePolicy(cfg.admission.verify_images);
    if (!images) return fail(kExitUsage, images.error().describe());
    if (!images.value()->root_warning.empty())
      std::fprintf(stderr, "kubeharden review: warning: %s\n",
                   images.value()->root_warning.c_str());
    policy.images = images.value();
  }
  // ValidatingAdmissionPolicies: the config's admission.policies and --policy.
  std::vector<std::string> vap_paths = cfg.admission.policies;
  vap_paths.insert(vap_paths.end(), a.policies.begin(), a.policies.end());
  if (!vap_paths.empty()) {
    policy::PolicyOptions po;
    po.k8s_minor = cfg.admission.kubernetes_minor;
    if (!a.k8s_version.empty()) {
      auto minor = cel::parseKubernetesMinor(a.k8s_version);
      if (!minor)
        return fail(kExitUsage, fmt::format("--k8s-version {}: expected 1.{} to 1.{}",
                                            a.k8s_version, cel::kMinK8sMinor, cel::kMaxK8sMinor));
      po.k8s_minor = *minor;
    }
    auto bundle = policy::loadBundle(vap_paths, po);
    if (!bundle) return fail(kExitInput, bundle.error().describe());
    for (const Diagnostic& d : bundle.value()->diagnostics)
      std::fprintf(stderr, "kubeharden review: warning: %s:%u: %s\n", d.file.c_str(), d.pos.line,
                   d.message.c_str());
    policy.vap = bundle.value();
  }
  const Node* namespace_object = nullptr;
  SourceFile ns_file;
  if (!a.namespace_file.empty()) {
    loadFile(a.namespace_file, LoadOptions{}, ns_file);
    if (ns_file.error) return fail(kExitInput, ns_file.error->describe());
    for (const Object& o : ns_file.objects)
      if (o.ref.kind == "Namespace" && o.ref.name == req.value().namespace_)
        namespace_object = o.root;
    if (!namespace_object)
      return fail(kExitInput, fmt::format("{}: no Namespace named \"{}\"", a.namespace_file,
                                          req.value().namespace_));
    if (a.labels.empty()) label_node = get(get(namespace_object, "metadata"), "labels");
  }

  // verifyImages offline: tags resolved and signatures read from the OCI layouts given.
  std::vector<admission::ImageUse> uses =
      admission::imagesToVerify(req.value(), policy, label_node.value(), a.mutate);
  admission::ImageVerdicts verdicts;
  bool verify = std::any_of(uses.begin(), uses.end(),
                            [](const admission::ImageUse& u) { return u.needs_verification; });
  if (verify && a.layouts.empty())
    std::fprintf(stderr,
                 "kubeharden review: warning: verifyImages rules govern images of this request "
                 "and no --oci-layout holds their signatures: they count as unverified\n");
  if (verify && !a.layouts.empty()) {
    auto source = admission::layoutSource(a.layouts);
    if (!source) return fail(kExitInput, source.error().describe());
    admission::ImageVerifier verifier(std::move(source.value()));
    verdicts = verifier.verify(*policy.images, uses,
                               std::chrono::steady_clock::now() + std::chrono::minutes(1));
  }
  admission::AdmissionResponse resp;
  if (a.mutate) {
    resp.uid = std::string(req.value().uid);
    resp.patch = admission::mutationPatch(
        req.value(), {.default_on = cfg.admission.mutate_by_default}, label_node.value());
    if (policy.images)
      resp.patch =
          admission::joinPatches(resp.patch, admission::pinPatch(uses, *policy.images, verdicts));
  } else {
    resp = admission::decide(req.value(), policy, label_node.value(), &verdicts, nullptr,
                             namespace_object);
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
      ->allow_extra_args(false);
  app.add_option("--oci-layout", a->layouts,
                 "An OCI image layout holding images the config's verifyImages rules govern and "
                 "their signatures (skopeo copy --all, cosign save); repeatable")
      ->allow_extra_args(false);
  app.add_option("--policy", a->policies,
                 "ValidatingAdmissionPolicies, their bindings and params to apply too (files or "
                 "directories; repeatable; added to the config's admission.policies)")
      ->type_name("PATH")
      ->allow_extra_args(false);
  app.add_option("--k8s-version", a->k8s_version,
                 "The Kubernetes version whose CEL environment the policies compile in")
      ->type_name("1.N");
  app.add_option("--namespace", a->namespace_file,
                 "A file holding the request's Namespace object (its labels select, and the "
                 "policies read it as namespaceObject)")
      ->type_name("FILE");
  app.add_flag("--mutate", a->mutate, "Answer as the mutating endpoint (secure-default patch)");
  app.add_flag("--enforce-on-controllers", a->enforce_on_controllers,
               "Enforce the Pod Security level on workload controllers too");
  return [a] { return runReview(*a); };
}

}  // namespace kh
