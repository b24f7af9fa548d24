#include "sigstore/verify.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <re2/re2.h>

#include <algorithm>

#include "base/json_util.h"
#include "base/strings.h"
#include "sigstore/tlog.h"

namespace kh::sigstore {

namespace {

Error fail(std::string_view reason, const std::string& message) {
  return Error{fmt::format("{}: {}", reason, message), {}, {}};
}

std::string when(int64_t t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(t)));
}

// The key a log entry names (base64 of a PEM key or certificate) is the signing key.
bool sameKey(std::string_view pem_b64, const PublicKey& key) {
  auto pem = base64Decode(pem_b64);
  if (!pem) return false;
  auto k = PublicKey::fromPem(*pem);
  return k && k.value().spki() == key.spki();
}

// A signature as an entry spells it: base64 of the raw bytes (hashedrekord, dsse) or, in
// intoto v0.0.2, base64 of the envelope's own base64.
bool sameSignature(std::string_view b64, std::string_view sig) {
  auto once = base64Decode(b64);
  if (!once) return false;
  if (*once == sig) return true;
  auto twice = base64Decode(*once);
  return twice && *twice == sig;
}

// The log entry's body must describe this very signature: the artifact's digest (or the DSSE
// payload's), the signature bytes and the signing key.
Status checkBody(const TlogEntry& e, const Bundle& b, const Artifact& artifact,
                 const std::string& sig, const PublicKey& key) {
  rapidjson::Document d;
  d.Parse(e.body.data(), e.body.size());
  if (d.HasParseError() || !d.IsObject()) return fail("tlog", "the log entry's body is not JSON");
  std::string kind(jsonString(d, "kind"));
  const auto& spec = jsonMember(d, "spec");
  if (kind != e.kind)
    return fail("tlog", fmt::format("the log entry says kind {} but its body is {}", e.kind, kind));
  if (kind == "hashedrekord") {
    if (b.dsse) return fail("tlog", "a hashedrekord entry for a DSSE envelope");
    const auto& hash = jsonMember(jsonMember(spec, "data"), "hash");
    if (jsonString(hash, "algorithm") != "sha256" ||
        jsonString(hash, "value") != hex(artifact.sha256))
      return fail("tlog", fmt::format("the log entry is for sha256:{}, not the artifact's "
                                      "sha256:{}",
                                      jsonString(hash, "value"), hex(artifact.sha256)));
    const auto& s = jsonMember(spec, "signature");
    if (!sameSignature(jsonString(s, "content"), sig))
      return fail("tlog", "the log entry records another signature");
    if (!sameKey(jsonString(jsonMember(s, "publicKey"), "content"), key))
      return fail("tlog", "the log entry records another signing key");
    return {};
  }
  if (kind == "dsse" || kind == "intoto") {
    if (!b.dsse) return fail("tlog", fmt::format("a {} entry for a message signature", kind));
    const rapidjson::Value& content = kind == "dsse" ? spec : jsonMember(spec, "content");
    const auto& ph = jsonMember(content, "payloadHash");
    if (jsonString(ph, "value") != hex(sha256(b.payload)))
      return fail("tlog", "the log entry is for another DSSE payload");
    bool found = false;
    const auto& sigs = kind == "dsse" ? jsonMember(spec, "signatures")
                                      : jsonMember(jsonMember(content, "envelope"), "signatures");
    if (sigs.IsArray())
      for (const auto& s : sigs.GetArray()) {
        std::string_view sv = jsonString(s, kind == "dsse" ? "signature" : "sig");
        std::string_view pk = jsonString(s, kind == "dsse" ? "verifier" : "publicKey");
        if (sameSignature(sv, sig) && sameKey(pk, key)) found = true;
      }
    if (!found) return fail("tlog", "the log entry records another signature or signing key");
    return {};
  }
  return fail("tlog", fmt::format("log entries of kind {} {} are not supported", kind, e.version));
}

bool matches(const std::string& value, const std::string& exact, const std::string& regexp) {
  if (!exact.empty()) return value == exact;
  if (!regexp.empty()) {
    RE2 re(regexp);
    return re.ok() && RE2::FullMatch(value, re);
  }
  return true;
}

}  // namespace

Result<Verified> verifyBundle(const Bundle& b, const Artifact& artifact, const Policy& policy,
                              const TrustedRoot& root) {
  Verified v;
  PublicKey key;
  const Certificate* leaf = nullptr;
  if (policy.key) {
    key = *policy.key;
    v.signer = key.kind() + " key";
  } else {
    if (b.chain.empty())
      return fail("certificate",
                  "the bundle has no signing certificate (was it signed with a key? "
                  "then verify with --key)");
    leaf = &b.chain.front();
    key = leaf->publicKey();
  }

  // The signature over the artifact (or the DSSE envelope, whose statement names the artifact).
  std::string sig;
  if (!b.dsse) {
    if (!b.message_digest.empty() && b.digest_algorithm == "SHA2_256" &&
        b.message_digest != artifact.sha256)
      return fail("digest", fmt::format("the bundle signs sha256:{}, the artifact is sha256:{}",
                                        hex(b.message_digest), hex(artifact.sha256)));
    bool ok = artifact.digest_only ? key.verifyDigest(artifact.sha256, Hash::kSha256, b.signature)
                                   : key.verify(artifact.bytes, b.signature);
    if (!ok)
      return fail("signature",
                  fmt::format("the signature does not verify with the {} {} over the artifact",
                              key.kind(), policy.key ? "key given" : "certificate's key"));
    sig = b.signature;
  } else {
    std::string msg = pae(b.payload_type, b.payload);
    for (const std::string& s : b.signatures)
      if (key.verify(msg, s)) {
        sig = s;
        break;
      }
    if (sig.empty())
      return fail("signature",
                  fmt::format("no signature of the DSSE envelope verifies with the {} "
                              "{}",
                              key.kind(), policy.key ? "key given" : "certificate's key"));
    if (b.payload_type == "application/vnd.in-toto+json") {
      rapidjson::Document st;
      st.Parse(b.payload.data(), b.payload.size());
      bool named = false;
      if (!st.HasParseError())
        if (const auto& subjects = jsonMember(st, "subject"); subjects.IsArray())
          for (const auto& s : subjects.GetArray())
            named = named || jsonString(jsonMember(s, "digest"), "sha256") == hex(artifact.sha256);
      if (!named)
        return fail("digest", fmt::format("the in-toto statement names no subject with the "
                                          "artifact's digest sha256:{}",
                                          hex(artifact.sha256)));
    }
    v.payload_type = b.payload_type;
    v.payload = b.payload;
  }

  // Transparency-log entries: each must describe this signature and be proven by its log.
  for (const TlogEntry& e : b.tlog) {
    const TrustedLog* log = root.tlog(e.log_id);
    if (!log)
      return fail("tlog", fmt::format("log entry {} comes from a log the trusted root does not "
                                      "name (key ID {})",
                                      e.log_index, hex(e.log_id)));
    if (Status s = checkBody(e, b, artifact, sig, key); !s) return s.error();
    if (!e.set.empty() &&
        !verifySet(log->key, e.set, e.body_b64, e.integrated_time, e.log_id, e.log_index))
      return fail("tlog", fmt::format("the signed entry timestamp of log entry {} does not verify "
                                      "with the log's key",
                                      e.log_index));
    if (e.has_proof) {
      if (Status s = verifyInclusion(static_cast<uint64_t>(e.proof_index),
                                     static_cast<uint64_t>(e.tree_size), leafHash(e.body), e.hashes,
                                     e.root_hash);
          !s)
        return fail("tlog", fmt::format("log entry {}: {}", e.log_index, s.error().message));
      if (e.checkpoint.empty())
        return fail("tlog",
                    fmt::format("log entry {}'s inclusion proof has no checkpoint", e.log_index));
      auto cp = parseCheckpoint(e.checkpoint);
      if (!cp)
        return fail("tlog", fmt::format("log entry {}: {}", e.log_index, cp.error().message));
      if (!checkpointSignedBy(cp.value(), log->key, log->key_id))
        return fail("tlog",
                    fmt::format("log entry {}'s checkpoint is not signed by the log", e.log_index));
      if (cp.value().root != e.root_hash || cp.value().size != static_cast<uint64_t>(e.tree_size))
        return fail("tlog",
                    fmt::format("log entry {}'s checkpoint is for another tree head", e.log_index));
    } else if (e.set.empty()) {
      return fail("tlog", fmt::format("log entry {} has neither a signed entry timestamp nor an "
                                      "inclusion proof",
                                      e.log_index));
    }
    if (!log->valid.contains(e.integrated_time))
      return fail("tlog",
                  fmt::format("the log's key was not valid at {}", when(e.integrated_time)));
    // Only a signed entry timestamp vouches for the time the entry was integrated.
    if (!e.set.empty()) v.times.push_back(e.integrated_time);
    v.log_indexes.push_back(e.log_index);
  }

  // RFC 3161 timestamps over the signature, by a timestamp authority of the trusted root.
  for (const std::string& ts : b.timestamps) {
    std::string why = "no timestamp authority in the trusted root";
    bool ok = false;
    for (const TrustedCa& tsa : root.timestamp_authorities) {
      auto t = verifyTimestamp(ts, sig, tsa.chain);
      if (t && tsa.valid.contains(t.value())) {
        v.times.push_back(t.value());
        ok = true;
        break;
      }
      why = t ? "the timestamp authority was not trusted at " + when(t.value()) : t.error().message;
    }
    if (!ok) return fail("timestamp", why);
  }

  if (leaf) {
    if (v.times.empty())
      return fail("tlog",
                  "a certificate-signed bundle needs a verified log entry or timestamp "
                  "to prove when it was signed; it has neither");
    for (int64_t t : v.times) {
      if (t < leaf->notBefore() || t > leaf->notAfter())
        return fail("certificate",
                    fmt::format("signed at {}, outside the certificate's validity ({} to {})",
                                when(t), when(leaf->notBefore()), when(leaf->notAfter())));
      std::string why = "no certificate authority in the trusted root was valid then";
      bool ok = false;
      std::vector<Certificate> intermediates(b.chain.begin() + 1, b.chain.end());
      for (const TrustedCa& ca : root.certificate_authorities) {
        if (!ca.valid.contains(t)) continue;
        Status s = verifyChain(*leaf, intermediates, ca.chain, t, true);
        if (s) {
          ok = true;
          break;
        }
        why = s.error().message;
      }
      if (!ok) return fail("certificate", why);
    }
    auto sans = leaf->subjectAltNames();
    v.issuer = leaf->fulcioIssuer();
    auto it = std::find_if(sans.begin(), sans.end(), [&](const std::string& s) {
      return matches(s, policy.identity, policy.identity_regexp);
    });
    if (it == sans.end())
      return fail(
          "identity",
          fmt::format(
              "the certificate is for {}, not {}", sans.empty() ? "no identity" : join(sans, ", "),
              policy.identity.empty() ? "/" + policy.identity_regexp + "/" : policy.identity));
    v.signer = *it;
    if (!matches(v.issuer, policy.issuer, policy.issuer_regexp))
      return fail("issuer", fmt::format("the certificate's OIDC issuer is {}, not {}",
                                        v.issuer.empty() ? "not stated" : v.issuer,
                                        policy.issuer.empty() ? "/" + policy.issuer_regexp + "/"
                                                              : policy.issuer));
  } else if (policy.require_timestamp && v.times.empty()) {
    return fail("tlog", "no verified log entry or timestamp, and one is required");
  }
  return v;
}

}  // namespace kh::sigstore
