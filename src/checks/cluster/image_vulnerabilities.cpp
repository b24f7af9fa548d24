// cluster-image-vulnerabilities: the images a cluster runs, scanned (`cluster scan --images`):
// one finding per image with known vulnerabilities, at the severity of the worst, naming the
// workloads that run it; and one per image that could not be scanned (a gap, never a pass).
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "checks/cluster/cluster_checks.h"

namespace kh {
namespace {

constexpr std::string_view kImageScan[] = {"ImageScan"};

constexpr CheckMeta kImageVulnerabilitiesMeta{
    .id = "cluster-image-vulnerabilities",
    .title = "Running image has known vulnerabilities",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kImageScan,
    .remediation =
        "Rebuild the image on patched packages (the finding names the fixed "
        "versions), redeploy the workloads that run it, and pin it by digest.",
    .refs = {.nsa = "Image scanning and provenance",
             .mitre = "T1190",
             .trivy = "",
             .kubescape = "C-0078"},
};

Severity severityOf(std::string_view s) {
  if (s == "critical") return Severity::kCritical;
  if (s == "high") return Severity::kHigh;
  if (s == "medium") return Severity::kMedium;
  return Severity::kLow;  // low and unknown
}

std::string workloadsOf(const Object& o) {
  std::vector<std::string_view> w;
  for (const Node* n : seqOf(get(o.root, "workloads"))) w.push_back(n->text);
  if (w.empty()) return "no workload";
  std::string out =
      fmt::format("{}", fmt::join(w.begin(), w.begin() + std::min<size_t>(3, w.size()), ", "));
  if (w.size() > 3) out += fmt::format(" and {} more", w.size() - 3);
  return out;
}

void imageVulnerabilities(const FnCheck& self, const Object& o, const CheckContext&,
                          FindingSink& sink) {
  // Where a pull's credentials came from, when from a pull secret (--use-pull-secrets).
  auto pullSecretNote = [](const Object& obj) {
    std::string_view secret = getStr(obj.root, "pullSecret");
    return secret.empty() ? std::string()
                          : fmt::format(" (pulled with the credentials of pull secret {})", secret);
  };
  std::string_view image = getStr(o.root, "image");
  if (const Node* scanned = get(o.root, "scanned"); scanned && scanned->isFalse()) {
    const Node* err = get(o.root, "error");
    Finding f = self.finding(
        o, err ? err->pos : o.root->pos, "error",
        fmt::format("image {} (run by {}) could not be scanned: {}{}", image, workloadsOf(o),
                    err ? err->text : "no reason given", pullSecretNote(o)));
    f.rule = "not-scanned";
    f.severity = Severity::kLow;
    sink.add(std::move(f));
    return;
  }
  const Node* vulns = get(o.root, "vulnerabilities");
  if (!vulns || vulns->size == 0) return;
  std::array<size_t, 5> counts{};
  std::vector<const Node*> sorted(vulns->seqItems().begin(), vulns->seqItems().end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const Node* a, const Node* b) {
    return severityOf(getStr(a, "severity")) > severityOf(getStr(b, "severity"));
  });
  for (const Node* v : sorted) ++counts[static_cast<size_t>(severityOf(getStr(v, "severity")))];
  std::vector<std::string> parts;
  for (int s = 4; s >= 1; --s)
    if (counts[s])
      parts.push_back(fmt::format("{} {}", counts[s], severityName(static_cast<Severity>(s))));
  std::vector<std::string> top;
  for (size_t i = 0; i < sorted.size() && i < 3; ++i) {
    std::string_view fixed = getStr(sorted[i], "fixed");
    top.push_back(fmt::format(
        "{} in {} {}{}", getStr(sorted[i], "id"), getStr(sorted[i], "package"),
        getStr(sorted[i], "version"),
        fixed.empty() ? std::string(", no fix yet") : fmt::format(", fixed in {}", fixed)));
  }
  Finding f = self.finding(
      o, vulns->pos, "vulnerabilities",
      fmt::format(
          "image {} (run by {}) has {} known vulnerabilit{} ({}){}: {}{}", image, workloadsOf(o),
          sorted.size(), sorted.size() == 1 ? "y" : "ies", fmt::join(parts, ", "),
          getTrue(o.root, "byTag") ? " (scanned by its tag: the runtime named no digest)" : "",
          fmt::join(top, "; "), sorted.size() > 3 ? "; ..." : ""));
  f.severity = severityOf(getStr(sorted.front(), "severity"));
  sink.add(std::move(f));
}

}  // namespace

void addImageVulnerabilityChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FnCheck>(kImageVulnerabilitiesMeta, imageVulnerabilities));
}

}  // namespace kh
