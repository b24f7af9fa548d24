// Reporters: one pure function per format from a finished ScanResult to the bytes to write.
// Engine code never prints; the CLI decides where each rendering goes.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>

#include "scan/scan.h"

namespace kh {

struct ReportContext {
  const ScanResult& scan;
  std::string_view version;
  bool color = false;    // ANSI colours in text output
  std::string docs_url;  // base URL of the check pages, for SARIF helpUri
  bool verbose = false;  // text: say how each chart and kustomization was rendered
};

std::string renderText(const ReportContext& ctx);
std::string renderJson(const ReportContext& ctx);
std::string renderSarif(const ReportContext& ctx);
std::string renderJunit(const ReportContext& ctx);

// The counts of a cluster scan (kubeharden/cluster-summary/v1: cluster, coverage, findings by
// severity and by check), small enough for a ConfigMap whatever the cluster's size: what
// `cluster scan --report-configmap` publishes and `serve --cluster-report` turns into metrics.
std::string renderClusterSummary(const ReportContext& ctx,
                                 std::chrono::system_clock::time_point when);

// Counts of unsuppressed findings by severity, index = Severity.
std::array<size_t, 5> countBySeverity(const ScanResult& r);

}  // namespace kh
