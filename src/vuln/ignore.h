// The vulnerability ignore file: advisories a team has judged and accepted, each with a reason
// and optionally an expiry date, after which the finding comes back (and the lapse is said).
//
//   vulnerabilities:
//     - id: CVE-2023-1234        # the advisory ID or any of its aliases
//       package: openssl         # optional: only this package
//       reason: TLS server not used; tracked in JIRA-42
//       expires: 2027-01-31      # optional (YYYY-MM-DD)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/source_pos.h"
#include "vuln/scan.h"

namespace kh::vuln {

struct IgnoreRule {
  std::string id, package, reason, expires;
  SourcePos pos;
};

// Errors name the file and line: a rule without id or reason, an unknown key, a bad date.
Result<std::vector<IgnoreRule>> loadIgnoreFile(const std::string& path);

struct Ignored {
  Vulnerability vuln;
  const IgnoreRule* rule = nullptr;
};

struct IgnoreOutcome {
  std::vector<Ignored> ignored;
  std::vector<const IgnoreRule*> lapsed;  // expired before `today`: no longer applied
};

// Removes the findings the rules cover (a lapsed rule covers nothing).
IgnoreOutcome applyIgnores(std::vector<Vulnerability>& vulns, const std::vector<IgnoreRule>& rules,
                           std::string_view today);

}  // namespace kh::vuln
