#include "cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace kh {

Result<std::vector<OutputSpec>> pairOutputs(const std::vector<std::string>& formats,
                                            const std::vector<std::string>& outputs,
                                            const std::vector<std::string>& allowed) {
  std::vector<OutputSpec> specs;
  size_t next_output = 0;
  for (const std::string& f : formats) {
    OutputSpec s;
    if (size_t eq = f.find('='); eq != std::string::npos) {
      s.format = f.substr(0, eq);
      s.file = f.substr(eq + 1);
    } else {
      s.format = f;
      if (next_output < outputs.size()) s.file = outputs[next_output++];
    }
    if (std::find(allowed.begin(), allowed.end(), s.format) == allowed.end())
      return Error{
          fmt::format("unknown format '{}' (expected {})", s.format, fmt::join(allowed, ", "))};
    specs.push_back(std::move(s));
  }
  if (specs.empty()) {
    specs.push_back({allowed.front(), next_output < outputs.size() ? outputs[next_output++] : ""});
  }
  if (next_output < outputs.size())
    return Error{fmt::format("--output {} has no --format to go with it", outputs[next_output])};
  size_t to_stdout = 0;
  for (const OutputSpec& s : specs) to_stdout += s.file.empty() || s.file == "-";
  if (to_stdout > 1)
    return Error{"more than one format writes to standard output; give the others --output FILE"};
  return specs;
}

Status writeOutput(const std::string& file, const std::string& data) {
  if (file.empty() || file == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return {};
  }
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (!f) return Error{fmt::format("cannot write: {}", std::strerror(errno)), file, {}};
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return Error{"cannot write the whole report", file, {}};
  return {};
}

std::string givenOrDefaultFile(const std::string& given, const char* default_name) {
  if (!given.empty()) return given;
  std::error_code ec;  // the non-throwing overload: an unreadable directory is not a crash
  return std::filesystem::exists(default_name, ec) ? default_name : std::string();
}

bool useColor(bool to_stdout) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return to_stdout && isatty(STDOUT_FILENO);
}

}  // namespace kh
