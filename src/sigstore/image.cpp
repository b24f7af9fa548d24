#include "sigstore/image.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "base/json_util.h"
#include "base/strings.h"
#include "registry/reference.h"
#include "sigstore/bundle.h"
#include "sigstore/cosign.h"
#include "sigstore/crypto.h"

namespace kh::sigstore {

namespace {

constexpr size_t kMaxSignatureBlob = 4 << 20;

void fail(Candidate& c, const std::string& message) {
  size_t colon = message.find(": ");
  static const char* kReasons[] = {"signature", "digest",      "identity", "issuer",
                                   "tlog",      "certificate", "timestamp"};
  std::string head = colon == std::string::npos ? "" : message.substr(0, colon);
  bool known = std::find(std::begin(kReasons), std::end(kReasons), head) != std::end(kReasons);
  c.reason = known ? head : "malformed";
  c.message = known ? message.substr(colon + 2) : message;
}

// The predicate type of an in-toto statement, or empty.
std::string predicateType(const std::string& statement) {
  rapidjson::Document d;
  d.Parse(statement.data(), statement.size());
  return std::string(jsonString(d, "predicateType"));
}

std::vector<std::pair<std::string, std::string>> layersOf(const std::string& manifest) {
  std::vector<std::pair<std::string, std::string>> out;  // (digest, media type)
  rapidjson::Document d;
  d.Parse(manifest.data(), manifest.size());
  if (auto it = d.IsObject() ? d.FindMember("layers") : d.MemberEnd();
      d.IsObject() && it != d.MemberEnd() && it->value.IsArray())
    for (const auto& l : it->value.GetArray())
      out.emplace_back(jsonString(l, "digest"), jsonString(l, "mediaType"));
  return out;
}

std::map<std::string, std::string> annotationsOf(const std::string& manifest, size_t layer) {
  std::map<std::string, std::string> out;
  rapidjson::Document d;
  d.Parse(manifest.data(), manifest.size());
  if (!d.IsObject() || !d.HasMember("layers") || !d["layers"].IsArray() ||
      d["layers"].Size() <= layer)
    return out;
  const auto& l = d["layers"][static_cast<rapidjson::SizeType>(layer)];
  if (auto it = l.FindMember("annotations"); it != l.MemberEnd() && it->value.IsObject())
    for (const auto& m : it->value.GetObject())
      if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  return out;
}

class RegistryStore : public SignatureStore {
 public:
  explicit RegistryStore(registry::Client c) : c_(std::move(c)) {}
  Result<std::optional<registry::Fetched>> manifest(const std::string& ident) override {
    return c_.manifestIfAny(ident);
  }
  Result<std::optional<registry::Fetched>> referrers(const std::string& digest) override {
    return c_.referrers(digest);
  }
  Result<std::string> blob(const std::string& digest) override {
    return c_.smallBlob(digest, kMaxSignatureBlob);
  }
  std::string where() const override { return c_.reference().name(); }

 private:
  registry::Client c_;
};

class LayoutStore : public SignatureStore {
 public:
  static Result<std::unique_ptr<LayoutStore>> open(const std::string& dir) {
    auto s = std::make_unique<LayoutStore>();
    s->dir_ = dir;
    std::string index;
    if (!readFileTo(dir + "/oci-layout", index) || !readFileTo(dir + "/index.json", index))
      return Error{"not an OCI image layout (no oci-layout or index.json)", dir, {}};
    rapidjson::Document d;
    d.Parse(index.data(), index.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("manifests") ||
        !d["manifests"].IsArray())
      return Error{"index.json is not an image index", dir, {}};
    for (const auto& m : d["manifests"].GetArray()) {
      std::string digest(jsonString(m, "digest"));
      s->all_.push_back(digest);
      if (auto it = m.FindMember("annotations"); it != m.MemberEnd())
        if (auto name = jsonString(it->value, "org.opencontainers.image.ref.name"); !name.empty())
          s->tags_[std::string(name)] = digest;
    }
    return s;
  }
  Result<std::optional<registry::Fetched>> manifest(const std::string& ident) override {
    std::string digest = ident.starts_with("sha256:") ? ident : "";
    if (digest.empty()) {
      auto it = tags_.find(ident);
      if (it == tags_.end()) return std::optional<registry::Fetched>();
      digest = it->second;
    }
    auto body = blob(digest);
    if (!body) return std::optional<registry::Fetched>();
    registry::Fetched f;
    f.digest = digest;
    f.body = std::move(body.value());
    rapidjson::Document d;
    d.Parse(f.body.data(), f.body.size());
    f.media_type = std::string(jsonString(d, "mediaType"));
    return std::optional<registry::Fetched>(std::move(f));
  }
  // Every manifest of the layout whose subject is `digest` (the layout has no referrers API).
  Result<std::optional<registry::Fetched>> referrers(const std::string& digest) override {
    rapidjson::Document out(rapidjson::kObjectType);
    auto& al = out.GetAllocator();
    out.AddMember("schemaVersion", 2, al);
    rapidjson::Value list(rapidjson::kArrayType);
    // The layout's manifests, and those of its indexes (a copied referrers tag is an index).
    std::vector<std::string> scan = all_;
    for (const std::string& m : all_) {
      auto body = blob(m);
      rapidjson::Document d;
      if (body) d.Parse(body->data(), body->size());
      if (body && d.IsObject() && d.HasMember("manifests") && d["manifests"].IsArray())
        for (const auto& c : d["manifests"].GetArray()) scan.emplace_back(jsonString(c, "digest"));
    }
    for (const std::string& m : scan) {
      auto body = blob(m);
      if (!body) continue;
      rapidjson::Document d;
      d.Parse(body->data(), body->size());
      if (!d.IsObject() || !d.HasMember("subject") || jsonString(d["subject"], "digest") != digest)
        continue;
      rapidjson::Value e(rapidjson::kObjectType);
      e.AddMember("digest", rapidjson::Value(m.c_str(), al), al);
      std::string type(jsonString(d, "artifactType"));
      e.AddMember("artifactType", rapidjson::Value(type.c_str(), al), al);
      list.PushBack(e, al);
    }
    if (list.Empty()) return std::optional<registry::Fetched>();
    out.AddMember("manifests", list, al);
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    out.Accept(w);
    registry::Fetched f;
    f.media_type = registry::kOciIndex;
    f.body = sb.GetString();
    return std::optional<registry::Fetched>(std::move(f));
  }
  Result<std::string> blob(const std::string& digest) override {
    // Checked before it becomes a path: 64 hex digits, nothing else.
    auto want = digest.starts_with("sha256:") && digest.size() == 71
                    ? unhex(digest.substr(7))
                    : Result<std::string>(Error{"", {}, {}});
    if (!want) return Error{fmt::format("{} is not a sha256 digest", digest), dir_, {}};
    std::string path = dir_ + "/blobs/sha256/" + digest.substr(7), body;
    if (!readFileTo(path, body)) return Error{fmt::format("blob {} is missing", digest), dir_, {}};
    if (sha256(body) != want.value())
      return Error{fmt::format("blob {} is not what its name says: corrupt", digest), dir_, {}};
    return body;
  }
  std::string where() const override { return dir_; }
  // The image the layout holds: the one manifest not named as a signature, attestation or
  // referrers tag.
  Result<std::string> image(const std::string& want) const {
    if (!want.empty()) {
      if (want.starts_with("sha256:")) return want;
      auto it = tags_.find(want);
      if (it == tags_.end()) return Error{fmt::format("no image tagged {}", want), dir_, {}};
      return it->second;
    }
    std::set<std::string> images;
    for (const auto& [tag, digest] : tags_)
      if (!tag.starts_with("sha256-")) images.insert(digest);
    if (images.size() != 1)
      return Error{fmt::format("the layout names {} images: say which (DIR:TAG or DIR@DIGEST)",
                               images.size()),
                   dir_,
                   {}};
    return *images.begin();
  }

 private:
  std::string dir_;
  std::vector<std::string> all_;
  std::map<std::string, std::string> tags_;
};

}  // namespace

std::unique_ptr<SignatureStore> registryStore(registry::Client client) {
  return std::make_unique<RegistryStore>(std::move(client));
}

Result<OpenedLayout> openLayout(const std::string& dir, const std::string& want) {
  auto layout = LayoutStore::open(dir);
  if (!layout) return layout.error();
  auto digest = layout.value()->image(want);
  if (!digest) return digest.error();
  return OpenedLayout{std::move(layout.value()), digest.value()};
}

bool ImageSignatures::verified() const {
  return std::any_of(candidates.begin(), candidates.end(),
                     [](const Candidate& c) { return c.verified; });
}

Result<ImageSignatures> verifyImage(SignatureStore& sigs, const std::string& digest,
                                    const Policy& policy, const TrustedRoot& root,
                                    const std::string& attestation_type) {
  std::string hex = digest.substr(digest.find(':') + 1);
  auto digest_raw = unhex(hex);
  if (!digest_raw || digest_raw.value().size() != 32)
    return Error{digest + " is not a sha256 digest", {}, {}};
  Artifact image_digest;
  image_digest.sha256 = digest_raw.value();
  image_digest.digest_only = true;
  bool attest = !attestation_type.empty();

  ImageSignatures out;
  std::vector<Candidate>& found = out.candidates;
  // 1. cosign's legacy tags: sha256-<hex>.sig (or .att), one signature per layer.
  std::string tag = fmt::format("sha256-{}.{}", hex, attest ? "att" : "sig");
  out.legacy_tag = tag;
  auto legacy = sigs.manifest(tag);
  if (!legacy) return legacy.error();
  if (legacy.value()) {
    const std::string& body = legacy.value()->body;
    auto layers = layersOf(body);
    for (size_t i = 0; i < layers.size(); ++i) {
      Candidate c;
      c.source = fmt::format("tag {} layer {}", tag, i);
      c.kind = attest ? "cosign attestation" : "cosign signature";
      if (!registry::isValidDigest(layers[i].first)) {
        fail(c, fmt::format("the layer's digest '{}' is not a digest", layers[i].first));
        found.push_back(c);
        continue;
      }
      auto blob = sigs.blob(layers[i].first);
      if (!blob) return blob.error();
      auto b = bundleFromCosignLayer(layers[i].second, blob.value(), annotationsOf(body, i));
      if (!b) {
        fail(c, b.error().message);
        found.push_back(c);
        continue;
      }
      Artifact art = image_digest;
      if (!b->dsse) {
        art.bytes = blob.value();
        art.sha256 = sha256(art.bytes);
        art.digest_only = false;
      }
      auto r = verifyBundle(b.value(), art, policy, root);
      if (b->dsse) c.predicate_type = predicateType(b->payload);
      if (!r) {
        fail(c, r.error().message);
      } else if (Status s = b->dsse ? Status() : checkSimpleSigning(blob.value(), digest); !s) {
        fail(c, "digest: " + s.error().message);
      } else if (attest && c.predicate_type != attestation_type) {
        fail(c, fmt::format("malformed: the attestation's predicate type is {}, not {}",
                            c.predicate_type.empty() ? "missing" : c.predicate_type,
                            attestation_type));
        c.reason = "predicate";
      } else {
        c.verified = true;
        c.result = r.value();
      }
      found.push_back(c);
    }
  }
  // 2. Sigstore bundles attached as OCI 1.1 referrers (API, or the sha256-<hex> tag).
  auto refs = sigs.referrers(digest);
  if (!refs) return refs.error();
  if (refs.value()) {
    rapidjson::Document idx;
    idx.Parse(refs.value()->body.data(), refs.value()->body.size());
    if (idx.IsObject() && idx.HasMember("manifests") && idx["manifests"].IsArray())
      for (const auto& m : idx["manifests"].GetArray()) {
        std::string type(jsonString(m, "artifactType"));
        if (!type.starts_with("application/vnd.dev.sigstore.bundle")) continue;
        Candidate c;
        c.source = fmt::format("referrer {}", jsonString(m, "digest"));
        c.kind = "sigstore bundle";
        if (!registry::isValidDigest(jsonString(m, "digest"))) {
          fail(c, "the referrer's digest is not a digest");
          found.push_back(c);
          continue;
        }
        auto man = sigs.manifest(std::string(jsonString(m, "digest")));
        if (!man) return man.error();
        if (!man.value()) {
          fail(c, "the referrer's manifest is missing");
          found.push_back(c);
          continue;
        }
        auto layers = layersOf(man.value()->body);
        if (layers.empty() || !registry::isValidDigest(layers[0].first)) {
          fail(c, "the referrer has no layer, or its digest is not a digest");
          found.push_back(c);
          continue;
        }
        auto blob = sigs.blob(layers[0].first);
        if (!blob) return blob.error();
        auto b = parseBundle(blob.value(), c.source);
        if (!b) {
          fail(c, b.error().message);
          found.push_back(c);
          continue;
        }
        if (b->dsse) c.predicate_type = predicateType(b->payload);
        std::string want = attest ? attestation_type : kCosignSignPredicate;
        if (b->dsse ? c.predicate_type != want : attest) {
          // Another kind of attachment (an SBOM attestation when a signature is asked for):
          // listed, not counted against the image.
          c.reason = "predicate";
          c.message = fmt::format("not {} (predicate type {})", want,
                                  c.predicate_type.empty() ? "none" : c.predicate_type);
          found.push_back(c);
          continue;
        }
        auto r = verifyBundle(b.value(), image_digest, policy, root);
        if (!r) {
          fail(c, r.error().message);
        } else {
          c.verified = true;
          c.result = r.value();
        }
        found.push_back(c);
      }
  }

  return out;
}

}  // namespace kh::sigstore
