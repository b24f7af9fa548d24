#include "image/inventory.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"

namespace kh::image {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The stanzas of a dpkg database: field -> value (continuation lines folded away).
template <typename Fn>
void eachStanza(std::string_view text, Fn fn) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  auto flush = [&] {
    if (!fields.empty()) fn(fields);
    fields.clear();
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    if (trim(line).empty()) {
      flush();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') continue;  // continuation
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fields.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
  flush();
}

}  // namespace

CaptureRule inventoryCaptureRule() {
  return {[](std::string_view p) {
            return p == "etc/os-release" || p == "usr/lib/os-release" ||
                   p == "etc/debian_version" || p == "etc/alpine-release" ||
                   p == "var/lib/dpkg/status" || p.starts_with("var/lib/dpkg/status.d/") ||
                   p == "lib/apk/db/installed";
          },
          64u << 20};
}

OsInfo parseOsRelease(std::string_view text) {
  OsInfo o;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim(text.substr(start, nl - start));
    start = nl + 1;
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (key == "ID") o.id = value;
    if (key == "VERSION_ID") o.version_id = value;
    if (key == "PRETTY_NAME") o.pretty_name = value;
  }
  return o;
}

std::optional<OsInfo> detectOs(const Filesystem& fs) {
  for (const char* f : {"etc/os-release", "usr/lib/os-release"}) {
    if (auto text = fs.content(f)) {
      OsInfo o = parseOsRelease(*text);
      if (!o.id.empty()) {
        o.source = f;
        return o;
      }
    }
  }
  if (auto v = fs.content("etc/alpine-release"))
    return OsInfo{"alpine", std::string(trim(v->substr(0, v->find('\n')))), "",
                  "etc/alpine-release"};
  if (auto v = fs.content("etc/debian_version")) {
    std::string version(trim(v->substr(0, v->find('\n'))));
    return OsInfo{"debian", version.substr(0, version.find('.')), "", "etc/debian_version"};
  }
  // Distroless Debian: no os-release, no debian_version, but dpkg's status.d.
  auto it = fs.files().lower_bound("var/lib/dpkg/status.d/");
  if (it != fs.files().end() && it->first.starts_with("var/lib/dpkg/status.d/"))
    return OsInfo{"debian", "", "", "var/lib/dpkg/status.d"};
  return std::nullopt;
}

std::vector<Package> dpkgPackages(const Filesystem& fs, const std::optional<OsInfo>& os) {
  std::vector<Package> out;
  std::string distro = os && !os->id.empty()
                           ? (os->version_id.empty() ? os->id : os->id + "-" + os->version_id)
                           : std::string();
  std::string ns = os && (os->id == "ubuntu") ? "ubuntu" : "debian";
  auto read = [&](std::string_view path, const FsEntry& e, bool need_status) {
    if (!e.content) return;
    eachStanza(*e.content, [&](const auto& fields) {
      Package p;
      p.type = "deb";
      p.layer = e.layer;
      std::string_view status, source;
      for (const auto& [k, v] : fields) {
        if (k == "Package") p.name = v;
        if (k == "Version") p.version = v;
        if (k == "Architecture") p.arch = v;
        if (k == "Status") status = v;
        if (k == "Source") source = v;
      }
      if (p.name.empty() || p.version.empty()) return;
      // status: "want flag status"; only installed packages are in the image.
      if (need_status && !status.ends_with(" installed")) return;
      if (!need_status && !status.empty() && !status.ends_with(" installed")) return;
      // Source: "name" or "name (version)" when the source version differs.
      p.source_name = p.name;
      p.source_version = p.version;
      if (!source.empty()) {
        size_t paren = source.find(" (");
        p.source_name = std::string(trim(source.substr(0, paren)));
        if (paren != std::string_view::npos && source.ends_with(")"))
          p.source_version = std::string(source.substr(paren + 2, source.size() - paren - 3));
      }
      p.purl = fmt::format("pkg:deb/{}/{}@{}", ns, percentEncode(p.name), percentEncode(p.version));
      std::string q;
      if (!p.arch.empty()) q += "arch=" + percentEncode(p.arch);
      if (!distro.empty())
        q += std::string(q.empty() ? "" : "&") + "distro=" + percentEncode(distro);
      if (!q.empty()) p.purl += "?" + q;
      out.push_back(std::move(p));
    });
    (void)path;
  };
  if (const FsEntry* status = fs.find("var/lib/dpkg/status"))
    read("var/lib/dpkg/status", *status, true);
  const auto& files = fs.files();
  for (auto it = files.lower_bound("var/lib/dpkg/status.d/");
       it != files.end() && it->first.starts_with("var/lib/dpkg/status.d/"); ++it) {
    if (it->second.type != TarEntry::Type::kFile || it->first.ends_with(".md5sums")) continue;
    read(it->first, it->second, false);
  }
  std::sort(out.begin(), out.end(), [](const Package& a, const Package& b) {
    return std::tie(a.name, a.version, a.arch) < std::tie(b.name, b.version, b.arch);
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Package& a, const Package& b) {
                          return a.name == b.name && a.version == b.version && a.arch == b.arch;
                        }),
            out.end());
  return out;
}

}  // namespace kh::image
