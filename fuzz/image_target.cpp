#include "fuzz/image_target.h"

#include <string_view>

#include "image/analyzers.h"
#include "image/filesystem.h"
#include "image/inventory.h"
#include "image/licenses.h"
#include "image/rpmdb.h"

namespace kh {

void fuzzImageOnce(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  image::Filesystem fs;
  static const std::vector<image::ContentHandler> handlers = image::inventoryHandlers();
  for (int i = 0; i < 2; ++i) {
    auto r = image::TarReader::openMemory(bytes, "fuzz");
    if (!r) return;
    fs.apply(image::readLayer(*r.value(), handlers));
  }
  (void)image::buildInventory(fs);
  // Every package parser on the raw bytes too (the tar path above rarely reaches them).
  std::vector<std::string> owned;
  (void)image::rpm::packages(bytes, &owned);
  (void)image::parseApkInstalled(bytes, &owned);
  (void)image::parseDpkgStatus(bytes, true);
  (void)image::parseDebianCopyright(bytes);
  (void)image::parseNpmPackageJson(bytes);
  (void)image::parsePythonMetadata(bytes);
  (void)image::parseGemspec(bytes);
  (void)image::parseComposerInstalled(bytes);
  (void)image::parseJavaArchive(bytes, "fuzz.jar");
  (void)image::parseGoBinary(bytes);
  (void)image::parseRustAuditable(bytes);
  (void)image::normaliseLicense(bytes.substr(0, 256));
  for (const auto& [path, entry] : fs.files()) {
    (void)fs.resolve(path);
    (void)fs.content(path);
  }
}

}  // namespace kh
