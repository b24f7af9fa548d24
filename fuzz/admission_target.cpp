#include "fuzz/admission_target.h"

#include <memory>
#include <string_view>

#include "admission/handler.h"
#include "admission/image_policy.h"
#include "admission/mutate.h"
#include "admission/review.h"

namespace kh {

void fuzzAdmissionOnce(const uint8_t* data, size_t size) {
  static const Registry* registry = new Registry(makeCatalogue());
  // verifyImages rules of every action (no keys: the verify rule's images get no verdict and
  // are refused, which is the path without a registry).
  static const admission::Policy* policy = [] {
    auto* p = new admission::Policy();
    p->registry = registry;
    auto images = std::make_shared<admission::ImagePolicy>();
    auto rule = [&](std::vector<std::string> patterns, VerifyImagesRule::Action action) {
      admission::ImageRule r;
      r.name = "fuzz";
      for (const std::string& g : patterns) r.patterns.push_back(admission::normalisePattern(g));
      r.action = action;
      r.hash = std::string(64, '0');
      images->rules.push_back(std::move(r));
    };
    rule({"registry.k8s.io/**", "?*/pause:*"}, VerifyImagesRule::Action::kAllow);
    rule({"nginx", "*/*/*:latest"}, VerifyImagesRule::Action::kDeny);
    rule({"**"}, VerifyImagesRule::Action::kVerify);
    p->images = images;
    return p;
  }();
  Arena arena;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto req = admission::decodeRequest(body, arena);
  if (!req) return;
  // The namespace labels come from the body too when it carries a Namespace-like map.
  const Node* labels = get(get(req.value().object, "metadata"), "labels");
  admission::AdmissionResponse resp = admission::decide(req.value(), *policy, labels);
  // A made-up digest for every tag the verify rule governs: the pins go through JSON Patch
  // encoding.
  auto uses = admission::imagesToVerify(req.value(), *policy, labels, true);
  admission::ImageVerdicts verdicts;
  for (const admission::ImageUse& u : uses)
    verdicts[u.key()] = {true, "sha256:" + std::string(64, 'f'), "fuzz"};
  resp.patch = admission::joinPatches(
      admission::mutationPatch(req.value(), admission::MutationPolicy{.default_on = true}, labels),
      admission::pinPatch(uses, *policy->images, verdicts));
  // Patterns from the body against references from the body.
  if (size > 2) {
    std::string_view pattern = body.substr(0, size / 3), text = body.substr(size / 3);
    (void)admission::imageGlobMatch(pattern.substr(0, 64), text.substr(0, 256));
  }
  (void)admission::encodeResponse(req.value().api_version, resp, true);
}

}  // namespace kh
