// Helpers shared by the unit tests: loading text as a manifest, running checks, running the CLI.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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
// Runs `kubeharden ARGS` through the shell in `cwd` (default: a fresh temp dir is not implied),
// with `env` ("NAME=value ...") added to its environment.
CmdResult runCli(const std::string& args, const std::string& cwd = "",
                 const std::string& stdin_text = "", const std::string& env = "");

// Test data kept outside the repository, in ../shared next to the checkout (CI and development
// have it; a clone on its own does not): the directory `sub` of it ("vulndata/pypi"), or empty
// when it is not there. Tests that need it skip through KH_NEED_SHARED, naming what is missing.
std::string sharedDir(std::string_view sub);
#define KH_NEED_SHARED(var, sub)                                                            \
  const std::string var = ::kh::test::sharedDir(sub);                                       \
  if (var.empty())                                                                          \
  GTEST_SKIP() << "needs " << KH_SHARED_DIR << "/" << (sub)                                 \
               << ", which this checkout does not have (it sits next to the repository in " \
                  "development and CI)"

// The CycloneDX 1.6 JSON schema: ../shared/schemas/cyclonedx-1.6 when present, else the copy in
// the pinned @cyclonedx/cyclonedx-library that scripts/install-deps installs (deps/npm). `bom`
// is the schema file, `spdx_ids` the SPDX licence-id schema next to it. Empty when neither is.
struct CycloneDxSchema {
  std::string bom, spdx_ids;
};
CycloneDxSchema cycloneDxSchema();

// An external tool for tests: $HELM / $KUBECTL (the name upper-cased) when set, else the copy
// scripts/install-deps unpacked into deps/npm/node_modules/.bin-tools, else the name (PATH).
std::string toolPath(std::string_view name);

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
