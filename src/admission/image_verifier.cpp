#include "admission/image_verifier.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "base/json_util.h"
#include "base/strings.h"
#include "registry/credentials.h"

namespace kh::admission {
namespace {

using Clock = std::chrono::steady_clock;

// A store that reads each manifest, referrers list and blob once: a rule with several attestors
// and attestations verifies them all from one fetch of each.
class MemoStore : public sigstore::SignatureStore {
 public:
  explicit MemoStore(sigstore::SignatureStore& s) : s_(s) {}
  Result<std::optional<registry::Fetched>> manifest(const std::string& ident) override {
    return memo(manifests_, ident, [&] { return s_.manifest(ident); });
  }
  Result<std::optional<registry::Fetched>> referrers(const std::string& digest) override {
    return memo(referrers_, digest, [&] { return s_.referrers(digest); });
  }
  Result<std::string> blob(const std::string& digest) override {
    return memo(blobs_, digest, [&] { return s_.blob(digest); });
  }
  std::string where() const override { return s_.where(); }

 private:
  template <typename T, typename Fn>
  Result<T> memo(std::map<std::string, Result<T>>& m, const std::string& k, Fn fn) {
    auto it = m.find(k);
    if (it == m.end()) it = m.emplace(k, fn()).first;
    return it->second;
  }
  sigstore::SignatureStore& s_;
  std::map<std::string, Result<std::optional<registry::Fetched>>> manifests_, referrers_;
  std::map<std::string, Result<std::string>> blobs_;
};

// Why no candidate verified: the distinct reasons, at most three.
std::string whyNot(const sigstore::ImageSignatures& s, bool attestation) {
  if (s.candidates.empty())
    return fmt::format("no {} found (tag {}, referrers)", attestation ? "attestation" : "signature",
                       s.legacy_tag);
  std::vector<std::string> why;
  for (const sigstore::Candidate& c : s.candidates) {
    std::string w = c.reason == "predicate" ? c.message : c.reason + ": " + c.message;
    if (std::find(why.begin(), why.end(), w) == why.end()) why.push_back(w);
  }
  if (why.size() > 3) why.resize(3);
  return join(why, "; ");
}

// Empty when the in-toto statement's predicate meets every condition (JSON Pointer -> glob on
// the value's text: a string as it is, other values as JSON); else the first unmet one.
std::string predicateMismatch(const std::string& statement,
                              const std::vector<std::pair<std::string, std::string>>& conditions) {
  if (conditions.empty()) return {};
  rapidjson::Document d;
  d.Parse(statement.data(), statement.size());
  const rapidjson::Value& predicate = jsonMember(d, "predicate");
  for (const auto& [pointer, glob] : conditions) {
    const rapidjson::Value* v = rapidjson::Pointer(pointer.c_str()).Get(predicate);
    if (!v) return fmt::format("has no {} (wanted '{}')", pointer, glob);
    std::string text;
    if (v->IsString()) {
      text.assign(v->GetString(), v->GetStringLength());
    } else {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      v->Accept(w);
      text = buf.GetString();
    }
    if (!globMatch(glob, text))
      return fmt::format("{} is '{}', not '{}'", pointer, text.substr(0, 200), glob);
  }
  return {};
}

// Registries, with credentials from the environment (REGISTRY_AUTH_FILE: the chart's mounted
// pull secret, Docker config, helpers). Credentials are looked up once per repository and kept
// for a minute, so a verification on the request path reads no file and runs no helper in the
// common case, while a rotated pull secret is picked up soon. Thread-safe.
class RegistrySource : public ImageSource {
 public:
  Result<std::string> resolve(const registry::Reference& ref, const ImagePolicy& p,
                              SteadyTime deadline) override {
    registry::Client c = client(ref, p, deadline);
    auto m = c.manifest(ref.tag);
    if (!m) return m.error();
    return m.value().digest;
  }
  Result<std::unique_ptr<sigstore::SignatureStore>> store(const registry::Reference& repo,
                                                          const std::string&, const ImagePolicy& p,
                                                          SteadyTime deadline) override {
    return sigstore::registryStore(client(repo, p, deadline));
  }

 private:
  static constexpr std::chrono::seconds kCredentialTtl{60};

  registry::Credentials credentials(const registry::Reference& ref) {
    std::string key = ref.name();
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      if (auto it = creds_.find(key); it != creds_.end() && now < it->second.second)
        return it->second.first;
    }
    registry::CredentialSources cs = registry::CredentialSources::fromEnvironment();
    cs.helper_timeout = std::chrono::seconds(1);
    registry::FoundCredentials found = registry::findCredentials(ref, cs);
    std::lock_guard lock(mu_);
    if (creds_.size() > 4096) creds_.clear();  // bounded: repositories seen in a minute
    creds_[key] = {found.credentials, now + kCredentialTtl};
    return found.credentials;
  }

  registry::Client client(const registry::Reference& ref, const ImagePolicy& p,
                          SteadyTime deadline) {
    registry::ClientOptions co;
    bool insecure = std::find(p.insecure_registries.begin(), p.insecure_registries.end(),
                              ref.domain) != p.insecure_registries.end();
    co.plain_http = insecure || ref.isLoopback();
    co.http.insecure_tls = insecure;
    co.http.ca_file = p.ca_file;
    co.http.deadline = deadline;
    co.http.max_attempts = 3;
    co.http.backoff = std::chrono::milliseconds(100);
    co.http.user_agent = "kubeharden-webhook";
    return registry::Client(ref, credentials(ref), co);
  }

  std::mutex mu_;
  std::map<std::string, std::pair<registry::Credentials, std::chrono::steady_clock::time_point>>
      creds_;
};

class LayoutSource : public ImageSource {
 public:
  explicit LayoutSource(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}
  Result<std::string> resolve(const registry::Reference& ref, const ImagePolicy&,
                              SteadyTime) override {
    std::string name = ref.name();
    for (const std::string& dir : dirs_)
      for (const std::string& want :
           {ref.canonical(), name + ":" + ref.tag, ref.familiar(), ref.tag}) {
        auto l = sigstore::openLayout(dir, want);
        if (l) return l->digest;
      }
    return Error{fmt::format("no OCI layout given holds {} (looked for its name and tag in {})",
                             ref.canonical(), join(dirs_, ", ")),
                 {},
                 {}};
  }
  Result<std::unique_ptr<sigstore::SignatureStore>> store(const registry::Reference&,
                                                          const std::string& digest,
                                                          const ImagePolicy&, SteadyTime) override {
    for (const std::string& dir : dirs_) {
      auto l = sigstore::openLayout(dir, digest);
      if (!l) continue;
      auto m = l->store->manifest(digest);
      if (m && m.value()) return std::move(l->store);
    }
    return Error{fmt::format("no OCI layout given holds the image {}", digest), {}, {}};
  }

 private:
  std::vector<std::string> dirs_;
};

}  // namespace

std::unique_ptr<ImageSource> registrySource() {
  return std::make_unique<RegistrySource>();
}

Result<std::unique_ptr<ImageSource>> layoutSource(const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs)
    if (!std::filesystem::exists(d + "/oci-layout"))
      return Error{"not an OCI image layout (no oci-layout file)", d, {}};
  return std::unique_ptr<ImageSource>(std::make_unique<LayoutSource>(dirs));
}

ImageVerifier::Stats ImageVerifier::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool ImageVerifier::cached(const std::string& key, ImageVerdict* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  if (it->second.expires <= Clock::now()) {
    cache_.erase(it);
    return false;
  }
  *out = it->second.verdict;
  return true;
}

void ImageVerifier::remember(const std::string& key, const ImageVerdict& v, double ttl) {
  if (ttl <= 0) return;
  auto expires = Clock::now() +
                 std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(ttl));
  std::lock_guard<std::mutex> lock(mu_);
  // Bounded: past 20,000 entries the expired ones go, then (still full) everything.
  if (cache_.size() >= 20000) {
    auto now = Clock::now();
    std::erase_if(cache_, [&](const auto& e) { return e.second.expires <= now; });
    if (cache_.size() >= 20000) cache_.clear();
  }
  cache_[key] = Entry{v, expires};
}

ImageVerdict ImageVerifier::verifyDigest(const ImagePolicy& policy, const ImageRule& rule,
                                         const registry::Reference& ref, const std::string& digest,
                                         SteadyTime deadline) {
  ImageVerdict v;
  v.digest = digest;
  registry::Reference repo = rule.signature_repository ? *rule.signature_repository : ref;
  repo.tag.clear();
  repo.digest.clear();
  auto store = source_->store(repo, digest, policy, deadline);
  if (!store) {
    v.message = "could not be verified: " + store.error().describe();
    return v;
  }
  MemoStore memo(*store.value());
  std::vector<AttestationRequirement> kinds;  // type "" for the signature, then attestations
  if (rule.require_signature) kinds.emplace_back();
  kinds.insert(kinds.end(), rule.attestations.begin(), rule.attestations.end());
  std::vector<std::string> said;
  for (const AttestationRequirement& kind : kinds) {
    const std::string& type = kind.type;
    std::string what = type.empty() ? "signature" : "attestation " + type;
    std::vector<std::string> by;
    std::string why;
    for (const Attestor& a : rule.attestors) {
      auto r = sigstore::verifyImage(memo, digest, a.policy, policy.root, type);
      if (!r) {
        v.message = "could not be verified: " + r.error().describe();
        return v;
      }
      // Verified, and (for attestations with conditions) a predicate that meets them.
      std::string unmet;
      bool ok = false;
      for (const sigstore::Candidate& c : r->candidates) {
        if (!c.verified) continue;
        std::string miss = predicateMismatch(c.result.payload, kind.predicate);
        if (miss.empty()) {
          ok = true;
          break;
        }
        if (unmet.empty()) unmet = miss;
      }
      if (ok)
        by.push_back(a.name);
      else if (why.empty())
        why = fmt::format("{}: {}", a.name,
                          unmet.empty() ? whyNot(r.value(), !type.empty())
                                        : "verified, but its predicate " + unmet);
    }
    if (static_cast<int>(by.size()) < rule.count) {
      v.message = rule.count == 1 || rule.attestors.size() == 1
                      ? fmt::format("has no {} verified at {} ({})", what, digest, why)
                      : fmt::format(
                            "has a {} verified by {} of the {} attestors needed at {} "
                            "({})",
                            what, by.size(), rule.count, digest, why);
      return v;
    }
    said.push_back(fmt::format("{} verified by {}", what, join(by, ", ")));
  }
  v.verified = true;
  v.message = fmt::format("{} ({})", join(said, "; "), digest);
  return v;
}

ImageVerdicts ImageVerifier::verify(const ImagePolicy& policy, const std::vector<ImageUse>& uses,
                                    SteadyTime deadline) {
  ImageVerdicts out;
  // A verdict holds for the rule (its hash), the repository its signatures are read from (one
  // that has none must not borrow another's verdict, nor its outage) and the digest.
  auto verdictKey = [](const ImageRule& r, const ImageUse& u, const std::string& what) {
    return fmt::format("v\n{}\n{}\n{}", r.hash,
                       r.signature_repository ? r.signature_repository->name() : u.ref.name(),
                       what);
  };
  auto tagKey = [](const registry::Reference& ref) {
    return fmt::format("t\n{}:{}", ref.name(), ref.tag);
  };
  // First everything the cache answers, without I/O.
  std::vector<const ImageUse*> misses;
  for (const ImageUse& u : uses) {
    if (!u.needs_verification || out.count(u.key())) continue;
    const ImageRule& rule = policy.rules[u.rule];
    std::string digest = u.ref.digest;
    ImageVerdict tag;
    if (digest.empty() && cached(tagKey(u.ref), &tag)) digest = tag.digest;
    ImageVerdict v;
    if (cached(verdictKey(rule, u, digest.empty() ? tagKey(u.ref) : digest), &v)) {
      out[u.key()] = v;
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.hits;
      continue;
    }
    misses.push_back(&u);
  }
  // Then the rest, each with its share of the time left.
  for (size_t i = 0; i < misses.size(); ++i) {
    const ImageUse& u = *misses[i];
    if (out.count(u.key())) continue;
    const ImageRule& rule = policy.rules[u.rule];
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.misses;
    }
    auto now = Clock::now();
    ImageVerdict v;
    if (now >= deadline) {
      v.message = "could not be verified before the webhook's deadline";
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.timeouts;
      out[u.key()] = v;
      continue;
    }
    SteadyTime slice = now + (deadline - now) / static_cast<int64_t>(misses.size() - i);
    // A failure at the end of the image's share of the time is the deadline's doing (libcurl's
    // timer fires a hair before it): said so, and counted.
    auto late = [&, start = now] {
      if (Clock::now() < slice - (slice - start) / 20) return false;
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.timeouts;
      return true;
    };
    const std::string in_time = "could not be verified before the webhook's deadline: ";
    std::string digest = u.ref.digest;
    if (digest.empty()) {
      auto d = source_->resolve(u.ref, policy, slice);
      if (!d) {
        v.message = (late() ? in_time : std::string("could not be resolved to a digest: ")) +
                    d.error().describe();
        remember(verdictKey(rule, u, tagKey(u.ref)), v, policy.failure_ttl);
        out[u.key()] = v;
        continue;
      }
      digest = d.value();
      ImageVerdict tag;
      tag.digest = digest;
      remember(tagKey(u.ref), tag, policy.tag_ttl);
    }
    if (!cached(verdictKey(rule, u, digest), &v)) {
      v = verifyDigest(policy, rule, u.ref, digest, slice);
      const std::string plain = "could not be verified: ";
      if (!v.verified && v.message.starts_with(plain) && late())
        v.message = in_time + v.message.substr(plain.size());
      remember(verdictKey(rule, u, digest), v,
               v.verified ? policy.success_ttl : policy.failure_ttl);
    }
    out[u.key()] = v;
  }
  return out;
}

}  // namespace kh::admission
