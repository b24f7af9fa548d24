// Loading the inputs of the analysis subcommands (pss, netpol, rbac): paths as in `scan`
// (files, directories, "-"), errors reported on stderr with file:line:col, and an exit code
// (3) when a file could not be read or parsed or no Kubernetes object was found. Helm charts
// and kustomizations render as in `scan` (default values; docs/rendering.md), their objects
// named by the chart or kustomization path. Files load in parallel; objects come out in input
// order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "load/loader.h"

namespace kh {

struct LoadedInputs {
  std::vector<std::unique_ptr<SourceFile>> files;  // own everything the objects point into
  std::vector<const Object*> objects;
  int error = 0;  // kExitInput when something could not be loaded
};

LoadedInputs loadInputs(const std::vector<std::string>& paths, std::string_view command);

// The input held objects, but none of the kind the command judges (`what`, e.g. "workloads
// (pods or pod templates)"): an empty answer would read as an all-clear, so say so on stderr
// ("kubeharden netpol connlist: no workloads ... in the input; nothing was analysed") and return
// kExitInput (3).
int nothingToJudge(std::string_view command, std::string_view what);

}  // namespace kh
