// A private temporary directory (mode 0700, under $TMPDIR or /tmp), removed with everything in
// it when the object goes: helm's home, a snapshot `cluster rbac` reads back, the auth file
// of a pull secret.
#pragma once

#include <string>

namespace kh {

class ScratchDir {
 public:
  // `prefix` names the directory: $TMPDIR/<prefix>-XXXXXX. path() is empty when it could not
  // be made.
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kh
