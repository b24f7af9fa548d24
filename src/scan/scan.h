// The scan pipeline behind `kubeharden scan`: load every input in parallel, index the objects,
// run the enabled checks on each (dispatched by kind), run the cross-object finish() pass,
// apply suppressions and the baseline, and sort. Output is deterministic whatever the number of
// threads. The ScanResult owns the files, so findings' object pointers stay valid with it.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/diagnostic.h"
#include "base/result.h"
#include "checks/registry.h"
#include "checks/scan_index.h"
#include "config/config.h"
#include "load/loader.h"
#include "render/options.h"
#include "render/render.h"
#include "scan/compliance.h"
#include "scan/policies.h"

namespace kh {

// Helm charts and kustomizations in the inputs: rendered with the real tools (docs/rendering.md).
struct RenderOptions {
  bool enabled = true;                      // false: --no-render (read their files as YAML)
  render::HelmInputs helm;                  // from the command line, for every chart
  std::vector<render::ChartConfig> charts;  // from the config file (paths as the walk finds them)
  bool chart_ci_values = false;             // also render each chart's ci/*values*.yaml
  render::Settings settings;                // tools, timeout
};

struct ScanOptions {
  std::vector<std::string> inputs;  // files, directories, "-"
  bool manifests = true;            // .yaml/.yml/.json files in directories
  bool dockerfiles = false;         // Dockerfiles in directories, and files named like one
  std::vector<std::string> dockerfile_inputs;  // read as Dockerfiles whatever their names
  bool stdin_dockerfile = false;               // "-" is a Dockerfile
  // Documents given as text (display name, content), parsed as if read from a file of that name
  // (the image config object of `kubeharden image scan`).
  std::vector<std::pair<std::string, std::string>> texts;
  // The line each text starts at in the file it names (empty, or 0: line 1): the positions of its
  // findings and diagnostics are moved to that line, column 1 (`audit detect`: the event a
  // log has at that line, rewritten as one line for the checks).
  std::vector<uint32_t> text_lines;
  Config config;
  bool inline_ignores = true;
  std::unordered_set<std::string> baseline;  // fingerprints to leave out
  unsigned threads = 0;                      // 0: one per core
  std::vector<const Framework*> frameworks;  // compliance reports to compute
  LoadLimits limits;
  RenderOptions render;
  bool live = false;  // the inputs are a live cluster's objects (CheckContext::live)
  // Record which kinds each check looks up (ScanResult::consulted): a partial cluster read.
  bool record_consults = false;
  PolicyScanOptions policies;  // ValidatingAdmissionPolicies (docs/policies.md)
};

// One rendering of a chart or kustomization, and what came of it.
struct RenderReport {
  std::string tool;                  // "helm" or "kustomize"
  std::string root;                  // the chart or kustomization path
  std::string name;                  // the run's name: its objects' file in findings' `rendered`
  std::string variant;               // ci values file or config entry name; empty by default
  std::vector<std::string> command;  // reproduces the rendering
  std::vector<std::string> origins;  // kustomize: each document's resource file
  size_t file = 0;                   // index into ScanResult::files of the rendered output
  size_t objects = 0;
  bool ok = false;
};

// Where the objects came from when not from files: a live cluster (`kubeharden cluster scan`).
struct ClusterSource {
  std::string context, server, kubernetes_version;
  std::string identity;  // who the server says we are (SelfSubjectReview), when it says
  size_t types = 0, objects = 0, pages = 0, requests = 0, bytes = 0;
  std::vector<std::string> not_read;  // "TYPE (forbidden: the server's message)", groups too
  // The kinds of the types not read, and why ("forbidden: ..."), for the checks they kept from
  // judging (groups whose discovery failed have no kinds to name).
  std::vector<std::pair<std::string, std::string>> unread_kinds;
  struct NotEvaluated {
    std::string check;
    std::vector<std::string> kinds;  // unread kinds it applies to or looked up
  };
  std::vector<NotEvaluated> not_evaluated;  // by check ID
  std::string snapshot, snapshot_taken;     // --from-snapshot: the directory, and when it was saved
  // The control plane as the read shows it: kube-apiserver pods (kubeadm's mirror pods) judged by
  // the cp-* checks, or none visible (a managed control plane: the provider's, not "passing").
  size_t apiserver_pods = 0;
  bool control_plane_checked = false;  // cp-apiserver was enabled
};

// Where the objects came from for `kubeharden audit detect`: the logs, what was read in them,
// and how much of it the detections judged (the rest no enabled detection could concern).
struct AuditSource {
  std::vector<std::string> logs;
  uint64_t lines = 0, events = 0, requests = 0, malformed = 0, bytes = 0;
  uint64_t outside_window = 0;  // requests left out by --since/--until
  uint64_t judged = 0;          // requests handed to the detections
  std::string since, until;     // as given
  std::string first, last;      // the earliest and latest request time judged or left
  std::vector<std::string> malformed_examples;  // "file:line: why"
};

struct ScanResult {
  std::vector<std::unique_ptr<SourceFile>> files;
  std::unique_ptr<Registry> registry;
  ScanIndex index;
  std::vector<Finding> findings;  // sorted by file, line, column, check
  std::vector<Diagnostic> diagnostics;
  std::vector<Error> errors;  // input errors: these files were not (fully) scanned
  size_t objects = 0;
  size_t skipped_documents = 0;
  size_t suppressed = 0;
  size_t baselined = 0;
  size_t bytes = 0;
  std::vector<ComplianceResult> compliance;  // one per requested framework
  std::vector<RenderReport> renders;         // in input order
  std::optional<ClusterSource> cluster;      // cluster scan: what was read, and what was not
  std::optional<AuditSource> audit;          // audit detect: the logs read
  // With ScanOptions::record_consults: check ID -> the kinds it looked up in the index.
  std::map<std::string, std::set<std::string>> consulted;
  // ValidatingAdmissionPolicies applied (scan/policies.h): their --policy files (read, not
  // scanned), how many policies and bindings, and the check IDs (vap:NAME) and binding names
  // the findings point into.
  std::vector<std::unique_ptr<SourceFile>> policy_files;
  size_t policies = 0, policy_bindings = 0;
  std::set<std::string, std::less<>> interned;
};

// The checks of `registry` that types not read kept from judging: those whose scope names one of
// `unread` kinds (pod-spec checks: any workload kind), and those that looked one up in the index
// (`consulted`, ScanResult::consulted). Checks of every object ("all") count only through their
// lookups. By check ID.
std::vector<ClusterSource::NotEvaluated> notEvaluated(
    const Registry& registry, const std::vector<std::pair<std::string, std::string>>& unread,
    const std::map<std::string, std::set<std::string>>& consulted);

// Builds the enabled, configured checks of a run (Error for bad check options).
Result<std::unique_ptr<Registry>> buildRegistry(const Config& cfg);

// Fails only for problems of the run itself (bad check options, unreadable directory); problems
// of single files are in ScanResult::errors.
Result<ScanResult> runScan(ScanOptions opts);

}  // namespace kh
