#include "image/inventory.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "image/analyzers.h"
#include "image/licenses.h"
#include "image/rpmdb.h"

namespace kh::image {

namespace {

bool isRpmDatabase(std::string_view p) {
  for (std::string_view dir : {"var/lib/rpm/", "usr/lib/sysimage/rpm/"}) {
    if (!p.starts_with(dir)) continue;
    std::string_view f = p.substr(dir.size());
    return f == "Packages" || f == "Packages.db" || f == "rpmdb.sqlite";
  }
  return false;
}

// node_modules/NAME/package.json or node_modules/@SCOPE/NAME/package.json.
bool isNpmManifest(std::string_view p) {
  if (pathBase(p) != "package.json") return false;
  std::string_view dir = pathDir(p), up = pathDir(dir);
  if (pathBase(up) == "node_modules") return true;
  return pathBase(up).starts_with("@") && pathBase(pathDir(up)) == "node_modules";
}

bool isPythonMetadata(std::string_view p, const TarEntry& e) {
  if (p.ends_with(".dist-info/METADATA") || p.ends_with(".egg-info/PKG-INFO") ||
      p.ends_with("/EGG-INFO/PKG-INFO"))
    return true;
  return p.ends_with(".egg-info") && e.type == TarEntry::Type::kFile;  // a single-file egg-info
}

using Want = ContentHandler::Want;

ContentHandler handler(std::function<bool(const TarEntry&)> match,
                       std::function<void(const TarEntry&, std::string_view, FileFindings&)> fn,
                       size_t max_bytes) {
  ContentHandler h;
  h.max_bytes = max_bytes;
  h.wants = [m = std::move(match)](const TarEntry& e, LayerFiles&) {
    return m(e) ? Want::kAll : Want::kNo;
  };
  h.handle = [f = std::move(fn)](const TarEntry& e, std::string_view c, LayerFiles& out) {
    FileFindings found;
    f(e, c, found);
    if (!found.packages.empty() || !found.owned.empty() || !found.copyright_licenses.empty())
      out.found[e.path] = std::move(found);
  };
  return h;
}

bool samePackage(const Package& a, const Package& b) {
  return a.name == b.name && a.version == b.version && a.arch == b.arch && a.type == b.type;
}

}  // namespace

std::vector<ContentHandler> inventoryHandlers() {
  constexpr size_t kText = 64u << 20, kBinary = 256u << 20;
  std::vector<ContentHandler> hs;
  hs.push_back(captureHandler(inventoryCaptureRule()));
  hs.push_back(handler(
      [](const TarEntry& e) {
        return e.path == "var/lib/dpkg/status" ||
               (e.path.starts_with("var/lib/dpkg/status.d/") && !e.path.ends_with(".md5sums"));
      },
      [](const TarEntry& e, std::string_view c, FileFindings& f) {
        f.packages = parseDpkgStatus(c, e.path == "var/lib/dpkg/status");
      },
      kText));
  hs.push_back(handler(
      [](const TarEntry& e) {
        return e.path.starts_with("var/lib/dpkg/info/") && e.path.ends_with(".list");
      },
      [](const TarEntry&, std::string_view c, FileFindings& f) {
        for (std::string_view line : splitTrimmed(c, '\n')) {
          while (line.starts_with("/")) line.remove_prefix(1);
          if (!line.empty() && line != ".") f.owned.emplace_back(line);
        }
      },
      kText));
  hs.push_back(handler(
      [](const TarEntry& e) {
        return e.path.starts_with("usr/share/doc/") && pathBase(e.path) == "copyright" &&
               pathDir(pathDir(e.path)) == "usr/share/doc";
      },
      [](const TarEntry&, std::string_view c, FileFindings& f) {
        f.copyright_licenses = parseDebianCopyright(c);
      },
      1u << 20));
  hs.push_back(handler([](const TarEntry& e) { return e.path == "lib/apk/db/installed"; },
                       [](const TarEntry&, std::string_view c, FileFindings& f) {
                         f.packages = parseApkInstalled(c, &f.owned);
                       },
                       kText));
  hs.push_back(handler([](const TarEntry& e) { return isRpmDatabase(e.path); },
                       [](const TarEntry&, std::string_view c, FileFindings& f) {
                         if (auto p = rpm::packages(c, &f.owned)) f.packages = std::move(p.value());
                         for (Package& p : f.packages)
                           for (std::string& l : p.licenses) l = normaliseLicense(l);
                       },
                       kBinary));
  hs.push_back(handler([](const TarEntry& e) { return isNpmManifest(e.path); },
                       [](const TarEntry&, std::string_view c, FileFindings& f) {
                         if (auto p = parseNpmPackageJson(c)) f.packages.push_back(std::move(*p));
                       },
                       4u << 20));
  hs.push_back(handler([](const TarEntry& e) { return isPythonMetadata(e.path, e); },
                       [](const TarEntry&, std::string_view c, FileFindings& f) {
                         if (auto p = parsePythonMetadata(c)) f.packages.push_back(std::move(*p));
                       },
                       4u << 20));
  hs.push_back(handler(
      [](const TarEntry& e) {
        return e.path.ends_with(".gemspec") && pathBase(pathDir(e.path)) == "specifications";
      },
      [](const TarEntry&, std::string_view c, FileFindings& f) {
        if (auto p = parseGemspec(c)) f.packages.push_back(std::move(*p));
      },
      4u << 20));
  hs.push_back(
      handler([](const TarEntry& e) { return e.path.ends_with("composer/installed.json"); },
              [](const TarEntry&, std::string_view c, FileFindings& f) {
                f.packages = parseComposerInstalled(c);
              },
              kText));
  hs.push_back(handler([](const TarEntry& e) { return isJavaArchive(e.path); },
                       [](const TarEntry& e, std::string_view c, FileFindings& f) {
                         f.packages = parseJavaArchive(c, e.path);
                       },
                       kBinary));
  // Executables, recognised by their ELF magic: Go build info, Rust cargo-auditable data.
  ContentHandler bin;
  bin.max_bytes = kBinary;
  bin.wants = [](const TarEntry& e, LayerFiles&) {
    return (e.mode & 0111) != 0 && e.size >= 1024 ? Want::kHead : Want::kNo;
  };
  bin.wants_head = [](const TarEntry&, std::string_view head) {
    return head.starts_with(
        "\x7f"
        "ELF");
  };
  bin.handle = [](const TarEntry& e, std::string_view c, LayerFiles& out) {
    std::vector<Package> found = parseGoBinary(c);
    std::vector<Package> rust = parseRustAuditable(c);
    found.insert(found.end(), rust.begin(), rust.end());
    if (!found.empty()) out.found[e.path].packages = std::move(found);
  };
  hs.push_back(std::move(bin));
  return hs;
}

CaptureRule inventoryCaptureRule() {
  return {[](std::string_view p) {
            return p == "etc/os-release" || p == "usr/lib/os-release" ||
                   p == "etc/debian_version" || p == "etc/alpine-release" ||
                   p == "etc/redhat-release" || p == "etc/system-release";
          },
          64u << 20};
}

OsInfo parseOsRelease(std::string_view text) {
  OsInfo o;
  forEachLine(text, [&](std::string_view raw) {
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') return;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (key == "ID") o.id = value;
    if (key == "VERSION_ID") o.version_id = value;
    if (key == "PRETTY_NAME") o.pretty_name = value;
  });
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

std::string purlOf(const Package& p, const std::optional<OsInfo>& os) {
  std::string distro_id = os ? os->id : std::string();
  std::string version_id = os ? os->version_id : std::string();
  std::string ns, name = p.name;
  std::vector<std::pair<std::string, std::string>> q;
  auto segments = [](std::string_view path) {  // each segment encoded, slashes kept
    std::string out;
    for (std::string_view s : splitTrimmed(path, '/'))
      out += (out.empty() ? "" : "/") + percentEncode(s);
    return out;
  };
  if (p.type == "deb") {
    ns = distro_id == "ubuntu" ? "ubuntu" : "debian";
    if (!p.arch.empty()) q.emplace_back("arch", p.arch);
    if (!distro_id.empty())
      q.emplace_back("distro", version_id.empty() ? distro_id : distro_id + "-" + version_id);
  } else if (p.type == "apk") {
    ns = distro_id.empty() ? "alpine" : distro_id;
    if (!p.arch.empty()) q.emplace_back("arch", p.arch);
    if (!version_id.empty()) q.emplace_back("distro", version_id);
  } else if (p.type == "rpm") {
    ns = distro_id == "rhel" ? "redhat" : distro_id.empty() ? "redhat" : distro_id;
    if (distro_id.starts_with("opensuse")) ns = "opensuse";
    if (distro_id == "sles") ns = "suse";
    if (distro_id == "amzn") ns = "amazon";
    if (!p.arch.empty()) q.emplace_back("arch", p.arch);
    if (!p.epoch.empty() && p.epoch != "0") q.emplace_back("epoch", p.epoch);
    if (!distro_id.empty())
      q.emplace_back("distro", version_id.empty() ? distro_id : distro_id + "-" + version_id);
  } else if (p.type == "npm") {
    if (name.starts_with("@") && name.find('/') != std::string::npos) {
      ns = name.substr(0, name.find('/'));
      name = name.substr(name.find('/') + 1);
    }
  } else if (p.type == "pypi") {
    name = toLower(name);
    std::replace(name.begin(), name.end(), '_', '-');
  } else if (p.type == "maven" || p.type == "composer") {
    size_t sep = name.find(p.type == "maven" ? ':' : '/');
    if (sep != std::string::npos) {
      ns = name.substr(0, sep);
      name = name.substr(sep + 1);
    }
  } else if (p.type == "golang") {
    size_t slash = name.rfind('/');
    if (slash != std::string::npos) {
      std::string out = "pkg:golang/" + segments(name.substr(0, slash)) + "/" +
                        percentEncode(name.substr(slash + 1)) + "@" + percentEncode(p.version);
      return out;
    }
  }
  std::string out = "pkg:" + p.type + "/";
  if (!ns.empty()) out += percentEncode(ns) + "/";
  out += percentEncode(name);
  if (!p.version.empty()) out += "@" + percentEncode(p.version);
  for (size_t i = 0; i < q.size(); ++i)
    out += (i == 0 ? "?" : "&") + q[i].first + "=" + percentEncode(q[i].second);
  return out;
}

Inventory buildInventory(const Filesystem& fs) {
  Inventory inv;
  inv.os = detectOs(fs);
  const auto& layers = fs.layers();
  const auto& files = fs.files();
  std::set<std::string, std::less<>> owned;
  // usr/share/doc/<package>/copyright -> its licences
  std::map<std::string, std::vector<std::string>, std::less<>> copyright;
  std::vector<Package> os_pkgs, lang_pkgs;
  for (uint32_t i = 0; i < layers.size(); ++i) {
    for (const auto& [path, found] : layers[i].found) {
      auto it = files.find(path);
      if (it == files.end() || it->second.layer != i) continue;  // deleted or replaced later
      owned.insert(found.owned.begin(), found.owned.end());
      if (!found.copyright_licenses.empty()) copyright[path] = found.copyright_licenses;
      for (Package p : found.packages) {
        // The introducing layer: walk down while the same file in lower layers lists it too.
        p.layer = i;
        for (uint32_t j = i; j-- > 0;) {
          auto lower = layers[j].found.find(path);
          if (lower == layers[j].found.end()) continue;  // the file was not touched there
          bool there = std::any_of(lower->second.packages.begin(), lower->second.packages.end(),
                                   [&](const Package& q) { return samePackage(p, q); });
          if (!there) break;
          p.layer = j;
        }
        if (p.path.empty()) p.path = path;
        bool is_os = p.type == "deb" || p.type == "apk" || p.type == "rpm";
        (is_os ? os_pkgs : lang_pkgs).push_back(std::move(p));
      }
    }
  }
  for (Package& p : os_pkgs) {
    if (p.type != "deb" || !p.licenses.empty()) continue;
    std::string file = "usr/share/doc/" + p.name + "/copyright";
    auto c = copyright.find(file);
    // Debian policy 12.5: a package's doc directory may be a symbolic link to that of another
    // package of the same source (gcc-12 -> gcc-12-base), whose copyright file then applies.
    if (c == copyright.end())
      if (std::optional<std::string> real = fs.resolve(file); real && *real != file)
        c = copyright.find(*real);
    if (c != copyright.end()) p.licenses = c->second;
  }
  auto byName = [](const Package& a, const Package& b) {
    return std::tie(a.type, a.name, a.version, a.arch) <
           std::tie(b.type, b.name, b.version, b.arch);
  };
  std::sort(os_pkgs.begin(), os_pkgs.end(), byName);
  os_pkgs.erase(std::unique(os_pkgs.begin(), os_pkgs.end(), samePackage), os_pkgs.end());
  std::erase_if(lang_pkgs, [&](const Package& p) {
    std::string_view file = std::string_view(p.path).substr(0, p.path.find('!'));
    bool dup = owned.count(file) > 0;
    inv.dropped_owned += dup;
    return dup;
  });
  std::sort(lang_pkgs.begin(), lang_pkgs.end(), [](const Package& a, const Package& b) {
    return std::tie(a.type, a.path, a.name, a.version) <
           std::tie(b.type, b.path, b.name, b.version);
  });
  inv.packages = std::move(os_pkgs);
  inv.packages.insert(inv.packages.end(), std::make_move_iterator(lang_pkgs.begin()),
                      std::make_move_iterator(lang_pkgs.end()));
  for (Package& p : inv.packages) p.purl = purlOf(p, inv.os);
  return inv;
}

}  // namespace kh::image
