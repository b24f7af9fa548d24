// Helpers shared by the unit tests: loading text as a manifest, running checks, running the CLI.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "checks/registry.h"
#include "checks/scan_index.h"
#include "load/loader.h"

namespace kh::test {

std::unique_ptr<SourceFile> loadText(const std::string& text,
                                     const std::string& path = "test.yaml");
std::string readFile(const std::string& path);

// Runs every check of the catalogue (opt-in ones included) on the file's objects.
std::vector<Finding> runAllChecks(const SourceFile& f);
// The same with one check configured with `options` (a map node).
std::vector<Finding> runAllChecks(const SourceFile& f, std::string_view check_id,
                                  const Node* options);

struct CmdResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs `kubeharden ARGS` through the shell in `cwd` (default: a fresh temp dir is not implied).
CmdResult runCli(const std::string& args, const std::string& cwd = "",
                 const std::string& stdin_text = "");

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace kh::test
