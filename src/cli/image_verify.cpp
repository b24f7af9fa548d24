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
#include "sigstore/image.h"
#include "sigstore/verify.h"

namespace kh {

namespace {

struct VerifyArgs {
  std::string image;
  PolicyArgs policy;
  std::string attestation_type, signature_repository, format = "text", ca_cert, registry_token;
  std::vector<std::string> insecure;
  unsigned timeout = 30;
  unsigned retries = 2;
};

using sigstore::Candidate;

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
    std::unique_ptr<sigstore::SignatureStore> store;
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
      auto layout = sigstore::openLayout(dir, pick);
      if (!layout) return input(layout.error().describe());
      digest = layout->digest;
      image_name = display = dir;
      store = std::move(layout->store);
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
      store = sigstore::registryStore(clientFor(sig_ref));
    }
    auto verified = sigstore::verifyImage(*store, digest, policy, root, a->attestation_type);
    if (!verified) return input(verified.error().describe());
    const std::vector<Candidate>& found = verified->candidates;
    const std::string& tag = verified->legacy_tag;
    bool attest = !a->attestation_type.empty();
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
                   store->where().c_str());
    return ok ? kExitClean : kExitFindings;
  };
}

}  // namespace kh
