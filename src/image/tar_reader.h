// Sequential reading of tar archives with libarchive: plain, gzip, zstd, bzip2 or xz, detected
// from the bytes (never from the file name). Entries come one at a time; the data of the current
// entry can be read (up to a cap) or skipped. Names are normalised: a leading "./" or "/" is
// dropped, so "./etc/passwd", "/etc/passwd" and "etc/passwd" are the same path.
//
// A reader reads from a file, from memory, or from the data of the current entry of another
// reader (a layer inside a `docker save` tarball), without extracting anything to disk. Not
// thread-safe; one reader per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

struct archive;

namespace kh::image {

struct TarEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kOther };
  std::string path;  // normalised, no trailing slash
  Type type = Type::kOther;
  int64_t size = 0;
  uint32_t mode = 0;
  std::string link;  // symlink target, or the hardlink's original (normalised)
};

// "./a/b/" -> "a/b"; "/" and "." -> "".
std::string normaliseTarPath(std::string_view p);
// The last component of a normalised path, and what comes before it ("" at the top).
std::string_view pathBase(std::string_view p);
std::string_view pathDir(std::string_view p);

class TarReader {
 public:
  // kTar reads tar entries; kRaw reads the whole (decompressed) stream as one entry named
  // "data", to be taken with readChunk() (a layer's uncompressed bytes, to hash them).
  enum class Format { kTar, kRaw };
  static Result<std::unique_ptr<TarReader>> openFile(const std::string& path,
                                                     Format f = Format::kTar);
  static Result<std::unique_ptr<TarReader>> openMemory(std::string_view bytes, std::string name);
  // Reads the data of `outer`'s current entry as an archive (a layer blob).
  static Result<std::unique_ptr<TarReader>> openEntry(TarReader& outer, std::string name,
                                                      Format f = Format::kTar);
  // Reads an archive from chunks `pull` hands out one after the other (a layer streaming from
  // a registry); an empty chunk is the end. A chunk stays valid until the next pull.
  static Result<std::unique_ptr<TarReader>> openStream(std::function<std::string_view()> pull,
                                                       std::string name, Format f = Format::kTar);
  ~TarReader();

  // The next entry; false at the end or on error (then error() says what).
  bool next(TarEntry& e);
  // The current entry's data, at most `cap` bytes (the rest is skipped); nullopt on error.
  std::optional<std::string> read(size_t cap);
  // Appends the current entry's next bytes to `out` until it holds `upto` bytes or the entry
  // ends; false on error.
  bool readMore(std::string& out, size_t upto);
  // The current entry's next bytes (at most 256 KiB, valid until the next call); empty at its
  // end or on error (then error() says what).
  std::string_view readChunk();
  const std::optional<Error>& error() const { return error_; }
  const std::string& name() const { return name_; }

 private:
  TarReader(archive* a, std::string name) : a_(a), name_(std::move(name)) {}
  friend struct TarReaderAccess;
  archive* a_;
  std::string name_;
  std::optional<Error> error_;
  std::string memory_;  // owned bytes for openMemory
  std::string chunk_;   // readChunk's buffer
};

}  // namespace kh::image
