#include "base/scratch_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

namespace kh {

ScratchDir::ScratchDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (char* p = ::mkdtemp(tmpl.data())) path_ = p;  // mkdtemp makes it 0700
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace kh
