// A layer blob's uncompressed bytes, produced chunk by chunk from its compressed chunks, in one
// pass and bounded memory. gzip (nearly every layer in a registry) is inflated with Intel's
// ISA-L (libisal.so.2, loaded on first use, about 1.8x zlib's speed); every other compression
// (zstd, xz, bzip2, lz4, none) and gzip on a machine without ISA-L go through libarchive's
// filters. The kind is decided from the bytes, never from a media type or a file name.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kh::image {

// Hands out the next chunk of a byte stream; an empty chunk is the end. A chunk stays valid
// until the next call.
using Pull = std::function<std::string_view()>;

class LayerStream {
 public:
  // `compressed` is read as needed; `name` goes into errors. `fast_gzip` false: gzip through
  // libarchive too (tests compare the two decoders).
  LayerStream(Pull compressed, std::string name, bool fast_gzip = true);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The next uncompressed chunk; empty at the end or on error (then error() says what).
  std::string_view next();
  const std::optional<Error>& error() const { return error_; }
  // "gzip (ISA-L)", "libarchive" (whatever libarchive detected) or "" before the first next().
  const std::string& decoder() const { return decoder_; }

  // Is ISA-L loadable here (and why not)?
  static bool fastGzip(std::string* why = nullptr);

 private:
  struct Impl;
  bool start();
  std::string_view nextGzip();
  std::string_view pullCompressed();
  Pull compressed_;
  std::string name_;
  std::string decoder_;
  std::optional<Error> error_;
  std::unique_ptr<Impl> impl_;
  bool started_ = false, done_ = false, fast_gzip_ = true;
};

}  // namespace kh::image
