#include "image/secrets.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "checks/secrets/rules.h"

namespace kh::image {

namespace {

// Trees that hold no configuration: scanning them only finds examples in documentation.
bool skippedPath(std::string_view p) {
  for (std::string_view dir :
       {"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/",
        "usr/share/i18n/", "usr/share/zoneinfo/", "usr/share/mime/", "usr/share/icons/",
        "usr/include/", "var/lib/dpkg/info/", "usr/share/perl5/", "usr/share/perl/"})
    if (p.starts_with(dir)) return true;
  if (p.ends_with(".md5sums")) return true;
  // Python package metadata is the project's README (its usage examples carry sample tokens).
  if (p.ends_with(".dist-info/METADATA") || p.ends_with(".egg-info/PKG-INFO")) return true;
  // Test data, examples and documentation inside packages: keys and passwords there are fixtures.
  for (std::string_view dir :
       {"test", "tests", "testdata", "testing", "__tests__", "spec", "example", "examples",
        "sample", "samples", "doc", "docs", "fixtures", "dummyserver"}) {
    for (size_t at = p.find(dir); at != std::string_view::npos; at = p.find(dir, at + 1)) {
      bool start = at == 0 || p[at - 1] == '/';
      bool end = at + dir.size() < p.size() && p[at + dir.size()] == '/';
      if (start && end) return true;
    }
  }
  return false;
}

bool sourceCode(std::string_view p) {
  std::string_view base = p.substr(p.rfind('/') + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view ext = base.substr(dot + 1);
  for (std::string_view e :
       {"py",  "go", "js",  "mjs", "cjs", "ts",  "java", "c",     "h",  "cc",    "cpp",
        "hpp", "rb", "php", "pl",  "pm",  "rs",  "cs",   "swift", "kt", "scala", "lua",
        "vim", "el", "tcl", "pas", "pp",  "inc", "html", "md",    "rst"})
    if (iequals(ext, e)) return true;
  return false;
}

// Configuration files, where `password = ...` is an assignment of a literal; in source code it is
// an expression, so only known credential formats are looked for there.
bool configLike(std::string_view p) {
  std::string_view base = p.substr(p.rfind('/') + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return true;  // no extension, or a dotfile
  std::string_view ext = base.substr(dot + 1);
  for (std::string_view e :
       {"env", "conf", "cfg", "cnf", "ini", "properties", "yaml", "yml", "toml", "sh", "bash",
        "zsh", "npmrc", "pypirc", "netrc", "config", "secret", "secrets", "credentials"})
    if (iequals(ext, e)) return true;
  return p.starts_with("etc/");
}

}  // namespace

ContentHandler secretsHandler(size_t cap) {
  ContentHandler h;
  h.max_bytes = cap;
  h.wants = [cap](const TarEntry& e, LayerFiles& out) {
    if (e.size <= 0) return ContentHandler::Want::kNo;
    if (skippedPath(e.path)) {
      ++out.secret_stats.skipped_path;
      return ContentHandler::Want::kNo;
    }
    if (static_cast<uint64_t>(e.size) > cap) {
      ++out.secret_stats.skipped_large;
      return ContentHandler::Want::kNo;
    }
    return ContentHandler::Want::kAll;
  };
  h.handle = [](const TarEntry& e, std::string_view content, LayerFiles& out) {
    if (content.substr(0, 8192).find('\0') != std::string_view::npos) {
      ++out.secret_stats.skipped_binary;
      return;
    }
    ++out.secret_stats.files;
    bool code = sourceCode(e.path);
    scanConfigText(
        content,
        [&](const ConfigSecret& s) {
          // In source code a PEM header or a URL with a password is a parser constant or an
          // example; token formats (AKIA..., ghp_...) are reported wherever they are.
          if (code && (s.rule_id == "private-key" || s.rule_id == "url-with-password")) return;
          SecretFinding f;
          f.path = e.path;
          f.line = s.line;
          f.rule_id = s.rule_id;
          f.title = s.title;
          bool known = s.rule_id != "credential-assignment";
          f.redacted =
              known ? redact(s.value, true) : fmt::format("{}={}", s.key, redact(s.value, false));
          f.fingerprint = fingerprintHex(s.value);
          out.secrets.push_back(std::move(f));
        },
        configLike(e.path));
  };
  return h;
}

std::vector<SecretFinding> collectSecrets(const Filesystem& fs) {
  std::vector<SecretFinding> out;
  std::set<std::tuple<std::string, std::string, std::string>> seen;  // path, rule, value
  const auto& layers = fs.layers();
  for (uint32_t i = 0; i < layers.size(); ++i) {
    for (SecretFinding f : layers[i].secrets) {
      if (!seen.emplace(f.path, f.rule_id, f.fingerprint).second) continue;
      f.layer = i;
      // Still in the image when the final file comes from this layer, or from a later one whose
      // copy holds the same secret.
      auto it = fs.files().find(f.path);
      bool present = false;
      if (it != fs.files().end() && it->second.layer >= i) {
        uint32_t j = it->second.layer;
        present = j == i || std::any_of(layers[j].secrets.begin(), layers[j].secrets.end(),
                                        [&](const SecretFinding& g) {
                                          return g.path == f.path && g.fingerprint == f.fingerprint;
                                        });
      }
      f.deleted = !present;
      out.push_back(std::move(f));
    }
  }
  std::sort(out.begin(), out.end(), [](const SecretFinding& a, const SecretFinding& b) {
    return std::tie(a.path, a.line, a.rule_id) < std::tie(b.path, b.line, b.rule_id);
  });
  return out;
}

Severity secretSeverity(const SecretFinding& f) {
  return f.rule_id == "credential-assignment" ? Severity::kHigh : Severity::kCritical;
}

SecretStats secretStats(const Filesystem& fs) {
  SecretStats s;
  for (const LayerFiles& l : fs.layers()) {
    s.files += l.secret_stats.files;
    s.skipped_binary += l.secret_stats.skipped_binary;
    s.skipped_large += l.secret_stats.skipped_large;
    s.skipped_path += l.secret_stats.skipped_path;
  }
  return s;
}

}  // namespace kh::image
