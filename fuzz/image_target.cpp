#include "fuzz/image_target.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "image/analyzers.h"
#include "image/filesystem.h"
#include "image/inventory.h"
#include "image/layer_cache.h"
#include "image/layer_stream.h"
#include "image/layout.h"
#include "image/licenses.h"
#include "image/rpmdb.h"

namespace kh {

void fuzzImageOnce(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  image::Filesystem fs;
  static const std::vector<image::ContentHandler> handlers = image::inventoryHandlers();
  for (int i = 0; i < 2; ++i) {
    auto r = image::TarReader::openMemory(bytes, "fuzz");
    if (!r) break;
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
  // The layer decoder (ISA-L for gzip, libarchive otherwise) on the bytes as a blob, in pieces
  // of 1..64 bytes (the first byte picks the size): it must end, with bytes or an error.
  for (bool fast : {true, false}) {
    size_t at = 1, piece = size ? 1 + data[0] % 64 : 1;
    image::LayerStream ls(
        [&]() -> std::string_view {
          std::string_view c = bytes.substr(std::min(at, bytes.size()), piece);
          at += c.size();
          return c;
        },
        "fuzz", fast);
    size_t total = 0;
    for (std::string_view c = ls.next(); !c.empty() && total < (size_t{64} << 20); c = ls.next())
      total += c.size();
  }
  // The layer cache's reader: anything that deserialises must serialise back to the same bytes.
  if (auto l = image::deserialiseLayer(bytes)) {
    if (image::serialiseLayer(*l) != bytes) __builtin_trap();
  }
  // The bytes as an image file: manifest.json / index.json / OCI layouts, then its layers.
  struct TempFile {
    std::string path = "/tmp/kh-fuzz-image-" + std::to_string(::getpid()) + ".tar";
    ~TempFile() { std::remove(path.c_str()); }
  };
  static const TempFile temp;
  const std::string& path = temp.path;
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    for (const char* platform : {"linux/amd64", "linux/arm64"}) {
      auto img = image::openImage(path, image::parsePlatform(platform).value());
      if (!img) continue;
      (void)image::forEachLayer(img.value(), [&](size_t, image::TarReader& r) -> Status {
        (void)image::readLayer(r, handlers);
        return {};
      });
    }
  }
  for (const auto& [path, entry] : fs.files()) {
    (void)fs.resolve(path);
    (void)fs.content(path);
  }
}

}  // namespace kh
