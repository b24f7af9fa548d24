// Output plumbing shared by subcommands: --format/--output pairs and writing to files or stdout.
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

// Colour on a terminal only, never with NO_COLOR set.
bool useColor(bool to_stdout);

}  // namespace kh
