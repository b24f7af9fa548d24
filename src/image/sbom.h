// Software bills of materials for a scanned image: CycloneDX 1.6 JSON and SPDX 2.3 JSON, both
// valid against the official schemas (the tests validate every one they write). Licences are
// SPDX identifiers or expressions where normalised; others are kept as named licences
// (CycloneDX) or LicenseRef- entries with the declared text (SPDX), never dropped or guessed.
#pragma once

#include <string>
#include <string_view>

#include "image/inventory.h"
#include "image/layout.h"

namespace kh::image {

struct SbomMeta {
  std::string tool_version;  // kubeharden's
  std::string timestamp;     // RFC 3339 UTC, e.g. 2026-11-23T21:00:00Z
  std::string uuid;          // a random UUID (serial number, document namespace)
};

// The time and a fresh random UUID, for SbomMeta. SOURCE_DATE_EPOCH (reproducible builds) fixes
// the time when set.
SbomMeta sbomMetaNow(std::string tool_version);

// The image's name for documents: its first repo tag, else its file name.
std::string imageName(const ImageSource& src);

// A vulnerability of one of the inventory's packages, for the CycloneDX `vulnerabilities` list.
struct SbomVulnerability {
  std::string id;
  std::vector<std::string> aliases;
  size_t package = 0;  // index into Inventory::packages
  std::string fixed, severity, cvss, summary;
  double score = -1;
  std::string rating_source;  // the advisory the rating was borrowed from, when not its own
};

std::string toCycloneDx(const ImageSource& src, const Inventory& inv, const SbomMeta& meta,
                        const std::vector<SbomVulnerability>* vulns = nullptr);
std::string toSpdx(const ImageSource& src, const Inventory& inv, const SbomMeta& meta);

}  // namespace kh::image
