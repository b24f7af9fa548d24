// The Kubernetes CEL libraries (k8s.io/apiserver pkg/cel/library, read for facts): lists, regex,
// sets (cel-go's extension, as Kubernetes enables it), quantity, IP and CIDR, URL, semver and
// format. Each entry of the table carries the Kubernetes minor version that introduced it, so a
// profile (`--k8s-version`) refuses what its API server would refuse.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "cel/internal.h"
#include "cel/kubernetes.h"

namespace kh::cel {

namespace {

using Args = std::span<const Value>;

template <class T>
const T* opaqueAs(const Value& v) {
  return v.kind == Kind::kOpaque ? dynamic_cast<const T*>(&v.opaqueValue()) : nullptr;
}

// ---- lists

Value isSorted(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("isSorted", a);
  for (size_t k = 1; k < a[0].size(); ++k) {
    Value prev = a[0].item(k - 1), next = a[0].item(k);
    int c = compareValues(prev, next);
    if (c == 2) return noOverload("isSorted", a);
    if (c == 1) return Value::boolean(false);
  }
  return Value::boolean(true);
}

Value sum(CallContext& ctx, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("sum", a);
  size_t n = a[0].size();
  if (n == 0) return Value::integer(0);
  Value acc = a[0].item(0);
  if (!numeric(acc) && acc.kind != Kind::kDuration) return noOverload("sum", a);
  static const FunctionDecl* plus = [] {
    for (const FunctionDecl& d : functionTable())
      if (d.name == "_+_") return &d;
    return static_cast<const FunctionDecl*>(nullptr);
  }();
  for (size_t k = 1; k < n; ++k) {
    Value pair[2] = {acc, a[0].item(k)};
    acc = plus->fn(ctx, std::span<const Value>(pair, 2));
    if (acc.isError()) return acc;
  }
  return acc;
}

Value extreme(std::string_view fn, Args a, int prefer) {
  if (!argIs(a, 0, Kind::kList)) return noOverload(fn, a);
  size_t n = a[0].size();
  if (n == 0) return Value::error(fmt::format("{} called on empty list", fn));
  Value best = a[0].item(0);
  for (size_t k = 1; k < n; ++k) {
    Value next = a[0].item(k);
    int c = compareValues(best, next);
    if (c == 2) return noOverload(fn, a);
    if (c == prefer) best = next;
  }
  return best;
}
Value listMin(CallContext&, Args a) {
  return extreme("min", a, 1);
}
Value listMax(CallContext&, Args a) {
  return extreme("max", a, -1);
}

Value listIndexOf(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("indexOf", a);
  for (size_t k = 0; k < a[0].size(); ++k)
    if (equal(a[0].item(k), a[1])) return Value::integer(static_cast<int64_t>(k));
  return Value::integer(-1);
}
Value listLastIndexOf(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList)) return noOverload("lastIndexOf", a);
  for (size_t k = a[0].size(); k-- > 0;)
    if (equal(a[0].item(k), a[1])) return Value::integer(static_cast<int64_t>(k));
  return Value::integer(-1);
}

// ---- regex: find and findAll (Go's leftmost-first matches; RE2 has the same semantics)

std::shared_ptr<const void> prepareRegexArg1(std::span<const Value* const> c) {
  if (c.size() < 2 || !c[1] || c[1]->kind != Kind::kString) return nullptr;
  auto re = std::make_shared<const RE2>(std::string(c[1]->str()), RE2::Quiet);
  if (!re->ok()) return nullptr;
  return re;
}

std::shared_ptr<const RE2> regexFor(CallContext& ctx, const Value& pattern, Value& error) {
  if (ctx.prepared)
    return std::shared_ptr<const RE2>(std::shared_ptr<const RE2>(),
                                      static_cast<const RE2*>(ctx.prepared));
  auto re = std::make_shared<const RE2>(std::string(pattern.str()), RE2::Quiet);
  if (!re->ok()) {
    error = Value::error("Illegal regex: " + re->error());
    return nullptr;
  }
  return re;
}

Value find(CallContext& ctx, Args a) {
  if (a.size() != 2 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString))
    return noOverload("find", a);
  Value err;
  auto re = regexFor(ctx, a[1], err);
  if (!re) return err;
  re2::StringPiece text(a[0].str().data(), a[0].str().size()), m;
  if (!re->Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1)) return Value::string("");
  return stringValue(std::string_view(m.data(), m.size()));
}

Value findAll(CallContext& ctx, Args a) {
  if (a.size() < 2 || a.size() > 3 || !argIs(a, 0, Kind::kString) || !argIs(a, 1, Kind::kString) ||
      (a.size() == 3 && !argIs(a, 2, Kind::kInt)))
    return noOverload("findAll", a);
  Value err;
  auto re = regexFor(ctx, a[1], err);
  if (!re) return err;
  int64_t limit = a.size() == 3 ? a[2].i : -1;
  std::string_view s = a[0].str();
  re2::StringPiece text(s.data(), s.size()), m;
  List out;
  size_t pos = 0;
  size_t prev_end = std::string_view::npos;
  while (pos <= s.size() && (limit < 0 || static_cast<int64_t>(out.size()) < limit)) {
    if (!re->Match(text, pos, s.size(), RE2::UNANCHORED, &m, 1)) break;
    size_t start = static_cast<size_t>(m.data() - s.data()), end = start + m.size();
    // Go: an empty match right after the previous match is not reported.
    if (!(m.empty() && start == prev_end))
      out.push_back(stringValue(std::string_view(m.data(), m.size())));
    prev_end = end;
    if (end > start) {
      pos = end;
    } else {
      if (start >= s.size()) break;
      size_t step = 1;  // one code point forward
      auto c = static_cast<unsigned char>(s[start]);
      if (c >= 0xf0)
        step = 4;
      else if (c >= 0xe0)
        step = 3;
      else if (c >= 0xc0)
        step = 2;
      pos = std::min(s.size(), start + step);
    }
  }
  return Value::listOf(std::move(out));
}

// ---- sets (cel-go's sets extension)

bool listHas(const Value& l, const Value& x) {
  for (size_t k = 0; k < l.size(); ++k)
    if (equal(l.item(k), x)) return true;
  return false;
}
Value setsContains(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList) || !argIs(a, 1, Kind::kList)) return noOverload("sets.contains", a);
  for (size_t k = 0; k < a[1].size(); ++k)
    if (!listHas(a[0], a[1].item(k))) return Value::boolean(false);
  return Value::boolean(true);
}
Value setsEquivalent(CallContext& ctx, Args a) {
  if (!argIs(a, 0, Kind::kList) || !argIs(a, 1, Kind::kList))
    return noOverload("sets.equivalent", a);
  Value back[2] = {a[1], a[0]};
  Value one = setsContains(ctx, a);
  if (!one.b) return one;
  return setsContains(ctx, back);
}
Value setsIntersects(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kList) || !argIs(a, 1, Kind::kList))
    return noOverload("sets.intersects", a);
  for (size_t k = 0; k < a[1].size(); ++k)
    if (listHas(a[0], a[1].item(k))) return Value::boolean(true);
  return Value::boolean(false);
}

// ---- quantity: resource.Quantity's syntax, exact decimal values (mantissa x 10^exponent)

using i128 = __int128;

struct Quantity : Opaque {
  i128 mantissa = 0;
  int exponent = 0;  // normalised: no trailing zero digits in the mantissa
  std::string text;  // as written

  std::string_view typeName() const override { return "kubernetes.Quantity"; }
  bool equals(const Opaque& o) const override;
  int compare(const Opaque& o) const override;
  std::string debug() const override { return "quantity(\"" + text + "\")"; }

  void normalise() {
    if (mantissa == 0) {
      exponent = 0;
      return;
    }
    while (mantissa % 10 == 0 && exponent < 1000000) {
      mantissa /= 10;
      ++exponent;
    }
  }
};

// 10^n as i128, or 0 when it does not fit.
i128 pow10(int n) {
  if (n < 0 || n > 38) return 0;
  i128 r = 1;
  for (int k = 0; k < n; ++k) r *= 10;
  return r;
}

int digits(i128 v) {
  if (v < 0) v = -v;
  int n = 0;
  while (v) {
    v /= 10;
    ++n;
  }
  return n;
}

int cmpQuantity(const Quantity& x, const Quantity& y) {
  int sx = x.mantissa > 0 ? 1 : x.mantissa < 0 ? -1 : 0;
  int sy = y.mantissa > 0 ? 1 : y.mantissa < 0 ? -1 : 0;
  if (sx != sy || sx == 0) return sx < sy ? -1 : sx > sy ? 1 : 0;
  // Same sign: compare magnitudes by their leading digit positions, then aligned.
  int mx = digits(x.mantissa) + x.exponent, my = digits(y.mantissa) + y.exponent;
  if (mx != my) return (mx < my ? -1 : 1) * sx;
  int e = std::min(x.exponent, y.exponent);
  i128 px = pow10(x.exponent - e), py = pow10(y.exponent - e);
  i128 ax = x.mantissa * px, ay = y.mantissa * py;  // same magnitude: both fit
  return ax < ay ? -1 : ax > ay ? 1 : 0;
}

bool Quantity::equals(const Opaque& o) const {
  const auto* q = dynamic_cast<const Quantity*>(&o);
  return q && cmpQuantity(*this, *q) == 0;
}
int Quantity::compare(const Opaque& o) const {
  const auto* q = dynamic_cast<const Quantity*>(&o);
  return q ? cmpQuantity(*this, *q) : 2;
}

constexpr const char* kQuantityFormat =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

std::optional<Quantity> parseQuantityText(std::string_view s, std::string& error) {
  static const RE2 shape("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
  std::string num, suffix;
  if (s.empty() || !RE2::FullMatch(re2::StringPiece(s.data(), s.size()), shape, &num, &suffix)) {
    error = kQuantityFormat;
    return std::nullopt;
  }
  bool negative = false;
  size_t at = 0;
  if (num[0] == '+' || num[0] == '-') negative = num[at++] == '-';
  Quantity q;
  q.text = std::string(s);
  size_t dots = 0, ndigits = 0;
  for (; at < num.size(); ++at) {
    if (num[at] == '.') {
      if (++dots > 1) {
        error = "unable to parse numeric part of quantity";
        return std::nullopt;
      }
      continue;
    }
    ++ndigits;
    if (q.mantissa == 0 && num[at] == '0') {
      if (dots) --q.exponent;
      continue;
    }
    if (digits(q.mantissa) >= 36) {  // beyond 36 significant digits: keep the magnitude
      if (!dots) ++q.exponent;
      continue;
    }
    q.mantissa = q.mantissa * 10 + (num[at] - '0');
    if (dots) --q.exponent;
  }
  if (ndigits == 0) {
    error = "unable to parse numeric part of quantity";
    return std::nullopt;
  }
  // The suffix: binary (Ki..Ei), decimal SI (n u m "" k M G T P E) or an exponent (e3, E-2).
  static const std::pair<const char*, int> kBinary[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                        {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  static const std::pair<const char*, int> kDecimal[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},
                                                         {"k", 3},  {"M", 6},  {"G", 9},  {"T", 12},
                                                         {"P", 15}, {"E", 18}};
  bool known = false;
  for (const auto& [name, shift] : kBinary)
    if (suffix == name) {
      // 19 significant digits x 2^60 < 2^127; beyond that the last digits go (documented).
      while (digits(q.mantissa) > 19) {
        q.mantissa /= 10;
        ++q.exponent;
      }
      q.mantissa <<= shift;
      known = true;
    }
  for (const auto& [name, exp] : kDecimal)
    if (suffix == name) {
      q.exponent += exp;
      known = true;
    }
  if (!known && suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t k = 1;
    bool neg = false;
    if (suffix[k] == '+' || suffix[k] == '-') neg = suffix[k++] == '-';
    if (k < suffix.size() && suffix.size() - k <= 9 &&
        std::all_of(suffix.begin() + static_cast<long>(k), suffix.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      int e = std::stoi(suffix.substr(k));
      q.exponent += neg ? -e : e;
      known = true;
    }
  }
  if (!known) {
    error = "unable to parse quantity's suffix";
    return std::nullopt;
  }
  if (negative) q.mantissa = -q.mantissa;
  q.normalise();
  return q;
}

Value toQuantity(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("quantity", a);
  std::string error;
  auto q = parseQuantityText(a[0].str(), error);
  if (!q) return Value::error(error);
  return Value::opaque(std::make_shared<const Quantity>(std::move(*q)));
}

Value isQuantity(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("isQuantity", a);
  std::string error;
  return Value::boolean(parseQuantityText(a[0].str(), error).has_value());
}

// The value as int64 when it is a whole number that fits.
std::optional<int64_t> quantityInt(const Quantity& q) {
  if (q.exponent < 0) return std::nullopt;  // normalised: a fraction remains
  i128 p = pow10(q.exponent);
  if (p == 0 && q.mantissa != 0) return std::nullopt;
  if (digits(q.mantissa) + q.exponent > 19) return std::nullopt;
  i128 v = q.mantissa * p;
  if (v > INT64_MAX || v < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(v);
}

#define KH_QUANTITY_RECEIVER(fn)                                      \
  const Quantity* q = a.empty() ? nullptr : opaqueAs<Quantity>(a[0]); \
  if (!q) return noOverload(fn, a);

Value quantitySign(CallContext&, Args a) {
  KH_QUANTITY_RECEIVER("sign")
  return Value::integer(q->mantissa > 0 ? 1 : q->mantissa < 0 ? -1 : 0);
}
Value quantityIsInteger(CallContext&, Args a) {
  KH_QUANTITY_RECEIVER("isInteger")
  return Value::boolean(quantityInt(*q).has_value());
}
Value quantityAsInteger(CallContext&, Args a) {
  KH_QUANTITY_RECEIVER("asInteger")
  auto v = quantityInt(*q);
  if (!v) return Value::error("cannot convert value to integer");
  return Value::integer(*v);
}
Value quantityAsFloat(CallContext&, Args a) {
  KH_QUANTITY_RECEIVER("asApproximateFloat")
  long double v = static_cast<long double>(q->mantissa) * std::pow(10.0L, q->exponent);
  return Value::dbl(static_cast<double>(v));
}

Value quantityCompare(std::string_view fn, Args a, int mode) {
  const Quantity* q = a.size() == 2 ? opaqueAs<Quantity>(a[0]) : nullptr;
  const Quantity* r = a.size() == 2 ? opaqueAs<Quantity>(a[1]) : nullptr;
  if (!q || !r) return noOverload(fn, a);
  int c = cmpQuantity(*q, *r);
  if (mode == 0) return Value::integer(c);
  return Value::boolean(c == mode);
}

Value quantityArith(std::string_view fn, Args a, int sign) {
  const Quantity* q = a.size() == 2 ? opaqueAs<Quantity>(a[0]) : nullptr;
  if (!q) return noOverload(fn, a);
  Quantity other;
  if (const Quantity* r = opaqueAs<Quantity>(a[1])) {
    other = *r;
  } else if (a[1].kind == Kind::kInt) {
    other.mantissa = a[1].i;
    other.normalise();
  } else {
    return noOverload(fn, a);
  }
  int e = std::min(q->exponent, other.exponent);
  i128 px = pow10(q->exponent - e), py = pow10(other.exponent - e);
  if ((q->mantissa && !px) || (other.mantissa && !py) ||
      digits(q->mantissa) + (q->exponent - e) > 37 ||
      digits(other.mantissa) + (other.exponent - e) > 37)
    return Value::error("quantity out of range");
  auto out = std::make_shared<Quantity>();
  out->mantissa = q->mantissa * px + sign * other.mantissa * py;
  out->exponent = e;
  out->normalise();
  out->text = "(" + q->text + (sign > 0 ? " + " : " - ") + other.text + ")";
  return Value::opaque(std::move(out));
}

// ---- IP addresses and CIDRs (Go's netip: no zones, IPv4 without leading zeros)

struct Address {
  bool v6 = false;
  unsigned char bytes[16] = {};  // IPv4 in the first four
  size_t size() const { return v6 ? 16 : 4; }
  bool operator==(const Address& o) const {
    return v6 == o.v6 && std::memcmp(bytes, o.bytes, size()) == 0;
  }
  std::string text() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf);
    return buf;
  }
  bool mapped4() const {
    static const unsigned char kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return v6 && std::memcmp(bytes, kPrefix, 12) == 0;
  }
};

// Go's netip.ParseAddr, its error text after "ParseAddr(\"s\"): ".
std::optional<Address> parseAddress(std::string_view s, std::string& error) {
  Address a;
  if (s.empty()) {
    error = "unable to parse IP";
    return std::nullopt;
  }
  if (s.find('%') != std::string_view::npos) {
    error = "zone";
    return std::nullopt;
  }
  if (s.find(':') == std::string_view::npos) {
    // IPv4: four decimal fields, no leading zeros.
    int field = 0, len = 0, value = 0;
    for (size_t k = 0; k <= s.size(); ++k) {
      if (k == s.size() || s[k] == '.') {
        if (len == 0) {
          error = field == 3 && k == s.size() ? "IPv4 address too short"
                                              : "IPv4 field must have at least one digit";
          return std::nullopt;
        }
        if (field > 3) {
          error = "IPv4 address too long";
          return std::nullopt;
        }
        a.bytes[field++] = static_cast<unsigned char>(value);
        len = value = 0;
        if (k < s.size() && field == 4) {
          error = "IPv4 address too long";
          return std::nullopt;
        }
        continue;
      }
      if (s[k] < '0' || s[k] > '9') {
        error = fmt::format("unexpected character (at \"{}\")", s.substr(k));
        return std::nullopt;
      }
      if (len > 0 && value == 0) {
        error = "IPv4 field has octet with leading zero";
        return std::nullopt;
      }
      value = value * 10 + (s[k] - '0');
      if (++len > 3 || value > 255) {
        error = "IPv4 field has value >255";
        return std::nullopt;
      }
    }
    if (field < 4) {
      error = "IPv4 address too short";
      return std::nullopt;
    }
    return a;
  }
  std::string text(s);
  if (inet_pton(AF_INET6, text.c_str(), a.bytes) != 1) {
    error = "unable to parse IP";
    return std::nullopt;
  }
  a.v6 = true;
  return a;
}

struct IpValue : Opaque {
  Address addr;
  std::string_view typeName() const override { return "net.IP"; }
  bool equals(const Opaque& o) const override {
    const auto* x = dynamic_cast<const IpValue*>(&o);
    return x && x->addr == addr;
  }
  std::string debug() const override { return "ip(\"" + addr.text() + "\")"; }
};

struct CidrValue : Opaque {
  Address addr;  // as written (not masked)
  int bits = 0;
  std::string_view typeName() const override { return "net.CIDR"; }
  bool equals(const Opaque& o) const override {
    const auto* x = dynamic_cast<const CidrValue*>(&o);
    return x && x->addr == addr && x->bits == bits;
  }
  std::string text() const { return addr.text() + "/" + std::to_string(bits); }
  std::string debug() const override { return "cidr(\"" + text() + "\")"; }
  bool contains(const Address& a) const {
    if (a.v6 != addr.v6) return false;
    for (int k = 0; k < bits; ++k) {
      int byte = k / 8, bit = 7 - k % 8;
      if (((a.bytes[byte] >> bit) & 1) != ((addr.bytes[byte] >> bit) & 1)) return false;
    }
    return true;
  }
};

// An IP as the library accepts it: no zone, no IPv4-mapped IPv6.
Value makeIp(std::string_view s, bool for_cidr_arg = false) {
  std::string error;
  auto a = parseAddress(s, error);
  if (!a) {
    if (error == "zone")
      return Value::error(fmt::format("IP address \"{}\" with zone value is not allowed", s));
    return Value::error(fmt::format(
        "IP Address \"{}\" parse error during conversion from string: ParseAddr(\"{}\"): {}", s, s,
        error));
  }
  if (a->mapped4())
    return Value::error(fmt::format("IPv4-mapped IPv6 address \"{}\" is not allowed", s));
  (void)for_cidr_arg;
  auto v = std::make_shared<IpValue>();
  v->addr = *a;
  return Value::opaque(std::move(v));
}

Value makeCidr(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Value::error(fmt::format(
        "network address parse error during conversion from string: netip.ParsePrefix(\"{}\"): {}",
        s, why));
  };
  size_t slash = s.rfind('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  std::string error;
  std::string_view addr_text = s.substr(0, slash), bits_text = s.substr(slash + 1);
  auto a = parseAddress(addr_text, error);
  if (!a) {
    if (error == "zone") return bad("IPv6 zones cannot be present in a prefix");
    return bad(fmt::format("ParseAddr(\"{}\"): {}", addr_text, error));
  }
  if (a->mapped4())
    return Value::error(fmt::format("IPv4-mapped IPv6 address \"{}\" is not allowed", s));
  int bits = 0;
  if (bits_text.empty() || bits_text.size() > 3 || (bits_text.size() > 1 && bits_text[0] == '0'))
    return bad(fmt::format("bad bits after slash: \"{}\"", bits_text));
  for (char c : bits_text) {
    if (c < '0' || c > '9') return bad(fmt::format("bad bits after slash: \"{}\"", bits_text));
    bits = bits * 10 + (c - '0');
  }
  if (bits > (a->v6 ? 128 : 32)) return bad(fmt::format("prefix length out of range"));
  auto v = std::make_shared<CidrValue>();
  v->addr = *a;
  v->bits = bits;
  return Value::opaque(std::move(v));
}

Value ipFn(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("ip", a);
  return makeIp(a[0].str());
}
Value isIp(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("isIP", a);
  return Value::boolean(!makeIp(a[0].str()).isError());
}
Value ipIsCanonical(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("ip.isCanonical", a);
  Value v = makeIp(a[0].str());
  if (v.isError()) return v;
  return Value::boolean(opaqueAs<IpValue>(v)->addr.text() == a[0].str());
}
Value cidrFn(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("cidr", a);
  return makeCidr(a[0].str());
}
Value isCidr(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("isCIDR", a);
  return Value::boolean(!makeCidr(a[0].str()).isError());
}

Value ipPredicate(std::string_view fn, Args a) {
  const IpValue* ip = opaqueAs<IpValue>(a[0]);
  if (!ip) return noOverload(fn, a);
  const unsigned char* b = ip->addr.bytes;
  bool v6 = ip->addr.v6;
  auto allZero = [&](size_t n) {
    for (size_t k = 0; k < n; ++k)
      if (b[k]) return false;
    return true;
  };
  bool unspecified = allZero(ip->addr.size());
  bool loopback = v6 ? (allZero(15) && b[15] == 1) : b[0] == 127;
  bool multicast = v6 ? b[0] == 0xff : (b[0] & 0xf0) == 0xe0;
  bool ll_multicast =
      v6 ? (b[0] == 0xff && (b[1] & 0x0f) == 0x02) : (b[0] == 224 && b[1] == 0 && b[2] == 0);
  bool ll_unicast = v6 ? (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) : (b[0] == 169 && b[1] == 254);
  bool broadcast = !v6 && b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255;
  if (fn == "family") return Value::integer(v6 ? 6 : 4);
  if (fn == "isUnspecified") return Value::boolean(unspecified);
  if (fn == "isLoopback") return Value::boolean(loopback);
  if (fn == "isLinkLocalMulticast") return Value::boolean(ll_multicast);
  if (fn == "isLinkLocalUnicast") return Value::boolean(ll_unicast);
  return Value::boolean(!unspecified && !loopback && !multicast && !ll_unicast && !broadcast);
}
#define KH_IP_PREDICATE(name)        \
  Value name(CallContext&, Args a) { \
    return ipPredicate(#name, a);    \
  }
KH_IP_PREDICATE(family)
KH_IP_PREDICATE(isUnspecified)
KH_IP_PREDICATE(isLoopback)
KH_IP_PREDICATE(isLinkLocalMulticast)
KH_IP_PREDICATE(isLinkLocalUnicast)
KH_IP_PREDICATE(isGlobalUnicast)
#undef KH_IP_PREDICATE

Value cidrContainsIp(CallContext&, Args a) {
  const CidrValue* c = opaqueAs<CidrValue>(a[0]);
  if (!c) return noOverload("containsIP", a);
  Value ip = a[1].kind == Kind::kString ? makeIp(a[1].str()) : a[1];
  if (ip.isError()) return ip;
  const IpValue* x = opaqueAs<IpValue>(ip);
  if (!x) return noOverload("containsIP", a);
  return Value::boolean(c->contains(x->addr));
}
Value cidrContainsCidr(CallContext&, Args a) {
  const CidrValue* c = opaqueAs<CidrValue>(a[0]);
  if (!c) return noOverload("containsCIDR", a);
  Value other = a[1].kind == Kind::kString ? makeCidr(a[1].str()) : a[1];
  if (other.isError()) return other;
  const CidrValue* o = opaqueAs<CidrValue>(other);
  if (!o) return noOverload("containsCIDR", a);
  return Value::boolean(o->addr.v6 == c->addr.v6 && o->bits >= c->bits && c->contains(o->addr));
}
Value cidrIp(CallContext&, Args a) {
  const CidrValue* c = opaqueAs<CidrValue>(a[0]);
  if (!c) return noOverload("ip", a);
  auto v = std::make_shared<IpValue>();
  v->addr = c->addr;
  return Value::opaque(std::move(v));
}
Value cidrMasked(CallContext&, Args a) {
  const CidrValue* c = opaqueAs<CidrValue>(a[0]);
  if (!c) return noOverload("masked", a);
  auto v = std::make_shared<CidrValue>(*c);
  for (size_t k = 0; k < v->addr.size(); ++k) {
    int keep = std::clamp(c->bits - static_cast<int>(k) * 8, 0, 8);
    v->addr.bytes[k] &= static_cast<unsigned char>(0xff << (8 - keep));
  }
  return Value::opaque(std::move(v));
}
Value cidrPrefixLength(CallContext&, Args a) {
  const CidrValue* c = opaqueAs<CidrValue>(a[0]);
  if (!c) return noOverload("prefixLength", a);
  return Value::integer(c->bits);
}

// string(ip), string(cidr): an overload of the standard conversion.
Value netToString(CallContext&, Args a) {
  if (const IpValue* ip = opaqueAs<IpValue>(a[0])) return Value::string(ip->addr.text());
  if (const CidrValue* c = opaqueAs<CidrValue>(a[0])) return Value::string(c->text());
  return noOverload("string", a);
}

// ---- URLs: Go's url.ParseRequestURI to accept (an absolute URL or an absolute path), the parts
// as url.Parse splits them (a fragment is cut off)

struct Url : Opaque {
  std::string scheme, host, raw_path, path, raw_query, text;
  std::string_view typeName() const override { return "net.URL"; }
  bool equals(const Opaque& o) const override {
    const auto* u = dynamic_cast<const Url*>(&o);
    return u && u->text == text;
  }
  std::string debug() const override { return "url(\"" + text + "\")"; }
};

int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nullopt for a bad escape. `plus` turns '+' into a space (query text).
std::optional<std::string> unescape(std::string_view s, bool plus) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '%') {
      if (k + 2 >= s.size() + 0 && k + 2 > s.size() - 1 + 1) return std::nullopt;
      if (k + 2 >= s.size() + 1) return std::nullopt;
      int h = unhex(s[k + 1]), l = k + 2 < s.size() ? unhex(s[k + 2]) : -1;
      if (h < 0 || l < 0) return std::nullopt;
      out += static_cast<char>(h * 16 + l);
      k += 2;
    } else if (plus && s[k] == '+') {
      out += ' ';
    } else {
      out += s[k];
    }
  }
  return out;
}

// Go's shouldEscape for a path: unreserved characters and $&+,/:;=@ stay.
bool pathKeeps(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '$' || c == '&' ||
         c == '+' || c == ',' || c == '/' || c == ':' || c == ';' || c == '=' || c == '@';
}

// EscapedPath: the path as written when it is a valid encoding of the path, else the path
// encoded.
std::string escapedPath(const Url& u) {
  bool valid = true;
  for (size_t k = 0; k < u.raw_path.size() && valid; ++k) {
    auto c = static_cast<unsigned char>(u.raw_path[k]);
    if (c == '%') continue;  // decoding succeeded, so escapes are well formed
    valid = pathKeeps(c) || c == '!' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '[' ||
            c == ']';
  }
  if (valid) return u.raw_path;
  std::string out;
  for (unsigned char c : u.path)
    out += pathKeeps(c) ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  return out;
}

std::optional<Url> parseUrl(std::string_view s, std::string& error) {
  auto fail = [&](std::string_view why) {
    error = fmt::format("parse \"{}\": {}", s, why);
    return std::nullopt;
  };
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return fail("net/url: invalid control character in URL");
  if (s.empty()) return fail("empty url");
  Url u;
  u.text = std::string(s);
  std::string_view rest = s;
  // ParseRequestURI keeps '#' in the text; url.Parse (whose parts the library returns) cuts the
  // fragment.
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  // Scheme: a letter, then letters, digits, + - . ; up to ':'.
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool scheme = true;
    for (size_t k = 0; k < colon; ++k) {
      char c = rest[k];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
        scheme = false;
    }
    if (scheme) {
      u.scheme = std::string(rest.substr(0, colon));
      for (char& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rest = rest.substr(colon + 1);
    }
  } else if (colon == 0) {
    return fail("missing protocol scheme");
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    u.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (rest.empty() || rest[0] != '/') {
    if (u.scheme.empty() || !rest.empty()) return fail("invalid URI for request");
  }
  if (!u.scheme.empty() && rest.starts_with("//")) {
    rest = rest.substr(2);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (size_t at = authority.rfind('@'); at != std::string_view::npos)
      authority = authority.substr(at + 1);  // user information: not a part the library gives
    // Host: [IPv6]:port or name:port; the port digits only.
    std::string_view hostpart = authority, port;
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string_view::npos) return fail("missing ']' in host");
      std::string_view after = authority.substr(close + 1);
      if (!after.empty() && after[0] != ':')
        return fail(fmt::format("invalid port \"{}\" after host", after));
      port = after.empty() ? std::string_view() : after.substr(1);
    } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
      port = authority.substr(c + 1);
      hostpart = authority.substr(0, c);
      for (char ch : port)
        if (ch < '0' || ch > '9')
          return fail(fmt::format("invalid port \"{}\" after host", authority.substr(c)));
    }
    for (char ch : hostpart)
      if (ch == ' ' || ch == '<' || ch == '>' || ch == '"' || ch == '{' || ch == '}' || ch == '|' ||
          ch == '\\' || ch == '^' || ch == '`')
        return fail(fmt::format("invalid character \"{}\" in host name", std::string(1, ch)));
    auto host = unescape(authority, false);
    if (!host) return fail("invalid URL escape");
    u.host = *host;
  }
  u.raw_path = std::string(rest);
  auto path = unescape(rest, false);
  if (!path) return fail("invalid URL escape");
  u.path = *path;
  return u;
}

Value makeUrl(std::string_view s) {
  std::string error;
  auto u = parseUrl(s, error);
  if (!u) return Value::error("URL parse error during conversion from string: " + error);
  return Value::opaque(std::make_shared<const Url>(std::move(*u)));
}

Value urlFn(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("url", a);
  return makeUrl(a[0].str());
}
Value isUrl(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("isURL", a);
  std::string error;
  return Value::boolean(parseUrl(a[0].str(), error).has_value());
}

Value urlPart(std::string_view fn, Args a) {
  const Url* u = opaqueAs<Url>(a[0]);
  if (!u) return noOverload(fn, a);
  if (fn == "getScheme") return Value::string(u->scheme);
  if (fn == "getHost") return Value::string(u->host);
  if (fn == "getEscapedPath") return Value::string(escapedPath(*u));
  std::string_view host = u->host, port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
  } else if (size_t c = host.rfind(':'); c != std::string_view::npos) {
    port = host.substr(c);
    host = host.substr(0, c);
  }
  if (!port.empty() && port[0] == ':') port = port.substr(1);
  if (fn == "getHostname") return stringValue(host);
  if (fn == "getPort") return stringValue(port);
  // getQuery: every key with its values in order; pairs with bad escapes or ';' are dropped.
  Map m;
  std::string_view q = u->raw_query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    size_t eq = pair.find('=');
    auto key = unescape(pair.substr(0, eq), true);
    auto val =
        unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !val) continue;
    Value k = Value::string(*key);
    bool added = false;
    for (auto& [mk, mv] : m)
      if (mk.str() == *key) {
        List l;
        for (size_t i = 0; i < mv.size(); ++i) l.push_back(mv.item(i));
        l.push_back(Value::string(*val));
        mv = Value::listOf(std::move(l));
        added = true;
      }
    if (!added) m.emplace_back(std::move(k), Value::listOf({Value::string(*val)}));
  }
  return Value::mapOf(std::move(m));
}
#define KH_URL_PART(name)            \
  Value name(CallContext&, Args a) { \
    return urlPart(#name, a);        \
  }
KH_URL_PART(getScheme)
KH_URL_PART(getHost)
KH_URL_PART(getHostname)
KH_URL_PART(getPort)
KH_URL_PART(getEscapedPath)
KH_URL_PART(getQuery)
#undef KH_URL_PART

// ---- semver (Semantic Versioning 2.0.0, strict; `normalize` accepts a v prefix, a missing minor
// or patch, and leading zeros in the three numbers)

struct Semver : Opaque {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string> pre;  // pre-release identifiers
  std::string build, text;
  std::string_view typeName() const override { return "kubernetes.Semver"; }
  bool equals(const Opaque& o) const override { return compare(o) == 0; }
  int compare(const Opaque& o) const override;
  std::string debug() const override { return "semver(\"" + text + "\")"; }
};

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int Semver::compare(const Opaque& o) const {
  const auto* v = dynamic_cast<const Semver*>(&o);
  if (!v) return 2;
  auto cmp = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (int c = cmp(major, v->major)) return c;
  if (int c = cmp(minor, v->minor)) return c;
  if (int c = cmp(patch, v->patch)) return c;
  if (pre.empty() || v->pre.empty())
    return cmp(v->pre.size(), pre.size()) * (pre.empty() && v->pre.empty() ? 0 : 1);
  for (size_t k = 0; k < std::min(pre.size(), v->pre.size()); ++k) {
    const std::string &x = pre[k], &y = v->pre[k];
    bool nx = allDigits(x), ny = allDigits(y);
    if (nx && ny) {
      if (int c = cmp(x.size(), y.size())) return c;  // no leading zeros: length orders
      if (int c = cmp(x, y)) return c;
    } else if (nx != ny) {
      return nx ? -1 : 1;
    } else if (int c = cmp(x, y)) {
      return c;
    }
  }
  return cmp(pre.size(), v->pre.size());
}

std::optional<Semver> parseSemver(std::string_view s, bool normalize, std::string& error) {
  Semver v;
  v.text = std::string(s);
  std::string_view rest = s;
  if (normalize && (rest.starts_with("v") || rest.starts_with("V"))) rest = rest.substr(1);
  size_t plus = rest.find('+');
  if (plus != std::string_view::npos) {
    v.build = std::string(rest.substr(plus + 1));
    rest = rest.substr(0, plus);
    if (v.build.empty()) {
      error = "Build meta data can not be empty";
      return std::nullopt;
    }
    size_t b = 0;
    std::string_view bs = v.build;
    while (true) {
      size_t dot = bs.find('.', b);
      std::string_view id = bs.substr(b, dot == std::string_view::npos ? dot : dot - b);
      if (id.empty() || !std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
          })) {
        error = fmt::format("Invalid character(s) found in build meta \"{}\"", id);
        return std::nullopt;
      }
      if (dot == std::string_view::npos) break;
      b = dot + 1;
    }
  }
  size_t dash = rest.find('-');
  std::string_view core = rest.substr(0, dash);
  if (dash != std::string_view::npos) {
    std::string_view pre = rest.substr(dash + 1);
    size_t b = 0;
    while (true) {
      size_t dot = pre.find('.', b);
      std::string_view id = pre.substr(b, dot == std::string_view::npos ? dot : dot - b);
      if (id.empty()) {
        error = "Prerelease is empty";
        return std::nullopt;
      }
      if (!std::all_of(id.begin(), id.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
          })) {
        error = fmt::format("Invalid character(s) found in prerelease \"{}\"", id);
        return std::nullopt;
      }
      if (allDigits(id) && id.size() > 1 && id[0] == '0') {
        error =
            fmt::format("Numeric PreRelease version must not contain leading zeroes \"{}\"", id);
        return std::nullopt;
      }
      v.pre.emplace_back(id);
      if (dot == std::string_view::npos) break;
      b = dot + 1;
    }
  }
  std::vector<std::string_view> parts;
  for (size_t b = 0;;) {
    size_t dot = core.find('.', b);
    parts.push_back(core.substr(b, dot == std::string_view::npos ? dot : dot - b));
    if (dot == std::string_view::npos) break;
    b = dot + 1;
  }
  if (normalize)
    while (parts.size() < 3) parts.push_back("0");
  if (parts.size() != 3) {
    error = "No Major.Minor.Patch elements found";
    return std::nullopt;
  }
  const char* names[] = {"Major", "Minor", "Patch"};
  uint64_t* out[] = {&v.major, &v.minor, &v.patch};
  for (int k = 0; k < 3; ++k) {
    std::string_view p = parts[static_cast<size_t>(k)];
    if (normalize)
      while (p.size() > 1 && p[0] == '0') p = p.substr(1);
    if (!allDigits(p)) {
      error = fmt::format("Invalid character(s) found in {} number \"{}\"", names[k], p);
      return std::nullopt;
    }
    if (p.size() > 1 && p[0] == '0') {
      error = fmt::format("{} number must not contain leading zeroes \"{}\"", names[k], p);
      return std::nullopt;
    }
    if (p.size() > 19) {
      error = fmt::format("Invalid {} number \"{}\"", names[k], p);
      return std::nullopt;
    }
    *out[k] = std::stoull(std::string(p));
  }
  return v;
}

Value semverFn(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString) || (a.size() == 2 && !argIs(a, 1, Kind::kBool)))
    return noOverload("semver", a);
  std::string error;
  auto v = parseSemver(a[0].str(), a.size() == 2 && a[1].b, error);
  if (!v) return Value::error("Failed to parse semver: " + error);
  return Value::opaque(std::make_shared<const Semver>(std::move(*v)));
}
Value isSemver(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString) || (a.size() == 2 && !argIs(a, 1, Kind::kBool)))
    return noOverload("isSemver", a);
  std::string error;
  return Value::boolean(parseSemver(a[0].str(), a.size() == 2 && a[1].b, error).has_value());
}
Value semverPart(std::string_view fn, Args a) {
  const Semver* v = opaqueAs<Semver>(a[0]);
  if (!v) return noOverload(fn, a);
  uint64_t n = fn == "major" ? v->major : fn == "minor" ? v->minor : v->patch;
  return Value::integer(static_cast<int64_t>(n));
}
Value semverCompare(std::string_view fn, Args a, int mode) {
  const Semver* x = opaqueAs<Semver>(a[0]);
  const Semver* y = a.size() == 2 ? opaqueAs<Semver>(a[1]) : nullptr;
  if (!x || !y) return noOverload(fn, a);
  int c = x->compare(*y);
  return mode == 0 ? Value::integer(c) : Value::boolean(c == mode);
}

// Both libraries' comparison methods under one name: quantities and versions.
Value compareTo(CallContext&, Args a) {
  if (opaqueAs<Semver>(a[0])) return semverCompare("compareTo", a, 0);
  return quantityCompare("compareTo", a, 0);
}
Value isGreaterThan(CallContext&, Args a) {
  if (opaqueAs<Semver>(a[0])) return semverCompare("isGreaterThan", a, 1);
  return quantityCompare("isGreaterThan", a, 1);
}
Value isLessThan(CallContext&, Args a) {
  if (opaqueAs<Semver>(a[0])) return semverCompare("isLessThan", a, -1);
  return quantityCompare("isLessThan", a, -1);
}

// ---- format: named string formats with apimachinery's validation messages

std::string regexError(std::string_view msg, std::string_view re,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  if (examples.size() == 0) return out + fmt::format(" (regex used for validation is '{}')", re);
  out += " (e.g. ";
  size_t k = 0;
  for (std::string_view e : examples) out += fmt::format("{}'{}', ", k++ ? " or " : "", e);
  return out + fmt::format("regex used for validation is '{}')", re);
}

constexpr const char* kLabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
constexpr const char* kSubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr const char* kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr const char* k1035Fmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr const char* k1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character";
constexpr const char* kQnameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr const char* kQnameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr const char* kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr const char* kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

bool fullMatch(std::string_view s, const char* re) {
  static std::mutex mu;
  static std::map<const char*, std::unique_ptr<RE2>> cache;
  const RE2* r;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto& slot = cache[re];
    if (!slot) slot = std::make_unique<RE2>(re);
    r = slot.get();
  }
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *r);
}

std::string maxLen(size_t n) {
  return fmt::format("must be no more than {} characters", n);
}

std::vector<std::string> dns1123Label(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > 63) errs.push_back(maxLen(63));
  if (!fullMatch(s, kLabelFmt)) {
    if (fullMatch(s, kSubdomainFmt))
      errs.push_back("must not contain dots");
    else
      errs.push_back(regexError(kLabelMsg, kLabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}
std::vector<std::string> dns1123Subdomain(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > 253) errs.push_back(maxLen(253));
  if (!fullMatch(s, kSubdomainFmt))
    errs.push_back(regexError(kSubdomainMsg, kSubdomainFmt, {"example.com"}));
  return errs;
}
std::vector<std::string> dns1035Label(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > 63) errs.push_back(maxLen(63));
  if (!fullMatch(s, k1035Fmt))
    errs.push_back(regexError(k1035Msg, k1035Fmt, {"my-name", "abc-123"}));
  return errs;
}
// A name prefix (generateName) may end in '-': checked as if that were a letter.
std::string maskTrailingDash(std::string_view s) {
  std::string out(s);
  if (out.size() > 1 && out.back() == '-') out.back() = 'a';
  return out;
}
std::vector<std::string> qualifiedName(std::string_view s) {
  std::vector<std::string> errs;
  std::vector<std::string_view> parts;
  for (size_t b = 0;;) {
    size_t slash = s.find('/', b);
    parts.push_back(s.substr(b, slash == std::string_view::npos ? slash : slash - b));
    if (slash == std::string_view::npos) break;
    b = slash + 1;
  }
  std::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    std::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty())
      errs.push_back("prefix part must be non-empty");
    else
      for (const std::string& m : dns1123Subdomain(prefix)) errs.push_back("prefix part " + m);
  } else {
    errs.push_back("a qualified name " +
                   regexError(kQnameMsg, kQnameFmt, {"MyName", "my.name", "123-abc"}) +
                   " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty())
    errs.push_back("name part must be non-empty");
  else if (name.size() > 63)
    errs.push_back("name part " + maxLen(63));
  if (!fullMatch(name, kQnameFmt))
    errs.push_back("name part " +
                   regexError(kQnameMsg, kQnameFmt, {"MyName", "my.name", "123-abc"}));
  return errs;
}
std::vector<std::string> labelValue(std::string_view s) {
  std::vector<std::string> errs;
  if (s.size() > 63) errs.push_back(maxLen(63));
  if (!fullMatch(s, kLabelValueFmt))
    errs.push_back(regexError(kLabelValueMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  return errs;
}

bool base64Valid(std::string_view s) {
  if (s.size() % 4) return false;
  for (size_t k = 0; k < s.size(); ++k) {
    char c = s[k];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    if (c == '=') ok = k >= s.size() - 2 && (k == s.size() - 1 || s[s.size() - 1] == '=');
    if (!ok) return false;
  }
  return true;
}

struct Format : Opaque {
  std::string name;
  std::vector<std::string> (*validate)(std::string_view);
  std::string_view typeName() const override { return "kubernetes.NamedFormat"; }
  bool equals(const Opaque& o) const override {
    const auto* f = dynamic_cast<const Format*>(&o);
    return f && f->name == name;
  }
  std::string debug() const override { return "format." + name + "()"; }
};

const std::vector<std::pair<std::string_view, std::vector<std::string> (*)(std::string_view)>>&
formats() {
  static const std::vector<
      std::pair<std::string_view, std::vector<std::string> (*)(std::string_view)>>
      table = {
          {"dns1123Label", dns1123Label},
          {"dns1123Subdomain", dns1123Subdomain},
          {"dns1035Label", dns1035Label},
          {"qualifiedName", qualifiedName},
          {"dns1123LabelPrefix",
           [](std::string_view s) { return dns1123Label(maskTrailingDash(s)); }},
          {"dns1123SubdomainPrefix",
           [](std::string_view s) { return dns1123Subdomain(maskTrailingDash(s)); }},
          {"dns1035LabelPrefix",
           [](std::string_view s) { return dns1035Label(maskTrailingDash(s)); }},
          {"labelValue", labelValue},
          {"uri",
           [](std::string_view s) {
             std::string error;
             if (parseUrl(s, error)) return std::vector<std::string>{};
             return std::vector<std::string>{error};
           }},
          {"uuid",
           [](std::string_view s) {
             static const char* re =
                 "(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}";
             if (fullMatch(s, re)) return std::vector<std::string>{};
             return std::vector<std::string>{"does not match the UUID format"};
           }},
          {"byte",
           [](std::string_view s) {
             if (base64Valid(s)) return std::vector<std::string>{};
             return std::vector<std::string>{"invalid base64"};
           }},
          {"date",
           [](std::string_view s) {
             if (s.size() == 10 && !parseTimestamp(std::string(s) + "T00:00:00Z").isError())
               return std::vector<std::string>{};
             return std::vector<std::string>{"invalid date"};
           }},
          {"datetime",
           [](std::string_view s) {
             if (!parseTimestamp(s).isError()) return std::vector<std::string>{};
             return std::vector<std::string>{"invalid datetime"};
           }},
      };
  return table;
}

Value namedFormat(std::string_view name) {
  for (const auto& [n, fn] : formats())
    if (n == name) {
      auto f = std::make_shared<Format>();
      f->name = std::string(n);
      f->validate = fn;
      return Value::opaque(std::move(f));
    }
  return Value::null();
}

Value formatNamed(CallContext&, Args a) {
  if (!argIs(a, 0, Kind::kString)) return noOverload("format.named", a);
  Value f = namedFormat(a[0].str());
  return f.kind == Kind::kNull ? Value::optionalNone() : Value::optionalOf(std::move(f));
}
Value formatValidate(CallContext&, Args a) {
  const Format* f = opaqueAs<Format>(a[0]);
  if (!f || !argIs(a, 1, Kind::kString)) return noOverload("validate", a);
  std::vector<std::string> errs = f->validate(a[1].str());
  if (errs.empty()) return Value::optionalNone();
  List l;
  for (std::string& e : errs) l.push_back(Value::string(std::move(e)));
  return Value::optionalOf(Value::listOf(std::move(l)));
}
#define KH_FORMAT(name)                     \
  Value format_##name(CallContext&, Args) { \
    return namedFormat(#name);              \
  }
KH_FORMAT(dns1123Label)
KH_FORMAT(dns1123Subdomain)
KH_FORMAT(dns1035Label)
KH_FORMAT(qualifiedName)
KH_FORMAT(dns1123LabelPrefix)
KH_FORMAT(dns1123SubdomainPrefix)
KH_FORMAT(dns1035LabelPrefix)
KH_FORMAT(labelValue)
KH_FORMAT(uri)
KH_FORMAT(uuid)
KH_FORMAT(byte)
KH_FORMAT(date)
KH_FORMAT(datetime)
#undef KH_FORMAT

// ---- authorizer: builders down to a check, which offline is unknown

struct Authz : Opaque {
  enum class Stage { kAuthorizer, kPath, kGroup, kResource } stage = Stage::kAuthorizer;
  std::shared_ptr<const kubernetes::Authorize> backend;
  std::string user;
  std::vector<std::string> groups;
  std::string path, group, resource, subresource, namespace_, name, field_selector, label_selector;
  std::string_view typeName() const override {
    switch (stage) {
      case Stage::kAuthorizer:
        return "kubernetes.authorization.Authorizer";
      case Stage::kPath:
        return "kubernetes.authorization.PathCheck";
      case Stage::kGroup:
        return "kubernetes.authorization.GroupCheck";
      default:
        return "kubernetes.authorization.ResourceCheck";
    }
  }
  bool equals(const Opaque& o) const override { return &o == this; }
  std::string debug() const override { return std::string(typeName()); }
  std::string describe(std::string_view verb) const {
    std::string who = user.empty() ? std::string("the requesting user") : "user " + user;
    if (stage == Stage::kPath) return fmt::format("may {} {} {}", who, verb, path);
    std::string what = resource.empty() ? "*" : resource;
    if (!subresource.empty()) what += "/" + subresource;
    if (!group.empty()) what = group + "/" + what;
    if (!name.empty()) what += " " + name;
    if (!namespace_.empty()) what += " in namespace " + namespace_;
    return fmt::format("may {} {} {}", who, verb, what);
  }
};

Value authzStep(std::string_view fn, Args a, Authz::Stage from, Authz::Stage to,
                std::string Authz::*field) {
  const Authz* x = opaqueAs<Authz>(a[0]);
  if (!x || x->stage != from || !argIs(a, 1, Kind::kString)) return noOverload(fn, a);
  auto out = std::make_shared<Authz>(*x);
  out->stage = to;
  (*out).*field = std::string(a[1].str());
  return Value::opaque(std::move(out));
}

Value authzField(std::string_view fn, Args a, std::string Authz::*field) {
  const Authz* x = opaqueAs<Authz>(a[0]);
  if (!x || x->stage != Authz::Stage::kResource || !argIs(a, 1, Kind::kString))
    return noOverload(fn, a);
  auto out = std::make_shared<Authz>(*x);
  (*out).*field = std::string(a[1].str());
  return Value::opaque(std::move(out));
}

struct AuthzDecision;
Value decisionValue(bool allowed, std::string reason);

Value authzCheck(CallContext&, Args a) {
  const Authz* x = opaqueAs<Authz>(a[0]);
  if (!x || x->stage == Authz::Stage::kAuthorizer || x->stage == Authz::Stage::kGroup ||
      !argIs(a, 1, Kind::kString))
    return noOverload("check", a);
  // With the input's RBAC objects and a known user, the RBAC authorizer decides.
  if (x->backend && !x->user.empty()) {
    kubernetes::AuthorizationRequest req;
    req.user = x->user;
    req.groups = x->groups;
    req.verb = std::string(a[1].str());
    req.non_resource = x->stage == Authz::Stage::kPath;
    req.path = x->path;
    req.group = x->group;
    req.resource = x->resource;
    req.subresource = x->subresource;
    req.namespace_ = x->namespace_;
    req.name = x->name;
    if (auto d = (*x->backend)(req)) return decisionValue(d->allowed, std::move(d->reason));
  }
  return Value::unknown("authorizer check (" + x->describe(a[1].str()) +
                        ") needs the cluster's authorization, not decided offline");
}

// A decision (kubernetes.authorization.Decision): what a check answers when it can be decided.
struct AuthzDecision : Opaque {
  bool allowed = false;
  std::string reason, error;
  std::string_view typeName() const override { return "kubernetes.authorization.Decision"; }
  bool equals(const Opaque& o) const override { return &o == this; }
  std::string debug() const override { return allowed ? "Decision(allowed)" : "Decision(denied)"; }
};

Value decisionValue(bool allowed, std::string reason) {
  auto d = std::make_shared<AuthzDecision>();
  d->allowed = allowed;
  d->reason = std::move(reason);
  return Value::opaque(std::move(d));
}

Value decisionPart(std::string_view fn, Args a) {
  const AuthzDecision* d = opaqueAs<AuthzDecision>(a[0]);
  if (!d) return noOverload(fn, a);
  if (fn == "allowed") return Value::boolean(d->allowed);
  if (fn == "reason") return Value::string(d->reason);
  if (fn == "errored") return Value::boolean(!d->error.empty());
  return Value::string(d->error);
}

Value authzServiceAccount(CallContext&, Args a) {
  const Authz* x = opaqueAs<Authz>(a[0]);
  if (!x || x->stage != Authz::Stage::kAuthorizer || !argIs(a, 1, Kind::kString) ||
      !argIs(a, 2, Kind::kString))
    return noOverload("serviceAccount", a);
  auto out = std::make_shared<Authz>(*x);
  out->user = fmt::format("system:serviceaccount:{}:{}", a[1].str(), a[2].str());
  out->groups = {"system:serviceaccounts", "system:serviceaccounts:" + std::string(a[1].str()),
                 "system:authenticated"};
  return Value::opaque(std::move(out));
}

}  // namespace

namespace kubernetes {

Value authorizer(std::string user, std::vector<std::string> groups,
                 std::shared_ptr<const Authorize> backend) {
  auto a = std::make_shared<Authz>();
  a->backend = std::move(backend);
  a->user = std::move(user);
  a->groups = std::move(groups);
  return Value::opaque(std::move(a));
}

Value requestResourceCheck(std::string user, std::vector<std::string> groups, std::string group,
                           std::string resource, std::string subresource, std::string namespace_,
                           std::string name, std::shared_ptr<const Authorize> backend) {
  auto a = std::make_shared<Authz>();
  a->backend = std::move(backend);
  a->stage = Authz::Stage::kResource;
  a->user = std::move(user);
  a->groups = std::move(groups);
  a->group = std::move(group);
  a->resource = std::move(resource);
  a->subresource = std::move(subresource);
  a->namespace_ = std::move(namespace_);
  a->name = std::move(name);
  return Value::opaque(std::move(a));
}

}  // namespace kubernetes

std::vector<FunctionDecl> kubernetesFunctions() {
  constexpr int kAuthz = 27, kAuthzSelectors = 31;
  using Stage = Authz::Stage;
  constexpr int kQuantity = 28, kSets = 29, kIp = 30, kFormat = 31, kSemver = 33;
  return {
      {"isSorted", true, isSorted, 1},
      {"sum", true, sum, 1},
      {"min", true, listMin, 1},
      {"max", true, listMax, 1},
      {"indexOf", true, listIndexOf, 2},
      {"lastIndexOf", true, listLastIndexOf, 2},
      {"find", true, find, 2, 0, prepareRegexArg1},
      {"findAll", true, findAll, -1, 0, prepareRegexArg1},
      {"sets.contains", false, setsContains, 2, kSets},
      {"sets.equivalent", false, setsEquivalent, 2, kSets},
      {"sets.intersects", false, setsIntersects, 2, kSets},
      {"quantity", false, toQuantity, 1, kQuantity},
      {"isQuantity", false, isQuantity, 1, kQuantity},
      {"sign", true, quantitySign, 1, kQuantity},
      {"isInteger", true, quantityIsInteger, 1, kQuantity},
      {"asInteger", true, quantityAsInteger, 1, kQuantity},
      {"asApproximateFloat", true, quantityAsFloat, 1, kQuantity},
      {"compareTo", true, compareTo, 2, kQuantity},
      {"isGreaterThan", true, isGreaterThan, 2, kQuantity},
      {"isLessThan", true, isLessThan, 2, kQuantity},
      {"add", true, [](CallContext&, Args a) { return quantityArith("add", a, 1); }, 2, kQuantity},
      {"sub", true, [](CallContext&, Args a) { return quantityArith("sub", a, -1); }, 2, kQuantity},
      {"ip", false, ipFn, 1, kIp},
      {"isIP", false, isIp, 1, kIp},
      {"ip.isCanonical", false, ipIsCanonical, 1, kIp},
      {"family", true, family, 1, kIp},
      {"isUnspecified", true, isUnspecified, 1, kIp},
      {"isLoopback", true, isLoopback, 1, kIp},
      {"isLinkLocalMulticast", true, isLinkLocalMulticast, 1, kIp},
      {"isLinkLocalUnicast", true, isLinkLocalUnicast, 1, kIp},
      {"isGlobalUnicast", true, isGlobalUnicast, 1, kIp},
      {"cidr", false, cidrFn, 1, kIp},
      {"isCIDR", false, isCidr, 1, kIp},
      {"containsIP", true, cidrContainsIp, 2, kIp},
      {"containsCIDR", true, cidrContainsCidr, 2, kIp},
      {"ip", true, cidrIp, 1, kIp},
      {"masked", true, cidrMasked, 1, kIp},
      {"prefixLength", true, cidrPrefixLength, 1, kIp},
      {"string", false, netToString, 1, kIp},
      {"path", true,
       [](CallContext&, Args a) {
         return authzStep("path", a, Stage::kAuthorizer, Stage::kPath, &Authz::path);
       },
       2, kAuthz},
      {"group", true,
       [](CallContext&, Args a) {
         return authzStep("group", a, Stage::kAuthorizer, Stage::kGroup, &Authz::group);
       },
       2, kAuthz},
      {"resource", true,
       [](CallContext&, Args a) {
         return authzStep("resource", a, Stage::kGroup, Stage::kResource, &Authz::resource);
       },
       2, kAuthz},
      {"subresource", true,
       [](CallContext&, Args a) { return authzField("subresource", a, &Authz::subresource); }, 2,
       kAuthz},
      {"namespace", true,
       [](CallContext&, Args a) { return authzField("namespace", a, &Authz::namespace_); }, 2,
       kAuthz},
      {"name", true, [](CallContext&, Args a) { return authzField("name", a, &Authz::name); }, 2,
       kAuthz},
      {"fieldSelector", true,
       [](CallContext&, Args a) { return authzField("fieldSelector", a, &Authz::field_selector); },
       2, kAuthzSelectors},
      {"labelSelector", true,
       [](CallContext&, Args a) { return authzField("labelSelector", a, &Authz::label_selector); },
       2, kAuthzSelectors},
      {"check", true, authzCheck, 2, kAuthz},
      {"allowed", true, [](CallContext&, Args a) { return decisionPart("allowed", a); }, 1, kAuthz},
      {"reason", true, [](CallContext&, Args a) { return decisionPart("reason", a); }, 1, kAuthz},
      {"errored", true, [](CallContext&, Args a) { return decisionPart("errored", a); }, 1, kAuthz},
      {"error", true, [](CallContext&, Args a) { return decisionPart("error", a); }, 1, kAuthz},
      {"serviceAccount", true, authzServiceAccount, 3, kAuthz},
      {"url", false, urlFn, 1},
      {"isURL", false, isUrl, 1},
      {"getScheme", true, getScheme, 1},
      {"getHost", true, getHost, 1},
      {"getHostname", true, getHostname, 1},
      {"getPort", true, getPort, 1},
      {"getEscapedPath", true, getEscapedPath, 1},
      {"getQuery", true, getQuery, 1},
      {"semver", false, semverFn, -1, kSemver},
      {"isSemver", false, isSemver, -1, kSemver},
      {"major", true, [](CallContext&, Args a) { return semverPart("major", a); }, 1, kSemver},
      {"minor", true, [](CallContext&, Args a) { return semverPart("minor", a); }, 1, kSemver},
      {"patch", true, [](CallContext&, Args a) { return semverPart("patch", a); }, 1, kSemver},
      {"format.named", false, formatNamed, 1, kFormat},
      {"validate", true, formatValidate, 2, kFormat},
      {"format.dns1123Label", false, format_dns1123Label, 0, kFormat},
      {"format.dns1123Subdomain", false, format_dns1123Subdomain, 0, kFormat},
      {"format.dns1035Label", false, format_dns1035Label, 0, kFormat},
      {"format.qualifiedName", false, format_qualifiedName, 0, kFormat},
      {"format.dns1123LabelPrefix", false, format_dns1123LabelPrefix, 0, kFormat},
      {"format.dns1123SubdomainPrefix", false, format_dns1123SubdomainPrefix, 0, kFormat},
      {"format.dns1035LabelPrefix", false, format_dns1035LabelPrefix, 0, kFormat},
      {"format.labelValue", false, format_labelValue, 0, kFormat},
      {"format.uri", false, format_uri, 0, kFormat},
      {"format.uuid", false, format_uuid, 0, kFormat},
      {"format.byte", false, format_byte, 0, kFormat},
      {"format.date", false, format_date, 0, kFormat},
      {"format.datetime", false, format_datetime, 0, kFormat},
  };
}

}  // namespace kh::cel
