#include "image/licenses.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace kh::image {

namespace {

// SPDX license identifiers (spdx.org/licenses) that packages commonly use.
constexpr std::string_view kSpdxIds[] = {
    "0BSD",
    "AFL-2.1",
    "AFL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "APSL-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "Beerware",
    "BlueOak-1.0.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-2-Clause-Patent",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSD-4-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CPL-1.0",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.1",
    "EUPL-1.2",
    "FSFAP",
    "FSFUL",
    "FSFULLR",
    "FTL",
    "GFDL-1.2-only",
    "GFDL-1.2-or-later",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "IJG",
    "ICU",
    "IPL-1.0",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "Libpng",
    "libtiff",
    "LPPL-1.3c",
    "MIT",
    "MIT-0",
    "MPL-1.0",
    "MPL-1.1",
    "MPL-2.0",
    "MS-PL",
    "NCSA",
    "OFL-1.1",
    "OpenSSL",
    "OLDAP-2.8",
    "PHP-3.0",
    "PHP-3.01",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "SGI-B-2.0",
    "Sleepycat",
    "TCL",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.0",
    "ZPL-2.1",
    "GPL-2.0-with-classpath-exception",
    "MIT-CMU",
    "BSD-Source-Code",
    "GD",
    "Spencer-94",
};
// Exceptions usable after WITH.
constexpr std::string_view kExceptions[] = {"Classpath-exception-2.0", "GCC-exception-3.1",
                                            "LLVM-exception",          "OpenSSL-exception",
                                            "Autoconf-exception-3.0",  "Bison-exception-2.2"};

// Spellings seen in package metadata (lower case, spaces and underscores as written).
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"gpl", "GPL-2.0-or-later"},  // rpm/apk "GPL" without a version
    {"gplv2", "GPL-2.0-only"},
    {"gplv2+", "GPL-2.0-or-later"},
    {"gpl2", "GPL-2.0-only"},
    {"gpl-2", "GPL-2.0-only"},
    {"gpl-2+", "GPL-2.0-or-later"},
    {"gpl-2.0", "GPL-2.0-only"},
    {"gpl-2.0+", "GPL-2.0-or-later"},
    {"gplv3", "GPL-3.0-only"},
    {"gplv3+", "GPL-3.0-or-later"},
    {"gpl3", "GPL-3.0-only"},
    {"gpl-3", "GPL-3.0-only"},
    {"gpl-3+", "GPL-3.0-or-later"},
    {"gpl-3.0", "GPL-3.0-only"},
    {"gpl-3.0+", "GPL-3.0-or-later"},
    {"gpl-1+", "GPL-1.0-or-later"},
    {"gplv1+", "GPL-1.0-or-later"},
    {"gpl+", "GPL-1.0-or-later"},
    {"lgpl", "LGPL-2.0-or-later"},
    {"lgplv2", "LGPL-2.0-only"},
    {"lgplv2+", "LGPL-2.0-or-later"},
    {"lgpl-2", "LGPL-2.0-only"},
    {"lgpl-2+", "LGPL-2.0-or-later"},
    {"lgpl-2.0+", "LGPL-2.0-or-later"},
    {"lgplv2.1", "LGPL-2.1-only"},
    {"lgplv2.1+", "LGPL-2.1-or-later"},
    {"lgpl-2.1", "LGPL-2.1-only"},
    {"lgpl-2.1+", "LGPL-2.1-or-later"},
    {"lgplv3", "LGPL-3.0-only"},
    {"lgplv3+", "LGPL-3.0-or-later"},
    {"lgpl-3", "LGPL-3.0-only"},
    {"lgpl-3+", "LGPL-3.0-or-later"},
    {"lgpl-3.0", "LGPL-3.0-only"},
    {"lgpl-3.0+", "LGPL-3.0-or-later"},
    {"agplv3", "AGPL-3.0-only"},
    {"agplv3+", "AGPL-3.0-or-later"},
    {"agpl-3", "AGPL-3.0-only"},
    {"agpl-3+", "AGPL-3.0-or-later"},
    {"agpl-3.0", "AGPL-3.0-only"},
    {"gfdl-1.2+", "GFDL-1.2-or-later"},
    {"gfdl-1.2", "GFDL-1.2-only"},
    {"gfdl-1.3", "GFDL-1.3-only"},
    {"gfdl-nis", "GFDL-1.2-only"},
    {"lgpl-2.0", "LGPL-2.0-only"},
    {"bsd-3-clause-clear", "BSD-3-Clause-Clear"},
    {"gfdl-1.3+", "GFDL-1.3-or-later"},
    {"gfdl", "GFDL-1.3-or-later"},
    {"expat", "MIT"},
    {"mit license", "MIT"},
    {"the mit license", "MIT"},
    {"mit/x11", "MIT"},
    {"asl 2.0", "Apache-2.0"},
    {"asl-2.0", "Apache-2.0"},
    {"apache 2.0", "Apache-2.0"},
    {"apache 2", "Apache-2.0"},
    {"apache2", "Apache-2.0"},
    {"apache-2", "Apache-2.0"},
    {"apache license 2.0", "Apache-2.0"},
    {"apache license, version 2.0", "Apache-2.0"},
    {"apache software license", "Apache-2.0"},
    {"apache license version 2.0", "Apache-2.0"},
    {"the apache software license, version 2.0", "Apache-2.0"},
    {"the apache license, version 2.0", "Apache-2.0"},
    {"asl 1.1", "Apache-1.1"},
    {"bsd", "BSD-3-Clause"},
    {"bsd-3-clause", "BSD-3-Clause"},
    {"bsd-3", "BSD-3-Clause"},
    {"bsd 3-clause", "BSD-3-Clause"},
    {"new bsd license", "BSD-3-Clause"},
    {"bsd license", "BSD-3-Clause"},
    {"bsd-2-clause", "BSD-2-Clause"},
    {"bsd-2", "BSD-2-Clause"},
    {"bsd 2-clause", "BSD-2-Clause"},
    {"simplified bsd license", "BSD-2-Clause"},
    {"bsd-4-clause", "BSD-4-Clause"},
    {"isc license", "ISC"},
    {"zlib", "Zlib"},
    {"zlib/libpng", "Zlib"},
    {"mpl-2.0", "MPL-2.0"},
    {"mplv2.0", "MPL-2.0"},
    {"mozilla public license 2.0 (mpl 2.0)", "MPL-2.0"},
    {"mplv1.1", "MPL-1.1"},
    {"psf", "PSF-2.0"},
    {"python", "Python-2.0"},
    {"python software foundation license", "PSF-2.0"},
    {"artistic", "Artistic-1.0-Perl"},
    {"artistic 2.0", "Artistic-2.0"},
    {"artistic-2", "Artistic-2.0"},
    {"perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
    {"public domain", "LicenseRef-public-domain"},
    {"public-domain", "LicenseRef-public-domain"},
    {"cc0", "CC0-1.0"},
    {"cc0-1.0", "CC0-1.0"},
    {"unlicense", "Unlicense"},
    {"the unlicense", "Unlicense"},
    {"epl-1.0", "EPL-1.0"},
    {"eclipse public license 1.0", "EPL-1.0"},
    {"eclipse public license - v 1.0", "EPL-1.0"},
    {"eclipse public license - v 2.0", "EPL-2.0"},
    {"eclipse public license 2.0", "EPL-2.0"},
    {"cddl", "CDDL-1.0"},
    {"openssl", "OpenSSL"},
    {"boost", "BSL-1.0"},
    {"boost software license 1.0", "BSL-1.0"},
    {"ofl", "OFL-1.1"},
    {"wtfpl", "WTFPL"},
    {"isc", "ISC"},
    {"mit", "MIT"},
    {"ruby", "Ruby"},
    {"vim", "Vim"},
    {"postgresql", "PostgreSQL"},
    {"w3c", "W3C"},
    {"x11", "X11"},
    {"ncsa", "NCSA"},
    {"libpng", "Libpng"},
    {"curl", "curl"},
    {"sleepycat", "Sleepycat"},
    {"tcl", "TCL"},
    {"ijg", "IJG"},
    {"hpnd", "HPND"},
    {"ftl", "FTL"},
    {"php-3.01", "PHP-3.01"},
    {"unicode-dfs-2016", "Unicode-DFS-2016"},
    {"bzip2-1.0.6", "bzip2-1.0.6"},
};

bool knownException(std::string_view s) {
  return std::find(std::begin(kExceptions), std::end(kExceptions), s) != std::end(kExceptions);
}

// One licence name (no AND/OR) to its SPDX form, or empty when unknown.
std::string single(std::string_view s) {
  s = trim(s);
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') s = trim(s.substr(1, s.size() - 2));
  if (s.empty()) return {};
  if (isKnownSpdxId(s) || s.starts_with("LicenseRef-")) return std::string(s);
  for (std::string_view id : kSpdxIds)
    if (iequals(id, s)) return std::string(id);
  std::string low = toLower(s);
  // PyPI classifiers: "License :: OSI Approved :: MIT License".
  if (size_t c = low.rfind("::"); c != std::string::npos)
    low = std::string(trim(low.substr(c + 2)));
  for (const auto& [alias, id] : kAliases)
    if (low == alias) return std::string(id);
  // "GPL-2.0" style SPDX ids deprecated in favour of -only / -or-later.
  for (std::string_view v : {"gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0"}) {
    if (low == std::string(v) + "-only" || low == std::string(v) + "-or-later") {
      for (std::string_view id : kSpdxIds)
        if (iequals(id, low)) return std::string(id);
    }
  }
  if (low.ends_with(" license")) return single(s.substr(0, s.size() - 8));
  // "ISC License (ISCL)": a trailing abbreviation in parentheses.
  if (size_t open = s.rfind(" ("); open != std::string_view::npos && s.ends_with(")"))
    return single(s.substr(0, open));
  return {};
}

// Splits at a word (" and ", " or ", " with ") outside parentheses, case-insensitively.
std::vector<std::pair<std::string, std::string>> tokens(std::string_view s) {
  // Returns (operator, operand) pairs; the first operator is empty.
  std::vector<std::pair<std::string, std::string>> out{{"", ""}};
  int depth = 0;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && c == ' ') {
      for (std::string_view op : {" and ", " or ", " with ", " / "}) {
        if (i + op.size() <= s.size() && iequals(s.substr(i, op.size()), op)) {
          std::string name = op == " / " ? "OR" : toUpper(trim(op));
          out.emplace_back(name, "");
          i += op.size();
          goto next;
        }
      }
    }
    out.back().second += c;
    ++i;
  next:;
  }
  return out;
}

}  // namespace

void addLicense(std::vector<std::string>& out, std::string_view declared) {
  std::string id = normaliseLicense(declared);
  if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

std::vector<std::string_view> knownSpdxIds() {
  return {std::begin(kSpdxIds), std::end(kSpdxIds)};
}

bool isKnownSpdxId(std::string_view id) {
  return std::find(std::begin(kSpdxIds), std::end(kSpdxIds), id) != std::end(kSpdxIds);
}

bool isSpdxExpression(std::string_view expr) {
  auto parts = tokens(expr);
  for (const auto& [op, operand] : parts) {
    std::string_view p = trim(operand);
    if (p.starts_with("(") && p.ends_with(")")) {
      if (!isSpdxExpression(p.substr(1, p.size() - 2))) return false;
      continue;
    }
    if (p.empty() || p.find_first_of(" ()") != std::string_view::npos) return false;
    bool ok = op == "WITH" ? knownException(p) : (isKnownSpdxId(p) || p.starts_with("LicenseRef-"));
    if (!ok) return false;
  }
  return true;
}

std::string normaliseLicense(std::string_view declared) {
  std::string_view d = trim(declared);
  if (d.empty()) return {};
  if (std::string one = single(d); !one.empty()) return one;
  // Expressions: "GPLv2+ and LGPLv2+", "(MIT OR Apache-2.0)", "BSD-3-clause or GPL-2".
  auto parts = tokens(d);
  if (parts.size() < 2) return std::string(d);
  std::string out;
  for (auto& [op, operand] : parts) {
    std::string_view o = trim(operand);
    std::string id;
    if (o.starts_with("(") && o.ends_with(")")) {
      std::string inner = normaliseLicense(o.substr(1, o.size() - 2));
      if (isSpdxExpression(inner))
        id = inner.find(' ') == std::string::npos ? inner : "(" + inner + ")";
    } else {
      id = op == "WITH" && knownException(o) ? std::string(o) : single(o);
    }
    if (id.empty()) return std::string(d);
    if (id.find(' ') != std::string::npos && !id.starts_with("(")) id = "(" + id + ")";
    if (!op.empty()) out += " " + op + " ";
    out += id;
  }
  return out;
}

}  // namespace kh::image
