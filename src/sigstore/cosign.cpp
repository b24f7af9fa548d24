#include "sigstore/cosign.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <charconv>

#include "base/json_util.h"
#include "base/strings.h"
#include "sigstore/crypto.h"

namespace kh::sigstore {

namespace {

// An annotation under either prefix cosign has written it with.
const std::string* annotation(const std::map<std::string, std::string>& a, const char* name) {
  for (const char* prefix : {"dev.sigstore.cosign/", "dev.cosignproject.cosign/"}) {
    auto it = a.find(std::string(prefix) + name);
    if (it != a.end() && !it->second.empty()) return &it->second;
  }
  return nullptr;
}

// A member by name, ignoring case (cosign's payload parser does).
const rapidjson::Value* memberNoCase(const rapidjson::Value& o, std::string_view name) {
  if (!o.IsObject()) return nullptr;
  for (const auto& m : o.GetObject())
    if (toLower(std::string_view(m.name.GetString(), m.name.GetStringLength())) == toLower(name))
      return &m.value;
  return nullptr;
}

Result<int64_t> integer(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) return Error{fmt::format("{} is missing", key), {}, {}};
  if (it->value.IsInt64()) return it->value.GetInt64();
  if (it->value.IsString()) {
    int64_t v = 0;
    std::string_view s = it->value.GetString();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  return Error{fmt::format("{} is not an integer", key), {}, {}};
}

}  // namespace

Result<Bundle> bundleFromCosignLayer(std::string_view media_type, std::string_view payload,
                                     const std::map<std::string, std::string>& annotations) {
  Bundle b;
  b.minor = 1;  // legacy: a Rekor SET, no inclusion proof
  b.media_type = "cosign legacy signature";
  if (const std::string* cert = annotation(annotations, "certificate")) {
    auto c = Certificate::fromPem(*cert);
    if (!c) return Error{"the certificate annotation: " + c.error().message, {}, {}};
    b.chain = c.value();
    if (const std::string* chain = annotation(annotations, "chain")) {
      auto rest = Certificate::fromPem(*chain);
      if (!rest) return Error{"the chain annotation: " + rest.error().message, {}, {}};
      for (auto& x : rest.value()) b.chain.push_back(x);
    }
  }
  if (media_type == kSimpleSigningType) {
    const std::string* sig = annotation(annotations, "signature");
    if (!sig) return Error{"a signature layer without the signature annotation", {}, {}};
    auto raw = base64Decode(*sig);
    if (!raw || raw->empty()) return Error{"the signature annotation is not base64", {}, {}};
    b.signature = *raw;
    b.digest_algorithm = "SHA2_256";
    b.message_digest = sha256(payload);
  } else if (media_type == kDsseLayerType) {
    rapidjson::Document env;
    env.Parse(payload.data(), payload.size());
    if (env.HasParseError() || !env.IsObject())
      return Error{"the attestation layer is not a DSSE envelope (JSON)", {}, {}};
    b.dsse = true;
    b.payload_type = std::string(jsonString(env, "payloadType"));
    auto body = base64Decode(jsonString(env, "payload"));
    if (!body) return Error{"the DSSE envelope's payload is not base64", {}, {}};
    b.payload = *body;
    if (auto it = env.FindMember("signatures"); it != env.MemberEnd() && it->value.IsArray())
      for (const auto& s : it->value.GetArray())
        if (auto sig = base64Decode(jsonString(s, "sig")); sig && !sig->empty())
          b.signatures.push_back(*sig);
    if (b.signatures.empty()) return Error{"the DSSE envelope has no signatures", {}, {}};
  } else {
    return Error{
        fmt::format("a layer of type {} is not a cosign signature or attestation", media_type),
        {},
        {}};
  }
  if (const std::string* rekor = annotation(annotations, "bundle")) {
    rapidjson::Document d;
    d.Parse(rekor->data(), rekor->size());
    if (d.HasParseError() || !d.IsObject())
      return Error{"the Rekor bundle annotation is not JSON", {}, {}};
    auto set = base64Decode(jsonString(d, "SignedEntryTimestamp"));
    auto p = d.FindMember("Payload");
    if (!set || p == d.MemberEnd() || !p->value.IsObject())
      return Error{"the Rekor bundle annotation lacks SignedEntryTimestamp or Payload", {}, {}};
    TlogEntry e;
    e.set = *set;
    e.body_b64 = std::string(jsonString(p->value, "body"));
    auto body = base64Decode(e.body_b64);
    if (!body) return Error{"the Rekor bundle's body is not base64", {}, {}};
    e.body = *body;
    auto it = integer(p->value, "integratedTime");
    auto idx = integer(p->value, "logIndex");
    if (!it) return Error{"the Rekor bundle: " + it.error().message, {}, {}};
    if (!idx) return Error{"the Rekor bundle: " + idx.error().message, {}, {}};
    e.integrated_time = it.value();
    e.log_index = idx.value();
    auto id = unhex(jsonString(p->value, "logID"));
    if (!id || id.value().empty()) return Error{"the Rekor bundle's logID is not hex", {}, {}};
    e.log_id = id.value();
    rapidjson::Document entry;
    entry.Parse(e.body.data(), e.body.size());
    e.kind = std::string(jsonString(entry, "kind"));
    e.version = std::string(jsonString(entry, "apiVersion"));
    b.tlog.push_back(std::move(e));
  }
  if (const std::string* ts = annotation(annotations, "rfc3161timestamp")) {
    rapidjson::Document d;
    d.Parse(ts->data(), ts->size());
    auto raw = d.IsObject() ? base64Decode(jsonString(d, "SignedRFC3161Timestamp")) : std::nullopt;
    if (!raw) return Error{"the RFC 3161 timestamp annotation is not readable", {}, {}};
    b.timestamps.push_back(*raw);
  }
  return b;
}

Status checkSimpleSigning(std::string_view payload, std::string_view digest) {
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  if (d.HasParseError() || !d.IsObject())
    return Error{"the signed payload is not a simple-signing JSON document", {}, {}};
  const rapidjson::Value* critical = memberNoCase(d, "critical");
  const rapidjson::Value* type = critical ? memberNoCase(*critical, "type") : nullptr;
  if (!type || !type->IsString() ||
      toLower(std::string_view(type->GetString())) != "cosign container image signature")
    return Error{
        "the signed payload is not a cosign container image signature (critical.type)", {}, {}};
  const rapidjson::Value* image = memberNoCase(*critical, "image");
  const rapidjson::Value* signed_digest =
      image ? memberNoCase(*image, "docker-manifest-digest") : nullptr;
  if (!signed_digest || !signed_digest->IsString())
    return Error{"the signed payload names no critical.image.docker-manifest-digest", {}, {}};
  if (std::string_view(signed_digest->GetString()) != digest)
    return Error{fmt::format("the signature is for {}, not this image ({})",
                             signed_digest->GetString(), digest),
                 {},
                 {}};
  return {};
}

}  // namespace kh::sigstore
