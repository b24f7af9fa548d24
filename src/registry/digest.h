// Content digests (sha256, as OCI content addresses them), computed incrementally while bytes
// stream past, with OpenSSL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace kh::registry {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  // "sha256:<64 lower-case hex>"; the object is spent afterwards.
  std::string digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of `bytes`.
std::string sha256Digest(std::string_view bytes);

}  // namespace kh::registry
