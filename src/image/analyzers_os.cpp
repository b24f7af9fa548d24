// OS package databases: dpkg status files, apk's installed database, Debian copyright files.
#include <algorithm>
#include <cctype>
#include <set>

#include "base/strings.h"
#include "image/analyzers.h"
#include "image/licenses.h"

namespace kh::image {

namespace {

// The stanzas of a dpkg (or apk) database: field -> value, continuation lines folded away.
template <typename Fn>
void eachStanza(std::string_view text, char sep, Fn fn) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  auto flush = [&] {
    if (!fields.empty()) fn(fields);
    fields.clear();
  };
  forEachLine(text, [&](std::string_view line) {
    if (trim(line).empty()) {
      flush();
      return;
    }
    if (line.front() == ' ' || line.front() == '\t') return;  // continuation
    size_t colon = line.find(sep);
    if (colon == std::string_view::npos) return;
    fields.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  });
  flush();
}

}  // namespace

std::vector<Package> parseDpkgStatus(std::string_view text, bool installed_only) {
  std::vector<Package> out;
  eachStanza(text, ':', [&](const auto& fields) {
    Package p;
    p.type = "deb";
    std::string_view status, source;
    for (const auto& [k, v] : fields) {
      if (k == "Package") p.name = v;
      if (k == "Version") p.version = v;
      if (k == "Architecture") p.arch = v;
      if (k == "Status") status = v;
      if (k == "Source") source = v;
    }
    if (p.name.empty() || p.version.empty()) return;
    // Status: "want flag status"; only installed packages are in the image.
    if (installed_only && !status.ends_with(" installed")) return;
    if (!installed_only && !status.empty() && !status.ends_with(" installed")) return;
    // Source: "name" or "name (version)" when the source version differs.
    p.source_name = p.name;
    p.source_version = p.version;
    if (!source.empty()) {
      size_t paren = source.find(" (");
      p.source_name = std::string(trim(source.substr(0, paren)));
      if (paren != std::string_view::npos && source.ends_with(")"))
        p.source_version = std::string(source.substr(paren + 2, source.size() - paren - 3));
    }
    out.push_back(std::move(p));
  });
  return out;
}

std::vector<Package> parseApkInstalled(std::string_view text, std::vector<std::string>* owned) {
  std::vector<Package> out;
  // Stanzas of "X:value" lines; F: names a directory, the R: lines after it its files.
  Package p;
  std::string dir;
  auto flush = [&] {
    if (!p.name.empty() && !p.version.empty()) {
      p.type = "apk";
      if (p.source_name.empty()) p.source_name = p.name;
      p.source_version = p.version;
      out.push_back(std::move(p));
    }
    p = Package{};
    dir.clear();
  };
  forEachLine(text, [&](std::string_view line) {
    if (line.empty()) {
      flush();
      return;
    }
    if (line.size() < 2 || line[1] != ':') return;
    std::string_view v = line.substr(2);
    switch (line[0]) {
      case 'P':
        p.name = v;
        break;
      case 'V':
        p.version = v;
        break;
      case 'A':
        p.arch = v;
        break;
      case 'o':
        p.source_name = v;
        break;
      case 'L':
        addLicense(p.licenses, v);
        break;
      case 'F':
        dir = v;
        break;
      case 'R':
        if (owned) owned->push_back(dir.empty() ? std::string(v) : dir + "/" + std::string(v));
        break;
      default:
        break;
    }
  });
  flush();
  return out;
}

std::vector<std::string> parseDebianCopyright(std::string_view text) {
  std::vector<std::string> out;
  bool machine_readable = text.starts_with("Format:") || text.find("\nFormat:") < 512;
  forEachLine(text, [&](std::string_view line) {
    if (machine_readable && line.starts_with("License:")) {
      std::string_view v = trim(line.substr(8));
      if (!v.empty()) addLicense(out, v);
      return;
    }
    // "/usr/share/common-licenses/GPL-2" in free-form files.
    for (size_t at = line.find("/usr/share/common-licenses/"); at != std::string_view::npos;
         at = line.find("/usr/share/common-licenses/", at + 1)) {
      std::string_view name = line.substr(at + 27);
      size_t end = 0;
      while (end < name.size() && (std::isalnum(static_cast<unsigned char>(name[end])) ||
                                   name[end] == '-' || name[end] == '.' || name[end] == '+'))
        ++end;
      name = name.substr(0, end);
      while (name.ends_with(".")) name.remove_suffix(1);
      if (!name.empty()) addLicense(out, name);
    }
  });
  return out;
}

}  // namespace kh::image
