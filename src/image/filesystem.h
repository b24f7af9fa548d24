// An image's final filesystem: its layers applied in order with OCI whiteout semantics
// (`.wh.NAME` deletes NAME and what is under it in lower layers; `.wh..wh..opq` hides everything
// a lower layer put in that directory). Only metadata is kept for every file, and the content of
// the files an analyser asked for (os-release, package databases, ...). Symbolic links resolve
// inside the image root: `..` never leaves it and absolute targets start at it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/package.h"
#include "image/tar_reader.h"

namespace kh::image {

// Which files' content to keep (by normalised path), and up to how many bytes.
struct CaptureRule {
  std::function<bool(std::string_view path)> wants;
  size_t max_bytes = 64u << 20;
};

// One layer as read: its entries, its whiteouts and opaque directories, captured contents, and
// what the analysers found in its files (by path).
struct LayerFiles {
  std::vector<TarEntry> entries;
  std::vector<std::string> whiteouts;  // paths deleted from lower layers
  std::vector<std::string> opaque;     // directories whose lower contents are hidden
  std::map<std::string, std::string, std::less<>> captured;
  std::map<std::string, FileFindings, std::less<>> found;
  std::vector<SecretFinding> secrets;
  SecretStats secret_stats;
  uint64_t bytes = 0;  // sum of regular files' sizes
};

// Reads a regular file's content while its layer streams by. `wants` decides from the entry
// (path, size, mode); kHead defers the decision to `wants_head` on the first kHeadBytes (an
// executable is recognised by its magic number, not its name).
struct ContentHandler {
  enum class Want { kNo, kHead, kAll };
  static constexpr size_t kHeadBytes = 64;
  std::function<Want(const TarEntry&, LayerFiles&)> wants;
  std::function<bool(const TarEntry&, std::string_view head)> wants_head;
  std::function<void(const TarEntry&, std::string_view content, LayerFiles&)> handle;
  size_t max_bytes = 64u << 20;
};

// A handler that keeps the content of the files `rule` names in LayerFiles::captured.
ContentHandler captureHandler(CaptureRule rule);

// Reads every entry of a layer archive, giving regular files to the handlers that want them.
// Errors are left in `r.error()`. `progress`, when given, grows by each regular file's size as
// it is read (another thread may watch it).
LayerFiles readLayer(TarReader& r, const std::vector<ContentHandler>& handlers,
                     std::atomic<uint64_t>* progress = nullptr);
// An unpacked root filesystem read as a single layer (kernel and runtime file systems such as
// proc, sys, dev and run at the top, and other mounted file systems, are left out).
Result<LayerFiles> readDirectory(const std::string& root,
                                 const std::vector<ContentHandler>& handlers);
inline LayerFiles readLayer(TarReader& r, const CaptureRule& capture) {
  return readLayer(r, std::vector<ContentHandler>{captureHandler(capture)});
}

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
  const std::vector<LayerFiles>& layers() const { return layers_; }
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
