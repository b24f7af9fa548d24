#include "admission/image_policy.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "admission/handler.h"
#include "admission/mutate.h"
#include "base/strings.h"
#include "model/object.h"
#include "sigstore/builtin_root.h"
#include "sigstore/crypto.h"

namespace kh::admission {
namespace {

std::string sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

// Appends a length-prefixed field, so that no two different rules serialise alike.
void field(std::string& out, std::string_view v) {
  out += fmt::format("{}:", v.size());
  out += v;
}

bool labelsMatch(const std::vector<std::pair<std::string, std::string>>& want, const Node* labels) {
  for (const auto& [k, v] : want) {
    const Node* n = get(labels, k);
    if (!n || !n->isScalar() || n->text != v) return false;
  }
  return true;
}

bool selectsNamespace(const ImageRule& r, std::string_view ns, const Node* labels) {
  if (!r.namespaces.empty() && std::none_of(r.namespaces.begin(), r.namespaces.end(),
                                            [&](const std::string& g) { return globMatch(g, ns); }))
    return false;
  if (std::any_of(r.exclude_namespaces.begin(), r.exclude_namespaces.end(),
                  [&](const std::string& g) { return globMatch(g, ns); }))
    return false;
  return labelsMatch(r.namespace_labels, labels);
}

std::set<std::string_view> imagesOf(const Node* object, std::string_view kind,
                                    std::optional<ContainerList> only = std::nullopt) {
  std::set<std::string_view> out;
  if (!object) return out;
  Object obj = makeObject(object, {});
  if (!obj.pod) return out;
  for (const ContainerRef& c : obj.pod->containers)
    if (!only || c.list == *only) out.insert(getStr(c.node, "image"));
  (void)kind;
  return out;
}

std::set<std::string_view> ephemeralNames(const Node* object) {
  std::set<std::string_view> out;
  if (!object) return out;
  Object obj = makeObject(object, {});
  if (!obj.pod) return out;
  for (const ContainerRef& c : obj.pod->containers)
    if (c.list == ContainerList::kEphemeral) out.insert(c.name);
  return out;
}

}  // namespace

bool ImagePolicy::needsRegistry() const {
  return std::any_of(rules.begin(), rules.end(), [](const ImageRule& r) {
    return r.action == VerifyImagesRule::Action::kVerify;
  });
}

bool imageGlobMatch(std::string_view p, std::string_view t) {
  // dp[j]: pattern[0..i) matches text[0..j). Patterns and references are short.
  std::vector<char> dp(t.size() + 1, 0), next(t.size() + 1, 0);
  dp[0] = 1;
  for (size_t i = 0; i < p.size();) {
    bool star2 = p[i] == '*' && i + 1 < p.size() && p[i + 1] == '*';
    size_t step = star2 ? 2 : 1;
    std::fill(next.begin(), next.end(), 0);
    for (size_t j = 0; j <= t.size(); ++j) {
      if (p[i] == '*') {
        // Zero characters, or one more than a match that already consumed some.
        next[j] = dp[j] || (j > 0 && next[j - 1] && (star2 || t[j - 1] != '/'));
      } else if (j > 0 && dp[j - 1]) {
        next[j] = p[i] == '?' ? t[j - 1] != '/' : p[i] == t[j - 1];
      }
    }
    dp.swap(next);
    i += step;
  }
  return dp[t.size()];
}

std::string normalisePattern(std::string_view p) {
  size_t slash = p.find('/');
  std::string_view first = p.substr(0, slash);
  bool names_registry =
      slash != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost");
  // A wildcard where the registry would be: the pattern says nothing about the registry.
  if (names_registry || p.empty() || p[0] == '*' || p[0] == '?' ||
      (slash != std::string_view::npos && first.find_first_of("*?") != std::string_view::npos))
    return std::string(p);
  if (slash == std::string_view::npos) return "docker.io/library/" + std::string(p);
  return "docker.io/" + std::string(p);
}

bool ruleMatches(const ImageRule& rule, const registry::Reference& ref) {
  std::string name = ref.name();
  std::vector<std::string> forms = {name};
  if (!ref.tag.empty()) forms.push_back(name + ":" + ref.tag);
  if (!ref.digest.empty()) forms.push_back(name + "@" + ref.digest);
  if (!ref.tag.empty() && !ref.digest.empty())
    forms.push_back(name + ":" + ref.tag + "@" + ref.digest);
  for (const std::string& p : rule.patterns)
    for (const std::string& f : forms)
      if (imageGlobMatch(p, f)) return true;
  return false;
}

Result<std::shared_ptr<const ImagePolicy>> compileImagePolicy(const VerifyImagesConfig& c) {
  auto p = std::make_shared<ImagePolicy>();
  p->success_ttl = c.success_ttl;
  p->failure_ttl = c.failure_ttl;
  p->tag_ttl = c.tag_ttl;
  p->ca_file = c.ca_file;
  p->insecure_registries = c.insecure_registries;
  auto err = [&](SourcePos pos, std::string m) { return Error{std::move(m), c.file, pos}; };
  bool keyless = false, verifies = false;
  for (const VerifyImagesRule& r : c.rules) {
    verifies |= r.action == VerifyImagesRule::Action::kVerify;
    for (const VerifyAttestor& a : r.attestors) keyless |= a.key.empty();
  }
  std::string root_text;
  if (verifies) {
    std::string warning;
    auto root = sigstore::loadTrustedRoot(c.trusted_root, &warning);
    if (!root) {
      // Key-based rules verify without a root when they need no log entry.
      if (keyless || !c.trusted_root.empty())
        return err(c.trusted_root_pos,
                   "admission.verifyImages.trustedRoot: " + root.error().describe());
    } else {
      p->root = std::move(root.value());
      p->root_warning = warning;
    }
    if (c.trusted_root.empty())
      root_text = sigstore::builtInRootSource();
    else
      (void)readFileTo(c.trusted_root, root_text);
  }
  std::string root_hash = sha256Hex(root_text);

  for (const VerifyImagesRule& r : c.rules) {
    ImageRule out;
    out.name = r.name;
    for (const std::string& g : r.images) out.patterns.push_back(normalisePattern(g));
    out.namespaces = r.namespaces;
    out.exclude_namespaces = r.exclude_namespaces;
    out.namespace_labels = r.namespace_labels;
    out.action = r.action;
    out.count = r.count;
    out.attestations = r.attestations;
    out.require_signature = r.require_signature;
    out.mutate_digest = r.mutate_digest;
    out.verify_digest = r.verify_digest;
    out.audit = r.audit;
    if (!r.signature_repository.empty()) {
      auto ref = registry::parseReference(r.signature_repository);
      if (!ref)
        return err(r.pos, fmt::format("admission.verifyImages.rules.signatureRepository: {}",
                                      ref.error().message));
      ref.value().tag.clear();
      ref.value().digest.clear();
      out.signature_repository = ref.value();
    }
    std::string material;
    field(material, root_hash);
    for (const VerifyAttestor& a : r.attestors) {
      Attestor at;
      if (!a.key.empty()) {
        std::string pem = a.key;
        bool inline_pem = a.key.starts_with("-----BEGIN");
        if (!inline_pem && !readFileTo(a.key, pem))
          return err(a.pos, fmt::format("admission.verifyImages.rules.attestors: cannot read "
                                        "the key {}",
                                        a.key));
        auto k = sigstore::PublicKey::fromPem(pem);
        if (!k)
          return err(a.pos, fmt::format("admission.verifyImages.rules.attestors: {}: {}",
                                        inline_pem ? "the key" : a.key, k.error().message));
        at.policy.key = k.value();
        at.name = inline_pem ? "key (inline)" : "key " + a.key;
        field(material, "key");
        field(material, pem);
      } else {
        for (const std::string* re : {&a.identity_regexp, &a.issuer_regexp})
          if (!re->empty()) {
            RE2 compiled(*re, RE2::Quiet);
            if (!compiled.ok())
              return err(a.pos, fmt::format("admission.verifyImages.rules.attestors: '{}' is not "
                                            "an RE2 regular expression: {}",
                                            *re, compiled.error()));
          }
        at.policy.identity = a.identity;
        at.policy.identity_regexp = a.identity_regexp;
        at.policy.issuer = a.issuer;
        at.policy.issuer_regexp = a.issuer_regexp;
        at.name = fmt::format("identity {} issuer {}",
                              a.identity.empty() ? "~" + a.identity_regexp : a.identity,
                              a.issuer.empty() ? "~" + a.issuer_regexp : a.issuer);
        for (const std::string* s : {&a.identity, &a.identity_regexp, &a.issuer, &a.issuer_regexp})
          field(material, *s);
      }
      at.policy.require_timestamp = r.require_timestamp;
      out.attestors.push_back(std::move(at));
    }
    field(material, fmt::format("{}/{}/{}/{}", r.count, r.require_signature, r.require_timestamp,
                                out.signature_repository ? out.signature_repository->name() : ""));
    for (const AttestationRequirement& t : r.attestations) {
      field(material, t.type);
      for (const auto& [pointer, glob] : t.predicate) {
        field(material, pointer);
        field(material, glob);
      }
    }
    out.hash = sha256Hex(material);
    p->rules.push_back(std::move(out));
  }
  return std::shared_ptr<const ImagePolicy>(std::move(p));
}

std::string ImageUse::key() const {
  return fmt::format("{}\n{}", rule, image);
}

std::vector<ImageUse> imagesToVerify(const AdmissionRequest& req, const Policy& policy,
                                     const Node* namespace_labels, bool mutating) {
  std::vector<ImageUse> out;
  if (!policy.images || policy.images->rules.empty()) return out;
  if (!req.object || (req.operation != "CREATE" && req.operation != "UPDATE")) return out;
  bool ephemeral_only = req.sub_resource == "ephemeralcontainers";
  if (!req.sub_resource.empty() && !ephemeral_only) return out;
  Object obj = makeObject(req.object, {});
  if (!obj.pod) return out;
  if (!exemption(req, policy, obj).empty()) return out;
  std::set<std::string_view> old_images, old_ephemeral;
  if (req.operation == "UPDATE") {
    old_images = imagesOf(req.old_object, req.kind.kind);
    old_ephemeral = ephemeralNames(req.old_object);
  }
  const ImagePolicy& ip = *policy.images;
  for (const ContainerRef& c : obj.pod->containers) {
    if (ephemeral_only && (c.list != ContainerList::kEphemeral || old_ephemeral.count(c.name)))
      continue;
    std::string_view image = getStr(c.node, "image");
    if (image.empty() || (!ephemeral_only && old_images.count(image))) continue;
    // A reference no runtime could pull is governed by no rule (the pull fails).
    auto ref = registry::parseReference(image);
    if (!ref) continue;
    for (size_t i = 0; i < ip.rules.size(); ++i) {
      const ImageRule& r = ip.rules[i];
      if (!ruleMatches(r, ref.value())) continue;
      // The first rule whose images match decides, if it selects the namespace.
      if (!selectsNamespace(r, req.namespace_, namespace_labels)) break;
      ImageUse u;
      u.pointer = jsonPointer(c.path) + "/image";
      u.image = std::string(image);
      u.ref = ref.value();
      u.rule = i;
      bool tag = ref.value().digest.empty();
      u.needs_verification = r.action == VerifyImagesRule::Action::kVerify &&
                             (mutating ? tag && r.mutate_digest : !tag || !r.verify_digest);
      out.push_back(std::move(u));
      break;
    }
  }
  return out;
}

std::string pinPatch(const std::vector<ImageUse>& uses, const ImagePolicy& policy,
                     const ImageVerdicts& verdicts) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  size_t ops = 0;
  for (const ImageUse& u : uses) {
    const ImageRule& r = policy.rules[u.rule];
    if (!r.mutate_digest || !u.ref.digest.empty()) continue;
    auto it = verdicts.find(u.key());
    if (it == verdicts.end() || it->second.digest.empty()) continue;
    std::string pinned = u.image + "@" + it->second.digest;
    w.StartObject();
    w.Key("op");
    w.String("replace");
    w.Key("path");
    w.String(u.pointer.c_str());
    w.Key("value");
    w.String(pinned.c_str());
    w.EndObject();
    ++ops;
  }
  w.EndArray();
  return ops ? std::string(buf.GetString(), buf.GetSize()) : std::string();
}

std::string joinPatches(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a.substr(0, a.size() - 1) + "," + b.substr(1);
}

}  // namespace kh::admission
