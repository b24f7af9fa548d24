#include "vuln/match.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "base/json_util.h"
#include "base/strings.h"
#include "vuln/version.h"

namespace kh::vuln {

namespace {

bool startsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

VersionCmp comparatorFor(std::string_view eco) {
  std::string_view base = eco.substr(0, eco.find(':'));
  if (base == "Debian" || base == "Ubuntu") return compareDebian;
  if (base == "Alpine" || base == "Wolfi" || base == "Chainguard") return compareApk;
  if (base == "AlmaLinux" || base == "Rocky Linux" || base == "Red Hat" || base == "SUSE" ||
      base == "openSUSE" || base == "Mageia" || base == "openEuler")
    return compareRpm;
  if (base == "PyPI") return comparePep440;
  if (base == "npm" || base == "crates.io" || base == "NuGet" || base == "Hex" || base == "Pub")
    return compareSemver;
  if (base == "Go") return compareGo;
  if (base == "RubyGems") return compareGem;
  if (base == "Maven") return compareMaven;
  if (base == "Packagist") return compareComposer;
  return nullptr;
}

std::string normalisePackageName(std::string_view eco, std::string_view name) {
  if (eco != "PyPI") return std::string(name);
  std::string out;
  for (char c : name) {
    bool sep = c == '-' || c == '_' || c == '.';
    if (sep) {
      if (!out.empty() && out.back() != '-') out += '-';
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string severityFromWord(std::string_view s) {
  std::string l = toLower(s);
  if (l == "critical") return "critical";
  if (l == "high" || l == "important") return "high";
  if (l == "medium" || l == "moderate") return "medium";
  if (l == "low" || l == "negligible" || l == "unimportant") return "low";
  return {};
}

RangeVerdict affects(std::string_view ranges_json, std::string_view eco, std::string_view version) {
  RangeVerdict out;
  rapidjson::Document d;
  d.Parse(ranges_json.data(), ranges_json.size());
  if (d.HasParseError() || !d.IsObject()) return out;
  for (const char* k : {"ecosystem_specific", "database_specific"})
    if (auto m = d.FindMember(k); out.severity.empty() && m != d.MemberEnd() && m->value.IsObject())
      out.severity = severityFromWord(jsonString(m->value, "severity"));
  VersionCmp eco_cmp = comparatorFor(eco);
  // Explicit versions: an exact match (the ecosystem's equality when it has an order).
  if (auto v = d.FindMember("versions"); v != d.MemberEnd() && v->value.IsArray()) {
    for (const auto& x : v->value.GetArray()) {
      if (!x.IsString()) continue;
      std::string_view s(x.GetString(), x.GetStringLength());
      if (s == version || (eco_cmp && eco_cmp(s, version) == 0)) out.affected = true;
    }
  }
  auto ranges = d.FindMember("ranges");
  if (ranges == d.MemberEnd() || !ranges->value.IsArray()) return out;
  for (const auto& range : ranges->value.GetArray()) {
    std::string_view type = jsonString(range, "type");
    VersionCmp cmp = type == "SEMVER"      ? (startsWith(eco, "Go") ? compareGo : compareSemver)
                     : type == "ECOSYSTEM" ? eco_cmp
                                           : nullptr;
    if (!cmp) continue;
    auto events = range.FindMember("events");
    if (events == range.MemberEnd() || !events->value.IsArray()) continue;
    struct Event {
      int kind;  // 0 introduced, 1 fixed, 2 last_affected, 3 limit
      std::string_view v;
    };
    std::vector<Event> ev;
    for (const auto& e : events->value.GetArray()) {
      static constexpr const char* kKinds[] = {"introduced", "fixed", "last_affected", "limit"};
      for (int k = 0; k < 4; ++k)
        if (auto s = jsonString(e, kKinds[k]); !s.empty()) ev.push_back({k, s});
    }
    // In version order; "introduced: 0" is before everything.
    auto zero = [](const Event& e) { return e.kind == 0 && e.v == "0"; };
    std::stable_sort(ev.begin(), ev.end(), [&](const Event& a, const Event& b) {
      if (zero(a) || zero(b)) return zero(a) && !zero(b);
      return cmp(a.v, b.v) < 0;
    });
    bool affected = false;
    std::string_view fixed;
    for (const Event& e : ev) {
      if (e.kind == 0 && (zero(e) || cmp(version, e.v) >= 0)) affected = true;
      if (e.kind == 1 && cmp(version, e.v) >= 0) affected = false;
      if (e.kind == 2 && cmp(version, e.v) > 0) affected = false;
      if (e.kind == 3 && cmp(version, e.v) >= 0) affected = false;
    }
    if (affected) {
      // The fix for the installed version: the first fixed event above it.
      for (const Event& e : ev)
        if (e.kind == 1 && cmp(e.v, version) > 0) {
          fixed = e.v;
          break;
        }
      out.affected = true;
      if (!fixed.empty() && (out.fixed.empty() || cmp(fixed, out.fixed) < 0)) out.fixed = fixed;
    }
  }
  return out;
}

std::optional<double> cvss3BaseScore(std::string_view vector) {
  if (!startsWith(vector, "CVSS:3.0/") && !startsWith(vector, "CVSS:3.1/")) return std::nullopt;
  std::map<std::string_view, std::string_view> m;
  std::string_view rest = vector.substr(9);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    m[part.substr(0, colon)] = part.substr(colon + 1);
  }
  auto pick =
      [&](std::string_view key,
          std::initializer_list<std::pair<std::string_view, double>> v) -> std::optional<double> {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    for (const auto& [k, val] : v)
      if (it->second == k) return val;
    return std::nullopt;
  };
  bool changed = m.count("S") && m["S"] == "C";
  if (!m.count("S") || (m["S"] != "C" && m["S"] != "U")) return std::nullopt;
  auto av = pick("AV", {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}});
  auto ac = pick("AC", {{"L", 0.77}, {"H", 0.44}});
  auto pr = changed ? pick("PR", {{"N", 0.85}, {"L", 0.68}, {"H", 0.5}})
                    : pick("PR", {{"N", 0.85}, {"L", 0.62}, {"H", 0.27}});
  auto ui = pick("UI", {{"N", 0.85}, {"R", 0.62}});
  auto c = pick("C", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  auto i = pick("I", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  auto a = pick("A", {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  if (!av || !ac || !pr || !ui || !c || !i || !a) return std::nullopt;
  // Round up to one decimal, as the CVSS v3.1 specification defines it (Appendix A).
  auto roundup = [](double x) {
    long n = std::lround(x * 100000);
    return n % 10000 == 0 ? n / 100000.0 : (std::floor(n / 10000.0) + 1) / 10.0;
  };
  double iss = 1 - (1 - *c) * (1 - *i) * (1 - *a);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * *av * *ac * *pr * *ui;
  if (impact <= 0) return 0.0;
  double base = changed ? roundup(std::min(1.08 * (impact + exploitability), 10.0))
                        : roundup(std::min(impact + exploitability, 10.0));
  return base;
}

std::string_view cvss3Rating(double s) {
  if (s == 0) return "none";
  if (s < 4.0) return "low";
  if (s < 7.0) return "medium";
  if (s < 9.0) return "high";
  return "critical";
}

}  // namespace kh::vuln
