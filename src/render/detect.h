// Finding what to render in the scanned paths: Helm charts (a directory with Chart.yaml, or a
// packaged chart .tgz) and kustomizations (a directory with kustomization.yaml,
// kustomization.yml or Kustomization). Only roots render: charts inside another chart (its
// charts/), kustomize Components and kustomizations that another scanned kustomization uses are
// not rendered on their own. The files a root consumes (a chart's whole tree; a kustomization's
// resources, patches, generator inputs, ...) are not also read as plain manifests.
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/diagnostic.h"
#include "base/result.h"

namespace kh::render {

enum class Tool : uint8_t { kHelm, kKustomize };

// A kustomize patch of a root's tree, for pointing findings at the patch that set a field.
struct Patch {
  std::string file;         // the patch file, or the kustomization holding an inline patch
  std::string text;         // an inline patch's text (empty: read `file`)
  uint32_t first_line = 0;  // inline: the file line of the text's first line
  uint32_t indent = 0;      // inline: the columns the text is indented by in the file
  std::string target_kind;  // the patch's target, when it names one
  std::string target_name;
};

struct Root {
  Tool tool = Tool::kHelm;
  std::string path;                    // as found: the input path, or it joined with the walk
  bool archive = false;                // a packaged chart (.tgz)
  std::string chart_name;              // Chart.yaml's name (helm)
  std::vector<std::string> ci_values;  // helm: ci/*values*.yaml of the chart, relative, sorted
  std::optional<Error> error;          // cannot render: said instead of running the tool
  std::vector<Patch> patches;          // kustomize: every patch of the tree
};

struct Plan {
  std::vector<Root> roots;                   // in path order
  std::vector<std::string> chart_dirs;       // absolute, normal: everything below is consumed
  std::unordered_set<std::string> consumed;  // absolute, normal file paths
  std::vector<Diagnostic> diagnostics;       // library charts, components left alone, ...

  // Is the file at `path` (as the directory walk names it) read by a rendered root?
  bool consumes(const std::string& path) const;
};

// Walks `inputs` (files, directories; "-" is ignored) the way the loader does (hidden
// directories skipped, symlinked directories not followed). Fails only for a path that cannot
// be read at all.
Result<Plan> planRenders(const std::vector<std::string>& inputs);

// The kustomization file of a directory, or empty.
std::string kustomizationFile(const std::string& dir);

// Lexically normal absolute path (no symlink resolution), as Plan stores them.
std::string normalPath(const std::string& path);

}  // namespace kh::render
