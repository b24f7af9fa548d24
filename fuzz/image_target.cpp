#include "fuzz/image_target.h"

#include <string_view>

#include "image/filesystem.h"
#include "image/inventory.h"

namespace kh {

void fuzzImageOnce(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  image::Filesystem fs;
  image::CaptureRule capture = image::inventoryCaptureRule();
  capture.max_bytes = 1 << 20;
  for (int i = 0; i < 2; ++i) {
    auto r = image::TarReader::openMemory(bytes, "fuzz");
    if (!r) return;
    fs.apply(image::readLayer(*r.value(), capture));
  }
  auto os = image::detectOs(fs);
  (void)image::dpkgPackages(fs, os);
  for (const auto& [path, entry] : fs.files()) {
    (void)fs.resolve(path);
    (void)fs.content(path);
  }
}

}  // namespace kh
