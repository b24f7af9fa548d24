// Licence policy: which installed packages are under licences the organisation refuses
// (`image scan --license-deny`, config `image.licenses.deny`), and which have no licence
// kubeharden can name.
//
// A package's licences all apply (a dpkg copyright file lists the licences of different files);
// within an SPDX expression, OR is a choice and AND is not: "MIT OR AGPL-3.0-only" is allowed
// when AGPL-3.0-only is denied, "MIT AND AGPL-3.0-only" is not. A licence kubeharden cannot
// name (declared text it does not recognise, a LicenseRef- other than public domain, or none at
// all) is "unknown" unless the package is denied anyway.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/inventory.h"

namespace kh::image {

struct LicensePolicy {
  // SPDX identifiers, compared without regard to case; '*' matches any run of characters
  // ("GPL-*", "*-only"). "X WITH exception" is judged by X.
  std::vector<std::string> deny;
};

// Parses a comma-separated deny list: each item an SPDX identifier (spelled as SPDX does when
// the case differs) or a glob. Items that are not identifiers (spaces, operators) are errors;
// `warnings` gets identifiers that are not on the SPDX licence list kubeharden knows.
Result<std::vector<std::string>> parseLicenseDenyList(std::string_view list,
                                                      std::vector<std::string>* warnings);

enum class LicenseVerdict { kAllowed, kUnknown, kDenied };

struct LicenseJudgement {
  LicenseVerdict verdict = LicenseVerdict::kAllowed;
  std::vector<std::string> denied;  // the denied identifiers the licences name
};

// One package's licences (as the inventory normalised them) against the deny list.
LicenseJudgement judgeLicenses(const std::vector<std::string>& licenses,
                               const std::vector<std::string>& deny);

struct LicenseFinding {
  const Package* package = nullptr;
  LicenseJudgement judgement;
};

// The packages that are denied or of unknown licence, in inventory order.
std::vector<LicenseFinding> evaluateLicensePolicy(const Inventory& inv,
                                                  const LicensePolicy& policy);

}  // namespace kh::image
