#include "sigstore/bundle.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::sigstore {

namespace {

// protobuf JSON writes int64 as a string; accept a number too.
Result<int64_t> int64Of(const rapidjson::Value& v, const std::string& where) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsString()) {
    int64_t out = 0;
    std::string_view s(v.GetString(), v.GetStringLength());
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return out;
  }
  if (v.IsNull()) return int64_t{0};
  return Error{fmt::format("{} is not an integer", where), {}, {}};
}

Result<std::string> bytesOf(const rapidjson::Value& o, const char* key, const std::string& where,
                            bool required) {
  std::string_view s = jsonString(o, key);
  if (s.empty()) {
    if (required) return Error{fmt::format("{}.{} is missing", where, key), {}, {}};
    return std::string();
  }
  auto d = base64Decode(s);
  if (!d) return Error{fmt::format("{}.{} is not base64", where, key), {}, {}};
  return *d;
}

}  // namespace

Result<Bundle> parseBundle(std::string_view json, const std::string& file) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) return jsonParseError(d, json, file);
  auto fail = [&](const std::string& m) { return Error{m, file, {}}; };
  if (!d.IsObject()) return fail("a Sigstore bundle is a JSON object");
  Bundle b;
  b.media_type = std::string(jsonString(d, "mediaType"));
  if (b.media_type == "application/vnd.dev.sigstore.bundle+json;version=0.1")
    b.minor = 1;
  else if (b.media_type == "application/vnd.dev.sigstore.bundle+json;version=0.2")
    b.minor = 2;
  else if (b.media_type == "application/vnd.dev.sigstore.bundle+json;version=0.3" ||
           b.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json")
    b.minor = 3;
  else
    return fail(
        fmt::format("mediaType '{}' is not a Sigstore bundle version this verifier knows "
                    "(0.1, 0.2, 0.3)",
                    b.media_type));

  const auto& vm = jsonMember(d, "verificationMaterial");
  if (!vm.IsObject()) return fail("verificationMaterial is missing");
  if (const auto& cert = jsonMember(vm, "certificate"); cert.IsObject()) {
    auto raw = bytesOf(cert, "rawBytes", "verificationMaterial.certificate", true);
    if (!raw) return fail(raw.error().message);
    auto c = Certificate::fromDer(raw.value());
    if (!c) return fail("verificationMaterial.certificate: " + c.error().message);
    b.chain.push_back(c.value());
  } else if (const auto& chain = jsonMember(jsonMember(vm, "x509CertificateChain"), "certificates");
             chain.IsArray()) {
    for (const auto& c : chain.GetArray()) {
      auto raw = bytesOf(c, "rawBytes", "verificationMaterial.x509CertificateChain", true);
      if (!raw) return fail(raw.error().message);
      auto cert = Certificate::fromDer(raw.value());
      if (!cert) return fail("verificationMaterial.x509CertificateChain: " + cert.error().message);
      b.chain.push_back(cert.value());
    }
    if (b.chain.empty()) return fail("verificationMaterial.x509CertificateChain is empty");
  } else if (const auto& pk = jsonMember(vm, "publicKey"); pk.IsObject()) {
    b.key_hint = std::string(jsonString(pk, "hint"));
  } else {
    return fail("verificationMaterial has no certificate, certificate chain or public key");
  }
  if (b.minor == 3 && jsonMember(vm, "x509CertificateChain").IsObject())
    return fail(
        "a v0.3 bundle carries its signing certificate in verificationMaterial."
        "certificate, not a chain");

  if (const auto& entries = jsonMember(vm, "tlogEntries"); entries.IsArray()) {
    size_t i = 0;
    for (const auto& e : entries.GetArray()) {
      std::string where = fmt::format("verificationMaterial.tlogEntries[{}]", i++);
      TlogEntry t;
      auto idx = int64Of(jsonMember(e, "logIndex"), where + ".logIndex");
      if (!idx) return fail(idx.error().message);
      t.log_index = idx.value();
      auto id = bytesOf(jsonMember(e, "logId"), "keyId", where + ".logId", true);
      if (!id) return fail(id.error().message);
      t.log_id = id.value();
      t.kind = std::string(jsonString(jsonMember(e, "kindVersion"), "kind"));
      t.version = std::string(jsonString(jsonMember(e, "kindVersion"), "version"));
      auto it = int64Of(jsonMember(e, "integratedTime"), where + ".integratedTime");
      if (!it) return fail(it.error().message);
      t.integrated_time = it.value();
      auto set = bytesOf(jsonMember(e, "inclusionPromise"), "signedEntryTimestamp",
                         where + ".inclusionPromise", false);
      if (!set) return fail(set.error().message);
      t.set = set.value();
      t.body_b64 = std::string(jsonString(e, "canonicalizedBody"));
      auto body = bytesOf(e, "canonicalizedBody", where, true);
      if (!body) return fail(body.error().message);
      t.body = body.value();
      if (const auto& p = jsonMember(e, "inclusionProof"); p.IsObject()) {
        t.has_proof = true;
        auto pi = int64Of(jsonMember(p, "logIndex"), where + ".inclusionProof.logIndex");
        auto ts = int64Of(jsonMember(p, "treeSize"), where + ".inclusionProof.treeSize");
        if (!pi) return fail(pi.error().message);
        if (!ts) return fail(ts.error().message);
        t.proof_index = pi.value();
        t.tree_size = ts.value();
        auto root = bytesOf(p, "rootHash", where + ".inclusionProof", true);
        if (!root) return fail(root.error().message);
        t.root_hash = root.value();
        if (const auto& hs = jsonMember(p, "hashes"); hs.IsArray())
          for (const auto& h : hs.GetArray()) {
            auto raw = h.IsString() ? base64Decode(std::string_view(h.GetString())) : std::nullopt;
            if (!raw) return fail(where + ".inclusionProof.hashes: not base64");
            t.hashes.push_back(*raw);
          }
        t.checkpoint = std::string(jsonString(jsonMember(p, "checkpoint"), "envelope"));
      }
      if (b.minor >= 2 && !t.has_proof)
        return fail(where + ": a v0.2+ bundle's log entry needs an inclusion proof");
      b.tlog.push_back(std::move(t));
    }
  }
  if (const auto& ts = jsonMember(jsonMember(vm, "timestampVerificationData"), "rfc3161Timestamps");
      ts.IsArray())
    for (const auto& t : ts.GetArray()) {
      auto raw = bytesOf(t, "signedTimestamp", "timestampVerificationData", true);
      if (!raw) return fail(raw.error().message);
      b.timestamps.push_back(raw.value());
    }

  if (const auto& ms = jsonMember(d, "messageSignature"); ms.IsObject()) {
    const auto& md = jsonMember(ms, "messageDigest");
    b.digest_algorithm = std::string(jsonString(md, "algorithm"));
    auto dg = bytesOf(md, "digest", "messageSignature.messageDigest", false);
    if (!dg) return fail(dg.error().message);
    b.message_digest = dg.value();
    auto sig = bytesOf(ms, "signature", "messageSignature", true);
    if (!sig) return fail(sig.error().message);
    b.signature = sig.value();
  } else if (const auto& env = jsonMember(d, "dsseEnvelope"); env.IsObject()) {
    b.dsse = true;
    b.payload_type = std::string(jsonString(env, "payloadType"));
    auto payload = bytesOf(env, "payload", "dsseEnvelope", true);
    if (!payload) return fail(payload.error().message);
    b.payload = payload.value();
    if (const auto& sigs = jsonMember(env, "signatures"); sigs.IsArray())
      for (const auto& s : sigs.GetArray()) {
        auto sig = bytesOf(s, "sig", "dsseEnvelope.signatures", true);
        if (!sig) return fail(sig.error().message);
        b.signatures.push_back(sig.value());
      }
    if (b.signatures.empty()) return fail("dsseEnvelope has no signatures");
  } else {
    return fail("the bundle has neither a messageSignature nor a dsseEnvelope");
  }
  return b;
}

}  // namespace kh::sigstore
