#include "fuzz/version_target.h"

#include <string>
#include <string_view>

#include "image/license_policy.h"
#include "vuln/match.h"
#include "vuln/version.h"

namespace kh {

namespace {

int sign(int v) {
  return v < 0 ? -1 : v > 0 ? 1 : 0;
}

void properties(int (*cmp)(std::string_view, std::string_view), std::string_view a,
                std::string_view b, std::string_view c, bool transitive = true) {
  if (cmp(a, a) != 0 || cmp(b, b) != 0) __builtin_trap();
  if (sign(cmp(a, b)) != -sign(cmp(b, a))) __builtin_trap();
  if (transitive && cmp(a, b) <= 0 && cmp(b, c) <= 0 && cmp(a, c) > 0) __builtin_trap();
}

}  // namespace

void fuzzVersionOnce(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view v[3];
  for (auto& part : v) {
    size_t nl = in.find('\n');
    part = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  }
  for (auto cmp : {vuln::compareDebian, vuln::compareRpm, vuln::rpmvercmp, vuln::compareApk,
                   vuln::comparePep440, vuln::compareSemver, vuln::compareGo, vuln::compareGem})
    properties(cmp, v[0], v[1], v[2]);
  // Maven's own order is not transitive on odd inputs (the fuzzer found "v056v668o6r" < "0rc2"
  // < "" < "v056v668o6r", and Maven 3.8.7 agrees): matching Maven exactly means keeping that.
  properties(vuln::compareMaven, v[0], v[1], v[2], /*transitive=*/false);
  // Composer: a total order on the versions it accepts. On strings it rejects PHP's
  // version_compare is neither antisymmetric nor transitive ("1-alp" < "1." < "1-alp"), and we
  // keep PHP's answers there; only reflexivity is ours.
  if (vuln::normaliseComposer(v[0]) && vuln::normaliseComposer(v[1]) &&
      vuln::normaliseComposer(v[2]))
    properties(vuln::compareComposer, v[0], v[1], v[2]);
  else if (vuln::compareComposer(v[0], v[0]) != 0)
    __builtin_trap();
  // OSV range evaluation on whatever JSON the first line holds, and CVSS vectors.
  for (const char* eco :
       {"PyPI", "Debian:12", "AlmaLinux:9", "Alpine:v3.19", "Go", "npm", "Maven", "Packagist"})
    (void)vuln::affects(v[0], eco, v[1]);
  if (auto score = vuln::cvss3BaseScore(v[0]); score && (*score < 0 || *score > 10))
    __builtin_trap();
  // Licence expressions: any text against any deny list; nothing denied without a deny list.
  (void)image::judgeLicenses({std::string(v[0])}, {std::string(v[1])});
  if (image::judgeLicenses({std::string(v[0])}, {}).verdict == image::LicenseVerdict::kDenied)
    __builtin_trap();
}

}  // namespace kh
