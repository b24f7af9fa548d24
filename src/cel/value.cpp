#include "cel/value.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "cel/internal.h"
#include "model/node.h"

namespace kh::cel {

namespace {

constexpr int64_t kMinTimestamp = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestamp = 253402300799;  // 9999-12-31T23:59:59Z

Value textValue(Kind kind, std::string v) {
  auto p = std::make_shared<const StringPayload>(std::move(v));
  Value x;
  x.kind = kind;
  x.chars = p->s.data();
  x.len = p->s.size();
  x.obj = std::move(p);
  return x;
}

const ListPayload& listPayload(const Value& v) {
  return static_cast<const ListPayload&>(*v.obj);
}
const MapPayload& mapPayload(const Value& v) {
  return static_cast<const MapPayload&>(*v.obj);
}

}  // namespace

Value Value::string(std::string v) {
  return textValue(Kind::kString, std::move(v));
}
Value Value::bytes(std::string v) {
  return textValue(Kind::kBytes, std::move(v));
}
Value Value::type(std::string name) {
  return textValue(Kind::kType, std::move(name));
}
Value Value::error(std::string message) {
  return textValue(Kind::kError, std::move(message));
}
Value Value::unknown(std::string why) {
  return textValue(Kind::kUnknown, std::move(why));
}

Value Value::borrowedString(std::string_view v, Kind kind) {
  Value x;
  x.kind = kind;
  x.chars = v.data();
  x.len = v.size();
  return x;
}

Value Value::listOf(List v) {
  Value x;
  x.kind = Kind::kList;
  x.node = nullptr;
  x.obj = std::make_shared<const ListPayload>(std::move(v));
  return x;
}
Value Value::mapOf(Map v) {
  Value x;
  x.kind = Kind::kMap;
  x.node = nullptr;
  x.obj = std::make_shared<const MapPayload>(std::move(v));
  return x;
}
Value Value::optionalOf(Value v) {
  Value x;
  x.kind = Kind::kOptional;
  x.obj = std::make_shared<const OptionalPayload>(std::move(v));
  return x;
}
Value Value::optionalNone() {
  Value x;
  x.kind = Kind::kOptional;
  return x;
}
Value Value::opaque(std::shared_ptr<const Opaque> v) {
  Value x;
  x.kind = Kind::kOpaque;
  x.obj = std::move(v);
  return x;
}

Value Value::fromNode(const kh::Node* n) {
  Value x;
  if (!n) return x;
  switch (n->type) {
    case NodeType::kNull:
      return x;
    case NodeType::kBool:
      return boolean(n->bool_value);
    case NodeType::kInt:
      return integer(n->int_value);
    case NodeType::kFloat:
      return dbl(n->float_value);
    case NodeType::kString:
      return borrowedString(n->text);
    case NodeType::kMap:
      x.kind = Kind::kMap;
      x.node = n;
      return x;
    case NodeType::kSeq:
      x.kind = Kind::kList;
      x.node = n;
      return x;
  }
  return x;
}

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

namespace {

// A document's map as the API server shows it to CEL: a field set to null is absent (decoding
// into the API's types drops it). Most maps have no null field: counted and indexed directly.
size_t visibleEntries(const Node* n) {
  size_t count = 0;
  for (uint32_t k = 0; k < n->size; ++k) count += !n->entries[k].value->isNull();
  return count;
}
const MapEntry& visibleEntry(const Node* n, size_t k) {
  for (uint32_t i = 0; i < n->size; ++i) {
    if (n->entries[i].value->isNull()) continue;
    if (k-- == 0) return n->entries[i];
  }
  return n->entries[n->size - 1];  // not reached: k < visibleEntries(n)
}

}  // namespace

size_t Value::size() const {
  if (kind == Kind::kList) return obj ? listPayload(*this).items.size() : node->size;
  if (kind == Kind::kMap) return obj ? mapPayload(*this).entries.size() : visibleEntries(node);
  return 0;
}

Value Value::item(size_t k) const {
  return obj ? listPayload(*this).items[k] : fromNode(node->items[k]);
}

Value Value::key(size_t k) const {
  return obj ? mapPayload(*this).entries[k].first : borrowedString(visibleEntry(node, k).key);
}

Value Value::val(size_t k) const {
  return obj ? mapPayload(*this).entries[k].second : fromNode(visibleEntry(node, k).value);
}

bool Value::find(const Value& k, Value* out) const {
  if (!obj) {
    if (k.kind != Kind::kString) return false;
    return findField(k.str(), out);
  }
  for (const auto& [key, v] : mapPayload(*this).entries)
    if (equal(key, k)) {
      if (out) *out = v;
      return true;
    }
  return false;
}

bool Value::findField(std::string_view k, Value* out) const {
  if (!obj) {
    // The document's keys, compared by length and first byte before the bytes (most keys of
    // an object differ in one of those).
    const MapEntry* e = node->entries;
    const MapEntry* end = e + node->size;
    for (; e != end; ++e)
      if (e->key.size() == k.size() && (k.empty() || e->key[0] == k[0]) &&
          std::memcmp(e->key.data(), k.data(), k.size()) == 0)
        break;
    if (e == end || e->value->isNull()) return false;
    if (out) *out = fromNode(e->value);
    return true;
  }
  for (const auto& [key, v] : mapPayload(*this).entries)
    if (key.kind == Kind::kString && key.str() == k) {
      if (out) *out = v;
      return true;
    }
  return false;
}

const Value& Value::optValue() const {
  return static_cast<const OptionalPayload&>(*obj).value;
}

int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
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

namespace {

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
    case Kind::kOpaque:
      return std::string(v.opaqueValue().typeName());
    case Kind::kUnknown:
      return "unknown";
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
      for (size_t k = 0; k < v.size(); ++k) out += (k ? ", " : "") + toString(v.item(k));
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      for (size_t k = 0; k < v.size(); ++k)
        out += (k ? ", " : "") + toString(v.key(k)) + ": " + toString(v.val(k));
      return out + "}";
    }
    case Kind::kType:
      return std::string(v.str());
    case Kind::kOptional:
      return v.hasValue() ? "optional.of(" + toString(v.optValue()) + ")" : "optional.none()";
    case Kind::kTimestamp:
      return "timestamp(\"" + formatTimestamp(v) + "\")";
    case Kind::kDuration:
      return "duration(\"" + formatDuration(v) + "\")";
    case Kind::kOpaque:
      return v.opaqueValue().debug();
    case Kind::kUnknown:
      return fmt::format("unknown({})", v.str());
    default:
      return fmt::format("error({})", v.str());
  }
}

// Int and uint compare exactly; against a double, an integer is first converted to double
// (rounding, as cel-go compares them: 2^63 - 1 is not less than 2^63 as a double).
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

int compareValues(const Value& x, const Value& y) {
  if (numeric(x) && numeric(y)) return compareNumbers(x, y);
  if (x.kind != y.kind) return 2;
  switch (x.kind) {
    case Kind::kBool:
      return x.b == y.b ? 0 : x.b ? 1 : -1;
    case Kind::kString:
    case Kind::kBytes: {
      int r = x.str().compare(y.str());
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
    case Kind::kTimestamp:
    case Kind::kDuration: {
      auto xn = static_cast<int64_t>(x.u), yn = static_cast<int64_t>(y.u);
      return x.i != y.i ? (x.i < y.i ? -1 : 1) : xn < yn ? -1 : xn > yn ? 1 : 0;
    }
    case Kind::kOpaque:
      return x.opaqueValue().compare(y.opaqueValue());
    default:
      return 2;
  }
}

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
    case Kind::kList: {
      size_t n = a.size();
      if (n != b.size()) return false;
      for (size_t k = 0; k < n; ++k)
        if (!equal(a.item(k), b.item(k))) return false;
      return true;
    }
    case Kind::kMap: {
      size_t n = a.size();
      if (n != b.size()) return false;
      Value w;
      for (size_t k = 0; k < n; ++k)
        if (!b.find(a.key(k), &w) || !equal(a.val(k), w)) return false;
      return true;
    }
    case Kind::kOptional:
      if (!a.hasValue() || !b.hasValue()) return !a.hasValue() && !b.hasValue();
      return equal(a.optValue(), b.optValue());
    case Kind::kTimestamp:
    case Kind::kDuration:
      return a.i == b.i && a.u == b.u;
    case Kind::kOpaque:
      return a.opaqueValue().equals(b.opaqueValue());
    default:
      return false;
  }
}

Value noOverload(std::string_view fn, std::span<const Value> args) {
  std::string types;
  for (const Value& a : args) types += (types.empty() ? "" : ", ") + typeName(a);
  Value e = Value::error(fmt::format("no such overload: {}({})", fn, types));
  e.b = true;  // so that the next overload is tried (eval.cpp)
  return e;
}

}  // namespace kh::cel
