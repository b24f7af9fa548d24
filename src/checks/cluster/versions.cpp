#include "checks/cluster/versions.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "base/arena.h"
#include "base/strings.h"
#include "checks/scan_index.h"
#include "load/yaml_reader.h"

namespace kh {
extern const char* const kKubernetesVersionsJson;  // generated from data/kubernetes-versions.json
}

namespace kh::k8sver {
namespace {

bool readInt(std::string_view& s, int& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  if (ec != std::errc() || p == s.data() || out < 0) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}

}  // namespace

std::string Version::minorText() const {
  return fmt::format("{}.{}", major, minor);
}

std::optional<Version> parseVersion(std::string_view s) {
  Version v;
  v.text = std::string(s);
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  if (!readInt(s, v.major) || s.empty() || s[0] != '.') return std::nullopt;
  s.remove_prefix(1);
  if (!readInt(s, v.minor)) return std::nullopt;
  // kubectl and /version report major.minor.patch; a bare minor ("1.30") has patch 0.
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (!readInt(s, v.patch)) return std::nullopt;
  }
  // What follows is a pre-release or a provider's build: -eks-..., +k3s1, -gke.1.
  if (!s.empty() && s[0] != '-' && s[0] != '+') return std::nullopt;
  return v;
}

std::optional<Date> parseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !isValidDate(s)) return std::nullopt;
  int y = 0, m = 0, d = 0;
  std::from_chars(s.data(), s.data() + 4, y);
  std::from_chars(s.data() + 5, s.data() + 7, m);
  std::from_chars(s.data() + 8, s.data() + 10, d);
  std::chrono::year_month_day ymd{std::chrono::year(y),
                                  std::chrono::month(static_cast<unsigned>(m)),
                                  std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

std::string formatDate(Date d) {
  std::chrono::year_month_day ymd(d);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

bool Cve::affects(const Version& v) const {
  for (const Range& r : affected)
    if ((!r.introduced || *r.introduced <= v) && v < r.fixed) return true;
  return false;
}

std::string Cve::fixedFor(const Version& v) const {
  const Version* best = nullptr;
  for (const Range& r : affected) {
    if (r.fixed.major == v.major && r.fixed.minor == v.minor) return r.fixed.text;
    if (v < r.fixed && (!best || r.fixed < *best)) best = &r.fixed;
  }
  return best ? best->text : std::string();
}

const Release* Table::find(int major, int minor) const {
  for (const Release& r : releases)
    if (r.major == major && r.minor == minor) return &r;
  return nullptr;
}

Result<std::shared_ptr<const Table>> parseTable(std::string_view text, const std::string& name) {
  Arena arena;
  std::vector<Diagnostic> diags;
  ParseOutput out = parseYamlStream(text, name, arena, LoadLimits{}, diags);
  if (out.error) return *out.error;
  if (out.documents.size() != 1 || !out.documents[0].root || !out.documents[0].root->isMap())
    return Error{"a version table is one map (schema, updated, releases, cves)", name, {}};
  const Node* root = out.documents[0].root;
  auto fail = [&](const Node* at, std::string m) {
    return Error{std::move(m), name, at ? at->pos : root->pos};
  };
  auto field = [&](const Node* n, std::string_view key) -> Result<const Node*> {
    const Node* v = get(n, key);
    if (!v || !v->isScalar() || v->text.empty())
      return fail(v ? v : n, fmt::format("`{}` is missing or not a scalar", key));
    return v;
  };
  auto date = [&](const Node* n, std::string_view key) -> Result<Date> {
    auto v = field(n, key);
    if (!v) return v.error();
    auto d = parseDate(v.value()->text);
    if (!d)
      return fail(v.value(),
                  fmt::format("`{}`: {} is not a date (YYYY-MM-DD)", key, v.value()->text));
    return *d;
  };
  auto version = [&](const Node* n, std::string_view key) -> Result<Version> {
    auto v = field(n, key);
    if (!v) return v.error();
    auto parsed = parseVersion(v.value()->text);
    if (!parsed)
      return fail(v.value(),
                  fmt::format("`{}`: {} is not a version (1.30.4)", key, v.value()->text));
    return *parsed;
  };
  if (const Node* s = get(root, "schema"); !s || s->asInt() != 1)
    return fail(s, "`schema` must be 1 (this kubeharden reads version tables of schema 1)");
  auto table = std::make_shared<Table>();
  table->source = name;
  auto updated = date(root, "updated");
  if (!updated) return updated.error();
  table->updated = updated.value();
  const Node* releases = get(root, "releases");
  if (!releases || !releases->isSeq() || releases->size == 0)
    return fail(releases, "`releases` must be a non-empty list");
  for (const Node* r : releases->seqItems()) {
    Release rel;
    auto minor = version(r, "minor");
    if (!minor) return minor.error();
    rel.major = minor->major;
    rel.minor = minor->minor;
    if (table->find(rel.major, rel.minor))
      return fail(r, fmt::format("release {} is listed twice", minor->minorText()));
    for (auto [key, slot] :
         {std::pair{"released", &rel.released}, std::pair{"maintenance", &rel.maintenance},
          std::pair{"endOfLife", &rel.end_of_life}}) {
      auto d = date(r, key);
      if (!d) return d.error();
      *slot = d.value();
    }
    if (!(rel.released <= rel.maintenance && rel.maintenance <= rel.end_of_life))
      return fail(r, fmt::format("release {}: released <= maintenance <= endOfLife does not hold",
                                 minor->minorText()));
    if (get(r, "latestPatch")) {
      auto p = version(r, "latestPatch");
      if (!p) return p.error();
      if (p->major != rel.major || p->minor != rel.minor)
        return fail(get(r, "latestPatch"),
                    fmt::format("latestPatch {} is not a patch of {}", p->text, minor->text));
      rel.latest_patch = p.value();
    }
    table->releases.push_back(std::move(rel));
  }
  std::sort(table->releases.begin(), table->releases.end(), [](const Release& a, const Release& b) {
    return std::tie(a.major, a.minor) > std::tie(b.major, b.minor);
  });
  if (const Node* cves = get(root, "cves")) {
    if (!cves->isSeq()) return fail(cves, "`cves` must be a list");
    for (const Node* c : cves->seqItems()) {
      Cve cve;
      for (auto [key, slot] : {std::pair{"id", &cve.id}, std::pair{"component", &cve.component},
                               std::pair{"title", &cve.title}, std::pair{"url", &cve.url}}) {
        auto v = field(c, key);
        if (!v) return v.error();
        *slot = std::string(v.value()->text);
      }
      if (cve.component != "kube-apiserver" && cve.component != "kubelet")
        return fail(get(c, "component"),
                    fmt::format("{}: component {} is not kube-apiserver or kubelet", cve.id,
                                cve.component));
      auto sev = field(c, "severity");
      if (!sev) return sev.error();
      auto parsed_sev = parseSeverity(sev.value()->text);
      if (!parsed_sev)
        return fail(sev.value(), fmt::format("{}: severity {} is not one of info, low, medium, "
                                             "high, critical",
                                             cve.id, sev.value()->text));
      cve.severity = *parsed_sev;
      if (const Node* s = get(c, "cvss"); s && s->type == NodeType::kFloat)
        cve.cvss = s->float_value;
      const Node* affected = get(c, "affected");
      if (!affected || !affected->isSeq() || affected->size == 0)
        return fail(affected ? affected : c,
                    fmt::format("{}: `affected` must be a non-empty list", cve.id));
      for (const Node* a : affected->seqItems()) {
        Range r;
        auto fixed = version(a, "fixed");
        if (!fixed) return fixed.error();
        r.fixed = fixed.value();
        if (getStr(a, "introduced") != "0") {
          auto intro = version(a, "introduced");
          if (!intro) return intro.error();
          if (!(intro.value() < r.fixed))
            return fail(a, fmt::format("{}: introduced {} is not before fixed {}", cve.id,
                                       intro->text, r.fixed.text));
          r.introduced = intro.value();
        }
        cve.affected.push_back(std::move(r));
      }
      table->cves.push_back(std::move(cve));
    }
  }
  return std::shared_ptr<const Table>(std::move(table));
}

Result<std::shared_ptr<const Table>> loadTable(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Table>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  Result<std::shared_ptr<const Table>> t = [&]() -> Result<std::shared_ptr<const Table>> {
    if (path.empty()) return parseTable(kKubernetesVersionsJson, "built in");
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{"cannot read the version table", path, {}};
    std::stringstream ss;
    ss << in.rdbuf();
    return parseTable(ss.str(), path);
  }();
  if (t) cache.emplace(path, t.value());
  return t;
}

std::optional<std::string> staleWarning(const Table& t, Date today) {
  auto age = (today - t.updated).count();
  if (age <= kStaleDays) return std::nullopt;
  return fmt::format(
      "the Kubernetes version table ({}, updated {}) is {} days old: releases, patches and CVEs "
      "published since are unknown to it; refresh it (docs/cluster.md, \"Versions\") and pass "
      "--k8s-data",
      t.source, formatDate(t.updated), age);
}

std::vector<Note> tableNotes(const ScanIndex& index, const Table& t, Date today) {
  std::vector<Note> out;
  std::vector<std::pair<const Object*, Version>> versions;
  for (const Object* o : index.ofKind("ClusterInfo"))
    if (auto v = parseVersion(getStr(get(o->root, "version"), "gitVersion")))
      versions.emplace_back(o, *v);
  for (const Object* o : index.ofKind("Node"))
    if (auto v = parseVersion(getStr(get(get(o->root, "status"), "nodeInfo"), "kubeletVersion")))
      versions.emplace_back(o, *v);
  if (versions.empty()) return out;
  if (auto w = staleWarning(t, today)) out.push_back({"k8s-data-stale", *w, versions[0].first});
  const Release* newest = t.newest();
  std::set<std::pair<int, int>> told;
  for (const auto& [o, v] : versions) {
    if (!newest || std::tie(v.major, v.minor) <= std::tie(newest->major, newest->minor)) continue;
    if (!told.insert({v.major, v.minor}).second) continue;
    out.push_back({"k8s-version-unknown",
                   fmt::format("Kubernetes {} is newer than every release the version table ({}, "
                               "updated {}) knows: its end of life, patches and CVEs are not "
                               "judged; pass a newer table with --k8s-data",
                               v.text, t.source, formatDate(t.updated)),
                   o});
  }
  return out;
}

int allowedKubeletSkew(const Version& apiserver) {
  return (apiserver.major > 1 || apiserver.minor >= 28) ? 3 : 2;
}

std::optional<Version> controlPlaneVersion(const ScanIndex* index, const Object** from) {
  if (!index) return std::nullopt;
  for (const Object* o : index->ofKind("ClusterInfo")) {
    if (auto v = parseVersion(getStr(get(o->root, "version"), "gitVersion"))) {
      if (from) *from = o;
      return v;
    }
  }
  // kubeadm: the kube-apiserver static pod (or its mirror pod) names the release in its image.
  for (const Object* o : index->ofKind("Pod")) {
    if (!o->pod) continue;
    for (const Node* c : seqOf(get(o->pod->spec, "containers"))) {
      std::string_view image = getStr(c, "image");
      size_t colon = image.rfind(':');
      size_t slash = image.rfind('/');
      // No tag, or the last colon is a registry's port (host:5000/kube-apiserver).
      if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash))
        continue;
      std::string_view repo = image.substr(0, colon);
      size_t repo_slash = repo.rfind('/');
      std::string_view base =
          repo.substr(repo_slash == std::string_view::npos ? 0 : repo_slash + 1);
      if (base != "kube-apiserver") continue;
      std::string_view tag = image.substr(colon + 1);
      if (size_t at = tag.find('@'); at != std::string_view::npos) tag = tag.substr(0, at);
      if (auto v = parseVersion(tag)) {
        if (from) *from = o;
        return v;
      }
    }
  }
  return std::nullopt;
}

Result<Options> readOptions(const Node* options) {
  Options o;
  std::string data;
  std::string now = todayUtc();
  for (const MapEntry& e : mapOf(options)) {
    if (e.key == "now") {
      now = std::string(e.value->text);
      if (!parseDate(now))
        return Error{fmt::format("option now: {} is not a date (YYYY-MM-DD)", now), "",
                     e.value->pos};
    } else if (e.key == "data") {
      data = std::string(e.value->text);
    } else {
      return Error{fmt::format("unknown option {} (this check takes now and data)", e.key), "",
                   e.key_pos};
    }
  }
  auto today = parseDate(now);
  if (!today) return Error{fmt::format("today's date {} is not YYYY-MM-DD", now), "", {}};
  o.today = *today;
  auto table = loadTable(data);
  if (!table) return table.error();
  o.table = table.value();
  return o;
}

}  // namespace kh::k8sver
