#include "cli/image_report.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "base/strings.h"
#include "cli/commands.h"
#include "report/report.h"

namespace kh {

Severity licenseSeverity(const Scanned& s, const image::LicenseFinding& f) {
  return f.judgement.verdict == image::LicenseVerdict::kDenied ? s.license_severity
                                                               : Severity::kInfo;
}

// SARIF: the image-config-* findings as the check engine renders them, plus one result per
// secret found in the layers (rule image-secret; the path inside the image as the artifact).
std::string sarifOf(const Scanned& s) {
  std::string base = renderSarif(ReportContext{s.checks, kVersion, false, kDocsUrl});
  if (s.secrets.empty() && s.vulns.empty() && s.licenses.empty()) return base;
  rapidjson::Document d;
  d.Parse(base.c_str());
  if (d.HasParseError() || !d.HasMember("runs") || d["runs"].Empty()) return base;
  auto& a = d.GetAllocator();
  rapidjson::Value& run = d["runs"][0];
  rapidjson::Value& rules = run["tool"]["driver"]["rules"];
  auto str = [&](std::string_view v) {
    return rapidjson::Value(v.data(), static_cast<rapidjson::SizeType>(v.size()), a);
  };
  // A result's locations: the file inside the image (and line), and a logical name.
  auto locations = [&](std::string_view uri, uint32_t line, const std::string& name,
                       const char* kind) {
    rapidjson::Value art(rapidjson::kObjectType);
    art.AddMember("uri", str(uri), a);
    rapidjson::Value phys(rapidjson::kObjectType);
    phys.AddMember("artifactLocation", art, a);
    if (line > 0) {
      rapidjson::Value region(rapidjson::kObjectType);
      region.AddMember("startLine", line, a);
      phys.AddMember("region", region, a);
    }
    rapidjson::Value logical(rapidjson::kObjectType);
    logical.AddMember("fullyQualifiedName", str(name), a);
    logical.AddMember("kind", rapidjson::StringRef(kind), a);
    rapidjson::Value logicals(rapidjson::kArrayType);
    logicals.PushBack(logical, a);
    rapidjson::Value loc(rapidjson::kObjectType);
    loc.AddMember("physicalLocation", phys, a);
    loc.AddMember("logicalLocations", logicals, a);
    rapidjson::Value locs(rapidjson::kArrayType);
    locs.PushBack(loc, a);
    return locs;
  };
  // A rule of our own (not a catalogue check): its index in the driver's rules.
  auto addRule = [&](const char* id, const char* text, const char* help, const char* level) {
    rapidjson::Value rule(rapidjson::kObjectType);
    rule.AddMember("id", rapidjson::StringRef(id), a);
    rule.AddMember("name", rapidjson::StringRef(id), a);
    rapidjson::Value sd(rapidjson::kObjectType);
    sd.AddMember("text", rapidjson::StringRef(text), a);
    rule.AddMember("shortDescription", sd, a);
    rapidjson::Value h(rapidjson::kObjectType);
    h.AddMember("text", rapidjson::StringRef(help), a);
    rule.AddMember("help", h, a);
    rapidjson::Value conf(rapidjson::kObjectType);
    conf.AddMember("level", rapidjson::StringRef(level), a);
    rule.AddMember("defaultConfiguration", conf, a);
    rules.PushBack(rule, a);
    return rules.Size() - 1;
  };
  unsigned index = addRule(
      "image-secret", "Secret in a file of an image layer",
      "A credential is stored in a file of the image (a deleted file is still in its layer). "
      "Rotate it, and pass secrets at run time or through BuildKit secret mounts.",
      "error");
  unsigned vindex =
      addRule("image-vulnerability", "Package with a known vulnerability",
              "An installed package is affected by a published advisory. Upgrade it to the fixed "
              "version, or rebuild on a base image that has it.",
              "warning");
  rapidjson::Value& results = run["results"];
  for (const image::SecretFinding& f : s.secrets) {
    std::string layer = s.src.layers.empty() ? std::string() : s.src.layers[f.layer].digest;
    rapidjson::Value r(rapidjson::kObjectType);
    r.AddMember("ruleId", "image-secret", a);
    r.AddMember("ruleIndex", index, a);
    r.AddMember("level", "error", a);
    rapidjson::Value msg(rapidjson::kObjectType);
    msg.AddMember(
        "text",
        str(fmt::format("{} ({}) in {}, layer {}{}", f.title, f.redacted, f.path, f.layer,
                        f.deleted ? " (deleted by a later layer, still in the image)" : "")),
        a);
    r.AddMember("message", msg, a);
    r.AddMember("locations",
                locations(f.path, f.line, fmt::format("{}:{}", s.src.path, f.path), "member"), a);
    rapidjson::Value fp(rapidjson::kObjectType);
    fp.AddMember("kubeharden/v1",
                 str(fingerprintHex(f.path + "\n" + f.rule_id + "\n" + f.fingerprint)), a);
    r.AddMember("partialFingerprints", fp, a);
    rapidjson::Value props(rapidjson::kObjectType);
    props.AddMember("severity", str(severityName(image::secretSeverity(f))), a);
    props.AddMember("secretRule", str(f.rule_id), a);
    props.AddMember("layer", str(layer), a);
    props.AddMember("deleted", f.deleted, a);
    r.AddMember("properties", props, a);
    results.PushBack(r, a);
  }
  for (const vuln::Vulnerability& v : s.vulns) {
    rapidjson::Value r(rapidjson::kObjectType);
    r.AddMember("ruleId", "image-vulnerability", a);
    r.AddMember("ruleIndex", vindex, a);
    std::string_view level = v.severity == "critical" || v.severity == "high" ? "error"
                             : v.severity == "medium"                         ? "warning"
                                                                              : "note";
    r.AddMember("level", str(level), a);
    rapidjson::Value msg(rapidjson::kObjectType);
    msg.AddMember(
        "text",
        str(fmt::format("{} in {} {} ({}){}", v.id, v.package->name, v.package->version, v.severity,
                        v.fixed.empty() ? ", no fix released" : ", fixed in " + v.fixed)),
        a);
    r.AddMember("message", msg, a);
    r.AddMember("locations", locations(v.package->path, 0, v.package->purl, "package"), a);
    rapidjson::Value fp(rapidjson::kObjectType);
    fp.AddMember("kubeharden/v1", str(fingerprintHex(v.id + "\n" + v.package->purl)), a);
    r.AddMember("partialFingerprints", fp, a);
    rapidjson::Value props(rapidjson::kObjectType);
    props.AddMember("severity", str(v.severity), a);
    props.AddMember("package", str(v.package->name), a);
    props.AddMember("version", str(v.package->version), a);
    props.AddMember("purl", str(v.package->purl), a);
    if (!v.fixed.empty()) props.AddMember("fixed", str(v.fixed), a);
    rapidjson::Value aliases(rapidjson::kArrayType);
    for (const auto& al : v.aliases) aliases.PushBack(str(al), a);
    props.AddMember("aliases", aliases, a);
    r.AddMember("properties", props, a);
    results.PushBack(r, a);
  }
  if (!s.licenses.empty()) {
    unsigned denied_rule = addRule(
        "image-license-denied", "Package under a denied licence",
        "An installed package is under a licence the policy denies (--license-deny, "
        "image.licenses.deny), with no allowed alternative in its licence expression. Remove or "
        "replace the package, or change the policy.",
        "error");
    unsigned unknown_rule = addRule(
        "image-license-unknown", "Package whose licence is unknown",
        "No SPDX licence could be named for an installed package (none declared, a LicenseRef, "
        "or text kubeharden does not recognise): review it by hand.",
        "note");
    for (const image::LicenseFinding& f : s.licenses) {
      bool denied = f.judgement.verdict == image::LicenseVerdict::kDenied;
      rapidjson::Value r(rapidjson::kObjectType);
      r.AddMember("ruleId",
                  rapidjson::StringRef(denied ? "image-license-denied" : "image-license-unknown"),
                  a);
      r.AddMember("ruleIndex", denied ? denied_rule : unknown_rule, a);
      Severity sev = licenseSeverity(s, f);
      r.AddMember("level",
                  str(sev >= Severity::kHigh     ? "error"
                      : sev >= Severity::kMedium ? "warning"
                                                 : "note"),
                  a);
      std::string lic = f.package->licenses.empty()
                            ? std::string("no licence found")
                            : fmt::format("{}", fmt::join(f.package->licenses, ", "));
      rapidjson::Value msg(rapidjson::kObjectType);
      msg.AddMember("text",
                    str(denied ? fmt::format("{} {} is under {}, denied by the licence policy ({})",
                                             f.package->name, f.package->version, lic,
                                             fmt::join(f.judgement.denied, ", "))
                               : fmt::format("{} {}: licence unknown ({})", f.package->name,
                                             f.package->version, lic)),
                    a);
      r.AddMember("message", msg, a);
      r.AddMember("locations", locations(f.package->path, 0, f.package->purl, "package"), a);
      rapidjson::Value fp(rapidjson::kObjectType);
      fp.AddMember(
          "kubeharden/v1",
          str(fingerprintHex(std::string(denied ? "denied" : "unknown") + "\n" + f.package->purl)),
          a);
      r.AddMember("partialFingerprints", fp, a);
      results.PushBack(r, a);
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string toJson(const std::vector<Scanned>& all) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, std::string_view v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  // A finding's package, as vulnerabilities and licence findings name it.
  auto package = [&](const image::Package& p) {
    w.Key("package");
    w.StartObject();
    str("name", p.name);
    str("version", p.version);
    str("type", p.type);
    str("purl", p.purl);
    w.EndObject();
  };
  w.StartObject();
  str("schema", "kubeharden/image/v1");
  w.Key("images");
  w.StartArray();
  for (const Scanned& s : all) {
    w.StartObject();
    w.Key("image");
    w.StartObject();
    str("path", s.src.path);
    str("format", s.src.format);
    if (!s.src.index_digest.empty()) str("indexDigest", s.src.index_digest);
    str("manifestDigest", s.src.manifest_digest);
    str("configDigest", s.src.config_digest);
    str("platform", s.src.platform.str());
    w.Key("repoTags");
    w.StartArray();
    for (const auto& t : s.src.repo_tags) w.String(t.c_str());
    w.EndArray();
    w.EndObject();
    w.Key("os");
    if (s.inv.os) {
      w.StartObject();
      str("id", s.inv.os->id);
      str("versionId", s.inv.os->version_id);
      str("prettyName", s.inv.os->pretty_name);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("layers");
    w.StartArray();
    for (size_t i = 0; i < s.src.layers.size(); ++i) {
      w.StartObject();
      str("digest", s.src.layers[i].digest);
      str("diffId", s.src.layers[i].diff_id);
      str("mediaType", s.src.layers[i].media_type);
      w.Key("files");
      w.Uint64(s.layer_files[i]);
      w.Key("bytes");
      w.Uint64(s.layer_bytes[i]);
      w.Key("cached");
      w.Bool(i < s.layer_cached.size() && s.layer_cached[i]);
      if (s.src.layers[i].foreign) {
        w.Key("scanned");
        w.Bool(false);
        str("reason", "non-distributable (foreign) layer: not fetched");
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("files");
    w.Uint64(s.files);
    if (s.vulns_scanned) {
      w.Key("vulnerabilities");
      w.StartArray();
      for (const vuln::Vulnerability& v : s.vulns) {
        w.StartObject();
        str("id", v.id);
        w.Key("aliases");
        w.StartArray();
        for (const auto& al : v.aliases) w.String(al.c_str());
        w.EndArray();
        package(*v.package);
        str("ecosystem", v.ecosystem);
        if (v.fixed.empty()) {
          w.Key("fixed");
          w.Null();
        } else {
          str("fixed", v.fixed);
        }
        str("severity", v.severity);
        if (!v.cvss.empty()) {
          str("cvss", v.cvss);
          w.Key("score");
          w.Double(v.score);
        }
        if (!v.severity_from.empty()) str("severityFrom", v.severity_from);
        str("summary", v.summary);
        str("layer", s.src.layers.empty() ? std::string() : s.src.layers[v.package->layer].digest);
        w.EndObject();
      }
      w.EndArray();
      w.Key("ignoredVulnerabilities");
      w.StartArray();
      for (const vuln::Ignored& ig : s.ignored) {
        w.StartObject();
        str("id", ig.vuln.id);
        str("package", ig.vuln.package->name);
        str("version", ig.vuln.package->version);
        str("reason", ig.rule->reason);
        if (!ig.rule->expires.empty()) str("expires", ig.rule->expires);
        w.EndObject();
      }
      w.EndArray();
    }
    if (s.licenses_judged) {
      w.Key("licenses");
      w.StartObject();
      w.Key("findings");
      w.StartArray();
      for (const image::LicenseFinding& f : s.licenses) {
        w.StartObject();
        package(*f.package);
        w.Key("licenses");
        w.StartArray();
        for (const std::string& l : f.package->licenses) w.String(l.c_str());
        w.EndArray();
        bool denied = f.judgement.verdict == image::LicenseVerdict::kDenied;
        str("verdict", denied ? "denied" : "unknown");
        w.Key("denied");
        w.StartArray();
        for (const std::string& l : f.judgement.denied) w.String(l.c_str());
        w.EndArray();
        str("severity", severityName(licenseSeverity(s, f)));
        str("layer", s.src.layers.empty() ? std::string() : s.src.layers[f.package->layer].digest);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.Key("secrets");
    w.StartArray();
    for (const image::SecretFinding& f : s.secrets) {
      w.StartObject();
      str("ruleId", f.rule_id);
      str("title", f.title);
      str("path", f.path);
      w.Key("line");
      w.Uint(f.line);
      str("layer", s.src.layers.empty() ? std::string() : s.src.layers[f.layer].digest);
      w.Key("deleted");
      w.Bool(f.deleted);
      str("match", f.redacted);
      w.EndObject();
    }
    w.EndArray();
    w.Key("secretScan");
    w.StartObject();
    w.Key("files");
    w.Uint64(s.secret_stats.files);
    w.Key("skippedBinary");
    w.Uint64(s.secret_stats.skipped_binary);
    w.Key("skippedLarge");
    w.Uint64(s.secret_stats.skipped_large);
    w.Key("skippedPath");
    w.Uint64(s.secret_stats.skipped_path);
    w.EndObject();
    w.Key("configFindings");
    w.StartArray();
    for (const Finding& f : s.checks.findings) {
      if (f.suppressed) continue;
      w.StartObject();
      str("checkId", f.check_id);
      str("severity", severityName(f.severity));
      str("path", f.path);
      str("message", f.message);
      w.EndObject();
    }
    w.EndArray();
    w.Key("packages");
    w.StartArray();
    for (const auto& p : s.inv.packages) {
      w.StartObject();
      str("name", p.name);
      str("version", p.version);
      str("type", p.type);
      str("arch", p.arch);
      str("sourceName", p.source_name);
      str("sourceVersion", p.source_version);
      if (!p.epoch.empty()) str("epoch", p.epoch);
      w.Key("licenses");
      w.StartArray();
      for (const auto& l : p.licenses) w.String(l.c_str());
      w.EndArray();
      str("purl", p.purl);
      str("path", p.path);
      str("layer", s.src.layers[p.layer].digest);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string toText(const Scanned& s) {
  const auto& os = s.inv.os;
  std::string o = fmt::format("{} ({}, {})\n", s.src.path, s.src.format, s.src.platform.str());
  if (!s.src.repo_tags.empty()) o += fmt::format("  tags: {}\n", fmt::join(s.src.repo_tags, ", "));
  o += fmt::format("  os: {}\n",
                   os ? (os->pretty_name.empty() ? os->id + " " + os->version_id : os->pretty_name)
                      : std::string("unknown (no os-release, no package database)"));
  std::map<std::string, size_t> by_type;
  for (const auto& p : s.inv.packages) ++by_type[p.type];
  std::string counts;
  for (const auto& [type, n] : by_type)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, type);
  o += fmt::format("  {} layers, {} files in the final filesystem, {} packages{}\n",
                   s.src.layers.size(), s.files, s.inv.packages.size(),
                   counts.empty() ? "" : " (" + counts + ")");
  for (size_t i = 0; i < s.src.layers.size(); ++i)
    o +=
        s.src.layers[i].foreign
            ? fmt::format("    layer {} {} NOT SCANNED: non-distributable (foreign), not fetched\n",
                          i, s.src.layers[i].digest)
            : fmt::format("    layer {} {} {} files, {} bytes\n", i, s.src.layers[i].digest,
                          s.layer_files[i], s.layer_bytes[i]);
  if (!s.secrets.empty())
    o += fmt::format(
        "  secrets ({} text files scanned; {} binary, {} over {} MiB, {} documentation "
        "files skipped):\n",
        s.secret_stats.files, s.secret_stats.skipped_binary, s.secret_stats.skipped_large,
        image::kSecretFileCap >> 20, s.secret_stats.skipped_path);
  for (const image::SecretFinding& f : s.secrets)
    o += fmt::format("    {} {}:{} {} ({}) layer {}{}\n",
                     toUpper(severityName(image::secretSeverity(f))), f.path, f.line, f.title,
                     f.redacted, f.layer, f.deleted ? ", deleted by a later layer" : "");
  if (s.vulns_scanned) {
    std::map<std::string, size_t> by;
    for (const auto& v : s.vulns) ++by[v.severity];
    std::string counts;
    for (const char* sev : {"critical", "high", "medium", "low", "unknown"})
      if (by[sev]) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", by[sev], sev);
    o += fmt::format(
        "  vulnerabilities: {}{}{}\n", s.vulns.size(), counts.empty() ? "" : " (" + counts + ")",
        s.ignored.empty()
            ? ""
            : fmt::format("; {} ignored with reasons (see the ignore file)", s.ignored.size()));
    for (const auto& v : s.vulns)
      o += fmt::format("    {} {} {} {} -> {}{}\n", toUpper(v.severity), v.id, v.package->name,
                       v.package->version, v.fixed.empty() ? "no fix" : v.fixed,
                       v.aliases.empty() ? "" : fmt::format(" ({})", fmt::join(v.aliases, ", ")));
  }
  if (s.licenses_judged) {
    size_t denied = 0;
    for (const auto& f : s.licenses)
      denied += f.judgement.verdict == image::LicenseVerdict::kDenied;
    o += fmt::format("  licences: {} denied, {} unknown\n", denied, s.licenses.size() - denied);
    std::vector<std::string_view> unknown;
    for (const auto& f : s.licenses) {
      if (f.judgement.verdict != image::LicenseVerdict::kDenied) {
        unknown.push_back(f.package->name);
        continue;
      }
      o += fmt::format("    {} denied {} {}: {} (denied: {})\n",
                       toUpper(severityName(s.license_severity)), f.package->name,
                       f.package->version, fmt::join(f.package->licenses, ", "),
                       fmt::join(f.judgement.denied, ", "));
    }
    // Unknown licences are for review, not alarm: names only (JSON and SARIF have the details).
    if (!unknown.empty()) {
      unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
      size_t shown = std::min<size_t>(unknown.size(), 12);
      o += fmt::format(
          "    INFO unknown licence: {}{}\n",
          fmt::join(unknown.begin(), unknown.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
          unknown.size() > shown
              ? fmt::format(" and {} more (-f json lists them)", unknown.size() - shown)
              : "");
    }
  }
  if (!s.checks.findings.empty()) o += "  image configuration:\n";
  for (const Finding& f : s.checks.findings)
    if (!f.suppressed)
      o += fmt::format("    {} {} {}: {}\n", toUpper(severityName(f.severity)), f.check_id, f.path,
                       f.message);
  std::string type;
  for (const auto& p : s.inv.packages) {
    if (p.type != type) {
      type = p.type;
      o += fmt::format("  {} packages:\n", type);
    }
    o += fmt::format(
        "    {} {}{}  layer {}{}\n", p.name, p.epoch.empty() ? "" : p.epoch + ":", p.version,
        p.layer, p.licenses.empty() ? "" : "  " + fmt::format("{}", fmt::join(p.licenses, ", ")));
  }
  return o;
}

}  // namespace kh
