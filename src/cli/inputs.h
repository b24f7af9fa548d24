// Loading the inputs of the analysis subcommands (pss, netpol, rbac): paths as in `scan`
// (files, directories, "-"), errors reported on stderr with file:line:col, and an exit code
// (3) when a file could not be read or parsed or no Kubernetes object was found. Files load in
// parallel; objects come out in input order.
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

}  // namespace kh
