#include "vuln/scan.h"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "vuln/match.h"

namespace kh::vuln {

namespace {

std::string major(std::string_view v) {
  return std::string(v.substr(0, v.find('.')));
}

std::string majorMinor(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos) return std::string(v);
  size_t dot2 = v.find('.', dot + 1);
  return std::string(v.substr(0, dot2));
}

}  // namespace

std::optional<PackageKey> osvKey(const image::Package& p, const std::optional<image::OsInfo>& os) {
  std::string id = os ? os->id : std::string(), ver = os ? os->version_id : std::string();
  if (p.type == "deb") {
    if (ver.empty()) return std::nullopt;
    if (id == "debian") return PackageKey{"Debian:" + major(ver), p.source_name, p.source_version};
    if (id == "ubuntu") return PackageKey{"Ubuntu:" + ver, p.source_name, p.source_version};
    return std::nullopt;
  }
  if (p.type == "apk") {
    if (id != "alpine" || ver.empty()) return std::nullopt;
    return PackageKey{"Alpine:v" + majorMinor(ver), p.source_name.empty() ? p.name : p.source_name,
                      p.version};
  }
  if (p.type == "rpm") {
    std::string eco;
    if (id == "almalinux") eco = "AlmaLinux:" + major(ver);
    if (id == "rocky") eco = "Rocky Linux:" + major(ver);
    if (eco.empty() || ver.empty()) return std::nullopt;
    std::string v = p.epoch.empty() || p.epoch == "0" ? p.version : p.epoch + ":" + p.version;
    return PackageKey{eco, p.name, v};
  }
  static const std::pair<std::string_view, std::string_view> kLang[] = {
      {"npm", "npm"},         {"pypi", "PyPI"},    {"maven", "Maven"},       {"golang", "Go"},
      {"cargo", "crates.io"}, {"gem", "RubyGems"}, {"composer", "Packagist"}};
  for (const auto& [type, eco] : kLang)
    if (p.type == type) return PackageKey{std::string(eco), p.name, p.version};
  return std::nullopt;
}

namespace {

// What one advisory entry says about one installed version (shared by every binary package of
// the same source package and version).
struct Hit {
  std::string id, summary, fixed, severity, cvss;
  std::string severity_from;  // the advisory a borrowed rating came from
  std::vector<std::string> aliases;
  double score = -1;
};

int severityRank(std::string_view s) {
  return s == "critical" ? 4 : s == "high" ? 3 : s == "medium" ? 2 : s == "low" ? 1 : 0;
}

// Which of two IDs for the same vulnerability names it: the ecosystem's own database (PYSEC,
// GO, RUSTSEC, DSA, ALSA, ...) before GitHub's GHSA, before a bare CVE; then the smaller.
bool preferredId(const std::string& a, const std::string& b) {
  auto rank = [](const std::string& id) {
    return id.starts_with("CVE-") ? 2 : id.starts_with("GHSA-") ? 1 : 0;
  };
  return std::make_pair(rank(a), a) < std::make_pair(rank(b), b);
}

// One finding per vulnerability: advisories of one package that name each other, or share an
// alias (PYSEC-2023-74 and GHSA-j8r2-6x86-q33q, both CVE-2023-32681), are one vulnerability
// described by several databases. The merged finding keeps the preferred ID, every other ID as
// an alias, the most severe known rating (with its CVSS vector), and the highest fixed version
// any of them gives (upgrading to it satisfies every database that knows a fix).
std::vector<Hit> mergeAliases(std::vector<Hit> hits, const std::string& ecosystem) {
  if (hits.size() < 2) return hits;
  std::vector<size_t> parent(hits.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  std::function<size_t(size_t)> root = [&](size_t i) {
    return parent[i] == i ? i : parent[i] = root(parent[i]);
  };
  std::map<std::string, size_t> owner;
  for (size_t i = 0; i < hits.size(); ++i) {
    std::vector<const std::string*> names{&hits[i].id};
    for (const std::string& a : hits[i].aliases) names.push_back(&a);
    for (const std::string* n : names) {
      auto [it, fresh] = owner.try_emplace(*n, i);
      if (!fresh) parent[root(i)] = root(it->second);
    }
  }
  std::map<size_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < hits.size(); ++i) groups[root(i)].push_back(i);
  if (groups.size() == hits.size()) return hits;
  VersionCmp cmp = comparatorFor(ecosystem);
  std::vector<Hit> out;
  for (auto& [r, members] : groups) {
    Hit m = hits[members[0]];
    std::set<std::string> names;
    for (size_t i : members) {
      const Hit& h = hits[i];
      names.insert(h.id);
      names.insert(h.aliases.begin(), h.aliases.end());
      if (preferredId(h.id, m.id)) {
        m.id = h.id;
        if (!h.summary.empty()) m.summary = h.summary;
      }
      if (m.summary.empty()) m.summary = h.summary;
      if (h.score > m.score ||
          (m.score < 0 && severityRank(h.severity) > severityRank(m.severity))) {
        m.severity = h.severity;
        m.cvss = h.cvss;
        m.score = h.score;
      }
      if (!h.fixed.empty() && (m.fixed.empty() || (cmp && cmp(h.fixed, m.fixed) > 0)))
        m.fixed = h.fixed;
    }
    names.erase(m.id);
    m.aliases.assign(names.begin(), names.end());
    out.push_back(std::move(m));
  }
  return out;
}

// The highest CVSS v3 base score in an OSV severity array: (score, vector), or score -1.
std::pair<double, std::string> bestCvss(const std::string& severity_json) {
  std::pair<double, std::string> best{-1, ""};
  if (severity_json.empty()) return best;
  rapidjson::Document sev;
  sev.Parse(severity_json.c_str());
  if (sev.HasParseError() || !sev.IsArray()) return best;
  for (const auto& s : sev.GetArray()) {
    if (!s.IsObject() || !s.HasMember("score") || !s["score"].IsString()) continue;
    std::string vector = s["score"].GetString();
    if (auto score = cvss3BaseScore(vector); score && *score > best.first) best = {*score, vector};
  }
  return best;
}

// A finding that no database of its own rated (Alpine's secdb, the Debian tracker's "not yet
// assigned", a PYSEC record without a GHSA twin) takes the highest CVSS v3 rating of any other
// stored advisory known by one of its names (a GHSA or Ubuntu record of the same CVE), and says
// which. A rating word of its own is never overridden.
void borrowSeverity(const VulnDb& db, Hit& h) {
  if (h.severity != "unknown") return;
  std::vector<const std::string*> names{&h.id};
  for (const std::string& a : h.aliases) names.push_back(&a);
  for (const std::string* n : names)
    for (const auto& [advisory, severity_json] : db.severitiesByName(*n)) {
      auto [score, vector] = bestCvss(severity_json);
      if (score > h.score) {
        h.score = score;
        h.cvss = vector;
        h.severity = std::string(cvss3Rating(score));
        h.severity_from = advisory;
      }
    }
}

std::vector<Hit> evaluate(const VulnDb& db, const PackageKey& key) {
  std::vector<Hit> out;
  std::set<std::string> seen;
  for (const AffectedEntry& e : db.affected(key.ecosystem, key.name)) {
    RangeVerdict v = affects(e.ranges_json, key.ecosystem, key.version);
    if (!v.affected || !seen.insert(e.advisory).second) continue;
    // The advisory's own fields, only for the entries that affect the package.
    std::optional<Advisory> a = db.advisory(e.advisory);
    if (!a || !a->withdrawn.empty()) continue;
    Hit h;
    h.id = e.advisory;
    h.summary = a->summary;
    h.fixed = v.fixed;
    h.aliases = a->aliases;
    // Severity: a CVSS v3 vector, else the entry's or the database's own word, else the
    // summary's prefix (AlmaLinux: "Important: ..."), else unknown.
    if (auto [score, vector] = bestCvss(a->severity_json); score >= 0) {
      h.score = score;
      h.cvss = vector;
      h.severity = std::string(cvss3Rating(score));
    }
    if (h.severity.empty()) h.severity = v.severity;
    if (h.severity.empty()) {
      size_t colon = a->summary.find(':');
      if (colon != std::string::npos && colon < 12)
        h.severity = severityFromWord(a->summary.substr(0, colon));
    }
    if (h.severity.empty()) h.severity = "unknown";
    out.push_back(std::move(h));
  }
  std::vector<Hit> merged = mergeAliases(std::move(out), key.ecosystem);
  for (Hit& h : merged) borrowSeverity(db, h);
  return merged;
}

}  // namespace

std::vector<Vulnerability> findVulnerabilities(const VulnDb& db, const image::Inventory& inv) {
  VulnDb::ReadScope read(db);
  std::vector<Vulnerability> out;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<Hit>> cache;
  for (const image::Package& p : inv.packages) {
    auto key = osvKey(p, inv.os);
    if (!key || !comparatorFor(key->ecosystem)) continue;
    auto [it, fresh] = cache.try_emplace(
        {key->ecosystem, normalisePackageName(key->ecosystem, key->name), key->version});
    if (fresh) it->second = evaluate(db, *key);
    for (const Hit& h : it->second) {
      Vulnerability v;
      v.id = h.id;
      v.aliases = h.aliases;
      v.summary = h.summary;
      v.package = &p;
      v.ecosystem = key->ecosystem;
      v.fixed = h.fixed;
      v.severity = h.severity;
      v.cvss = h.cvss;
      v.score = h.score;
      v.severity_from = h.severity_from;
      out.push_back(std::move(v));
    }
  }
  std::sort(out.begin(), out.end(), [](const Vulnerability& a, const Vulnerability& b) {
    return std::tie(a.package->type, a.package->name, a.package->version, a.id) <
           std::tie(b.package->type, b.package->name, b.package->version, b.id);
  });
  return out;
}

}  // namespace kh::vuln
