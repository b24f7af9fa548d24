// The CEL standard library and the extensions Kubernetes enables (strings, optionals), as
// functions the planner binds calls to (cel/internal.h). Each function takes every overload of
// its name and call style and tells them apart by the arguments' kinds; what matches none is
// "no such overload", as in cel-go.
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "base/strings.h"
#include "cel/internal.h"
#include "cel/text.h"

namespace kh::cel {

namespace {

using Args = std::span<const Value>;

int64_t codePoints(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

// The byte offset of each code point of a UTF-8 string, and its length at the end.
std::vector<size_t> codePointOffsets(std::string_view s) {
  std::vector<size_t> at;
  for (size_t k = 0; k < s.size(); ++k)
    if ((static_cast<unsigned char>(s[k]) & 0xc0) != 0x80) at.push_back(k);
  at.push_back(s.size());
  return at;
}

// Go's unicode.IsSpace, for trim.
bool isSpaceCp(uint32_t c) {
  return c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == ' ' || c == 0x85 ||
         c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

// ---- the strings extension (receiver-style on a string; code points, not bytes)

Value lowerAscii(CallContext&, Args a) {
  if (a.size() != 1 || !argIs(a, 0, Kind::kString)) return noOverload("lowerAscii", a);
  std::string out(a[0].str());
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return Value::string(std::move(out));
}

Value upperAscii(CallContext&, Args a) {
  if (a.size() != 1 || !argIs(a, 0, Kind::kString)) return noOverload("upperAscii", a);
  std::string out(a[0].str());
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return Value::string(std::move(out));
}

Value trim(CallContext&, Args a) {
  if (a.size() != 1 || !argIs(a, 0, Kind::kString)) return noOverload("trim", a);
  std::string_view s = a[0].str();
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t k = b;
    if (!isSpaceCp(decodeUtf8(s, k))) break;
    b = k;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) --start;
    size_t k = start;
    if (!isSpaceCp(decodeUtf8(s, k))) break;
    e = start;
  }
  return stringValue(s.substr(b, e - b));
}

Value charAt(CallContext&, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kInt))
    return noOverload("charAt", a);
  std::string_view s = a[0].str();
  std::vector<size_t> at = codePointOffsets(s);
  int64_t len = static_cast<int64_t>(at.size()) - 1;
  int64_t i = a[1].i;
  if (i < 0 || i > len) return Value::error(fmt::format("index out of range: {}", i));
  if (i == len) return Value::string("");
  return stringValue(s.substr(at[i], at[i + 1] - at[i]));
}

Value indexOfImpl(std::string_view fn, Args a) {
  size_t n = a.size();
  if (n < 2 || n > 3 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString) ||
      (n == 3 && !argIs(a, 2, Kind::kInt)))
    return noOverload(fn, a);
  std::string_view s = a[0].str(), sub = a[1].str();
  std::vector<size_t> at = codePointOffsets(s);
  int64_t len = static_cast<int64_t>(at.size()) - 1;
  bool last = fn == "lastIndexOf";
  int64_t off = n == 3 ? a[2].i : (last ? len : 0);
  if (off < 0 || off > len) return Value::error(fmt::format("index out of range: {}", off));
  if (sub.empty()) return Value::integer(off);
  // Search code point positions: forward from off, or backward from off.
  for (int64_t i = off; last ? i >= 0 : i < len; i += last ? -1 : 1) {
    if (i > len) continue;
    if (at[i] + sub.size() <= s.size() && s.compare(at[i], sub.size(), sub) == 0)
      return Value::integer(i);
  }
  return Value::integer(-1);
}
Value indexOf(CallContext&, Args a) {
  return indexOfImpl("indexOf", a);
}
Value lastIndexOf(CallContext&, Args a) {
  return indexOfImpl("lastIndexOf", a);
}

Value substring(CallContext&, Args a) {
  size_t n = a.size();
  if (n < 2 || n > 3 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kInt) ||
      (n == 3 && !argIs(a, 2, Kind::kInt)))
    return noOverload("substring", a);
  std::string_view s = a[0].str();
  std::vector<size_t> at = codePointOffsets(s);
  int64_t len = static_cast<int64_t>(at.size()) - 1;
  int64_t b = a[1].i, e = n == 3 ? a[2].i : len;
  if (b < 0 || b > len) return Value::error(fmt::format("index out of range: {}", b));
  if (e < 0 || e > len) return Value::error(fmt::format("index out of range: {}", e));
  if (b > e) return Value::error(fmt::format("invalid substring range. start: {}, end: {}", b, e));
  return stringValue(s.substr(at[b], at[e] - at[b]));
}

Value replace(CallContext&, Args a) {
  size_t n = a.size();
  if (n < 3 || n > 4 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString) ||
      !argIs(a, 2, Kind::kString) || (n == 4 && !argIs(a, 3, Kind::kInt)))
    return noOverload("replace", a);
  std::string_view s = a[0].str(), from = a[1].str(), to = a[2].str();
  int64_t limit = n == 4 ? a[3].i : -1;
  std::string out;
  int64_t done = 0;
  if (from.empty()) {  // Go: insert before each code point and at the end
    std::vector<size_t> at = codePointOffsets(s);
    int64_t len = static_cast<int64_t>(at.size()) - 1;
    for (int64_t i = 0; i <= len; ++i) {
      if (limit < 0 || done < limit) {
        out += to;
        ++done;
      }
      if (i < len) out += s.substr(at[i], at[i + 1] - at[i]);
    }
    return Value::string(std::move(out));
  }
  size_t pos = 0;
  while (limit < 0 || done < limit) {
    size_t f = s.find(from, pos);
    if (f == std::string_view::npos) break;
    out += s.substr(pos, f - pos);
    out += to;
    pos = f + from.size();
    ++done;
  }
  out += s.substr(pos);
  return Value::string(std::move(out));
}

Value split(CallContext&, Args a) {
  size_t n = a.size();
  if (n < 2 || n > 3 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString) ||
      (n == 3 && !argIs(a, 2, Kind::kInt)))
    return noOverload("split", a);
  std::string_view s = a[0].str(), sep = a[1].str();
  int64_t limit = n == 3 ? a[2].i : -1;
  List out;
  if (limit == 0) return Value::listOf(std::move(out));
  if (sep.empty()) {  // code points, the last holding the rest at the limit
    std::vector<size_t> at = codePointOffsets(s);
    int64_t len = static_cast<int64_t>(at.size()) - 1;
    for (int64_t i = 0; i < len; ++i) {
      if (limit > 0 && static_cast<int64_t>(out.size()) == limit - 1) {
        out.push_back(stringValue(s.substr(at[i])));
        return Value::listOf(std::move(out));
      }
      out.push_back(stringValue(s.substr(at[i], at[i + 1] - at[i])));
    }
    return Value::listOf(std::move(out));
  }
  size_t pos = 0;
  while (limit < 0 || static_cast<int64_t>(out.size()) < limit - 1) {
    size_t f = s.find(sep, pos);
    if (f == std::string_view::npos) break;
    out.push_back(stringValue(s.substr(pos, f - pos)));
    pos = f + sep.size();
  }
  out.push_back(stringValue(s.substr(pos)));
  return Value::listOf(std::move(out));
}

Value join(CallContext&, Args a) {
  size_t n = a.size();
  if ((n != 1 && n != 2) || !argIs(a, 0, Kind::kList) || (n == 2 && !argIs(a, 1, Kind::kString)))
    return noOverload("join", a);
  std::string out;
  size_t count = a[0].size();
  for (size_t k = 0; k < count; ++k) {
    Value e = a[0].item(k);
    if (e.kind != Kind::kString) return noOverload("join", a);
    if (k && n == 2) out += a[1].str();
    out += e.str();
  }
  return Value::string(std::move(out));
}

// timestamp("2009-02-13T23:31:30Z"): RFC 3339, a fraction of up to nine digits, Z or an offset.
Value parseTimestampText(std::string_view t) {
  auto bad = [&] { return Value::error(fmt::format("cannot parse timestamp \"{}\"", t)); };
  auto num = [&](size_t at, size_t n, int64_t& out) {
    if (at + n > t.size()) return false;
    out = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(t[at + k]))) return false;
      out = out * 10 + (t[at + k] - '0');
    }
    return true;
  };
  int64_t y, mo, d, h, mi, se;
  if (t.size() < 20 || !num(0, 4, y) || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' ||
      !num(8, 2, d) || (t[10] != 'T' && t[10] != 't') || !num(11, 2, h) || t[13] != ':' ||
      !num(14, 2, mi) || t[16] != ':' || !num(17, 2, se))
    return bad();
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
      se > 59)
    return bad();
  size_t at = 19;
  int64_t nanos = 0;
  if (at < t.size() && t[at] == '.') {
    size_t digits = 0;
    ++at;
    while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) {
      if (digits < 9) nanos = nanos * 10 + (t[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0 || digits > 9) return bad();
    for (size_t k = digits; k < 9; ++k) nanos *= 10;
  }
  int64_t offset = 0;
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
    ++at;
  } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
    int64_t oh, om;
    if (!num(at + 1, 2, oh) || at + 3 >= t.size() || t[at + 3] != ':' || !num(at + 4, 2, om) ||
        oh > 23 || om > 59)
      return bad();
    offset = (oh * 3600 + om * 60) * (t[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return bad();
  }
  if (at != t.size()) return bad();
  if (y < 1) return Value::error("range error: timestamp out of range");
  int64_t seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  return Value::timestamp(seconds, nanos);
}

// duration("1h2m3.5s"): Go's time.ParseDuration (ns, us, µs, ms, s, m, h; a sign; "0").
Value parseDuration(std::string_view t) {
  auto bad = [&] { return Value::error(fmt::format("cannot parse duration \"{}\"", t)); };
  size_t at = 0;
  bool negative = false;
  if (at < t.size() && (t[at] == '-' || t[at] == '+')) negative = t[at++] == '-';
  if (t.substr(at) == "0") return Value::duration(0, 0);
  if (at == t.size()) return bad();
  __int128 total = 0;  // nanoseconds
  while (at < t.size()) {
    __int128 whole = 0, frac = 0, scale = 1;
    size_t start = at;
    while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) {
      whole = whole * 10 + (t[at++] - '0');
      if (whole > static_cast<__int128>(1) << 100) return bad();
    }
    bool digits = at > start;
    if (at < t.size() && t[at] == '.') {
      ++at;
      size_t fs = at;
      while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) {
        if (scale < static_cast<__int128>(1000000000000000000LL)) {
          frac = frac * 10 + (t[at] - '0');
          scale *= 10;
        }
        ++at;
      }
      digits = digits || at > fs;
    }
    if (!digits) return bad();
    size_t us = at;
    while (at < t.size() && !std::isdigit(static_cast<unsigned char>(t[at])) && t[at] != '.') ++at;
    std::string_view unit = t.substr(us, at - us);
    int64_t per;
    if (unit == "ns")
      per = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")
      per = 1000;
    else if (unit == "ms")
      per = 1000000;
    else if (unit == "s")
      per = kNano;
    else if (unit == "m")
      per = 60 * kNano;
    else if (unit == "h")
      per = 3600 * kNano;
    else
      return bad();
    total += whole * per + frac * per / scale;
    if (total > static_cast<__int128>(kMaxDuration + 1) * kNano)
      return Value::error("range error: duration out of range");
  }
  if (negative) total = -total;
  return Value::duration(static_cast<int64_t>(total / kNano), static_cast<int64_t>(total % kNano));
}

// A zone of the IANA database, read from its TZif file (TZDIR, else /usr/share/zoneinfo): the
// transition times (64-bit data of a version 2+ file) and the UTC offset after each. An instant
// after the last transition keeps its offset (the files carry transitions to 2037).
struct Zone {
  std::vector<int64_t> times;
  std::vector<int32_t> offsets;  // offsets[k] from times[k]; offsets.back() also before times[0]
  int32_t initial = 0;
};

std::optional<Zone> readZone(const std::string& name) {
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+'))
      return std::nullopt;
  if (name.find("..") != std::string::npos || name.empty() || name[0] == '/') return std::nullopt;
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string d;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0 && d.size() < (1u << 20);)
    d.append(buf, n);
  std::fclose(f);
  auto be = [&](size_t at, size_t n) -> int64_t {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v = (v << 8) | static_cast<unsigned char>(d[at + k]);
    if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
    return static_cast<int64_t>(v);
  };
  auto header = [&](size_t at, int64_t c[6]) {
    if (d.size() < at + 44 || d.compare(at, 4, "TZif") != 0) return false;
    for (int k = 0; k < 6; ++k) c[k] = be(at + 20 + 4 * k, 4);
    for (int k = 0; k < 6; ++k)
      if (c[k] < 0 || c[k] > 100000) return false;
    return true;
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return std::nullopt;
  size_t at = 44;
  size_t tsize = 4;
  if (d[4] >= '2') {  // skip the 32-bit block to the 64-bit one
    at += static_cast<size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (!header(at, c)) return std::nullopt;
    at += 44;
    tsize = 8;
  }
  size_t need = at + static_cast<size_t>(c[3]) * (tsize + 1) + static_cast<size_t>(c[4]) * 6;
  if (c[4] == 0 || d.size() < need) return std::nullopt;
  Zone z;
  size_t types = at + static_cast<size_t>(c[3]) * (tsize + 1);
  for (int64_t k = 0; k < c[3]; ++k) {
    z.times.push_back(be(at + static_cast<size_t>(k) * tsize, tsize));
    auto idx = static_cast<unsigned char>(d[at + static_cast<size_t>(c[3]) * tsize + k]);
    if (idx >= c[4]) return std::nullopt;
    z.offsets.push_back(static_cast<int32_t>(be(types + idx * 6u, 4)));
  }
  z.initial = static_cast<int32_t>(be(types, 4));
  return z;
}

std::optional<int64_t> namedZoneOffset(const std::string& name, int64_t instant) {
  static std::mutex mu;
  static std::map<std::string, std::optional<Zone>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) {
    // Bounded: names come from expressions and their inputs (there are about 600 zones).
    if (cache.size() >= 1024) cache.clear();
    it = cache.emplace(name, readZone(name)).first;
  }
  if (!it->second) return std::nullopt;
  const Zone& z = *it->second;
  auto pos = std::upper_bound(z.times.begin(), z.times.end(), instant);
  if (pos == z.times.begin()) return z.initial;
  return z.offsets[static_cast<size_t>(pos - z.times.begin() - 1)];
}

// A time zone: UTC, a fixed offset ("+05:30", "-02:00", "02:00"), or an IANA name; the offset in
// seconds at `instant`.
std::optional<int64_t> zoneOffset(const std::string& z, int64_t instant) {
  if (z.empty() || z == "UTC" || z == "Z") return 0;
  if (!z.empty() && std::isalpha(static_cast<unsigned char>(z[0])))
    return namedZoneOffset(z, instant);
  size_t at = 0;
  int sign = 1;
  if (z[0] == '+' || z[0] == '-') {
    sign = z[0] == '-' ? -1 : 1;
    at = 1;
  }
  if (z.size() != at + 5 || z[at + 2] != ':') return std::nullopt;
  for (size_t k : {at, at + 1, at + 3, at + 4})
    if (!std::isdigit(static_cast<unsigned char>(z[k]))) return std::nullopt;
  int64_t h = (z[at] - '0') * 10 + (z[at + 1] - '0'),
          m = (z[at + 3] - '0') * 10 + (z[at + 4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return sign * (h * 3600 + m * 60);
}

Value timeGetter(std::string_view fn, std::span<const Value> a) {
  const Value& v = a[0];
  if (v.kind == Kind::kDuration) {
    if (a.size() != 1) return noOverload(fn, a);
    int64_t nanos = static_cast<int64_t>(v.u);
    if (fn == "getHours") return Value::integer(v.i / 3600);
    if (fn == "getMinutes") return Value::integer(v.i / 60);
    if (fn == "getSeconds") return Value::integer(v.i);
    if (fn == "getMilliseconds") return Value::integer(nanos / 1000000);
    return noOverload(fn, a);
  }
  int64_t offset = 0;
  if (a.size() == 2) {
    if (a[1].kind != Kind::kString) return noOverload(fn, a);
    std::optional<int64_t> z = zoneOffset(std::string(a[1].str()), v.i);
    if (!z) return Value::error(fmt::format("unknown time zone: {}", a[1].str()));
    offset = *z;
  }
  Civil c = civilFrom(v.i + offset);
  if (fn == "getFullYear") return Value::integer(c.year);
  if (fn == "getMonth") return Value::integer(c.month - 1);
  if (fn == "getDayOfYear") return Value::integer(c.day_of_year);
  if (fn == "getDayOfMonth") return Value::integer(c.day - 1);
  if (fn == "getDate") return Value::integer(c.day);
  if (fn == "getDayOfWeek") return Value::integer(c.day_of_week);
  if (fn == "getHours") return Value::integer(c.hour);
  if (fn == "getMinutes") return Value::integer(c.minute);
  if (fn == "getSeconds") return Value::integer(c.second);
  if (fn == "getMilliseconds") return Value::integer(static_cast<int64_t>(v.u) / 1000000);
  return noOverload(fn, a);
}

// A value as `format`'s %s writes it: strings and bytes as they are, doubles in their shortest
// form (NaN, Infinity), timestamps and durations as string() writes them, lists and maps with
// their elements so written (map entries ordered by their written keys).
std::string formatPlain(const Value& v) {
  switch (v.kind) {
    case Kind::kUint:
      return std::to_string(v.u);
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kType:
      return std::string(v.str());
    case Kind::kDouble:
      if (std::isnan(v.d)) return "NaN";
      if (std::isinf(v.d)) return v.d > 0 ? "Infinity" : "-Infinity";
      return fmt::format("{}", v.d);
    case Kind::kTimestamp:
      return formatTimestamp(v);
    case Kind::kDuration:
      return formatDuration(v);
    case Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < v.size(); ++k) out += (k ? ", " : "") + formatPlain(v.item(k));
      return out + "]";
    }
    case Kind::kMap: {
      std::vector<std::pair<std::string, std::string>> entries;
      for (size_t k = 0; k < v.size(); ++k)
        entries.emplace_back(formatPlain(v.key(k)), formatPlain(v.val(k)));
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      for (size_t k = 0; k < entries.size(); ++k)
        out += (k ? ", " : "") + entries[k].first + ": " + entries[k].second;
      return out + "}";
    }
    default:
      return toString(v);
  }
}

// "%d and %.2f".format([1, 2.5]): the strings extension's format.
Value format(std::string_view f, const Value& args) {
  if (args.kind != Kind::kList)
    return noOverload("format", std::vector<Value>{Value::string(std::string(f)), args});
  std::string out;
  size_t next = 0;
  auto during = [](const std::string& what, const Value& v) {
    return Value::error(
        fmt::format("error during formatting: {}, was given {}", what, typeName(v)));
  };
  auto special = [](double d) -> std::optional<std::string> {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return std::nullopt;
  };
  for (size_t k = 0; k < f.size(); ++k) {
    if (f[k] != '%') {
      out += f[k];
      continue;
    }
    if (k + 1 < f.size() && f[k + 1] == '%') {
      out += '%';
      ++k;
      continue;
    }
    size_t at = k + 1;
    int precision = -1;
    if (at < f.size() && f[at] == '.') {
      precision = 0;
      ++at;
      while (at < f.size() && std::isdigit(static_cast<unsigned char>(f[at])) && precision < 1000)
        precision = precision * 10 + (f[at++] - '0');
    }
    if (at >= f.size()) return Value::error("could not parse formatting clause: missing verb");
    char verb = f[at];
    k = at;
    if (std::string_view("sdfeboxX").find(verb) == std::string_view::npos)
      return Value::error(fmt::format(
          "could not parse formatting clause: unrecognized formatting clause \"{}\"", verb));
    if (next >= args.size()) return Value::error(fmt::format("index {} out of range", next));
    Value v = args.item(next++);
    switch (verb) {
      case 's':
        out += formatPlain(v);
        break;
      case 'd':
        if (v.kind == Kind::kInt)
          out += std::to_string(v.i);
        else if (v.kind == Kind::kUint)
          out += std::to_string(v.u);
        else if (v.kind == Kind::kDouble && special(v.d))
          out += *special(v.d);
        else
          return during("decimal clause can only be used on integers", v);
        break;
      case 'f':
      case 'e':
        if (v.kind != Kind::kDouble)
          return during(verb == 'f' ? "fixed-point clause can only be used on doubles"
                                    : "scientific clause can only be used on doubles",
                        v);
        if (auto sp = special(v.d)) {
          out += *sp;
        } else {
          char buf[1200];
          std::snprintf(buf, sizeof buf, verb == 'f' ? "%.*f" : "%.*e",
                        precision < 0 ? 6 : precision, v.d);
          out += buf;
        }
        break;
      case 'b':
      case 'o':
      case 'x':
      case 'X': {
        if ((verb == 'x' || verb == 'X') && (v.kind == Kind::kString || v.kind == Kind::kBytes)) {
          for (unsigned char c : v.str())
            out += verb == 'x' ? fmt::format("{:02x}", c) : fmt::format("{:02X}", c);
          break;
        }
        bool negative = false;
        uint64_t u;
        if (v.kind == Kind::kInt) {
          negative = v.i < 0;
          u = negative ? 0 - static_cast<uint64_t>(v.i) : static_cast<uint64_t>(v.i);
        } else if (v.kind == Kind::kUint) {
          u = v.u;
        } else if (v.kind == Kind::kBool && verb == 'b') {
          u = v.b ? 1 : 0;
        } else {
          return during(verb == 'b'   ? "only integers and bools can be formatted as binary"
                        : verb == 'o' ? "octal clause can only be used on integers"
                                      : "only integers, byte buffers, and strings can be "
                                        "formatted as hex",
                        v);
        }
        out += negative ? "-" : "";
        out += verb == 'b'   ? fmt::format("{:b}", u)
               : verb == 'o' ? fmt::format("{:o}", u)
               : verb == 'x' ? fmt::format("{:x}", u)
                             : fmt::format("{:X}", u);
        break;
      }
    }
  }
  return Value::string(std::move(out));
}

// strings.quote: the string in double quotes with the escapes CEL reads back.
Value quote(const Value& v) {
  std::string_view s = v.str();
  std::string out = "\"";
  for (size_t k = 0; k < s.size();) {
    size_t start = k;
    uint32_t cp = decodeUtf8(s, k);
    if (const char* esc = escapeOf(cp)) {
      out += esc;
      continue;
    }
    if (invalidUtf8At(s.substr(start, k - start)) != std::string::npos)
      out += "\xef\xbf\xbd";  // U+FFFD
    else
      out.append(s.substr(start, k - start));
  }
  return Value::string(out + "\"");
}

// ---- operators

Value eq(CallContext&, Args a) {
  return Value::boolean(equal(a[0], a[1]));
}
Value ne(CallContext&, Args a) {
  return Value::boolean(!equal(a[0], a[1]));
}

Value order(std::string_view fn, Args a) {
  if (a.size() != 2 || a[0].kind == Kind::kOpaque) return noOverload(fn, a);
  int c = compareValues(a[0], a[1]);
  if (c == 2) {
    if (numeric(a[0]) && numeric(a[1])) return Value::boolean(false);  // NaN: unordered
    return noOverload(fn, a);
  }
  bool v = fn == "_<_" ? c < 0 : fn == "_<=_" ? c <= 0 : fn == "_>_" ? c > 0 : c >= 0;
  return Value::boolean(v);
}
Value lt(CallContext&, Args a) {
  return order("_<_", a);
}
Value le(CallContext&, Args a) {
  return order("_<=_", a);
}
Value gt(CallContext&, Args a) {
  return order("_>_", a);
}
Value ge(CallContext&, Args a) {
  return order("_>=_", a);
}

Value arithmetic(char op, std::string_view fn, Args a) {
  if (a.size() != 2) return noOverload(fn, a);
  const Value &x = a[0], &y = a[1];
  auto time = [](const Value& v) {
    return v.kind == Kind::kTimestamp || v.kind == Kind::kDuration;
  };
  if (time(x) || time(y)) {
    int64_t xn = static_cast<int64_t>(x.u), yn = static_cast<int64_t>(y.u);
    if (op == '+') {
      if (x.kind == Kind::kTimestamp && y.kind == Kind::kDuration)
        return Value::timestamp(x.i + y.i, xn + yn);
      if (x.kind == Kind::kDuration && y.kind == Kind::kTimestamp)
        return Value::timestamp(x.i + y.i, xn + yn);
      if (x.kind == Kind::kDuration && y.kind == Kind::kDuration)
        return Value::duration(x.i + y.i, xn + yn);
    }
    if (op == '-') {
      if (x.kind == Kind::kTimestamp && y.kind == Kind::kDuration)
        return Value::timestamp(x.i - y.i, xn - yn);
      if (x.kind == Kind::kTimestamp && y.kind == Kind::kTimestamp) {
        // The difference of two instants must fit in int64 nanoseconds (about 292 years),
        // as cel-go's time arithmetic requires.
        __int128 diff = static_cast<__int128>(x.i - y.i) * 1000000000 + (xn - yn);
        if (diff > INT64_MAX || diff < INT64_MIN)
          return Value::error("range error: duration out of range");
        return Value::duration(x.i - y.i, xn - yn);
      }
      if (x.kind == Kind::kDuration && y.kind == Kind::kDuration)
        return Value::duration(x.i - y.i, xn - yn);
    }
    return noOverload(fn, a);
  }
  if (x.kind != y.kind) return noOverload(fn, a);
  switch (x.kind) {
    case Kind::kInt: {
      int64_t r = 0;
      bool over = false;
      switch (op) {
        case '+':
          over = __builtin_add_overflow(x.i, y.i, &r);
          break;
        case '-':
          over = __builtin_sub_overflow(x.i, y.i, &r);
          break;
        case '*':
          over = __builtin_mul_overflow(x.i, y.i, &r);
          break;
        default:
          if (y.i == 0) return Value::error(op == '/' ? "division by zero" : "modulus by zero");
          if (x.i == std::numeric_limits<int64_t>::min() && y.i == -1)
            return Value::error("integer overflow");
          r = op == '/' ? x.i / y.i : x.i % y.i;
          break;
      }
      if (over) return Value::error("integer overflow");
      return Value::integer(r);
    }
    case Kind::kUint: {
      uint64_t r = 0;
      bool over = false;
      switch (op) {
        case '+':
          over = __builtin_add_overflow(x.u, y.u, &r);
          break;
        case '-':
          over = __builtin_sub_overflow(x.u, y.u, &r);
          break;
        case '*':
          over = __builtin_mul_overflow(x.u, y.u, &r);
          break;
        default:
          if (y.u == 0) return Value::error(op == '/' ? "division by zero" : "modulus by zero");
          r = op == '/' ? x.u / y.u : x.u % y.u;
          break;
      }
      if (over) return Value::error("unsigned integer overflow");
      return Value::unsignedInt(r);
    }
    case Kind::kDouble:
      switch (op) {
        case '+':
          return Value::dbl(x.d + y.d);
        case '-':
          return Value::dbl(x.d - y.d);
        case '*':
          return Value::dbl(x.d * y.d);
        case '/':
          return Value::dbl(x.d / y.d);
        default:
          return noOverload(fn, a);
      }
    case Kind::kString:
    case Kind::kBytes: {
      if (op != '+') return noOverload(fn, a);
      std::string s(x.str());
      s += y.str();
      return x.kind == Kind::kString ? Value::string(std::move(s)) : Value::bytes(std::move(s));
    }
    case Kind::kList: {
      if (op != '+') return noOverload(fn, a);
      if (y.size() == 0) return x;
      if (x.size() == 0) return y;
      List l;
      l.reserve(x.size() + y.size());
      for (size_t k = 0; k < x.size(); ++k) l.push_back(x.item(k));
      for (size_t k = 0; k < y.size(); ++k) l.push_back(y.item(k));
      return Value::listOf(std::move(l));
    }
    default:
      return noOverload(fn, a);
  }
}
Value add(CallContext&, Args a) {
  return arithmetic('+', "_+_", a);
}
Value sub(CallContext&, Args a) {
  return arithmetic('-', "_-_", a);
}
Value mul(CallContext&, Args a) {
  return arithmetic('*', "_*_", a);
}
Value divide(CallContext&, Args a) {
  return arithmetic('/', "_/_", a);
}
Value modulo(CallContext&, Args a) {
  return arithmetic('%', "_%_", a);
}

Value logicalNot(CallContext&, Args a) {
  return a[0].kind == Kind::kBool ? Value::boolean(!a[0].b) : noOverload("!_", a);
}

Value negate(CallContext&, Args a) {
  const Value& x = a[0];
  if (x.kind == Kind::kInt) {
    if (x.i == std::numeric_limits<int64_t>::min()) return Value::error("integer overflow");
    return Value::integer(-x.i);
  }
  if (x.kind == Kind::kDouble) return Value::dbl(-x.d);
  return noOverload("-_", a);
}

Value in(CallContext&, Args a) {
  const Value &x = a[0], &y = a[1];
  if (y.kind == Kind::kList) {
    for (size_t k = 0, n = y.size(); k < n; ++k)
      if (equal(y.item(k), x)) return Value::boolean(true);
    return Value::boolean(false);
  }
  if (y.kind == Kind::kMap) return Value::boolean(y.find(x, nullptr));
  return noOverload("@in", a);
}

Value listIndex(const Value& x, const Value& y) {
  int64_t at;
  if (y.kind == Kind::kInt) {
    at = y.i;
  } else if (y.kind == Kind::kUint && y.u <= static_cast<uint64_t>(INT64_MAX)) {
    at = static_cast<int64_t>(y.u);
  } else if (y.kind == Kind::kDouble && std::trunc(y.d) == y.d && std::abs(y.d) < 9.2e18) {
    at = static_cast<int64_t>(y.d);
  } else {
    return Value::error("invalid_argument: a list index must be an integer, not " + typeName(y));
  }
  if (at < 0 || at >= static_cast<int64_t>(x.size()))
    return Value::error(fmt::format("index out of range: {}", at));
  return x.item(static_cast<size_t>(at));
}

// Optional selection or indexing: the value when the key (field, index) is there, else none.
Value optSelect(const Value& x, const Value& key, bool index) {
  if (x.kind == Kind::kOptional) {
    if (!x.hasValue()) return x;
    return optSelect(x.optValue(), key, index);
  }
  if (x.kind == Kind::kMap) {
    Value v;
    return x.find(key, &v) ? Value::optionalOf(std::move(v)) : Value::optionalNone();
  }
  if (index && x.kind == Kind::kList) {
    Value r = listIndex(x, key);
    if (r.isError()) {
      if (r.str().starts_with("index out of range")) return Value::optionalNone();
      return r;
    }
    return Value::optionalOf(std::move(r));
  }
  // A field of something that has none, inside an optional chain: the key is missing.
  return Value::error(fmt::format(
      "no such key: {}", key.kind == Kind::kString ? std::string(key.str()) : toString(key)));
}

Value index(CallContext&, Args a) {
  const Value &x = a[0], &y = a[1];
  if (x.kind == Kind::kOptional) return optSelect(x, y, true);
  if (x.kind == Kind::kList) return listIndex(x, y);
  if (x.kind == Kind::kMap) {
    Value v;
    if (!x.find(y, &v)) return Value::error("no such key: " + toString(y));
    return v;
  }
  return noOverload("_[_]", a);
}

Value size(CallContext&, Args a) {
  const Value& x = a[0];
  switch (x.kind) {
    case Kind::kString:
      return Value::integer(codePoints(x.str()));
    case Kind::kBytes:
      return Value::integer(static_cast<int64_t>(x.str().size()));
    case Kind::kList:
    case Kind::kMap:
      return Value::integer(static_cast<int64_t>(x.size()));
    default:
      return noOverload("size", a);
  }
}

Value typeOf(CallContext&, Args a) {
  return Value::type(typeName(a[0]));
}
Value dyn(CallContext&, Args a) {
  return a[0];
}

// ---- conversions

Value toInt(CallContext&, Args a) {
  const Value& x = a[0];
  switch (x.kind) {
    case Kind::kInt:
      return x;
    case Kind::kUint:
      if (x.u > static_cast<uint64_t>(INT64_MAX)) return Value::error("range error");
      return Value::integer(static_cast<int64_t>(x.u));
    case Kind::kTimestamp:
      return Value::integer(x.i);
    case Kind::kDouble:
      // Strictly inside (-2^63, 2^63), as cel-go checks it (NaN and infinities fail).
      if (!(x.d > -9223372036854775808.0 && x.d < 9223372036854775808.0))
        return Value::error("range error");
      return Value::integer(static_cast<int64_t>(x.d));
    case Kind::kString: {
      std::string s(x.str());
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || errno == ERANGE || *end != '\0' ||
          std::isspace(static_cast<unsigned char>(s[0])) || s[0] == '+')
        return Value::error("cannot convert \"" + s + "\" to int");
      return Value::integer(v);
    }
    default:
      return noOverload("int", a);
  }
}

Value toUint(CallContext&, Args a) {
  const Value& x = a[0];
  switch (x.kind) {
    case Kind::kUint:
      return x;
    case Kind::kInt:
      if (x.i < 0) return Value::error("range error");
      return Value::unsignedInt(static_cast<uint64_t>(x.i));
    case Kind::kDouble:
      if (!(x.d >= 0 && x.d < 18446744073709551616.0)) return Value::error("range error");
      return Value::unsignedInt(static_cast<uint64_t>(x.d));
    case Kind::kString: {
      std::string s(x.str());
      errno = 0;
      char* end = nullptr;
      if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
        return Value::error("cannot convert \"" + s + "\" to uint");
      unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (errno == ERANGE || *end != '\0')
        return Value::error("cannot convert \"" + s + "\" to uint");
      return Value::unsignedInt(v);
    }
    default:
      return noOverload("uint", a);
  }
}

Value toDouble(CallContext&, Args a) {
  const Value& x = a[0];
  switch (x.kind) {
    case Kind::kDouble:
      return x;
    case Kind::kInt:
      return Value::dbl(static_cast<double>(x.i));
    case Kind::kUint:
      return Value::dbl(static_cast<double>(x.u));
    case Kind::kString: {
      std::string s(x.str());
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0])))
        return Value::error("cannot convert \"" + s + "\" to double");
      return Value::dbl(v);
    }
    default:
      return noOverload("double", a);
  }
}

Value toStringFn(CallContext&, Args a) {
  const Value& x = a[0];
  switch (x.kind) {
    case Kind::kString:
      return x;
    case Kind::kInt:
      return Value::string(std::to_string(x.i));
    case Kind::kUint:
      return Value::string(std::to_string(x.u));
    case Kind::kDouble:
      return Value::string(fmt::format("{}", x.d));
    case Kind::kBool:
      return Value::string(x.b ? "true" : "false");
    case Kind::kTimestamp:
      return Value::string(formatTimestamp(x));
    case Kind::kDuration:
      return Value::string(formatDuration(x));
    case Kind::kBytes:
      if (invalidUtf8At(x.str()) != std::string::npos)
        return Value::error("invalid UTF-8 in bytes, cannot convert to string");
      return stringValue(x.str());
    default:
      return noOverload("string", a);
  }
}

Value toBytes(CallContext&, Args a) {
  const Value& x = a[0];
  if (x.kind == Kind::kBytes) return x;
  if (x.kind == Kind::kString) return Value::bytes(std::string(x.str()));
  return noOverload("bytes", a);
}

Value toBool(CallContext&, Args a) {
  const Value& x = a[0];
  if (x.kind == Kind::kBool) return x;
  if (x.kind == Kind::kString) {
    std::string_view s = x.str();
    if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True")
      return Value::boolean(true);
    if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False")
      return Value::boolean(false);
    return Value::error(fmt::format("cannot convert \"{}\" to bool", s));
  }
  return noOverload("bool", a);
}

Value toTimestamp(CallContext&, Args a) {
  if (a[0].kind == Kind::kString) return parseTimestampText(a[0].str());
  if (a[0].kind == Kind::kInt) return Value::timestamp(a[0].i, 0);
  if (a[0].kind == Kind::kTimestamp) return a[0];
  return noOverload("timestamp", a);
}

Value toDuration(CallContext&, Args a) {
  if (a[0].kind == Kind::kString) return parseDuration(a[0].str());
  if (a[0].kind == Kind::kDuration) return a[0];
  return noOverload("duration", a);
}

// ---- string predicates

Value contains(CallContext&, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString))
    return noOverload("contains", a);
  return Value::boolean(a[0].str().find(a[1].str()) != std::string_view::npos);
}
Value startsWith(CallContext&, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString))
    return noOverload("startsWith", a);
  return Value::boolean(a[0].str().starts_with(a[1].str()));
}
Value endsWith(CallContext&, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString))
    return noOverload("endsWith", a);
  return Value::boolean(a[0].str().ends_with(a[1].str()));
}

// A pattern compiled once, when the program is planned (a constant pattern), or per call.
std::shared_ptr<const void> prepareRegex(std::span<const Value* const> c) {
  if (c.size() != 2 || !c[1] || c[1]->kind != Kind::kString) return nullptr;
  auto re = std::make_shared<const RE2>(std::string(c[1]->str()), RE2::Quiet);
  if (!re->ok()) return nullptr;
  return re;
}

Value matches(CallContext& ctx, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString))
    return noOverload("matches", a);
  auto text = a[0].str();
  if (ctx.prepared)
    return Value::boolean(RE2::PartialMatch(text, *static_cast<const RE2*>(ctx.prepared)));
  RE2 re(std::string(a[1].str()), RE2::Quiet);
  if (!re.ok()) return Value::error("invalid regular expression: " + re.error());
  return Value::boolean(RE2::PartialMatch(text, re));
}

// ---- optionals

bool zero(const Value& v) {
  switch (v.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return !v.b;
    case Kind::kInt:
      return v.i == 0;
    case Kind::kUint:
      return v.u == 0;
    case Kind::kDouble:
      return v.d == 0;
    case Kind::kString:
    case Kind::kBytes:
      return v.str().empty();
    case Kind::kList:
    case Kind::kMap:
      return v.size() == 0;
    case Kind::kOptional:
      return !v.hasValue();
    default:
      return false;
  }
}

Value optionalOf(CallContext&, Args a) {
  return Value::optionalOf(a[0]);
}
Value optionalOfNonZero(CallContext&, Args a) {
  return zero(a[0]) ? Value::optionalNone() : Value::optionalOf(a[0]);
}
Value optionalNone(CallContext&, Args) {
  return Value::optionalNone();
}
Value optSelectField(CallContext&, Args a) {
  if (a[1].kind != Kind::kString) return noOverload("_?._", a);
  return optSelect(a[0], a[1], false);
}
Value optIndex(CallContext&, Args a) {
  return optSelect(a[0], a[1], true);
}
Value hasValue(CallContext&, Args a) {
  if (a[0].kind != Kind::kOptional) return noOverload("hasValue", a);
  return Value::boolean(a[0].hasValue());
}
Value optValue(CallContext&, Args a) {
  if (a[0].kind != Kind::kOptional) return noOverload("value", a);
  return a[0].hasValue() ? a[0].optValue() : Value::error("optional.none() dereference");
}
Value orValue(CallContext&, Args a) {
  if (a[0].kind != Kind::kOptional) return noOverload("orValue", a);
  return a[0].hasValue() ? a[0].optValue() : a[1];
}
Value optOr(CallContext&, Args a) {
  if (a[0].kind != Kind::kOptional || a[1].kind != Kind::kOptional) return noOverload("or", a);
  return a[0].hasValue() ? a[0] : a[1];
}

// ---- the macros' helper: cel.@mapInsert(map, key, value) and (map, map)

Value mapInsert(CallContext&, Args a) {
  size_t n = a.size();
  if ((n != 2 && n != 3) || a[0].kind != Kind::kMap) return noOverload("cel.@mapInsert", a);
  Map m;
  for (size_t k = 0; k < a[0].size(); ++k) m.emplace_back(a[0].key(k), a[0].val(k));
  auto has = [&](const Value& key) {
    for (const auto& e : m)
      if (equal(e.first, key)) return true;
    return false;
  };
  if (n == 3) {
    if (!validMapKey(a[1])) return Value::error("unsupported key type: " + typeName(a[1]));
    if (has(a[1])) return Value::error("insert failed: key " + toString(a[1]) + " already exists");
    m.emplace_back(a[1], a[2]);
  } else {
    if (a[1].kind != Kind::kMap) return noOverload("cel.@mapInsert", a);
    for (size_t k = 0; k < a[1].size(); ++k) {
      Value key = a[1].key(k);
      if (has(key)) return Value::error("insert failed: key " + toString(key) + " already exists");
      m.emplace_back(std::move(key), a[1].val(k));
    }
  }
  return Value::mapOf(std::move(m));
}

// ---- timestamps and durations

Value getter(std::string_view fn, Args a) {
  if ((a.size() != 1 && a.size() != 2) ||
      (a[0].kind != Kind::kTimestamp && a[0].kind != Kind::kDuration))
    return noOverload(fn, a);
  return timeGetter(fn, a);
}
#define KH_CEL_GETTER(name)          \
  Value name(CallContext&, Args a) { \
    return getter(#name, a);         \
  }
KH_CEL_GETTER(getFullYear)
KH_CEL_GETTER(getMonth)
KH_CEL_GETTER(getDayOfYear)
KH_CEL_GETTER(getDayOfMonth)
KH_CEL_GETTER(getDate)
KH_CEL_GETTER(getDayOfWeek)
KH_CEL_GETTER(getHours)
KH_CEL_GETTER(getMinutes)
KH_CEL_GETTER(getSeconds)
KH_CEL_GETTER(getMilliseconds)
#undef KH_CEL_GETTER

Value formatFn(CallContext&, Args a) {
  if (a.size() != 2 || a[0].kind != Kind::kString) return noOverload("format", a);
  return format(a[0].str(), a[1]);
}
Value quoteFn(CallContext&, Args a) {
  if (a[0].kind != Kind::kString) return noOverload("strings.quote", a);
  return quote(a[0]);
}

// The lists extension (cel-go ext.Lists, version 3 in Kubernetes 1.34): slice, flatten, sort and
// the sortBy macro's @sortByAssociatedKeys, lists.range, reverse, distinct.
Value listSlice(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList) || !argIs(a, 1, Kind::kInt) || !argIs(a, 2, Kind::kInt))
    return noOverload("slice", a);
  int64_t start = a[1].i, end = a[2].i, n = static_cast<int64_t>(a[0].size());
  if (start < 0 || end < 0)
    return Value::error(
        fmt::format("cannot slice({}, {}), negative indexes not supported", start, end));
  if (start > end)
    return Value::error(fmt::format(
        "cannot slice({}, {}), start index must be less than or equal to end index", start, end));
  if (n < end)
    return Value::error(fmt::format("cannot slice({}, {}), list is length {}", start, end, n));
  List out;
  for (int64_t k = start; k < end; ++k) out.push_back(a[0].item(static_cast<size_t>(k)));
  return Value::listOf(std::move(out));
}

void flattenInto(const Value& list, int64_t depth, List& out) {
  for (size_t k = 0; k < list.size(); ++k) {
    Value v = list.item(k);
    if (v.kind != Kind::kList || depth == 0)
      out.push_back(std::move(v));
    else
      flattenInto(v, depth - 1, out);
  }
}
Value listFlatten(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList) || (a.size() == 2 && !argIs(a, 1, Kind::kInt)))
    return noOverload("flatten", a);
  int64_t depth = a.size() == 2 ? a[1].i : 1;
  if (depth < 0) return Value::error("level must be non-negative");
  List out;
  flattenInto(a[0], depth, out);
  return Value::listOf(std::move(out));
}

bool orderedKind(Kind k) {
  switch (k) {
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kUint:
    case Kind::kDouble:
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kTimestamp:
    case Kind::kDuration:
      return true;
    default:
      return false;
  }
}

// `list` ordered by `keys` (of one comparable kind): a stable merge sort, so that any order
// relation (NaN included) sorts without harm.
Value sortByKeys(std::string_view fn, const Value& list, const Value& keys) {
  size_t n = list.size();
  if (keys.size() != n)
    return Value::error(fmt::format(
        "@sortByAssociatedKeys() expected a list of the same size as the associated keys list, "
        "but got {} and {} elements respectively",
        n, keys.size()));
  if (n == 0) return list;
  Kind kind = keys.item(0).kind;
  if (!orderedKind(kind)) return Value::error("list elements must be comparable");
  std::vector<Value> key(n);
  for (size_t k = 0; k < n; ++k) {
    key[k] = keys.item(k);
    if (n > 1 && key[k].kind != kind) return Value::error("list elements must have the same type");
  }
  (void)fn;
  std::vector<size_t> order(n), tmp(n);
  for (size_t k = 0; k < n; ++k) order[k] = k;
  for (size_t width = 1; width < n; width *= 2)
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi)
        tmp[o++] = compareValues(key[order[j]], key[order[i]]) == -1 ? order[j++] : order[i++];
      while (i < mid) tmp[o++] = order[i++];
      while (j < hi) tmp[o++] = order[j++];
      for (size_t k = lo; k < hi; ++k) order[k] = tmp[k];
    }
  List out;
  out.reserve(n);
  for (size_t k : order) out.push_back(list.item(k));
  return Value::listOf(std::move(out));
}
Value listSort(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("sort", a);
  return sortByKeys("sort", a[0], a[0]);
}
Value listSortByKeys(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList) || !argIs(a, 1, Kind::kList))
    return noOverload("@sortByAssociatedKeys", a);
  return sortByKeys("@sortByAssociatedKeys", a[0], a[1]);
}
Value listsRange(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kInt)) return noOverload("lists.range", a);
  List out;
  for (int64_t k = 0; k < a[0].i; ++k) out.push_back(Value::integer(k));
  return Value::listOf(std::move(out));
}
Value listReverse(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("reverse", a);
  List out;
  for (size_t k = a[0].size(); k-- > 0;) out.push_back(a[0].item(k));
  return Value::listOf(std::move(out));
}
Value listDistinct(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("distinct", a);
  List out;
  for (size_t k = 0; k < a[0].size(); ++k) {
    Value v = a[0].item(k);
    bool seen = false;
    for (const Value& u : out) seen = seen || equal(v, u);
    if (!seen) out.push_back(std::move(v));
  }
  return Value::listOf(std::move(out));
}

}  // namespace

Value parseTimestamp(std::string_view t) {
  return parseTimestampText(t);
}

Value Value::timestampFromText(std::string_view text) {
  return parseTimestampText(text);
}

std::vector<FunctionDecl> standardFunctions() {
  constexpr int kStringsV2 = 29;  // format and strings.quote (Kubernetes 1.29: strings v2)
  constexpr int kOptionals = 28;
  constexpr int kListsV3 = 34;  // cel-go's lists extension, version 3
  return {
      {"_==_", false, eq, 2},
      {"_!=_", false, ne, 2},
      {"_<_", false, lt, 2},
      {"_<=_", false, le, 2},
      {"_>_", false, gt, 2},
      {"_>=_", false, ge, 2},
      {"_+_", false, add, 2},
      {"_-_", false, sub, 2},
      {"_*_", false, mul, 2},
      {"_/_", false, divide, 2},
      {"_%_", false, modulo, 2},
      {"!_", false, logicalNot, 1},
      {"-_", false, negate, 1},
      {"@in", false, in, 2},
      {"_[_]", false, index, 2},
      {"size", false, size, 1},
      {"size", true, size, 1},
      {"type", false, typeOf, 1},
      {"dyn", false, dyn, 1},
      {"int", false, toInt, 1},
      {"uint", false, toUint, 1},
      {"double", false, toDouble, 1},
      {"string", false, toStringFn, 1},
      {"bytes", false, toBytes, 1},
      {"bool", false, toBool, 1},
      {"timestamp", false, toTimestamp, 1},
      {"duration", false, toDuration, 1},
      {"contains", true, contains, 2},
      {"startsWith", true, startsWith, 2},
      {"endsWith", true, endsWith, 2},
      {"matches", true, matches, 2, 0, prepareRegex},
      {"matches", false, matches, 2, 0, prepareRegex},
      {"getFullYear", true, getFullYear, -1},
      {"getMonth", true, getMonth, -1},
      {"getDayOfYear", true, getDayOfYear, -1},
      {"getDayOfMonth", true, getDayOfMonth, -1},
      {"getDate", true, getDate, -1},
      {"getDayOfWeek", true, getDayOfWeek, -1},
      {"getHours", true, getHours, -1},
      {"getMinutes", true, getMinutes, -1},
      {"getSeconds", true, getSeconds, -1},
      {"getMilliseconds", true, getMilliseconds, -1},
      {"cel.@mapInsert", false, mapInsert, -1},
      {"charAt", true, charAt, -1},
      {"indexOf", true, indexOf, -1},
      {"lastIndexOf", true, lastIndexOf, -1},
      {"lowerAscii", true, lowerAscii, -1},
      {"upperAscii", true, upperAscii, -1},
      {"replace", true, replace, -1},
      {"split", true, split, -1},
      {"substring", true, substring, -1},
      {"trim", true, trim, -1},
      {"join", true, join, -1},
      {"format", true, formatFn, 2, kStringsV2},
      {"strings.quote", false, quoteFn, 1, kStringsV2},
      {"optional.of", false, optionalOf, 1, kOptionals},
      {"optional.ofNonZeroValue", false, optionalOfNonZero, 1, kOptionals},
      {"optional.none", false, optionalNone, 0, kOptionals},
      {"_?._", false, optSelectField, 2, kOptionals},
      {"_[?_]", false, optIndex, 2, kOptionals},
      {"hasValue", true, hasValue, 1, kOptionals},
      {"value", true, optValue, 1, kOptionals},
      {"orValue", true, orValue, 2, kOptionals},
      {"or", true, optOr, 2, kOptionals},
      {"slice", true, listSlice, 3, kListsV3},
      {"flatten", true, listFlatten, -1, kListsV3},
      {"sort", true, listSort, 1, kListsV3},
      {"@sortByAssociatedKeys", true, listSortByKeys, 2, kListsV3},
      {"lists.range", false, listsRange, 1, kListsV3},
      {"reverse", true, listReverse, 1, kListsV3},
      {"distinct", true, listDistinct, 1, kListsV3},
  };
}

}  // namespace kh::cel
