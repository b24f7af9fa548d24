#include "model/quantity.h"

#include <charconv>
#include <cmath>
#include <string>

namespace kh {

std::optional<double> parseQuantity(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // The numeric part: optional sign, digits, optional fraction (no exponent: 'e' is a suffix).
  size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  double number = 0;
  std::string num(s.substr(0, i));
  try {
    number = std::stod(num);
  } catch (...) {
    return std::nullopt;
  }
  std::string_view suffix = s.substr(i);
  struct Suffix {
    std::string_view text;
    double factor;
  };
  static constexpr Suffix kSuffixes[] = {
      {"", 1},
      {"n", 1e-9},
      {"u", 1e-6},
      {"m", 1e-3},
      {"k", 1e3},
      {"M", 1e6},
      {"G", 1e9},
      {"T", 1e12},
      {"P", 1e15},
      {"E", 1e18},
      {"Ki", 1024.0},
      {"Mi", 1048576.0},
      {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0},
      {"Ei", 1152921504606846976.0},
  };
  for (const Suffix& x : kSuffixes)
    if (suffix == x.text) return number * x.factor;
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int exp = 0;
    std::string_view e = suffix.substr(1);
    if (e.starts_with('+')) e.remove_prefix(1);
    auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), exp);
    if (ec == std::errc() && p == e.data() + e.size()) return number * std::pow(10.0, exp);
  }
  return std::nullopt;
}

}  // namespace kh
