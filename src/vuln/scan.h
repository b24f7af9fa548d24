// Vulnerabilities of an image's packages: each package mapped to its OSV ecosystem and name
// (Debian and Ubuntu by source package, Alpine by origin, rpm distributions by binary name with
// the epoch, language packages by their registries), looked up in the local database, judged
// with the ecosystem's own version order, with a severity from the advisory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/inventory.h"
#include "vuln/db.h"

namespace kh::vuln {

struct PackageKey {
  std::string ecosystem, name, version;
};

// The OSV coordinates of a package, or nullopt when there is no ecosystem to look it up in
// (an unknown distribution or release, a type OSV does not cover).
std::optional<PackageKey> osvKey(const image::Package& p, const std::optional<image::OsInfo>& os);

struct Vulnerability {
  std::string id;
  std::vector<std::string> aliases;
  std::string summary;
  const image::Package* package = nullptr;
  std::string ecosystem;
  std::string fixed;     // empty: no fix released
  std::string severity;  // critical, high, medium, low, unknown
  std::string cvss;      // the vector, when the advisory gives one
  double score = -1;     // its base score, when computed
  // When no database of this finding rated it: the other stored advisory (same CVE or alias)
  // whose CVSS vector gave `severity`, `cvss` and `score`. Empty for a rating of its own.
  std::string severity_from;
};

// Every advisory that affects a package of `inv` (withdrawn ones skipped), sorted by package
// then advisory ID; one finding per (package, vulnerability): advisories of the same package
// linked by IDs or aliases (one CVE described by PYSEC and GHSA, or by DSA and DEBIAN-CVE) are
// merged into one finding that lists the other IDs as aliases.
std::vector<Vulnerability> findVulnerabilities(const VulnDb& db, const image::Inventory& inv);

}  // namespace kh::vuln
