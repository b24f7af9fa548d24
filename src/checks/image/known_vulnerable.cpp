// image-known-vulnerable: images of cluster components whose tag is a version with a known,
// actively exploited vulnerability, or a component that is end of life. A small curated table of
// facts with their sources; matching every package of every image against advisories is the
// image scanner's job (kubeharden image).
#include <fmt/format.h>

#include <charconv>

#include "checks/image/image_checks.h"
#include "checks/util/image_ref.h"

namespace kh {
namespace {

constexpr CheckMeta kKnownVulnerableMeta{
    .id = "image-known-vulnerable",
    .title = "Component image has a known exploited vulnerability or is end of life",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation = "Upgrade to a fixed version, or replace the end-of-life component.",
    .refs = {.nsa = "Upgrading and application security practices",
             .mitre = "T1190",
             .kubescape = "C-0081,C-0090,C-0091,C-0292"},
};

struct Version {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const Version&) const = default;
};

// "v1.12.0", "1.11.4-debian-12-r3" -> 1.12.0 / 1.11.4; nothing for other tags.
std::optional<Version> tagVersion(std::string_view tag) {
  if (tag.starts_with('v')) tag.remove_prefix(1);
  Version v;
  int* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = tag.data();
  const char* end = tag.data() + tag.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc()) return std::nullopt;
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  return v;
}

// ingress-nginx versions affected by CVE-2025-1974 and the related advisories of March 2025:
// below 1.11.5, and 1.12.0 (fixed in 1.11.5 and 1.12.1). Sources: the Kubernetes security
// advisory for CVE-2025-1974; the Kubernetes blog's Ingress NGINX retirement notice (maintenance
// ended in March 2026).
bool ingressNginxVulnerable(const Version& v) {
  return v < Version{1, 11, 5} || (v >= Version{1, 12, 0} && v < Version{1, 12, 1});
}

bool isIngressNginx(const ImageRef& r) {
  return r.repository.ends_with("ingress-nginx/controller") ||
         r.repository.ends_with("ingress-nginx/controller-chroot") ||
         r.repository.ends_with("/nginx-ingress-controller");
}

void check(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  for (const ContainerRef& c : o.pod->containers) {
    const MapEntry* e = c.node->entry("image");
    if (!e || !e->value->isString()) continue;
    auto ref = parseImageRef(e->value->text);
    if (!ref || !isIngressNginx(*ref)) continue;
    if (auto v = tagVersion(ref->tag); v && ingressNginxVulnerable(*v)) {
      Finding f = self.finding(o, e->key_pos, c.path + ".image",
                               fmt::format("container \"{}\" runs ingress-nginx {}, vulnerable to "
                                           "CVE-2025-1974 (IngressNightmare: unauthenticated "
                                           "remote code execution through the admission "
                                           "webhook); fixed in 1.11.5 and 1.12.1",
                                           c.name, ref->tag),
                               c.name);
      f.rule = "CVE-2025-1974";
      f.severity = Severity::kCritical;
      sink.add(std::move(f));
      continue;
    }
    Finding f = self.finding(o, e->key_pos, c.path + ".image",
                             fmt::format("container \"{}\" runs ingress-nginx ({}), which was "
                                         "retired in March 2026: no further releases or "
                                         "security fixes",
                                         c.name, e->value->text),
                             c.name);
    f.rule = "end-of-life";
    f.severity = Severity::kMedium;
    sink.add(std::move(f));
  }
}

}  // namespace

void addImageKnownVulnerableChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kKnownVulnerableMeta, check));
}

}  // namespace kh
