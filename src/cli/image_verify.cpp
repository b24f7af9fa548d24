// kubeharden image verify REF: finds the image's signatures (or attestations) in its registry,
// both ways cosign stores them (the legacy sha256-<hex>.sig / .att tags and OCI 1.1 referrers,
// with the referrers tag fallback), and verifies them offline against a key or a keyless
// identity. Exit 0 when one satisfies the policy, 1 when none does (and why), 2 usage, 3 input.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "base/json_util.h"
#include "cli/commands.h"
#include "cli/trust.h"
#include "registry/client.h"
#include "registry/credentials.h"
#include "registry/reference.h"
#include "sigstore/bundle.h"
#include "sigstore/cosign.h"
#include "sigstore/verify.h"

namespace kh {

namespace {

constexpr size_t kMaxSignatureBlob = 4 << 20;
constexpr const char* kCosignSignPredicate = "https://sigstore.dev/cosign/sign/v1";

struct VerifyArgs {
  std::string image;
  PolicyArgs policy;
  std::string attestation_type, signature_repository, format = "text", ca_cert, registry_token;
  std::vector<std::string> insecure;
  unsigned timeout = 30;
  unsigned retries = 2;
};

struct Candidate {
  std::string source;  // "tag sha256-<hex>.sig" or "referrer sha256:..."
  std::string kind;    // "cosign signature", "cosign attestation", "sigstore bundle"
  bool verified = false;
  std::string reason, message;
  sigstore::Verified result;
  std::string predicate_type;
};

bool readAll(const std::string& path, std::string* out) {
  return readWholeFile(path, out);
}

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

// Where signatures are read from: a registry repository, or an OCI image layout on disk (which
// holds the image and its signature artifacts, as `skopeo copy` or `cosign save` write them).
class Store {
 public:
  virtual ~Store() = default;
  // The manifest a tag or digest names; nullopt when there is none.
  virtual Result<std::optional<registry::Fetched>> manifest(const std::string& ident) = 0;
  // An image index of the artifacts whose subject is `digest`; nullopt when there are none.
  virtual Result<std::optional<registry::Fetched>> referrers(const std::string& digest) = 0;
  virtual Result<std::string> blob(const std::string& digest) = 0;
  virtual std::string where() const = 0;
};

class RegistryStore : public Store {
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

class LayoutStore : public Store {
 public:
  static Result<std::unique_ptr<LayoutStore>> open(const std::string& dir) {
    auto s = std::make_unique<LayoutStore>();
    s->dir_ = dir;
    std::string index;
    if (!readAll(dir + "/oci-layout", &index) || !readAll(dir + "/index.json", &index))
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
    if (!digest.starts_with("sha256:") || digest.size() != 71)
      return Error{fmt::format("{} is not a sha256 digest", digest), dir_, {}};
    std::string path = dir_ + "/blobs/sha256/" + digest.substr(7), body;
    if (!readAll(path, &body)) return Error{fmt::format("blob {} is missing", digest), dir_, {}};
    if (sigstore::sha256(body) != sigstore::unhex(digest.substr(7)).value())
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

void writeJson(const VerifyArgs& a, const std::string& image, const std::string& digest,
               const std::vector<Candidate>& found, bool ok) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("apiVersion");
  w.String("kubeharden/verify/v1");
  w.Key("image");
  w.String(image.c_str());
  w.Key("digest");
  w.String(digest.c_str());
  w.Key("verified");
  w.Bool(ok);
  if (!a.attestation_type.empty()) {
    w.Key("attestationType");
    w.String(a.attestation_type.c_str());
  }
  w.Key("signatures");
  w.StartArray();
  for (const Candidate& c : found) {
    w.StartObject();
    w.Key("source");
    w.String(c.source.c_str());
    w.Key("kind");
    w.String(c.kind.c_str());
    w.Key("verified");
    w.Bool(c.verified);
    if (!c.verified) {
      w.Key("reason");
      w.String(c.reason.c_str());
      w.Key("message");
      w.String(c.message.c_str());
    } else {
      w.Key("signer");
      w.String(c.result.signer.c_str());
      if (!c.result.issuer.empty()) {
        w.Key("issuer");
        w.String(c.result.issuer.c_str());
      }
      w.Key("logIndexes");
      w.StartArray();
      for (int64_t i : c.result.log_indexes) w.Int64(i);
      w.EndArray();
    }
    if (!c.predicate_type.empty()) {
      w.Key("predicateType");
      w.String(c.predicate_type.c_str());
      if (c.verified) {
        rapidjson::Document st;
        st.Parse(c.result.payload.data(), c.result.payload.size());
        if (!st.HasParseError() && st.IsObject() && st.HasMember("predicate")) {
          w.Key("predicate");
          st["predicate"].Accept(w);
        }
      }
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::printf("%s\n", sb.GetString());
}

}  // namespace

Runner addImageVerifyCommand(CLI::App& image, std::shared_ptr<int> which, int id) {
  auto a = std::make_shared<VerifyArgs>();
  CLI::App* v = image.add_subcommand(
      "verify", "Verify an image's cosign/Sigstore signatures or attestations, offline");
  v->add_option("IMAGE", a->image, "A registry reference (tag or digest)")->required();
  addPolicyOptions(v, a->policy);
  v->add_option("--attestation-type", a->attestation_type,
                "Verify an attestation of this predicate type (a URI) instead of a signature");
  v->add_option("--signature-repository", a->signature_repository,
                "Look for signatures in this repository (REGISTRY/REPO) instead of the image's");
  v->add_option("-f,--format", a->format, "Output format: text, json")->capture_default_str();
  v->add_option("--insecure", a->insecure, "Allow plain HTTP or unverified TLS for REGISTRY")
      ->type_name("REGISTRY")
      ->allow_extra_args(false);
  v->add_option("--ca-cert", a->ca_cert, "Also trust this CA certificate (PEM) for registries");
  v->add_option("--registry-token", a->registry_token, "A bearer token for the registry");
  v->add_option("--timeout", a->timeout, "Seconds a registry request may stall")
      ->capture_default_str();
  v->add_option("--retries", a->retries, "Retries of a registry request that failed in transit")
      ->capture_default_str()
      ->check(CLI::Range(0u, 20u));
  v->callback([which, id] { *which = id; });
  return [a]() -> int {
    auto usage = [](const std::string& m) {
      std::fprintf(stderr, "kubeharden image verify: %s\n", m.c_str());
      return kExitUsage;
    };
    auto input = [](const std::string& m) {
      std::fprintf(stderr, "kubeharden image verify: %s\n", m.c_str());
      return kExitInput;
    };
    if (a->format != "text" && a->format != "json") return usage("--format is text or json");
    int code = kExitUsage;
    auto trust = verificationFrom(a->policy, "kubeharden image verify", &code);
    if (!trust) return code;
    const sigstore::Policy& policy = trust->policy;
    const sigstore::TrustedRoot& root = trust->root;

    // An OCI layout directory (DIR, DIR:TAG, DIR@DIGEST), else a registry reference.
    std::unique_ptr<Store> store;
    std::string digest, image_name, display;
    std::string dir = a->image, pick;
    if (size_t at = dir.rfind('@');
        at != std::string::npos && !std::filesystem::is_directory(dir)) {
      pick = dir.substr(at + 1);
      dir.resize(at);
    } else if (size_t colon = dir.rfind(':'); colon != std::string::npos &&
                                              !std::filesystem::is_directory(dir) &&
                                              std::filesystem::is_directory(dir.substr(0, colon))) {
      pick = dir.substr(colon + 1);
      dir.resize(colon);
    }
    if (std::filesystem::is_directory(dir)) {
      auto layout = LayoutStore::open(dir);
      if (!layout) return input(layout.error().describe());
      auto d = layout.value()->image(pick);
      if (!d) return input(d.error().describe());
      digest = d.value();
      image_name = display = dir;
      store = std::move(layout.value());
    } else {
      auto ref = registry::parseReference(a->image);
      if (!ref) return input(a->image + ": " + ref.error().message);
      auto clientFor = [&](const registry::Reference& r) {
        registry::ClientOptions co;
        bool insecure =
            std::find(a->insecure.begin(), a->insecure.end(), r.domain) != a->insecure.end();
        co.plain_http = insecure || r.isLoopback();
        co.http.insecure_tls = insecure;
        co.http.ca_file = a->ca_cert;
        co.http.stall_timeout = std::chrono::seconds(a->timeout);
        co.http.connect_timeout =
            std::min(co.http.connect_timeout, std::chrono::seconds(a->timeout));
        co.http.max_attempts = static_cast<int>(a->retries) + 1;
        co.http.user_agent = fmt::format("kubeharden/{}", kVersion);
        registry::CredentialSources cs = registry::CredentialSources::fromEnvironment();
        cs.registry_token = a->registry_token;
        registry::FoundCredentials found = registry::findCredentials(r, cs);
        for (const std::string& w : found.warnings)
          std::fprintf(stderr, "kubeharden image verify: warning: %s\n", w.c_str());
        return registry::Client(r, found.credentials, co);
      };
      // The digest the reference names: signatures are made on digests, never on tags.
      digest = ref->digest;
      if (digest.empty()) {
        registry::Client client = clientFor(ref.value());
        auto m = client.manifest(ref->tag);
        if (!m) return input(m.error().message);
        digest = m->digest;
      }
      image_name = ref->canonical();
      display = ref->name();
      registry::Reference sig_ref = ref.value();
      if (!a->signature_repository.empty()) {
        auto r = registry::parseReference(a->signature_repository);
        if (!r) return input("--signature-repository: " + r.error().message);
        sig_ref = r.value();
      }
      sig_ref.tag.clear();
      sig_ref.digest.clear();
      store = std::make_unique<RegistryStore>(clientFor(sig_ref));
    }
    Store& sigs = *store;
    std::string hex = digest.substr(digest.find(':') + 1);
    auto digest_raw = sigstore::unhex(hex);
    if (!digest_raw || digest_raw.value().size() != 32)
      return input(digest + " is not a sha256 digest");
    sigstore::Artifact image_digest;
    image_digest.sha256 = digest_raw.value();
    image_digest.digest_only = true;
    bool attest = !a->attestation_type.empty();

    std::vector<Candidate> found;
    // 1. cosign's legacy tags: sha256-<hex>.sig (or .att), one signature per layer.
    std::string tag = fmt::format("sha256-{}.{}", hex, attest ? "att" : "sig");
    auto legacy = sigs.manifest(tag);
    if (!legacy) return input(legacy.error().message);
    if (legacy.value()) {
      const std::string& body = legacy.value()->body;
      auto layers = layersOf(body);
      for (size_t i = 0; i < layers.size(); ++i) {
        Candidate c;
        c.source = fmt::format("tag {} layer {}", tag, i);
        c.kind = attest ? "cosign attestation" : "cosign signature";
        auto blob = sigs.blob(layers[i].first);
        if (!blob) return input(blob.error().message);
        auto b =
            sigstore::bundleFromCosignLayer(layers[i].second, blob.value(), annotationsOf(body, i));
        if (!b) {
          fail(c, b.error().message);
          found.push_back(c);
          continue;
        }
        sigstore::Artifact art = image_digest;
        if (!b->dsse) {
          art.bytes = blob.value();
          art.sha256 = sigstore::sha256(art.bytes);
          art.digest_only = false;
        }
        auto r = sigstore::verifyBundle(b.value(), art, policy, root);
        if (b->dsse) c.predicate_type = predicateType(b->payload);
        if (!r) {
          fail(c, r.error().message);
        } else if (Status s =
                       b->dsse ? Status() : sigstore::checkSimpleSigning(blob.value(), digest);
                   !s) {
          fail(c, "digest: " + s.error().message);
        } else if (attest && c.predicate_type != a->attestation_type) {
          fail(c, fmt::format("malformed: the attestation's predicate type is {}, not {}",
                              c.predicate_type.empty() ? "missing" : c.predicate_type,
                              a->attestation_type));
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
    if (!refs) return input(refs.error().message);
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
          auto man = sigs.manifest(std::string(jsonString(m, "digest")));
          if (!man) return input(man.error().message);
          if (!man.value()) {
            fail(c, "the referrer's manifest is missing");
            found.push_back(c);
            continue;
          }
          auto layers = layersOf(man.value()->body);
          if (layers.empty()) {
            fail(c, "the referrer has no layer");
            found.push_back(c);
            continue;
          }
          auto blob = sigs.blob(layers[0].first);
          if (!blob) return input(blob.error().message);
          auto b = sigstore::parseBundle(blob.value(), c.source);
          if (!b) {
            fail(c, b.error().message);
            found.push_back(c);
            continue;
          }
          if (b->dsse) c.predicate_type = predicateType(b->payload);
          std::string want = attest ? a->attestation_type : kCosignSignPredicate;
          if (b->dsse ? c.predicate_type != want : attest) {
            // Another kind of attachment (an SBOM attestation when a signature is asked for):
            // listed, not counted against the image.
            c.reason = "predicate";
            c.message = fmt::format("not {} (predicate type {})", want,
                                    c.predicate_type.empty() ? "none" : c.predicate_type);
            found.push_back(c);
            continue;
          }
          auto r = sigstore::verifyBundle(b.value(), image_digest, policy, root);
          if (!r) {
            fail(c, r.error().message);
          } else {
            c.verified = true;
            c.result = r.value();
          }
          found.push_back(c);
        }
    }

    bool ok =
        std::any_of(found.begin(), found.end(), [](const Candidate& c) { return c.verified; });
    if (a->format == "json") {
      writeJson(*a, image_name, digest, found, ok);
    } else {
      std::printf("%s@%s: %s\n", display.c_str(), digest.c_str(),
                  ok              ? "verified"
                  : found.empty() ? "no signature found"
                                  : "not verified");
      for (const Candidate& c : found) {
        if (c.verified)
          std::printf("  verified  %s (%s): signed by %s%s%s\n", c.source.c_str(), c.kind.c_str(),
                      c.result.signer.c_str(), c.result.issuer.empty() ? "" : ", issuer ",
                      c.result.issuer.c_str());
        else if (c.reason == "predicate" && c.message.starts_with("not "))
          std::printf("  skipped   %s (%s): %s\n", c.source.c_str(), c.kind.c_str(),
                      c.message.c_str());
        else
          std::printf("  rejected  %s (%s): %s: %s\n", c.source.c_str(), c.kind.c_str(),
                      c.reason.c_str(), c.message.c_str());
      }
    }
    if (!ok && found.empty())
      std::fprintf(stderr,
                   "kubeharden image verify: no %s found for %s (looked for the tag %s and its "
                   "OCI referrers in %s)\n",
                   attest ? "attestation" : "signature", digest.c_str(), tag.c_str(),
                   sigs.where().c_str());
    return ok ? kExitClean : kExitFindings;
  };
}

}  // namespace kh
