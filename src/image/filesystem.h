// An image's final filesystem: its layers applied in order with OCI whiteout semantics
// (`.wh.NAME` deletes NAME and what is under it in lower layers; `.wh..wh..opq` hides everything
// a lower layer put in that directory). Only metadata is kept for every file, and the content of
// the files an analyser asked for (os-release, package databases, ...). Symbolic links resolve
// inside the image root: `..` never leaves it and absolute targets start at it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/tar_reader.h"

namespace kh::image {

// Which files' content to keep (by normalised path), and up to how many bytes.
struct CaptureRule {
  std::function<bool(std::string_view path)> wants;
  size_t max_bytes = 64u << 20;
};

// One layer as read: its entries, its whiteouts and opaque directories, captured contents.
struct LayerFiles {
  std::vector<TarEntry> entries;
  std::vector<std::string> whiteouts;  // paths deleted from lower layers
  std::vector<std::string> opaque;     // directories whose lower contents are hidden
  std::map<std::string, std::string, std::less<>> captured;
  uint64_t bytes = 0;  // sum of regular files' sizes
};

// Reads every entry of a layer archive. Errors are left in `r.error()`.
LayerFiles readLayer(TarReader& r, const CaptureRule& capture);

struct FsEntry {
  TarEntry::Type type = TarEntry::Type::kOther;
  int64_t size = 0;
  uint32_t mode = 0;
  std::string link;
  uint32_t layer = 0;                    // index of the layer that put it there
  const std::string* content = nullptr;  // when captured
};

class Filesystem {
 public:
  // Applies the next layer (index = number of layers applied so far).
  void apply(LayerFiles layer);
  size_t layerCount() const { return layers_.size(); }
  const std::map<std::string, FsEntry, std::less<>>& files() const { return files_; }
  // The entry at `path` with symbolic links resolved (also in the last component); null when
  // missing or a link loops.
  const FsEntry* find(std::string_view path) const;
  // The content of a captured file at `path` (links resolved).
  std::optional<std::string_view> content(std::string_view path) const;
  // `path` with every symbolic link resolved, inside the root; nullopt on a loop.
  std::optional<std::string> resolve(std::string_view path) const;

 private:
  std::vector<LayerFiles> layers_;
  std::map<std::string, FsEntry, std::less<>> files_;
};

}  // namespace kh::image
