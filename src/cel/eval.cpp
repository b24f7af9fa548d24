#include "cel/eval.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>

#include "base/strings.h"
#include "cel/text.h"

namespace kh::cel {

Value Value::boolean(bool v) {
  Value x;
  x.kind = Kind::kBool;
  x.b = v;
  return x;
}
Value Value::integer(int64_t v) {
  Value x;
  x.kind = Kind::kInt;
  x.i = v;
  return x;
}
Value Value::unsignedInt(uint64_t v) {
  Value x;
  x.kind = Kind::kUint;
  x.u = v;
  return x;
}
Value Value::dbl(double v) {
  Value x;
  x.kind = Kind::kDouble;
  x.d = v;
  return x;
}
Value Value::string(std::string v) {
  Value x;
  x.kind = Kind::kString;
  x.text = std::make_shared<const std::string>(std::move(v));
  return x;
}
Value Value::bytes(std::string v) {
  Value x = string(std::move(v));
  x.kind = Kind::kBytes;
  return x;
}
Value Value::listOf(List v) {
  Value x;
  x.kind = Kind::kList;
  x.list = std::make_shared<const List>(std::move(v));
  return x;
}
Value Value::mapOf(Map v) {
  Value x;
  x.kind = Kind::kMap;
  x.map = std::make_shared<const Map>(std::move(v));
  return x;
}
Value Value::type(std::string name) {
  Value x = string(std::move(name));
  x.kind = Kind::kType;
  return x;
}
Value Value::error(std::string message) {
  Value x = string(std::move(message));
  x.kind = Kind::kError;
  return x;
}
Value Value::optionalOf(Value v) {
  Value x;
  x.kind = Kind::kOptional;
  x.opt = std::make_shared<const Value>(std::move(v));
  return x;
}
Value Value::optionalNone() {
  Value x;
  x.kind = Kind::kOptional;
  return x;
}
namespace {
constexpr int64_t kMinTimestamp = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int64_t kMaxDuration = 315576000000;   // 10,000 years of 365.25 days
constexpr int64_t kNano = 1000000000;
}  // namespace

Value Value::timestamp(int64_t seconds, int64_t nanos) {
  seconds += nanos / kNano;
  nanos %= kNano;
  if (nanos < 0) {
    nanos += kNano;
    --seconds;
  }
  if (seconds < kMinTimestamp || seconds > kMaxTimestamp)
    return error("range error: timestamp out of range");
  Value x;
  x.kind = Kind::kTimestamp;
  x.i = seconds;
  x.u = static_cast<uint64_t>(nanos);
  return x;
}

// A duration is kept as seconds and nanoseconds of the same sign (nanos in -999,999,999..
// 999,999,999, stored as int64 bits in u).
Value Value::duration(int64_t seconds, int64_t nanos) {
  seconds += nanos / kNano;
  nanos %= kNano;
  if (seconds > 0 && nanos < 0) {
    nanos += kNano;
    --seconds;
  } else if (seconds < 0 && nanos > 0) {
    nanos -= kNano;
    ++seconds;
  }
  if (seconds < -kMaxDuration || seconds > kMaxDuration)
    return error("range error: duration out of range");
  Value x;
  x.kind = Kind::kDuration;
  x.i = seconds;
  x.u = static_cast<uint64_t>(nanos);
  return x;
}

const std::string& Value::str() const {
  static const std::string kEmpty;
  return text ? *text : kEmpty;
}

namespace {

// Days since 1970-01-01 of a civil date, and back (the proleptic Gregorian calendar).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
struct Civil {
  int64_t year, month, day, hour, minute, second;
  int64_t day_of_week, day_of_year;  // 0 = Sunday; 0 = January 1st
};
Civil civilFrom(int64_t seconds) {
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t rem = seconds - days * 86400;
  Civil c{};
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = y + (c.month <= 2);
  c.hour = rem / 3600;
  c.minute = rem % 3600 / 60;
  c.second = rem % 60;
  c.day_of_week = ((days % 7) + 11) % 7;  // 1970-01-01 was a Thursday
  c.day_of_year = days - daysFromCivil(c.year, 1, 1);
  return c;
}

std::string nanosSuffix(int64_t nanos) {
  if (nanos == 0) return {};
  std::string f = fmt::format("{:09d}", nanos);
  while (f.back() == '0') f.pop_back();
  return "." + f;
}

}  // namespace

std::string formatTimestamp(const Value& v) {
  Civil c = civilFrom(v.i);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.second, nanosSuffix(static_cast<int64_t>(v.u)));
}

std::string formatDuration(const Value& v) {
  int64_t nanos = static_cast<int64_t>(v.u);
  bool negative = v.i < 0 || nanos < 0;
  return fmt::format("{}{}{}s", negative ? "-" : "", std::abs(v.i), nanosSuffix(std::abs(nanos)));
}

std::string typeName(const Value& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kType:
      return "type";
    case Kind::kOptional:
      return "optional_type";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    default:
      return "error";
  }
}

std::string toString(const Value& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return v.b ? "true" : "false";
    case Kind::kInt:
      return std::to_string(v.i);
    case Kind::kUint:
      return std::to_string(v.u) + "u";
    case Kind::kDouble:
      return fmt::format("{}", v.d);
    case Kind::kString:
      return fmt::format("\"{}\"", v.str());
    case Kind::kBytes:
      return fmt::format("b\"{}\"", v.str());
    case Kind::kList: {
      std::string out = "[";
      for (size_t k = 0; k < v.list->size(); ++k) out += (k ? ", " : "") + toString((*v.list)[k]);
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, val] : *v.map) {
        out += (first ? "" : ", ") + toString(key) + ": " + toString(val);
        first = false;
      }
      return out + "}";
    }
    case Kind::kType:
      return v.str();
    case Kind::kOptional:
      return v.opt ? "optional.of(" + toString(*v.opt) + ")" : "optional.none()";
    case Kind::kTimestamp:
      return "timestamp(\"" + formatTimestamp(v) + "\")";
    case Kind::kDuration:
      return "duration(\"" + formatDuration(v) + "\")";
    default:
      return "error(" + v.str() + ")";
  }
}

namespace {

bool numeric(const Value& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kUint || v.kind == Kind::kDouble;
}

// Comparison of two numbers of any numeric kinds: -1, 0, 1, or 2 when unordered (NaN). Int and
// uint compare exactly; against a double, an integer is first converted to double (rounding,
// as cel-go compares them: 2^63 - 1 is not less than 2^63 as a double).
int compareNumbers(const Value& a, const Value& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (a.kind == Kind::kDouble || b.kind == Kind::kDouble) {
    auto dbl = [](const Value& v) {
      return v.kind == Kind::kInt    ? static_cast<double>(v.i)
             : v.kind == Kind::kUint ? static_cast<double>(v.u)
                                     : v.d;
    };
    double x = dbl(a), y = dbl(b);
    if (std::isnan(x) || std::isnan(y)) return 2;
    return cmp(x, y);
  }
  if (a.kind == b.kind) return a.kind == Kind::kInt ? cmp(a.i, b.i) : cmp(a.u, b.u);
  if (a.kind == Kind::kInt) return a.i < 0 ? -1 : cmp(static_cast<uint64_t>(a.i), b.u);
  return b.i < 0 ? 1 : cmp(a.u, static_cast<uint64_t>(b.i));
}

Value noOverload(std::string_view fn, const std::vector<Value>& args) {
  std::string types;
  for (const Value& a : args) types += (types.empty() ? "" : ", ") + typeName(a);
  return Value::error(fmt::format("no such overload: {}({})", fn, types));
}

int64_t codePoints(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xc0) != 0x80) ++n;
  return n;
}

// The byte offset of each code point of a UTF-8 string, and its length at the end.
std::vector<size_t> codePointOffsets(const std::string& s) {
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

// The strings extension (version 2, as Kubernetes 1.29+ has it), receiver-style on a string.
Value stringsExt(const std::string& fn, const std::vector<Value>& a) {
  const std::string& s = a[0].str();
  size_t n = a.size();
  auto arg = [&](size_t k, Kind kind) { return k < n && a[k].kind == kind; };
  if (fn == "lowerAscii" || fn == "upperAscii") {
    if (n != 1) return noOverload(fn, a);
    std::string out = s;
    for (char& c : out)
      c = fn == "lowerAscii"
              ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)) & 0xff)
              : static_cast<char>(std::toupper(static_cast<unsigned char>(c)) & 0xff);
    // Only ASCII letters change (tolower in the C locale touches nothing else).
    return Value::string(std::move(out));
  }
  if (fn == "trim") {
    if (n != 1) return noOverload(fn, a);
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
    return Value::string(s.substr(b, e - b));
  }
  std::vector<size_t> at = codePointOffsets(s);
  int64_t len = static_cast<int64_t>(at.size()) - 1;
  if (fn == "charAt") {
    if (n != 2 || !arg(1, Kind::kInt)) return noOverload(fn, a);
    int64_t i = a[1].i;
    if (i < 0 || i > len) return Value::error(fmt::format("index out of range: {}", i));
    if (i == len) return Value::string("");
    return Value::string(s.substr(at[i], at[i + 1] - at[i]));
  }
  if (fn == "indexOf" || fn == "lastIndexOf") {
    if (n < 2 || n > 3 || !arg(1, Kind::kString) || (n == 3 && !arg(2, Kind::kInt)))
      return noOverload(fn, a);
    const std::string& sub = a[1].str();
    bool last = fn == "lastIndexOf";
    int64_t off = n == 3 ? a[2].i : (last ? len : 0);
    if (off < 0 || off > len) return Value::error(fmt::format("index out of range: {}", off));
    if (sub.empty()) return Value::integer(off);
    // Search code point positions: forward from off, or backward from off.
    for (int64_t i = off; last ? i >= 0 : i < len; i += last ? -1 : 1) {
      if (i > len) continue;
      if (s.compare(at[i], sub.size(), sub) == 0 && at[i] + sub.size() <= s.size())
        return Value::integer(i);
    }
    return Value::integer(-1);
  }
  if (fn == "substring") {
    if (n < 2 || n > 3 || !arg(1, Kind::kInt) || (n == 3 && !arg(2, Kind::kInt)))
      return noOverload(fn, a);
    int64_t b = a[1].i, e = n == 3 ? a[2].i : len;
    if (b < 0 || b > len) return Value::error(fmt::format("index out of range: {}", b));
    if (e < 0 || e > len) return Value::error(fmt::format("index out of range: {}", e));
    if (b > e)
      return Value::error(fmt::format("invalid substring range. start: {}, end: {}", b, e));
    return Value::string(s.substr(at[b], at[e] - at[b]));
  }
  if (fn == "replace") {
    if (n < 3 || n > 4 || !arg(1, Kind::kString) || !arg(2, Kind::kString) ||
        (n == 4 && !arg(3, Kind::kInt)))
      return noOverload(fn, a);
    const std::string &from = a[1].str(), &to = a[2].str();
    int64_t limit = n == 4 ? a[3].i : -1;
    std::string out;
    int64_t done = 0;
    if (from.empty()) {  // Go: insert before each code point and at the end
      for (int64_t i = 0; i <= len; ++i) {
        if (limit < 0 || done < limit) {
          out += to;
          ++done;
        }
        if (i < len) out.append(s, at[i], at[i + 1] - at[i]);
      }
      return Value::string(std::move(out));
    }
    size_t pos = 0;
    while (limit < 0 || done < limit) {
      size_t f = s.find(from, pos);
      if (f == std::string::npos) break;
      out.append(s, pos, f - pos);
      out += to;
      pos = f + from.size();
      ++done;
    }
    out.append(s, pos, std::string::npos);
    return Value::string(std::move(out));
  }
  if (fn == "split") {
    if (n < 2 || n > 3 || !arg(1, Kind::kString) || (n == 3 && !arg(2, Kind::kInt)))
      return noOverload(fn, a);
    const std::string& sep = a[1].str();
    int64_t limit = n == 3 ? a[2].i : -1;
    List out;
    if (limit == 0) return Value::listOf(std::move(out));
    if (sep.empty()) {  // code points, the last holding the rest at the limit
      for (int64_t i = 0; i < len; ++i) {
        if (limit > 0 && static_cast<int64_t>(out.size()) == limit - 1) {
          out.push_back(Value::string(s.substr(at[i])));
          return Value::listOf(std::move(out));
        }
        out.push_back(Value::string(s.substr(at[i], at[i + 1] - at[i])));
      }
      return Value::listOf(std::move(out));
    }
    size_t pos = 0;
    while (limit < 0 || static_cast<int64_t>(out.size()) < limit - 1) {
      size_t f = s.find(sep, pos);
      if (f == std::string::npos) break;
      out.push_back(Value::string(s.substr(pos, f - pos)));
      pos = f + sep.size();
    }
    out.push_back(Value::string(s.substr(pos)));
    return Value::listOf(std::move(out));
  }
  return noOverload(fn, a);
}

// timestamp("2009-02-13T23:31:30Z"): RFC 3339, a fraction of up to nine digits, Z or an offset.
Value parseTimestamp(const std::string& t) {
  auto bad = [&] { return Value::error("cannot parse timestamp \"" + t + "\""); };
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
Value parseDuration(const std::string& t) {
  auto bad = [&] { return Value::error("cannot parse duration \"" + t + "\""); };
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
    std::string unit = t.substr(us, at - us);
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
  if (it == cache.end()) it = cache.emplace(name, readZone(name)).first;
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

Value timeGetter(const std::string& fn, const std::vector<Value>& a) {
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
    std::optional<int64_t> z = zoneOffset(a[1].str(), v.i);
    if (!z) return Value::error("unknown time zone: " + a[1].str());
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
      return v.str();
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
      for (size_t k = 0; k < v.list->size(); ++k)
        out += (k ? ", " : "") + formatPlain((*v.list)[k]);
      return out + "]";
    }
    case Kind::kMap: {
      std::vector<std::pair<std::string, std::string>> entries;
      for (const auto& [key, val] : *v.map)
        entries.emplace_back(formatPlain(key), formatPlain(val));
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
Value format(const std::string& f, const Value& args) {
  if (args.kind != Kind::kList) return noOverload("format", {Value::string(f), args});
  const List& list = *args.list;
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
    if (std::string("sdfeboxX").find(verb) == std::string::npos)
      return Value::error(fmt::format(
          "could not parse formatting clause: unrecognized formatting clause \"{}\"", verb));
    if (next >= list.size()) return Value::error(fmt::format("index {} out of range", next));
    const Value& v = list[next++];
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
  if (v.kind != Kind::kString) return noOverload("strings.quote", {v});
  const std::string& s = v.str();
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
      out.append(s, start, k - start);
  }
  return Value::string(out + "\"");
}

bool validKey(const Value& k) {
  return k.kind == Kind::kInt || k.kind == Kind::kUint || k.kind == Kind::kBool ||
         k.kind == Kind::kString;
}

const Value* mapFind(const Map& m, const Value& key) {
  for (const auto& [k, v] : m)
    if (equal(k, key)) return &v;
  return nullptr;
}

class Evaluator {
 public:
  Evaluator(const Activation& a, uint64_t max_steps) : act_(a), steps_left_(max_steps) {}

  Value eval(const Expr& e) {
    if (steps_left_ == 0) return Value::error("operation cancelled: step limit exceeded");
    --steps_left_;
    switch (e.kind) {
      case ExprKind::kConst:
        return constant(e);
      case ExprKind::kIdent:
        return ident(e.text);
      case ExprKind::kSelect:
        return select(e);
      case ExprKind::kCall:
        return call(e);
      case ExprKind::kList: {
        List items;
        for (size_t k = 0; k < e.args.size(); ++k) {
          Value v = eval(*e.args[k]);
          if (v.isError()) return v;
          if (std::find(e.optional_indices.begin(), e.optional_indices.end(), k) !=
              e.optional_indices.end()) {
            if (v.kind != Kind::kOptional)
              return Value::error(
                  "cannot initialize optional list element from non-optional value");
            if (!v.opt) continue;
            v = *v.opt;
          }
          items.push_back(std::move(v));
        }
        return Value::listOf(std::move(items));
      }
      case ExprKind::kStruct: {
        if (!e.text.empty()) return Value::error("unknown type: " + e.text);
        Map m;
        for (const Entry& en : e.entries) {
          Value k = eval(*en.key);
          if (k.isError()) return k;
          Value v = eval(*en.value);
          if (v.isError()) return v;
          if (en.optional) {
            if (v.kind != Kind::kOptional)
              return Value::error("cannot initialize optional entry from non-optional value");
            if (!v.opt) continue;
            v = *v.opt;
          }
          if (!validKey(k)) return Value::error("unsupported key type: " + typeName(k));
          if (mapFind(m, k)) return Value::error("Failed with repeated key: " + toString(k));
          m.emplace_back(std::move(k), std::move(v));
        }
        return Value::mapOf(std::move(m));
      }
      case ExprKind::kComprehension:
        return comprehension(e);
    }
    return Value::error("unknown expression");
  }

 private:
  static Value constant(const Expr& e) {
    switch (e.const_kind) {
      case ConstKind::kBool:
        return Value::boolean(e.bool_value);
      case ConstKind::kInt:
        return Value::integer(e.int_value);
      case ConstKind::kUint:
        return Value::unsignedInt(e.uint_value);
      case ConstKind::kDouble:
        return Value::dbl(e.double_value);
      case ConstKind::kString:
        return Value::string(e.text);
      case ConstKind::kBytes:
        return Value::bytes(e.text);
      default:
        return Value::null();
    }
  }

  Value ident(const std::string& name) {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (it->first == name) return it->second;
    if (auto it = act_.vars.find(name); it != act_.vars.end()) return it->second;
    static const char* kTypes[] = {"int",  "uint", "double",    "bool", "string",       "bytes",
                                   "list", "map",  "null_type", "type", "optional_type"};
    for (const char* t : kTypes)
      if (name == t) return Value::type(name);
    return Value::error("no such attribute: " + name);
  }

  // `a.b.c` as one qualified name, when it is a chain of selections on an identifier.
  static bool qualifiedName(const Expr& e, std::string& out) {
    if (e.kind == ExprKind::kIdent) {
      out = e.text;
      return true;
    }
    if (e.kind != ExprKind::kSelect || e.test_only || !qualifiedName(*e.args[0], out)) return false;
    out += "." + e.text;
    return true;
  }

  Value select(const Expr& e) {
    // Name resolution: a variable named by the whole qualified name wins over field selection
    // on a shorter one (the operand's own evaluation tries the shorter names in turn).
    if (std::string q; !e.test_only && !act_.vars.empty() && qualifiedName(e, q)) {
      std::string root = q.substr(0, q.find('.'));
      bool shadowed = false;
      for (const auto& sc : scopes_) shadowed = shadowed || sc.first == root;
      if (auto it = act_.vars.find(q); !shadowed && it != act_.vars.end()) return it->second;
    }
    if (std::string q; !e.test_only && qualifiedName(e, q) &&
                       (q == "google.protobuf.Timestamp" || q == "google.protobuf.Duration") &&
                       !bound(q.substr(0, q.find('.'))))
      return Value::type(q);
    Value operand = eval(*e.args[0]);
    if (operand.isError()) return operand;
    // On an optional, selection is optional selection (the chain stays optional).
    if (operand.kind == Kind::kOptional) {
      if (e.test_only) {
        if (!operand.opt) return Value::boolean(false);
        if (operand.opt->kind != Kind::kMap) return noOverload("has", {*operand.opt});
        return Value::boolean(mapFind(*operand.opt->map, Value::string(e.text)) != nullptr);
      }
      return optSelect(operand, Value::string(e.text));
    }
    if (operand.kind != Kind::kMap)
      return Value::error(
          fmt::format("type '{}' does not support field selection", typeName(operand)));
    const Value* v = mapFind(*operand.map, Value::string(e.text));
    if (e.test_only) return Value::boolean(v != nullptr);
    if (!v) return Value::error("no such key: " + e.text);
    return *v;
  }

  Value comprehension(const Expr& e) {
    Value range = eval(*e.iter_range);
    if (range.isError()) return range;
    if (range.kind != Kind::kList && range.kind != Kind::kMap)
      return Value::error("expected a list or a map for iteration, got " + typeName(range));
    Value accu = eval(*e.accu_init);
    scopes_.emplace_back(e.accu_var, accu);
    size_t accu_at = scopes_.size() - 1;
    size_t n = range.kind == Kind::kList ? range.list->size() : range.map->size();
    for (size_t k = 0; k < n; ++k) {
      Value first, second;
      if (range.kind == Kind::kList) {
        first = e.iter_var2.empty() ? (*range.list)[k] : Value::integer(static_cast<int64_t>(k));
        second = (*range.list)[k];
      } else {
        first = (*range.map)[k].first;
        second = (*range.map)[k].second;
      }
      scopes_.emplace_back(e.iter_var, first);
      if (!e.iter_var2.empty()) scopes_.emplace_back(e.iter_var2, second);
      Value cond = eval(*e.loop_condition);
      bool stop = cond.kind == Kind::kBool && !cond.b;
      if (!stop) scopes_[accu_at].second = eval(*e.loop_step);
      scopes_.resize(accu_at + 1);
      if (stop) break;
    }
    Value result = eval(*e.result);
    scopes_.resize(accu_at);
    return result;
  }

  Value call(const Expr& e) {
    const std::string& fn = e.text;
    // The forms that do not evaluate every argument first.
    if (fn == "_&&_" || fn == "_||_") {
      bool is_and = fn == "_&&_";
      Value l = eval(*e.args[0]);
      if (l.kind == Kind::kBool && l.b != is_and) return l;  // false && _, true || _
      Value r = eval(*e.args[1]);
      if (r.kind == Kind::kBool && r.b != is_and) return r;
      if (l.isError()) return l;
      if (r.isError()) return r;
      if (l.kind == Kind::kBool && r.kind == Kind::kBool) return Value::boolean(is_and);
      return noOverload(fn, {l, r});
    }
    if (fn == "_?_:_") {
      Value c = eval(*e.args[0]);
      if (c.isError()) return c;
      if (c.kind != Kind::kBool) return noOverload(fn, {c});
      return eval(*e.args[c.b ? 1 : 2]);
    }
    if (fn == "@not_strictly_false") {
      Value v = eval(*e.args[0]);
      return Value::boolean(v.kind != Kind::kBool || v.b);
    }
    // `optional.of(x)`: a function in a namespace, written as a call on an identifier that is
    // not a variable.
    if (e.target && e.target->kind == ExprKind::kIdent && !bound(e.target->text)) {
      std::vector<Value> args;
      for (const ExprPtr& a : e.args) {
        args.push_back(eval(*a));
        if (args.back().isError()) return args.back();
      }
      return builtin(e.target->text + "." + fn, false, args);
    }
    std::vector<Value> args;
    if (e.target) {
      args.push_back(eval(*e.target));
      if (args.back().isError()) return args.back();
    }
    for (const ExprPtr& a : e.args) {
      args.push_back(eval(*a));
      if (args.back().isError()) return args.back();
    }
    return builtin(fn, e.target != nullptr, args);
  }

  bool bound(const std::string& name) const {
    for (const auto& sc : scopes_)
      if (sc.first == name) return true;
    return act_.vars.count(name) > 0;
  }

  // Optional selection or indexing: the value when the key (field, index) is there, else none.
  static Value optSelect(const Value& x, const Value& key, bool index = false) {
    if (x.kind == Kind::kOptional) {
      if (!x.opt) return x;
      return optSelect(*x.opt, key, index);
    }
    if (x.kind == Kind::kMap) {
      const Value* v = mapFind(*x.map, key);
      return v ? Value::optionalOf(*v) : Value::optionalNone();
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
    return Value::error("no such key: " + (key.kind == Kind::kString ? key.str() : toString(key)));
  }

  static bool zero(const Value& v) {
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
        return v.list->empty();
      case Kind::kMap:
        return v.map->empty();
      case Kind::kOptional:
        return !v.opt;
      default:
        return false;
    }
  }

  static Value optionalFunction(const std::string& fn, bool receiver, const std::vector<Value>& a) {
    size_t n = a.size();
    if (!receiver) {
      if (fn == "optional.of" && n == 1) return Value::optionalOf(a[0]);
      if (fn == "optional.ofNonZeroValue" && n == 1)
        return zero(a[0]) ? Value::optionalNone() : Value::optionalOf(a[0]);
      if (fn == "optional.none" && n == 0) return Value::optionalNone();
      if (fn == "_?._" && n == 2 && a[1].kind == Kind::kString) return optSelect(a[0], a[1]);
      if (fn == "_[?_]" && n == 2) return optSelect(a[0], a[1], true);
      return Value::error("");
    }
    if (a[0].kind != Kind::kOptional) return Value::error("");
    const Value& o = a[0];
    if (fn == "hasValue" && n == 1) return Value::boolean(o.opt != nullptr);
    if (fn == "value" && n == 1)
      return o.opt ? *o.opt : Value::error("optional.none() dereference");
    if (fn == "orValue" && n == 2) return o.opt ? *o.opt : a[1];
    if (fn == "or" && n == 2) {
      if (o.opt) return o;
      if (a[1].kind != Kind::kOptional) return noOverload(fn, a);
      return a[1];
    }
    return Value::error("");
  }

  Value builtin(const std::string& fn, bool receiver, const std::vector<Value>& a) {
    size_t n = a.size();
    if (fn.starts_with("optional.") || fn == "_?._" || fn == "_[?_]" ||
        (receiver && n >= 1 && a[0].kind == Kind::kOptional)) {
      Value r = optionalFunction(fn, receiver, a);
      if (!r.isError() || !r.str().empty()) return r;
    }
    if (n == 2 && !receiver) {
      const Value& x = a[0];
      const Value& y = a[1];
      if (fn == "_==_") return Value::boolean(equal(x, y));
      if (fn == "_!=_") return Value::boolean(!equal(x, y));
      if (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_") return order(fn, x, y);
      if (fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_")
        return arithmetic(fn, x, y);
      if (fn == "@in") return in(x, y);
      if (fn == "_[_]") return index(x, y);
    }
    if (n == 1 && !receiver) {
      const Value& x = a[0];
      if (fn == "!_") return x.kind == Kind::kBool ? Value::boolean(!x.b) : noOverload(fn, a);
      if (fn == "-_") {
        if (x.kind == Kind::kInt) {
          if (x.i == std::numeric_limits<int64_t>::min()) return Value::error("integer overflow");
          return Value::integer(-x.i);
        }
        if (x.kind == Kind::kDouble) return Value::dbl(-x.d);
        return noOverload(fn, a);
      }
      if (fn == "type") return Value::type(typeName(x));
      if (fn == "dyn") return x;
      if (fn == "int" || fn == "uint" || fn == "double" || fn == "string" || fn == "bytes" ||
          fn == "bool")
        return convert(fn, x);
    }
    if (fn == "size" && n == 1) return size(a[0]);
    if (fn == "timestamp" && n == 1 && !receiver) {
      if (a[0].kind == Kind::kString) return parseTimestamp(a[0].str());
      if (a[0].kind == Kind::kInt) return Value::timestamp(a[0].i, 0);
      if (a[0].kind == Kind::kTimestamp) return a[0];
      return noOverload(fn, a);
    }
    if (fn == "duration" && n == 1 && !receiver) {
      if (a[0].kind == Kind::kString) return parseDuration(a[0].str());
      if (a[0].kind == Kind::kDuration) return a[0];
      return noOverload(fn, a);
    }
    if (receiver && (n == 1 || n == 2) &&
        (a[0].kind == Kind::kTimestamp || a[0].kind == Kind::kDuration) && fn.starts_with("get"))
      return timeGetter(fn, a);
    if (receiver && n >= 1 && a[0].kind == Kind::kString &&
        (fn == "charAt" || fn == "indexOf" || fn == "lastIndexOf" || fn == "lowerAscii" ||
         fn == "upperAscii" || fn == "replace" || fn == "split" || fn == "substring" ||
         fn == "trim"))
      return stringsExt(fn, a);
    if (fn == "strings.quote" && n == 1) return quote(a[0]);
    if (fn == "format" && receiver && n == 2 && a[0].kind == Kind::kString)
      return format(a[0].str(), a[1]);
    if (fn == "join" && receiver && (n == 1 || n == 2) && a[0].kind == Kind::kList) {
      if (n == 2 && a[1].kind != Kind::kString) return noOverload(fn, a);
      std::string out;
      for (size_t k = 0; k < a[0].list->size(); ++k) {
        const Value& e = (*a[0].list)[k];
        if (e.kind != Kind::kString) return noOverload(fn, a);
        if (k && n == 2) out += a[1].str();
        out += e.str();
      }
      return Value::string(std::move(out));
    }
    if ((fn == "contains" || fn == "startsWith" || fn == "endsWith") && receiver && n == 2) {
      if (a[0].kind != Kind::kString || a[1].kind != Kind::kString) return noOverload(fn, a);
      const std::string &s = a[0].str(), &t = a[1].str();
      return Value::boolean(fn == "contains"     ? s.find(t) != std::string::npos
                            : fn == "startsWith" ? s.starts_with(t)
                                                 : s.ends_with(t));
    }
    if (fn == "matches" && n == 2) {
      if (a[0].kind != Kind::kString || a[1].kind != Kind::kString) return noOverload(fn, a);
      RE2 re(a[1].str(), RE2::Quiet);
      if (!re.ok()) return Value::error("invalid regular expression: " + re.error());
      return Value::boolean(RE2::PartialMatch(a[0].str(), re));
    }
    if (fn == "cel.@mapInsert" && (n == 2 || n == 3) && a[0].kind == Kind::kMap) {
      Map m = *a[0].map;
      if (n == 3) {
        if (!validKey(a[1])) return Value::error("unsupported key type: " + typeName(a[1]));
        if (mapFind(m, a[1]))
          return Value::error("insert failed: key " + toString(a[1]) + " already exists");
        m.emplace_back(a[1], a[2]);
      } else {
        if (a[1].kind != Kind::kMap) return noOverload(fn, a);
        for (const auto& [k, v] : *a[1].map) {
          if (mapFind(m, k))
            return Value::error("insert failed: key " + toString(k) + " already exists");
          m.emplace_back(k, v);
        }
      }
      return Value::mapOf(std::move(m));
    }
    static const std::set<std::string, std::less<>> kKnown = {"_==_",
                                                              "_!=_",
                                                              "_<_",
                                                              "_<=_",
                                                              "_>_",
                                                              "_>=_",
                                                              "_+_",
                                                              "_-_",
                                                              "_*_",
                                                              "_/_",
                                                              "_%_",
                                                              "@in",
                                                              "_[_]",
                                                              "!_",
                                                              "-_",
                                                              "type",
                                                              "dyn",
                                                              "int",
                                                              "uint",
                                                              "double",
                                                              "string",
                                                              "bytes",
                                                              "bool",
                                                              "size",
                                                              "contains",
                                                              "startsWith",
                                                              "endsWith",
                                                              "matches",
                                                              "cel.@mapInsert",
                                                              "charAt",
                                                              "indexOf",
                                                              "lastIndexOf",
                                                              "lowerAscii",
                                                              "upperAscii",
                                                              "replace",
                                                              "split",
                                                              "substring",
                                                              "trim",
                                                              "strings.quote",
                                                              "join",
                                                              "optional.of",
                                                              "optional.none",
                                                              "optional.ofNonZeroValue",
                                                              "hasValue",
                                                              "value",
                                                              "orValue",
                                                              "or",
                                                              "_?._",
                                                              "_[?_]"};
    if (!kKnown.count(fn)) return Value::error("unbound function: " + fn);
    return noOverload(fn, a);
  }

  static Value size(const Value& x) {
    switch (x.kind) {
      case Kind::kString:
        return Value::integer(codePoints(x.str()));
      case Kind::kBytes:
        return Value::integer(static_cast<int64_t>(x.str().size()));
      case Kind::kList:
        return Value::integer(static_cast<int64_t>(x.list->size()));
      case Kind::kMap:
        return Value::integer(static_cast<int64_t>(x.map->size()));
      default:
        return noOverload("size", {x});
    }
  }

  static Value order(const std::string& fn, const Value& x, const Value& y) {
    int c;
    if (numeric(x) && numeric(y)) {
      c = compareNumbers(x, y);
      if (c == 2) return Value::boolean(false);  // NaN: unordered
    } else if (x.kind != y.kind) {
      return noOverload(fn, {x, y});
    } else if (x.kind == Kind::kTimestamp || x.kind == Kind::kDuration) {
      int64_t xn = static_cast<int64_t>(x.u), yn = static_cast<int64_t>(y.u);
      c = x.i != y.i ? (x.i < y.i ? -1 : 1) : xn < yn ? -1 : xn > yn ? 1 : 0;
    } else if (x.kind == Kind::kBool) {
      c = x.b == y.b ? 0 : x.b ? 1 : -1;
    } else if (x.kind == Kind::kString || x.kind == Kind::kBytes) {
      // Code point order is byte order for UTF-8.
      int r = x.str().compare(y.str());
      c = r < 0 ? -1 : r > 0 ? 1 : 0;
    } else {
      return noOverload(fn, {x, y});
    }
    bool v = fn == "_<_" ? c < 0 : fn == "_<=_" ? c <= 0 : fn == "_>_" ? c > 0 : c >= 0;
    return Value::boolean(v);
  }

  static Value arithmetic(const std::string& fn, const Value& x, const Value& y) {
    char op = fn[1];
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
      return noOverload(fn, {x, y});
    }
    if (x.kind != y.kind) return noOverload(fn, {x, y});
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
          case '/':
          case '%':
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
          case '/':
          case '%':
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
            return noOverload(fn, {x, y});
        }
      case Kind::kString:
      case Kind::kBytes:
        if (op != '+') return noOverload(fn, {x, y});
        return x.kind == Kind::kString ? Value::string(x.str() + y.str())
                                       : Value::bytes(x.str() + y.str());
      case Kind::kList: {
        if (op != '+') return noOverload(fn, {x, y});
        List l = *x.list;
        l.insert(l.end(), y.list->begin(), y.list->end());
        return Value::listOf(std::move(l));
      }
      default:
        return noOverload(fn, {x, y});
    }
  }

  static Value in(const Value& x, const Value& y) {
    if (y.kind == Kind::kList) {
      for (const Value& v : *y.list)
        if (equal(v, x)) return Value::boolean(true);
      return Value::boolean(false);
    }
    if (y.kind == Kind::kMap) return Value::boolean(mapFind(*y.map, x) != nullptr);
    return noOverload("@in", {x, y});
  }

  static Value index(const Value& x, const Value& y) {
    if (x.kind == Kind::kOptional) return optSelect(x, y, true);
    if (x.kind == Kind::kList) return listIndex(x, y);
    if (x.kind == Kind::kMap) {
      const Value* v = mapFind(*x.map, y);
      if (!v) return Value::error("no such key: " + toString(y));
      return *v;
    }
    return noOverload("_[_]", {x, y});
  }

  static Value listIndex(const Value& x, const Value& y) {
    {
      int64_t at;
      if (y.kind == Kind::kInt) {
        at = y.i;
      } else if (y.kind == Kind::kUint && y.u <= static_cast<uint64_t>(INT64_MAX)) {
        at = static_cast<int64_t>(y.u);
      } else if (y.kind == Kind::kDouble && std::trunc(y.d) == y.d && std::abs(y.d) < 9.2e18) {
        at = static_cast<int64_t>(y.d);
      } else {
        return Value::error("invalid_argument: a list index must be an integer, not " +
                            typeName(y));
      }
      if (at < 0 || at >= static_cast<int64_t>(x.list->size()))
        return Value::error(fmt::format("index out of range: {}", at));
      return (*x.list)[static_cast<size_t>(at)];
    }
  }

  static Value convert(const std::string& fn, const Value& x) {
    if (fn == "int") {
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
          errno = 0;
          char* end = nullptr;
          const std::string& s = x.str();
          long long v = std::strtoll(s.c_str(), &end, 10);
          if (s.empty() || errno == ERANGE || *end != '\0' || std::isspace(s[0]) || s[0] == '+')
            return Value::error("cannot convert \"" + s + "\" to int");
          return Value::integer(v);
        }
        default:
          return noOverload(fn, {x});
      }
    }
    if (fn == "uint") {
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
          errno = 0;
          char* end = nullptr;
          const std::string& s = x.str();
          if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
            return Value::error("cannot convert \"" + s + "\" to uint");
          unsigned long long v = std::strtoull(s.c_str(), &end, 10);
          if (errno == ERANGE || *end != '\0')
            return Value::error("cannot convert \"" + s + "\" to uint");
          return Value::unsignedInt(v);
        }
        default:
          return noOverload(fn, {x});
      }
    }
    if (fn == "double") {
      switch (x.kind) {
        case Kind::kDouble:
          return x;
        case Kind::kInt:
          return Value::dbl(static_cast<double>(x.i));
        case Kind::kUint:
          return Value::dbl(static_cast<double>(x.u));
        case Kind::kString: {
          const std::string& s = x.str();
          char* end = nullptr;
          double v = std::strtod(s.c_str(), &end);
          if (s.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0])))
            return Value::error("cannot convert \"" + s + "\" to double");
          return Value::dbl(v);
        }
        default:
          return noOverload(fn, {x});
      }
    }
    if (fn == "string") {
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
          return Value::string(x.str());
        default:
          return noOverload(fn, {x});
      }
    }
    if (fn == "bytes") {
      if (x.kind == Kind::kBytes) return x;
      if (x.kind == Kind::kString) return Value::bytes(x.str());
      return noOverload(fn, {x});
    }
    // bool
    if (x.kind == Kind::kBool) return x;
    if (x.kind == Kind::kString) {
      const std::string& s = x.str();
      if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True")
        return Value::boolean(true);
      if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False")
        return Value::boolean(false);
      return Value::error("cannot convert \"" + s + "\" to bool");
    }
    return noOverload(fn, {x});
  }

  const Activation& act_;
  uint64_t steps_left_;
  std::vector<std::pair<std::string, Value>> scopes_;  // comprehension variables, innermost last
};

}  // namespace

bool equal(const Value& a, const Value& b) {
  if (numeric(a) && numeric(b)) return compareNumbers(a, b) == 0;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kType:
      return a.str() == b.str();
    case Kind::kList:
      if (a.list->size() != b.list->size()) return false;
      for (size_t k = 0; k < a.list->size(); ++k)
        if (!equal((*a.list)[k], (*b.list)[k])) return false;
      return true;
    case Kind::kMap:
      if (a.map->size() != b.map->size()) return false;
      for (const auto& [k, v] : *a.map) {
        const Value* w = mapFind(*b.map, k);
        if (!w || !equal(v, *w)) return false;
      }
      return true;
    case Kind::kOptional:
      if (!a.opt || !b.opt) return !a.opt && !b.opt;
      return equal(*a.opt, *b.opt);
    case Kind::kTimestamp:
    case Kind::kDuration:
      return a.i == b.i && a.u == b.u;
    default:
      return false;
  }
}

Value evaluate(const Expr& e, const Activation& vars, uint64_t max_steps) {
  return Evaluator(vars, max_steps).eval(e);
}

}  // namespace kh::cel
