#include "sigstore/trusted_root.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>
#include <ctime>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::sigstore {

namespace {

Result<int> digits(std::string_view s, size_t at, size_t n) {
  int v = 0;
  if (at + n > s.size()) return Error{"too short", {}, {}};
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return Error{"not a digit", {}, {}};
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Result<Validity> validity(const rapidjson::Value& v, const std::string& where) {
  Validity out;
  if (!v.IsObject()) return out;
  if (auto s = jsonString(v, "start"); !s.empty()) {
    auto t = parseRfc3339(s);
    if (!t) return Error{fmt::format("{}.validFor.start: {}", where, t.error().message), {}, {}};
    out.start = t.value();
  }
  if (auto e = jsonString(v, "end"); !e.empty()) {
    auto t = parseRfc3339(e);
    if (!t) return Error{fmt::format("{}.validFor.end: {}", where, t.error().message), {}, {}};
    out.end = t.value();
  }
  return out;
}

// A transparency or CT log: nullopt-like skip (ok, `*skip` true) for a key kind not supported.
Result<TrustedLog> log(const rapidjson::Value& v, const std::string& where, bool* skip) {
  TrustedLog out;
  *skip = false;
  out.base_url = std::string(jsonString(v, "baseUrl"));
  const auto& pk = jsonMember(v, "publicKey");
  auto raw = base64Decode(jsonString(pk, "rawBytes"));
  if (!raw || raw->empty()) {
    *skip = true;  // a key given some other way (not in this format version)
    return out;
  }
  auto key = PublicKey::fromDer(*raw);
  if (!key) return Error{fmt::format("{}.publicKey: {}", where, key.error().message), {}, {}};
  out.key = key.value();
  auto id = base64Decode(jsonString(jsonMember(v, "logId"), "keyId"));
  if (!id || id->empty()) return Error{fmt::format("{}.logId.keyId is missing", where), {}, {}};
  out.key_id = *id;
  auto valid = validity(jsonMember(pk, "validFor"), where + ".publicKey");
  if (!valid) return valid.error();
  out.valid = valid.value();
  return out;
}

Result<TrustedCa> ca(const rapidjson::Value& v, const std::string& where) {
  TrustedCa out;
  out.uri = std::string(jsonString(v, "uri"));
  const auto& certs = jsonMember(jsonMember(v, "certChain"), "certificates");
  if (!certs.IsArray() || certs.Empty())
    return Error{fmt::format("{}.certChain.certificates is missing or empty", where), {}, {}};
  for (const auto& c : certs.GetArray()) {
    auto raw = base64Decode(jsonString(c, "rawBytes"));
    if (!raw) return Error{fmt::format("{}: a certificate that is not base64", where), {}, {}};
    auto cert = Certificate::fromDer(*raw);
    if (!cert) return Error{fmt::format("{}: {}", where, cert.error().message), {}, {}};
    out.chain.push_back(cert.value());
  }
  auto valid = validity(jsonMember(v, "validFor"), where);
  if (!valid) return valid.error();
  out.valid = valid.value();
  return out;
}

}  // namespace

Result<int64_t> parseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto bad = [&] { return Error{fmt::format("'{}' is not an RFC 3339 time", s), {}, {}}; };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return bad();
  auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2), h = digits(s, 11, 2),
       mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return bad();
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return bad();
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    auto oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
    if (!oh || !om) return bad();
    offset = (oh.value() * 3600 + om.value() * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size() || mo.value() < 1 || mo.value() > 12 || d.value() < 1 || d.value() > 31 ||
      h.value() > 23 || mi.value() > 59 || se.value() > 60)
    return bad();
  struct tm tm {};
  tm.tm_year = y.value() - 1900;
  tm.tm_mon = mo.value() - 1;
  tm.tm_mday = d.value();
  tm.tm_hour = h.value();
  tm.tm_min = mi.value();
  tm.tm_sec = se.value();
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

const TrustedLog* TrustedRoot::tlog(std::string_view key_id) const {
  for (const auto& l : tlogs)
    if (l.key_id == key_id) return &l;
  return nullptr;
}

Result<TrustedRoot> parseTrustedRoot(std::string_view json, const std::string& file) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) return jsonParseError(d, json, file);
  if (!d.IsObject()) return Error{"a trusted root is a JSON object", file, {}};
  std::string_view media = jsonString(d, "mediaType");
  if (!media.starts_with("application/vnd.dev.sigstore.trustedroot"))
    return Error{fmt::format("mediaType '{}' is not a Sigstore trusted root "
                             "(application/vnd.dev.sigstore.trustedroot+json;version=0.1)",
                             media),
                 file,
                 {}};
  TrustedRoot root;
  auto seeStart = [&](const Validity& v) {
    if (v.start != std::numeric_limits<int64_t>::min() && v.start > root.newest_start)
      root.newest_start = v.start;
  };
  for (const char* kind : {"tlogs", "ctlogs"}) {
    const auto& list = jsonMember(d, kind);
    if (!list.IsArray()) continue;
    size_t i = 0;
    for (const auto& v : list.GetArray()) {
      bool skip = false;
      auto l = log(v, fmt::format("{}[{}]", kind, i++), &skip);
      if (!l) return Error{l.error().message, file, {}};
      if (skip) continue;
      seeStart(l.value().valid);
      (std::string_view(kind) == "tlogs" ? root.tlogs : root.ctlogs).push_back(l.value());
    }
  }
  for (const char* kind : {"certificateAuthorities", "timestampAuthorities"}) {
    const auto& list = jsonMember(d, kind);
    if (!list.IsArray()) continue;
    size_t i = 0;
    for (const auto& v : list.GetArray()) {
      auto c = ca(v, fmt::format("{}[{}]", kind, i++));
      if (!c) return Error{c.error().message, file, {}};
      seeStart(c.value().valid);
      (std::string_view(kind) == "certificateAuthorities" ? root.certificate_authorities
                                                          : root.timestamp_authorities)
          .push_back(c.value());
    }
  }
  return root;
}

}  // namespace kh::sigstore
