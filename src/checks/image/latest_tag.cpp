#include <fmt/format.h>

#include "checks/image/image_checks.h"
#include "checks/util/image_ref.h"

namespace kh {
namespace {

constexpr CheckMeta kLatestTagMeta{
    .id = "image-latest-tag",
    .title = "Image uses the latest tag or no tag",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Pin the image to a version tag, or better to a digest (image@sha256:...), so "
        "every node runs the same, reviewed image.",
    .refs = {.cis = "",
             .nsa = "Image scanning and provenance",
             .pss = "",
             .mitre = "T1525",
             .kube_linter = "latest-tag",
             .trivy = "KSV-0013",
             .kubescape = "C-0075",
             .polaris = "tagNotSpecified",
             .checkov = "CKV_K8S_14"},
};

class ImageLatestTag final : public Check {
 public:
  const CheckMeta& meta() const override { return kLatestTagMeta; }
  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    for (const ContainerRef& c : o.pod->containers) {
      const MapEntry* e = c.node->entry("image");
      if (!e || !e->value->isString()) continue;
      auto ref = parseImageRef(e->value->text);
      if (!ref || !ref->digest.empty()) continue;  // a digest pins the image whatever the tag
      if (!ref->tag.empty() && ref->tag != "latest") continue;
      sink.add(finding(o, e->key_pos, c.path + ".image",
                       fmt::format("container \"{}\" uses image {} ({}), which can change under "
                                   "the same name",
                                   c.name, e->value->text,
                                   ref->tag.empty() ? "no tag means :latest" : "tag :latest"),
                       c.name));
    }
  }
};

}  // namespace

std::unique_ptr<Check> makeImageLatestTag() {
  return std::make_unique<ImageLatestTag>();
}

}  // namespace kh
