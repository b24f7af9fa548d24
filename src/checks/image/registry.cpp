// Where images come from and how they are pinned: image-registry-not-allowed (allow and deny
// lists from the config), image-deprecated-registry, image-not-digest-pinned (opt-in) and
// image-pull-policy (opt-in). References are normalised as the runtime resolves them
// (checks/util/image_ref.h) before any comparison.
#include <fmt/format.h>

#include "base/strings.h"
#include "checks/dockerfile/util.h"
#include "checks/image/image_checks.h"
#include "checks/util/image_ref.h"

namespace kh {
namespace {

constexpr std::string_view kDockerfileKind[] = {"Dockerfile"};

constexpr CheckMeta kRegistry{
    .id = "image-registry-not-allowed",
    .title = "Image comes from a registry that is not allowed",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = kDockerfileKind,  // and the base images of Dockerfiles
    .remediation =
        "Pull the image from an allowed registry (mirror it there after review), or "
        "add the registry to the allow list if it is trusted.",
    .refs = {.nsa = "Image scanning and provenance",
             .mitre = "T1525,T1195",
             .trivy = "KSV-0125,KSV-0032,KSV-0033,KSV-0034,KSV-0035",
             .kubescape = "C-0001,C-0078",
             .hadolint = "DL3026"},
};

constexpr CheckMeta kDeprecated{
    .id = "image-deprecated-registry",
    .title = "Image comes from a frozen or deprecated registry",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Move to the registry that replaced it (registry.k8s.io for k8s.gcr.io, "
        "ghcr.io for docker.pkg.github.com); frozen registries get no security fixes.",
    .refs = {.nsa = "Image scanning and provenance", .mitre = "T1525", .kubescape = "C-0253"},
};

constexpr CheckMeta kDigest{
    .id = "image-not-digest-pinned",
    .title = "Image is not pinned by digest",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Refer to the image by digest (name:tag@sha256:...), so the bytes that run "
        "are the bytes that were reviewed and scanned.",
    .refs = {.nsa = "Image scanning and provenance",
             .mitre = "T1525,T1195",
             .kubescape = "C-0306",
             .checkov = "CKV_K8S_43"},
};

constexpr CheckMeta kPull{
    .id = "image-pull-policy",
    .title = "Mutable image tag is not pulled on every start",
    .severity = Severity::kLow,
    .group = "security",
    .enabled_by_default = false,
    .scope = Scope::kPodSpec,
    .kinds = {},
    .remediation =
        "Pin the image by digest, or set imagePullPolicy: Always so the registry "
        "checks the pull credentials and the current image every time.",
    .refs = {.nsa = "Image scanning and provenance",
             .mitre = "T1525",
             .kubescape = "C-0075",
             .polaris = "pullPolicyNotAlways",
             .checkov = "CKV_K8S_15"},
};

// A registry pattern: "ghcr.io", "*.example.com", "registry.example.com:5000/team" (a path
// prefix, matched at "/" boundaries, so "docker.io/acme" never matches "docker.io/acme-evil").
bool matchesPattern(const ImageRef& ref, std::string_view pattern) {
  std::string_view p = trim(pattern);
  while (p.ends_with('/')) p.remove_suffix(1);
  std::string_view host = p.substr(0, p.find('/'));
  std::string_view path = host.size() < p.size() ? p.substr(host.size() + 1) : std::string_view();
  if (host.starts_with("*.")) {
    std::string_view suffix = host.substr(1);  // ".example.com"
    if (!ref.registry.ends_with(suffix) || ref.registry.size() == suffix.size()) return false;
  } else if (host == "index.docker.io" ? ref.registry != "docker.io" : ref.registry != host) {
    return false;
  }
  if (path.empty()) return true;
  std::string_view repo = ref.repository;
  return repo == path || (repo.starts_with(path) && repo[path.size()] == '/');
}

struct Image {
  const MapEntry* entry;
  ImageRef ref;
};

template <typename Fn>
void eachImage(const Object& o, Fn fn) {
  for (const ContainerRef& c : o.pod->containers) {
    const MapEntry* e = c.node->entry("image");
    if (!e || !e->value->isString()) continue;
    auto ref = parseImageRef(e->value->text);
    if (ref) fn(c, Image{e, *ref});
  }
}

class RegistryNotAllowed final : public Check {
 public:
  const CheckMeta& meta() const override { return kRegistry; }

  Status configure(const Node* options) override {
    for (const MapEntry& e : mapOf(options)) {
      std::vector<std::string>* list = e.key == "allow"  ? &allow_
                                       : e.key == "deny" ? &deny_
                                                         : nullptr;
      if (!list || !e.value->isSeq())
        return Error{fmt::format("check {}: unknown option '{}' (expected 'allow: [...]' or "
                                 "'deny: [...]')",
                                 kRegistry.id, e.key),
                     "", e.key_pos};
      for (const Node* n : e.value->seqItems()) {
        std::string_view p = trim(n->str());
        if (p.empty() || p == "*" || p.find("://") != std::string_view::npos)
          return Error{fmt::format("check {}: '{}' is not a registry (expected e.g. ghcr.io, "
                                   "*.example.com or registry.example.com/team)",
                                   kRegistry.id, n->text),
                       "", n->pos};
        list->emplace_back(p);
      }
    }
    return {};
  }

  // Why `ref` is not allowed, or empty when it is.
  std::string refused(const ImageRef& ref) const {
    auto any = [&](const std::vector<std::string>& list) -> const std::string* {
      for (const std::string& p : list)
        if (matchesPattern(ref, p)) return &p;
      return nullptr;
    };
    if (const std::string* d = any(deny_))
      return fmt::format("matches the deny list entry \"{}\"", *d);
    if (!allow_.empty() && !any(allow_)) return "matches no entry of the allow list";
    return {};
  }

  void check(const Object& o, const CheckContext&, FindingSink& sink) const override {
    if (allow_.empty() && deny_.empty()) return;
    if (o.dockerfile) {
      // FROM images of a Dockerfile (stages and scratch are no images; unset ARGs are unknown).
      const dockerfile::Dockerfile& df = *o.dockerfile;
      for (const dockerfile::Stage& st : df.stages) {
        if (st.base_stage >= 0 || st.image_ref == "scratch" ||
            st.image_ref.find('$') != std::string_view::npos)
          continue;
        auto ref = parseImageRef(st.image_ref);
        if (!ref) continue;
        std::string why = refused(*ref);
        if (why.empty()) continue;
        sink.add(finding(o, st.image.pos, dockerfile_checks::pathOf(df, df.instructions[st.from]),
                         fmt::format("FROM {} ({}) {}", st.image_ref, ref->normalized(), why)));
      }
      return;
    }
    eachImage(o, [&](const ContainerRef& c, const Image& img) {
      std::string why = refused(img.ref);
      if (why.empty()) return;
      sink.add(finding(o, img.entry->key_pos, c.path + ".image",
                       fmt::format("container \"{}\" image {} ({}) {}", c.name,
                                   img.entry->value->text, img.ref.normalized(), why),
                       c.name));
    });
  }

 private:
  std::vector<std::string> allow_, deny_;
};

struct Frozen {
  std::string_view pattern, replacement;
};
constexpr Frozen kFrozen[] = {
    {"k8s.gcr.io", "registry.k8s.io"},
    {"gcr.io/google_containers", "registry.k8s.io"},
    {"gcr.io/google-containers", "registry.k8s.io"},
    {"docker.pkg.github.com", "ghcr.io"},
};

void deprecated(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachImage(o, [&](const ContainerRef& c, const Image& img) {
    for (const Frozen& f : kFrozen) {
      if (!matchesPattern(img.ref, f.pattern)) continue;
      sink.add(self.finding(o, img.entry->key_pos, c.path + ".image",
                            fmt::format("container \"{}\" pulls {} from {}, which is frozen; use "
                                        "{}",
                                        c.name, img.entry->value->text, f.pattern, f.replacement),
                            c.name));
      return;
    }
  });
}

void digest(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachImage(o, [&](const ContainerRef& c, const Image& img) {
    if (!img.ref.digest.empty()) return;
    sink.add(self.finding(o, img.entry->key_pos, c.path + ".image",
                          fmt::format("container \"{}\" image {} is not pinned by digest", c.name,
                                      img.entry->value->text),
                          c.name));
  });
}

void pullPolicy(const FnCheck& self, const Object& o, const CheckContext&, FindingSink& sink) {
  eachImage(o, [&](const ContainerRef& c, const Image& img) {
    if (!img.ref.digest.empty()) return;  // a digest cannot change: any policy is fine
    const MapEntry* p = c.node->entry("imagePullPolicy");
    std::string_view policy = p ? p->value->str() : std::string_view();
    // The API server's default: Always for :latest or no tag, IfNotPresent otherwise.
    if (policy.empty())
      policy = img.ref.tag.empty() || img.ref.tag == "latest" ? "Always" : "IfNotPresent";
    if (policy == "Always") return;
    sink.add(self.finding(
        o, p ? p->key_pos : img.entry->key_pos, c.path + ".imagePullPolicy",
        fmt::format("container \"{}\" uses mutable tag {} with pull policy "
                    "{}{}",
                    c.name, img.entry->value->text, policy, p ? "" : " (the default for a tag)"),
        c.name));
  });
}

}  // namespace

void addImageRegistryChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<RegistryNotAllowed>());
  out.push_back(std::make_unique<FnCheck>(kDeprecated, deprecated));
  out.push_back(std::make_unique<FnCheck>(kDigest, digest));
  out.push_back(std::make_unique<FnCheck>(kPull, pullPolicy));
}

}  // namespace kh
