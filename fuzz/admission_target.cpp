#include "fuzz/admission_target.h"

#include <string_view>

#include "admission/handler.h"
#include "admission/mutate.h"
#include "admission/review.h"

namespace kh {

void fuzzAdmissionOnce(const uint8_t* data, size_t size) {
  static const Registry* registry = new Registry(makeCatalogue());
  static const admission::Policy* policy = [] {
    auto* p = new admission::Policy();
    p->registry = registry;
    return p;
  }();
  Arena arena;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto req = admission::decodeRequest(body, arena);
  if (!req) return;
  // The namespace labels come from the body too when it carries a Namespace-like map.
  const Node* labels = get(get(req.value().object, "metadata"), "labels");
  admission::AdmissionResponse resp = admission::decide(req.value(), *policy, labels);
  resp.patch =
      admission::mutationPatch(req.value(), admission::MutationPolicy{.default_on = true}, labels);
  (void)admission::encodeResponse(req.value().api_version, resp, true);
}

}  // namespace kh
