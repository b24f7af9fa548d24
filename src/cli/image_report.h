// The reports of `kubeharden image scan`: what one scanned image holds (Scanned) and its
// renderings as text, kubeharden/image/v1 JSON and SARIF (the SBOM formats are image/sbom.h's).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "checks/check.h"
#include "image/inventory.h"
#include "image/layout.h"
#include "image/license_policy.h"
#include "image/secrets.h"
#include "scan/scan.h"
#include "vuln/ignore.h"
#include "vuln/scan.h"

namespace kh {

struct Scanned {
  image::ImageSource src;
  ScanResult checks;  // the image-config-* checks on the image's config
  std::vector<uint64_t> layer_files, layer_bytes;
  std::vector<bool> layer_cached;
  image::Inventory inv;
  std::vector<vuln::Vulnerability> vulns;
  std::vector<vuln::Ignored> ignored;
  bool vulns_scanned = false;
  bool licenses_judged = false;  // a licence policy was given
  std::vector<image::LicenseFinding> licenses;
  Severity license_severity = Severity::kHigh;
  std::vector<image::SecretFinding> secrets;
  image::SecretStats secret_stats;
  size_t files = 0;
};

// A licence finding's severity: the policy's for a denied licence, info for an unknown one.
Severity licenseSeverity(const Scanned& s, const image::LicenseFinding& f);

// SARIF 2.1.0: the image-config-* findings, secrets, vulnerabilities and licence findings.
std::string sarifOf(const Scanned& s);
// kubeharden/image/v1 JSON for every scanned image.
std::string toJson(const std::vector<Scanned>& all);
// The human-readable report of one image.
std::string toText(const Scanned& s);

}  // namespace kh
