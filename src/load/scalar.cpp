#include "load/scalar.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace kh {
namespace {

struct Special {
  std::string_view text;
  NodeType type;
  bool b;
  double f;
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// go-yaml v2's resolve table for YAML 1.1.
constexpr Special kSpecials[] = {
    {"~", NodeType::kNull, false, 0},          {"null", NodeType::kNull, false, 0},
    {"Null", NodeType::kNull, false, 0},       {"NULL", NodeType::kNull, false, 0},
    {"y", NodeType::kBool, true, 0},           {"Y", NodeType::kBool, true, 0},
    {"yes", NodeType::kBool, true, 0},         {"Yes", NodeType::kBool, true, 0},
    {"YES", NodeType::kBool, true, 0},         {"true", NodeType::kBool, true, 0},
    {"True", NodeType::kBool, true, 0},        {"TRUE", NodeType::kBool, true, 0},
    {"on", NodeType::kBool, true, 0},          {"On", NodeType::kBool, true, 0},
    {"ON", NodeType::kBool, true, 0},          {"n", NodeType::kBool, false, 0},
    {"N", NodeType::kBool, false, 0},          {"no", NodeType::kBool, false, 0},
    {"No", NodeType::kBool, false, 0},         {"NO", NodeType::kBool, false, 0},
    {"false", NodeType::kBool, false, 0},      {"False", NodeType::kBool, false, 0},
    {"FALSE", NodeType::kBool, false, 0},      {"off", NodeType::kBool, false, 0},
    {"Off", NodeType::kBool, false, 0},        {"OFF", NodeType::kBool, false, 0},
    {".nan", NodeType::kFloat, false, kNan},   {".NaN", NodeType::kFloat, false, kNan},
    {".NAN", NodeType::kFloat, false, kNan},   {".inf", NodeType::kFloat, false, kInf},
    {".Inf", NodeType::kFloat, false, kInf},   {".INF", NodeType::kFloat, false, kInf},
    {"+.inf", NodeType::kFloat, false, kInf},  {"+.Inf", NodeType::kFloat, false, kInf},
    {"+.INF", NodeType::kFloat, false, kInf},  {"-.inf", NodeType::kFloat, false, -kInf},
    {"-.Inf", NodeType::kFloat, false, -kInf}, {"-.INF", NodeType::kFloat, false, -kInf},
};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

int digitValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Go's strconv.ParseUint(s, base, 64) magnitude part: all digits valid, at least one, no overflow.
bool parseMagnitude(std::string_view s, int base, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = digitValue(c);
    if (d >= base) return false;
    if (v > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                static_cast<uint64_t>(base))
      return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

// Go's strconv.ParseInt(s, 0, 64)/ParseUint fallback: sign, 0x/0o/0b prefixes, leading-0 octal.
// Returns 0 = not an integer, 1 = int64 in `i`, 2 = uint64 above int64 range in `u`.
int parseGoInt(std::string_view s, int64_t& i, uint64_t& u) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  uint64_t mag = 0;
  if (!parseMagnitude(s, base, mag)) return 0;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (neg) {
    if (mag > kMax + 1) return 0;
    i = mag == kMax + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag);
    return 1;
  }
  if (mag <= kMax) {
    i = static_cast<int64_t>(mag);
    return 1;
  }
  u = mag;
  return 2;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$  (go-yaml v2's yamlStyleFloat)
bool isYamlStyleFloat(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    size_t d = i;
    while (i < n && isDigit(s[i])) ++i;
    if (i == d) return false;
  } else {
    size_t d = i;
    while (i < n && isDigit(s[i])) ++i;
    if (i == d) return false;
    if (i < n && s[i] == '.') {
      ++i;
      while (i < n && isDigit(s[i])) ++i;
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t d = i;
    while (i < n && isDigit(s[i])) ++i;
    if (i == d) return false;
  }
  return i == n;
}

bool parseFloat(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

}  // namespace

void resolvePlainScalar(std::string_view in, Node& out) {
  out.text = in;
  out.type = NodeType::kString;
  if (in.empty()) {
    out.type = NodeType::kNull;
    return;
  }
  char c = in[0];
  char hint = 0;
  if (isDigit(c))
    hint = 'D';
  else if (c == '+' || c == '-')
    hint = 'S';
  else if (c == '.')
    hint = '.';
  else if (std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos)
    hint = 'M';
  if (hint == 0) return;

  for (const Special& s : kSpecials) {
    if (s.text == in) {
      out.type = s.type;
      out.bool_value = s.b;
      if (s.type == NodeType::kFloat) out.float_value = s.f;
      return;
    }
  }
  if (hint == '.') {
    double f = 0;
    if (isYamlStyleFloat(in) && parseFloat(in, f)) {
      out.type = NodeType::kFloat;
      out.float_value = f;
    }
    return;
  }
  if (hint == 'M') return;

  std::string plain;
  plain.reserve(in.size());
  for (char ch : in)
    if (ch != '_') plain.push_back(ch);
  int64_t i = 0;
  uint64_t u = 0;
  switch (parseGoInt(plain, i, u)) {
    case 1:
      out.type = NodeType::kInt;
      out.int_value = i;
      return;
    case 2:
      out.type = NodeType::kFloat;  // beyond int64: JSON carries it as a number; keep magnitude
      out.float_value = static_cast<double>(u);
      return;
    default:
      break;
  }
  double f = 0;
  if (isYamlStyleFloat(plain) && parseFloat(plain, f)) {
    out.type = NodeType::kFloat;
    out.float_value = f;
  }
}

std::string keyString(const Node& key) {
  switch (key.type) {
    case NodeType::kNull:
      return "null";
    case NodeType::kBool:
      return key.bool_value ? "true" : "false";
    case NodeType::kInt:
      return fmt::format("{}", key.int_value);
    case NodeType::kFloat:
      return fmt::format("{}", key.float_value);
    default:
      return std::string(key.text);
  }
}

}  // namespace kh
