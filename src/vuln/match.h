// Matching installed packages against OSV advisories, with OSV's semantics: per range, events
// in version order (introduced, fixed, last_affected, limit), several ranges per package, the
// explicit `versions` list, withdrawn advisories ignored; ECOSYSTEM ranges compared with the
// ecosystem's own version order, SEMVER ranges as SemVer. Also the CVSS v3.x base score from a
// vector, for advisories that give only the vector.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kh::vuln {

using VersionCmp = int (*)(std::string_view, std::string_view);

// The comparator of an OSV ecosystem ("Debian:12", "AlmaLinux:9", "PyPI", "npm", ...); null
// when kubeharden has none (the advisory is then not judged, never guessed).
VersionCmp comparatorFor(std::string_view ecosystem);

// PEP 503 name normalisation for PyPI (lower case, runs of -_. to -); other ecosystems' names
// are compared as given.
std::string normalisePackageName(std::string_view ecosystem, std::string_view name);

struct RangeVerdict {
  bool affected = false;
  std::string fixed;  // the fixed version of the range that matched (empty: no fix known)
  // The entry's own rating (ecosystem_specific, else database_specific "severity", as
  // severityFromWord reads it), found in the same parse; empty when it has none.
  std::string severity;
};

// critical, high, medium or low from a database's own word (Important is high, Moderate medium,
// Negligible and Debian's unimportant low); empty for anything else.
std::string severityFromWord(std::string_view word);

// Is `version` affected according to one OSV `affected` entry (its JSON with "ranges" and
// "versions")? Unknown range types and events are ignored; malformed JSON affects nothing.
RangeVerdict affects(std::string_view ranges_json, std::string_view ecosystem,
                     std::string_view version);

// CVSS v3.0/v3.1 base score (0.0-10.0) of a vector "CVSS:3.1/AV:N/AC:L/...", nullopt when the
// vector is not a complete, valid v3 base vector.
std::optional<double> cvss3BaseScore(std::string_view vector);
// The qualitative rating of a CVSS v3 score: none, low, medium, high, critical.
std::string_view cvss3Rating(double score);

}  // namespace kh::vuln
