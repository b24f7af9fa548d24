// Language package metadata: npm package.json, Python core metadata, RubyGems specifications,
// Composer's installed.json and Java archives.
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "base/json_util.h"
#include "base/strings.h"
#include "image/analyzers.h"
#include "image/archive_api.h"
#include "image/licenses.h"

namespace kh::image {

namespace {

// "license": "MIT" | {"type": "MIT"}; "licenses": ["MIT"] | [{"type": "MIT"}].
void jsonLicenses(const rapidjson::Value& o, std::vector<std::string>& out) {
  for (const char* key : {"license", "licenses"}) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd()) continue;
    auto one = [&](const rapidjson::Value& v) {
      if (v.IsString()) addLicense(out, {v.GetString(), v.GetStringLength()});
      if (v.IsObject()) addLicense(out, jsonString(v, "type"));
    };
    if (it->value.IsArray()) {
      for (const auto& v : it->value.GetArray()) one(v);
    } else {
      one(it->value);
    }
  }
}

// "Key: value" header lines of an RFC 822 style text, up to the first blank line.
template <typename Fn>
void eachHeader(std::string_view text, Fn fn) {
  forEachLine(text, [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return false;  // the body starts
    if (line.front() == ' ' || line.front() == '\t') return true;
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) fn(line.substr(0, colon), trim(line.substr(colon + 1)));
    return true;
  });
}

}  // namespace

std::optional<Package> parseNpmPackageJson(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  Package p;
  p.type = "npm";
  p.name = jsonString(d, "name");
  p.version = jsonString(d, "version");
  if (p.name.empty() || p.version.empty()) return std::nullopt;
  jsonLicenses(d, p.licenses);
  return p;
}

std::optional<Package> parsePythonMetadata(std::string_view text) {
  Package p;
  p.type = "pypi";
  std::vector<std::string> classifiers;
  std::string_view license, expression;
  eachHeader(text, [&](std::string_view k, std::string_view v) {
    if (k == "Name") p.name = v;
    if (k == "Version") p.version = v;
    if (k == "License") license = v;
    if (k == "License-Expression") expression = v;
    if (k == "Classifier" && v.starts_with("License ::")) classifiers.emplace_back(v);
  });
  if (p.name.empty() || p.version.empty()) return std::nullopt;
  // License-Expression (PEP 639) is SPDX already; License is free text, sometimes the whole
  // licence: used when short, else the classifiers say it.
  if (!expression.empty()) {
    addLicense(p.licenses, expression);
  } else if (!license.empty() && license.size() <= 64 && iequals(license, "UNKNOWN") == false) {
    addLicense(p.licenses, license);
  }
  if (p.licenses.empty())
    for (const std::string& c : classifiers)
      if (c != "License :: OSI Approved") addLicense(p.licenses, c);
  return p;
}

std::optional<Package> parseGemspec(std::string_view text) {
  // Generated specifications assign literals: `s.name = "rake".freeze`,
  // `s.version = "13.0.6"`, `s.licenses = ["MIT".freeze]`.
  Package p;
  p.type = "gem";
  auto quoted = [](std::string_view v, std::vector<std::string_view>& out) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '"' && v[i] != '\'') continue;
      size_t end = v.find(v[i], i + 1);
      if (end == std::string_view::npos) return;
      out.push_back(v.substr(i + 1, end - i - 1));
      i = end;
    }
  };
  forEachLine(text, [&](std::string_view raw) {
    std::string_view line = trim(raw);
    size_t dot = line.find('.');
    size_t eq = line.find('=');
    if (dot == std::string_view::npos || eq == std::string_view::npos || dot > eq) return;
    std::string_view field = trim(line.substr(dot + 1, eq - dot - 1));
    std::vector<std::string_view> values;
    quoted(line.substr(eq + 1), values);
    if (values.empty()) return;
    if (field == "name" && p.name.empty()) p.name = values[0];
    if (field == "version" && p.version.empty()) p.version = values[0];
    if (field == "licenses" || field == "license")
      for (std::string_view l : values) addLicense(p.licenses, l);
  });
  if (p.name.empty() || p.version.empty()) return std::nullopt;
  return p;
}

std::vector<Package> parseComposerInstalled(std::string_view text) {
  std::vector<Package> out;
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  if (d.HasParseError()) return out;
  const rapidjson::Value* list = nullptr;
  if (d.IsArray()) list = &d;
  if (d.IsObject()) {
    auto it = d.FindMember("packages");
    if (it != d.MemberEnd() && it->value.IsArray()) list = &it->value;
  }
  if (!list) return out;
  for (const auto& v : list->GetArray()) {
    Package p;
    p.type = "composer";
    p.name = jsonString(v, "name");
    p.version = jsonString(v, "version");
    if (p.name.empty() || p.version.empty()) continue;
    if (p.version.starts_with("v") && p.version.size() > 1 && std::isdigit(p.version[1]))
      p.version.erase(0, 1);
    jsonLicenses(v, p.licenses);
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

constexpr int kMaxJavaDepth = 4;
constexpr size_t kMaxNestedArchive = 256u << 20;

// "commons-lang3-3.12.0.jar" -> ("commons-lang3", "3.12.0"): the version starts at the first
// "-" followed by a digit.
std::pair<std::string, std::string> nameFromFile(std::string_view path) {
  std::string_view base = path.substr(path.rfind('/') + 1);
  base = base.substr(0, base.rfind('.'));
  for (size_t i = 0; i + 1 < base.size(); ++i)
    if (base[i] == '-' && std::isdigit(static_cast<unsigned char>(base[i + 1])))
      return {std::string(base.substr(0, i)), std::string(base.substr(i + 1))};
  return {std::string(base), ""};
}

void javaArchive(std::string_view bytes, std::string_view path, int depth,
                 std::vector<Package>& out) {
  if (!archiveApi().error.empty()) return;  // the image itself could not have been read either
  std::unique_ptr<archive, int (*)(archive*)> a(archiveApi().read_new(), archiveApi().read_free);
  archiveApi().support_format_zip(a.get());
  if (archiveApi().open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) return;
  std::vector<Package> poms;
  std::string manifest;
  std::map<std::string, std::vector<std::string>> pom_licenses;  // "group:artifact" -> ids
  archive_entry* e = nullptr;
  auto readAll = [&](size_t cap) {
    std::string data;
    char buf[64 * 1024];
    la_ssize_t n;
    while ((n = archiveApi().read_data(a.get(), buf, sizeof buf)) > 0 && data.size() < cap)
      data.append(buf, static_cast<size_t>(n));
    return data;
  };
  while (archiveApi().next_header(a.get(), &e) == ARCHIVE_OK) {
    const char* raw = archiveApi().entry_pathname(e);
    std::string_view name = raw ? raw : "";
    if (name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")) {
      Package p;
      p.type = "maven";
      std::string group, artifact;
      std::string text = readAll(1 << 20);
      forEachLine(text, [&](std::string_view raw) {
        std::string_view line = trim(raw);
        size_t eq = line.find('=');
        if (line.starts_with("#") || eq == std::string_view::npos) return;
        std::string_view k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
        if (k == "groupId") group = v;
        if (k == "artifactId") artifact = v;
        if (k == "version") p.version = v;
      });
      if (!group.empty() && !artifact.empty() && !p.version.empty()) {
        p.name = group + ":" + artifact;
        poms.push_back(std::move(p));
      }
    } else if (name.starts_with("META-INF/maven/") && name.ends_with("/pom.xml")) {
      // <licenses><license><name>...</name>: the licences the project declares.
      std::string xml = readAll(4 << 20);
      std::string_view rest(xml);
      size_t ls = rest.find("<licenses>"), le = rest.find("</licenses>");
      if (ls == std::string_view::npos || le == std::string_view::npos || le < ls) continue;
      rest = rest.substr(ls, le - ls);
      std::string_view dir = name.substr(15, name.size() - 15 - 8);  // group/artifact
      size_t slash = dir.find('/');
      if (slash == std::string_view::npos) continue;
      std::string key =
          std::string(dir.substr(0, slash)) + ":" + std::string(dir.substr(slash + 1));
      for (size_t at = rest.find("<name>"); at != std::string_view::npos;
           at = rest.find("<name>", at + 6)) {
        size_t end = rest.find("</name>", at);
        if (end == std::string_view::npos) break;
        addLicense(pom_licenses[key], trim(rest.substr(at + 6, end - at - 6)));
      }
    } else if (name == "META-INF/MANIFEST.MF") {
      manifest = readAll(1 << 20);
    } else if (depth < kMaxJavaDepth && isJavaArchive(name)) {
      std::string inner = readAll(kMaxNestedArchive);
      javaArchive(inner, std::string(path) + "!" + std::string(name), depth + 1, out);
    }
  }
  for (Package& p : poms) {
    if (auto it = pom_licenses.find(p.name); it != pom_licenses.end()) p.licenses = it->second;
    p.path = path;
    out.push_back(std::move(p));
  }
  if (!poms.empty()) return;
  // No pom.properties: the manifest (Implementation-* or OSGi Bundle-*), then the file name.
  std::string title, version, vendor;
  bool symbolic = false;  // vendor came from Bundle-SymbolicName ("group.artifact")
  forEachLine(manifest, [&](std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) return;
    std::string_view k = line.substr(0, colon), v = trim(line.substr(colon + 2));
    if (k == "Implementation-Version" || (k == "Bundle-Version" && version.empty())) version = v;
    if (k == "Implementation-Vendor-Id") {
      vendor = v;
      symbolic = false;
    } else if (k == "Bundle-SymbolicName" && vendor.empty()) {
      vendor = v.substr(0, v.find(';'));
      symbolic = true;
    }
    if (k == "Implementation-Title" || (k == "Bundle-Name" && title.empty())) title = v;
  });
  std::string_view file = path;
  if (size_t bang = path.rfind('!'); bang != std::string_view::npos) file = path.substr(bang + 1);
  auto [file_name, file_version] = nameFromFile(file);
  Package p;
  p.type = "maven";
  p.path = path;
  p.version = !version.empty() ? version : file_version;
  // Group from the vendor id when it looks like one ("org.apache"), artifact from the file.
  std::string group = vendor.find('.') != std::string::npos && vendor.find(' ') == std::string::npos
                          ? vendor
                          : std::string();
  if (symbolic && group.ends_with("." + file_name))
    group.resize(group.size() - file_name.size() - 1);
  if (p.version.empty() || file_name.empty()) return;
  p.name = group.empty() ? file_name : group + ":" + file_name;
  out.push_back(std::move(p));
}

}  // namespace

bool isJavaArchive(std::string_view path) {
  for (std::string_view ext : {".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi", ".kar"})
    if (path.size() > ext.size() && iequals(path.substr(path.size() - ext.size()), ext))
      return true;
  return false;
}

std::vector<Package> parseJavaArchive(std::string_view bytes, std::string_view path) {
  std::vector<Package> out;
  javaArchive(bytes, path, 0, out);
  return out;
}

}  // namespace kh::image
