#include "image/sbom.h"

#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "base/strings.h"
#include "image/licenses.h"

namespace kh::image {

namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void kv(Writer& w, const char* k, std::string_view v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

std::string layerDigest(const ImageSource& src, uint32_t layer) {
  if (layer >= src.layers.size()) return {};
  const LayerInfo& l = src.layers[layer];
  return l.diff_id.empty() ? l.digest : l.diff_id;
}

bool isOsPackage(const Package& p) {
  return p.type == "deb" || p.type == "apk" || p.type == "rpm";
}

// Characters SPDX allows in SPDXRef-/LicenseRef- ids: letters, digits, '.' and '-'.
std::string idString(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 48)) {
    if (c == '+') {
      out += "plus";  // "GPL-3+" and "GPL-3" stay apart
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') {
      out += c;
    } else if (!out.ends_with('-')) {
      out += '-';
    }
  }
  if (s.size() > 48)
    out += fmt::format("-{}", fingerprintHex(s));  // long declared texts stay distinct
  return out;
}

}  // namespace

SbomMeta sbomMetaNow(std::string tool_version) {
  SbomMeta m;
  m.tool_version = std::move(tool_version);
  auto now = std::chrono::system_clock::now();
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch)
    now = std::chrono::system_clock::time_point(std::chrono::seconds(std::atoll(epoch)));
  m.timestamp = rfc3339Utc(now);
  std::random_device rd;
  std::mt19937_64 gen((uint64_t{rd()} << 32) ^ rd());
  uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  m.uuid = fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                       hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
  return m;
}

std::string imageName(const ImageSource& src) {
  if (!src.repo_tags.empty()) return src.repo_tags[0];
  std::string_view p = src.path;
  while (p.size() > 1 && p.ends_with("/")) p.remove_suffix(1);
  return std::string(p.substr(p.rfind('/') + 1));
}

std::string toCycloneDx(const ImageSource& src, const Inventory& inv, const SbomMeta& meta,
                        const std::vector<SbomVulnerability>* vulns) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  kv(w, "$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
  kv(w, "bomFormat", "CycloneDX");
  kv(w, "specVersion", "1.6");
  kv(w, "serialNumber", fmt::format("urn:uuid:{}", meta.uuid));
  w.Key("version");
  w.Int(1);
  w.Key("metadata");
  w.StartObject();
  kv(w, "timestamp", meta.timestamp);
  w.Key("tools");
  w.StartObject();
  w.Key("components");
  w.StartArray();
  w.StartObject();
  kv(w, "type", "application");
  kv(w, "name", "kubeharden");
  kv(w, "version", meta.tool_version);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("component");
  w.StartObject();
  kv(w, "bom-ref", "image");
  kv(w, "type", "container");
  kv(w, "name", imageName(src));
  std::string digest = !src.manifest_digest.empty() ? src.manifest_digest : src.config_digest;
  if (!digest.empty()) kv(w, "version", digest);
  w.Key("properties");
  w.StartArray();
  auto prop = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    w.StartObject();
    kv(w, "name", name);
    kv(w, "value", value);
    w.EndObject();
  };
  prop("kubeharden:image:format", src.format);
  prop("kubeharden:image:platform", src.platform.str());
  prop("kubeharden:image:configDigest", src.config_digest);
  for (const std::string& t : src.repo_tags) prop("kubeharden:image:repoTag", t);
  for (const LayerInfo& l : src.layers)
    prop("kubeharden:image:layer", l.diff_id.empty() ? l.digest : l.diff_id);
  w.EndArray();
  w.EndObject();
  w.EndObject();

  // bom-refs are unique: the purl, with "#path" when the same purl is at several paths.
  std::map<std::string, int> purl_count;
  for (const Package& p : inv.packages) ++purl_count[p.purl];
  std::vector<std::string> refs;
  for (const Package& p : inv.packages)
    refs.push_back(purl_count[p.purl] > 1 ? fmt::format("{}#{}", p.purl, p.path) : p.purl);
  std::set<std::string> seen;
  for (std::string& r : refs) {
    std::string base = r;
    for (int n = 2; !seen.insert(r).second; ++n) r = fmt::format("{}#{}", base, n);
  }

  w.Key("components");
  w.StartArray();
  if (inv.os) {
    w.StartObject();
    kv(w, "bom-ref", "os");
    kv(w, "type", "operating-system");
    kv(w, "name", inv.os->id);
    if (!inv.os->version_id.empty()) kv(w, "version", inv.os->version_id);
    if (!inv.os->pretty_name.empty()) kv(w, "description", inv.os->pretty_name);
    w.EndObject();
  }
  for (size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    w.StartObject();
    kv(w, "bom-ref", refs[i]);
    kv(w, "type", "library");
    kv(w, "name", p.name);
    std::string version = p.epoch.empty() ? p.version : fmt::format("{}:{}", p.epoch, p.version);
    if (!version.empty()) kv(w, "version", version);
    if (!p.licenses.empty()) {
      w.Key("licenses");
      w.StartArray();
      bool one_expression = p.licenses.size() == 1 &&
                            p.licenses[0].find(' ') != std::string::npos &&
                            isSpdxExpression(p.licenses[0]);
      if (one_expression) {
        w.StartObject();
        kv(w, "expression", p.licenses[0]);
        w.EndObject();
      } else {
        for (const std::string& l : p.licenses) {
          w.StartObject();
          w.Key("license");
          w.StartObject();
          kv(w, isKnownSpdxId(l) ? "id" : "name", l);
          w.EndObject();
          w.EndObject();
        }
      }
      w.EndArray();
    }
    if (!p.purl.empty()) kv(w, "purl", p.purl);
    w.Key("properties");
    w.StartArray();
    prop("kubeharden:package:type", p.type);
    prop("kubeharden:package:path", p.path);
    prop("kubeharden:layer:digest", layerDigest(src, p.layer));
    prop("kubeharden:layer:index", std::to_string(p.layer));
    if (p.source_name != p.name) prop("kubeharden:package:sourceName", p.source_name);
    if (p.source_version != p.version) prop("kubeharden:package:sourceVersion", p.source_version);
    prop("kubeharden:package:arch", p.arch);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();

  w.Key("dependencies");
  w.StartArray();
  w.StartObject();
  kv(w, "ref", "image");
  w.Key("dependsOn");
  w.StartArray();
  if (inv.os) w.String("os");
  for (size_t i = 0; i < inv.packages.size(); ++i)
    if (!inv.os || !isOsPackage(inv.packages[i])) w.String(refs[i].c_str());
  w.EndArray();
  w.EndObject();
  if (inv.os) {
    w.StartObject();
    kv(w, "ref", "os");
    w.Key("dependsOn");
    w.StartArray();
    for (size_t i = 0; i < inv.packages.size(); ++i)
      if (isOsPackage(inv.packages[i])) w.String(refs[i].c_str());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  if (vulns) {
    w.Key("vulnerabilities");
    w.StartArray();
    for (size_t k = 0; k < vulns->size(); ++k) {
      const SbomVulnerability& v = (*vulns)[k];
      if (v.package >= inv.packages.size()) continue;
      const Package& p = inv.packages[v.package];
      w.StartObject();
      kv(w, "bom-ref", fmt::format("vuln-{}-{}", k + 1, v.id));
      kv(w, "id", v.id);
      w.Key("source");
      w.StartObject();
      kv(w, "name", "OSV");
      kv(w, "url", fmt::format("https://osv.dev/vulnerability/{}", v.id));
      w.EndObject();
      if (!v.aliases.empty()) {
        w.Key("references");
        w.StartArray();
        for (const std::string& al : v.aliases) {
          w.StartObject();
          kv(w, "id", al);
          w.Key("source");
          w.StartObject();
          kv(w, "name",
             al.starts_with("CVE-")    ? "NVD"
             : al.starts_with("GHSA-") ? "GitHub"
                                       : "OSV");
          w.EndObject();
          w.EndObject();
        }
        w.EndArray();
      }
      w.Key("ratings");
      w.StartArray();
      w.StartObject();
      if (v.score >= 0) {
        w.Key("score");
        w.Double(v.score);
      }
      kv(w, "severity", v.severity.empty() ? "unknown" : v.severity);
      if (!v.cvss.empty()) {
        kv(w, "method", v.cvss.starts_with("CVSS:3.1/") ? "CVSSv31" : "CVSSv3");
        kv(w, "vector", v.cvss);
      }
      if (!v.rating_source.empty()) {
        w.Key("source");
        w.StartObject();
        kv(w, "name", v.rating_source);
        w.EndObject();
      }
      w.EndObject();
      w.EndArray();
      if (!v.summary.empty()) kv(w, "description", v.summary);
      if (!v.fixed.empty())
        kv(w, "recommendation", fmt::format("Upgrade {} to {} or later", p.name, v.fixed));
      w.Key("affects");
      w.StartArray();
      w.StartObject();
      kv(w, "ref", refs[v.package]);
      w.Key("versions");
      w.StartArray();
      w.StartObject();
      kv(w, "version", p.version);
      kv(w, "status", "affected");
      w.EndObject();
      w.EndArray();
      w.EndObject();
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string toSpdx(const ImageSource& src, const Inventory& inv, const SbomMeta& meta) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  std::string name = imageName(src);
  std::map<std::string, std::string> extracted;  // LicenseRef id -> declared text
  // A package's licences (all apply: AND) as one SPDX expression.
  auto declared = [&](const Package& p) -> std::string {
    std::string out;
    for (const std::string& l : p.licenses) {
      std::string e = l;
      if (!isSpdxExpression(l)) {
        e = fmt::format("LicenseRef-{}", idString(l));
        extracted.emplace(e, l);
      } else if (l.find(' ') != std::string::npos && p.licenses.size() > 1 && !l.starts_with("(")) {
        e = fmt::format("({})", l);
      }
      out += out.empty() ? e : fmt::format(" AND {}", e);
    }
    // Every LicenseRef- used needs its extracted-licence entry.
    for (size_t at = out.find("LicenseRef-"); at != std::string::npos;
         at = out.find("LicenseRef-", at + 1)) {
      size_t end = out.find_first_of(" ()", at);
      std::string ref = out.substr(at, end == std::string::npos ? std::string::npos : end - at);
      extracted.emplace(ref, ref.substr(11));
    }
    return out.empty() ? "NOASSERTION" : out;
  };
  auto package = [&](std::string_view id, std::string_view pname, std::string_view version,
                     std::string_view purpose, std::string_view license, std::string_view purl,
                     std::string_view comment) {
    w.StartObject();
    kv(w, "SPDXID", id);
    kv(w, "name", pname);
    if (!version.empty()) kv(w, "versionInfo", version);
    kv(w, "downloadLocation", "NOASSERTION");
    w.Key("filesAnalyzed");
    w.Bool(false);
    if (!purpose.empty()) kv(w, "primaryPackagePurpose", purpose);
    kv(w, "licenseConcluded", "NOASSERTION");
    kv(w, "licenseDeclared", license);
    kv(w, "copyrightText", "NOASSERTION");
    if (!comment.empty()) kv(w, "comment", comment);
    if (!purl.empty()) {
      w.Key("externalRefs");
      w.StartArray();
      w.StartObject();
      kv(w, "referenceCategory", "PACKAGE-MANAGER");
      kv(w, "referenceType", "purl");
      kv(w, "referenceLocator", purl);
      w.EndObject();
      w.EndArray();
    }
    w.EndObject();
  };

  w.StartObject();
  kv(w, "spdxVersion", "SPDX-2.3");
  kv(w, "dataLicense", "CC0-1.0");
  kv(w, "SPDXID", "SPDXRef-DOCUMENT");
  kv(w, "name", name);
  kv(w, "documentNamespace",
     fmt::format("https://kubeharden.dev/spdx/image/{}-{}", idString(name), meta.uuid));
  w.Key("creationInfo");
  w.StartObject();
  kv(w, "created", meta.timestamp);
  w.Key("creators");
  w.StartArray();
  std::string creator = fmt::format("Tool: kubeharden-{}", meta.tool_version);
  w.String(creator.c_str());
  w.EndArray();
  w.EndObject();

  w.Key("packages");
  w.StartArray();
  std::string digest = !src.manifest_digest.empty() ? src.manifest_digest : src.config_digest;
  package("SPDXRef-Image", name, digest, "CONTAINER", "NOASSERTION", "",
          fmt::format("{} image, platform {}", src.format, src.platform.str()));
  if (inv.os)
    package("SPDXRef-OperatingSystem", inv.os->id, inv.os->version_id, "OPERATING_SYSTEM",
            "NOASSERTION", "", inv.os->pretty_name);
  std::vector<std::string> ids;
  for (size_t i = 0; i < inv.packages.size(); ++i) {
    const Package& p = inv.packages[i];
    ids.push_back(fmt::format("SPDXRef-Package-{}-{}", idString(p.type), i + 1));
    std::string version = p.epoch.empty() ? p.version : fmt::format("{}:{}", p.epoch, p.version);
    std::string layer = layerDigest(src, p.layer);
    package(ids.back(), p.name, version, "LIBRARY", declared(p), p.purl,
            layer.empty() ? fmt::format("found in {}", p.path)
                          : fmt::format("found in {}, layer {}", p.path, layer));
  }
  w.EndArray();

  w.Key("relationships");
  w.StartArray();
  auto rel = [&](std::string_view a, std::string_view type, std::string_view b) {
    w.StartObject();
    kv(w, "spdxElementId", a);
    kv(w, "relationshipType", type);
    kv(w, "relatedSpdxElement", b);
    w.EndObject();
  };
  rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
  if (inv.os) rel("SPDXRef-Image", "CONTAINS", "SPDXRef-OperatingSystem");
  for (size_t i = 0; i < inv.packages.size(); ++i)
    rel(inv.os && isOsPackage(inv.packages[i]) ? "SPDXRef-OperatingSystem" : "SPDXRef-Image",
        "CONTAINS", ids[i]);
  w.EndArray();

  if (!extracted.empty()) {
    w.Key("hasExtractedLicensingInfos");
    w.StartArray();
    for (const auto& [id, text] : extracted) {
      w.StartObject();
      kv(w, "licenseId", id);
      kv(w, "name", text);
      kv(w, "extractedText", text);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace kh::image
