#include "sigstore/tlog.h"

#include <fmt/format.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::sigstore {

namespace {

// UTF-8 to UTF-16 code units (for RFC 8785's member order); false on invalid UTF-8.
bool utf16(std::string_view s, std::u16string* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c, n = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F, n = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F, n = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07, n = 4;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
    i += n;
  }
  return true;
}

void appendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20)
          *out += fmt::format("\\u{:04x}", c);
        else
          out->push_back(ch);
    }
  }
  out->push_back('"');
}

// ECMAScript's Number.prototype.toString for a finite double (RFC 8785 section 3.2.2.3).
std::string esNumber(double d) {
  if (d == 0) return "0";  // -0 too
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // "-d.ddde+XX" with the shortest digits
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exp10 = std::stoi(sci.substr(e + 1));
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // value = 0.digits x 10^n
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{}", n - 1 >= 0 ? "+" : "-", std::abs(n - 1));
  }
  return sign + out;
}

Status canonical(const rapidjson::Value& v, std::string* out, int depth) {
  if (depth > 200) return Error{"JSON nested too deeply", {}, {}};
  std::u16string scratch;
  switch (v.GetType()) {
    case rapidjson::kNullType:
      *out += "null";
      return {};
    case rapidjson::kFalseType:
      *out += "false";
      return {};
    case rapidjson::kTrueType:
      *out += "true";
      return {};
    case rapidjson::kStringType: {
      std::string_view s(v.GetString(), v.GetStringLength());
      if (!utf16(s, &scratch)) return Error{"a string that is not UTF-8", {}, {}};
      appendString(s, out);
      return {};
    }
    case rapidjson::kNumberType: {
      double d = v.GetDouble();
      if (v.IsInt64() || v.IsUint64()) {
        // Integers as ECMAScript sees them: as doubles (beyond 2^53 they round).
        d = v.IsInt64() ? static_cast<double>(v.GetInt64()) : static_cast<double>(v.GetUint64());
      }
      if (!std::isfinite(d)) return Error{"a number that is not finite", {}, {}};
      *out += esNumber(d);
      return {};
    }
    case rapidjson::kArrayType: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out->push_back(',');
        first = false;
        if (Status s = canonical(e, out, depth + 1); !s) return s;
      }
      out->push_back(']');
      return {};
    }
    case rapidjson::kObjectType: {
      std::vector<std::pair<std::u16string, const rapidjson::Value::Member*>> members;
      for (const auto& m : v.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (!utf16(name, &scratch)) return Error{"a member name that is not UTF-8", {}, {}};
        members.emplace_back(scratch, &m);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0 && members[i].first == members[i - 1].first)
          return Error{
              fmt::format("duplicate member name \"{}\"", members[i].second->name.GetString()),
              {},
              {}};
        if (i > 0) out->push_back(',');
        const auto& m = *members[i].second;
        appendString(std::string_view(m.name.GetString(), m.name.GetStringLength()), out);
        out->push_back(':');
        if (Status s = canonical(m.value, out, depth + 1); !s) return s;
      }
      out->push_back('}');
      return {};
    }
  }
  return {};
}

std::string nodeHash(std::string_view left, std::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back('\x01');
  buf.append(left);
  buf.append(right);
  return sha256(buf);
}

}  // namespace

Result<std::string> canonicalJson(const rapidjson::Value& v) {
  std::string out;
  if (Status s = canonical(v, &out, 0); !s) return s.error();
  return out;
}

Result<std::string> canonicalJson(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
  if (d.HasParseError()) return jsonParseError(d, json, "");
  return canonicalJson(static_cast<const rapidjson::Value&>(d));
}

std::string pae(std::string_view payload_type, std::string_view payload) {
  return fmt::format("DSSEv1 {} {} {} ", payload_type.size(), payload_type, payload.size()) +
         std::string(payload);
}

std::string leafHash(std::string_view data) {
  std::string buf;
  buf.reserve(1 + data.size());
  buf.push_back('\0');
  buf.append(data);
  return sha256(buf);
}

Status verifyInclusion(uint64_t index, uint64_t size, std::string_view leaf,
                       const std::vector<std::string>& proof, std::string_view root) {
  if (index >= size)
    return Error{fmt::format("the inclusion proof's log index {} is not in a tree of {} entries",
                             index, size),
                 {},
                 {}};
  uint64_t fn = index, sn = size - 1;
  std::string r(leaf);
  for (const std::string& p : proof) {
    if (p.size() != 32) return Error{"an inclusion proof hash is not 32 bytes", {}, {}};
    if (sn == 0)
      return Error{"the inclusion proof has more hashes than the tree has levels", {}, {}};
    if ((fn & 1) == 1 || fn == sn) {
      r = nodeHash(p, r);
      if ((fn & 1) == 0)
        while (fn != 0 && (fn & 1) == 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Error{"the inclusion proof has too few hashes for the tree's size", {}, {}};
  if (r != root)
    return Error{fmt::format("the inclusion proof leads to root {}, not the log's root {}", hex(r),
                             hex(root)),
                 {},
                 {}};
  return {};
}

Result<Checkpoint> parseCheckpoint(std::string_view text) {
  size_t blank = text.find("\n\n");
  if (blank == std::string_view::npos)
    return Error{"a checkpoint without the blank line before its signatures", {}, {}};
  Checkpoint cp;
  cp.body = std::string(text.substr(0, blank + 1));
  std::vector<std::string> lines;
  for (std::string_view rest = cp.body; !rest.empty();) {
    size_t nl = rest.find('\n');
    lines.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3)
    return Error{"a checkpoint needs an origin, a tree size and a root hash", {}, {}};
  cp.origin = lines[0];
  auto [p, ec] = std::from_chars(lines[1].data(), lines[1].data() + lines[1].size(), cp.size);
  if (ec != std::errc() || p != lines[1].data() + lines[1].size() || lines[1].empty())
    return Error{fmt::format("the checkpoint's tree size '{}' is not a number", lines[1]), {}, {}};
  auto root = base64Decode(lines[2]);
  if (!root || root->size() != 32)
    return Error{"the checkpoint's root hash is not 32 bytes of base64", {}, {}};
  cp.root = *root;
  std::string_view sigs = text.substr(blank + 2);
  static const std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl == std::string_view::npos ? sigs.size() : nl + 1);
    if (line.empty()) continue;
    if (!line.starts_with(kDash))
      return Error{"a checkpoint signature line that does not start with an em dash", {}, {}};
    line.remove_prefix(kDash.size());
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) return Error{"a checkpoint signature without a name", {}, {}};
    auto raw = base64Decode(line.substr(sp + 1));
    if (!raw || raw->size() < 5)
      return Error{
          "a checkpoint signature that is not base64 of a key hint and a signature", {}, {}};
    cp.signatures.push_back({std::string(line.substr(0, sp)), raw->substr(0, 4), raw->substr(4)});
  }
  if (cp.signatures.empty()) return Error{"a checkpoint without signatures", {}, {}};
  return cp;
}

bool checkpointSignedBy(const Checkpoint& cp, const PublicKey& key, std::string_view log_key_id) {
  for (const auto& s : cp.signatures)
    if (log_key_id.size() >= 4 && s.key_hint == log_key_id.substr(0, 4) &&
        key.verify(cp.body, s.sig))
      return true;
  return false;
}

bool verifySet(const PublicKey& key, std::string_view set, std::string_view body_b64,
               int64_t integrated_time, std::string_view log_id, int64_t log_index) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("body", rapidjson::Value(body_b64.data(), static_cast<unsigned>(body_b64.size()), a),
              a);
  d.AddMember("integratedTime", rapidjson::Value(integrated_time), a);
  std::string id = hex(log_id);
  d.AddMember("logID", rapidjson::Value(id.c_str(), static_cast<unsigned>(id.size()), a), a);
  d.AddMember("logIndex", rapidjson::Value(log_index), a);
  auto payload = canonicalJson(static_cast<const rapidjson::Value&>(d));
  return payload && key.verify(payload.value(), set);
}

}  // namespace kh::sigstore
