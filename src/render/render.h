// Running helm template and kustomize build on a planned root, as the user's pipeline would:
// child processes without a shell, with a timeout, no plugins, no KRM functions, no network
// (proxies pointed at a closed port, an empty helm home, no kubeconfig). Failures become one
// Error naming the tool, the file and line when the tool says them, and what to do.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "load/loader.h"
#include "render/detect.h"
#include "render/options.h"

namespace kh::render {

struct Tools {
  std::string helm;       // path to helm, empty when none was found
  std::string kustomize;  // path to kustomize or kubectl, empty when none
  bool kustomize_is_kubectl = false;
};

// Looks for the tools: the given paths first (--helm, --kustomize), then $KUBEHARDEN_HELM and
// $KUBEHARDEN_KUSTOMIZE, then helm, kustomize and kubectl in PATH, then the tools directory
// scripts/install-deps fills in a source checkout (when it exists).
Tools findTools(const std::string& helm, const std::string& kustomize);

// One rendering of a root: a chart with one set of inputs, or a kustomization.
struct Run {
  size_t root = 0;      // index into Plan::roots
  std::string name;     // names the run in reports: the root path, with the variant if any
  std::string variant;  // "ci/x-values.yaml" or a config entry's name; empty for the default
  HelmInputs helm;      // the inputs (config entry, ci values, then the command line)
};

struct Settings {
  Tools tools;
  std::chrono::milliseconds timeout{120000};
  size_t max_output = size_t{64} << 20;
};

struct Rendered {
  std::string text;                   // the tool's output
  std::vector<std::string> command;   // the command line that reproduces it (as the user would
                                      // type it: paths as given)
  std::vector<std::string> origins;   // kustomize: per document, the resource file it came from
                                      // (as a path joined to the root as given)
  std::optional<Error> error;         // it did not render
  std::vector<std::string> warnings;  // what the tool said on stderr when it did render
};

Rendered renderRun(const Root& root, const Run& run, const Settings& settings);

// The renderings of the planned roots: a chart once with the command line's inputs, or once per
// config entry naming it (entry first, command line after, so the command line wins), plus each
// ci values file with `ci_values`; a kustomization once.
std::vector<Run> planRuns(const Plan& plan, const HelmInputs& cli,
                          const std::vector<ChartConfig>& charts, bool ci_values);

// Renders `run` and parses the output into `f` (path: the run's name; error: why it did not
// render; diagnostics: the tool's warnings, an empty rendering). Returns the rest (command,
// origins); its text has moved into f.buffer.
Rendered renderInto(const Root& root, const Run& run, const Settings& settings,
                    const LoadOptions& lo, SourceFile& f);

// The command line as one shell-quoted string, for text output.
std::string shellQuote(const std::vector<std::string>& argv);

// Removes kustomize's config.kubernetes.io/origin annotations (and an annotations map left
// empty) from `text`, returning each document's origin path (or configuredIn) in order.
// Exposed for tests.
std::vector<std::string> stripOrigins(std::string& text);

}  // namespace kh::render
