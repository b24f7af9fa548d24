// Plumbing shared by subcommands: --format/--output pairs, writing to files or stdout, and the
// project files found in the working directory by default.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace kh {

struct OutputSpec {
  std::string format;  // text, json, sarif, junit
  std::string file;    // empty: standard output
};

// Pairs formats with outputs: "--format json=out.json" names its own file; otherwise the i-th
// --output goes with the i-th --format. At most one rendering may go to standard output.
Result<std::vector<OutputSpec>> pairOutputs(const std::vector<std::string>& formats,
                                            const std::vector<std::string>& outputs,
                                            const std::vector<std::string>& allowed);

Status writeOutput(const std::string& file, const std::string& data);

// The file given on the command line, else `default_name` when it exists in the working directory
// (.kubeharden.yaml, .kubeharden-ignore.yaml), else empty.
std::string givenOrDefaultFile(const std::string& given, const char* default_name);

// Colour on a terminal only, never with NO_COLOR set.
bool useColor(bool to_stdout);

}  // namespace kh
