#include "image/tar_reader.h"

#include <fmt/format.h>

#include "image/archive_api.h"

namespace kh::image {

std::string normaliseTarPath(std::string_view p) {
  while (p.starts_with("./") || p.starts_with("/")) p.remove_prefix(p.starts_with("/") ? 1 : 2);
  while (p.ends_with("/")) p.remove_suffix(1);
  if (p == ".") return {};
  return std::string(p);
}

std::string_view pathBase(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view pathDir(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : p.substr(0, slash);
}

namespace {

// libarchive's message for the last error; it may have none (a null pointer).
std::string errorString(archive* a) {
  const char* m = archiveApi().error_string(a);
  return m ? m : "unrecognised data";
}

archive* newReader(TarReader::Format f = TarReader::Format::kTar) {
  if (!archiveApi().error.empty()) return nullptr;
  archive* a = archiveApi().read_new();
  archiveApi().support_filter_all(a);
  if (f == TarReader::Format::kRaw) {
    archiveApi().support_format_raw(a);
  } else {
    archiveApi().support_format_tar(a);
    archiveApi().support_format_gnutar(a);
  }
  return a;
}

struct EntrySource {
  archive* outer;
  char buf[64 * 1024];
};

la_ssize_t readEntry(archive*, void* data, const void** out) {
  auto* src = static_cast<EntrySource*>(data);
  la_ssize_t n = archiveApi().read_data(src->outer, src->buf, sizeof src->buf);
  *out = src->buf;
  return n;
}

int closeEntry(archive*, void* data) {
  delete static_cast<EntrySource*>(data);
  return ARCHIVE_OK;
}

struct StreamSource {
  std::function<std::string_view()> pull;
};

la_ssize_t readStream(archive*, void* data, const void** out) {
  auto* src = static_cast<StreamSource*>(data);
  std::string_view chunk = src->pull();
  *out = chunk.data();
  return static_cast<la_ssize_t>(chunk.size());
}

int closeStream(archive*, void* data) {
  delete static_cast<StreamSource*>(data);
  return ARCHIVE_OK;
}

}  // namespace

Result<std::unique_ptr<TarReader>> TarReader::openStream(std::function<std::string_view()> pull,
                                                         std::string name, Format f) {
  archive* a = newReader(f);
  if (!a) return Error{archiveApi().error, {}, {}};
  auto* src = new StreamSource{std::move(pull)};
  if (archiveApi().open(a, src, nullptr, readStream, closeStream) != ARCHIVE_OK) {
    Error e{fmt::format("cannot read as an archive: {}", errorString(a)), name, {}};
    archiveApi().read_free(a);
    return e;
  }
  return std::unique_ptr<TarReader>(new TarReader(a, std::move(name)));
}

Result<std::unique_ptr<TarReader>> TarReader::openFile(const std::string& path, Format f) {
  archive* a = newReader(f);
  if (!a) return Error{archiveApi().error, {}, {}};
  if (archiveApi().open_filename(a, path.c_str(), 256 * 1024) != ARCHIVE_OK) {
    Error e{fmt::format("cannot read as an archive: {}", errorString(a)), path, {}};
    archiveApi().read_free(a);
    return e;
  }
  return std::unique_ptr<TarReader>(new TarReader(a, path));
}

Result<std::unique_ptr<TarReader>> TarReader::openMemory(std::string_view bytes, std::string name) {
  archive* a = newReader();
  if (!a) return Error{archiveApi().error, {}, {}};
  std::unique_ptr<TarReader> r(new TarReader(a, std::move(name)));
  r->memory_.assign(bytes);
  if (archiveApi().open_memory(a, r->memory_.data(), r->memory_.size()) != ARCHIVE_OK)
    return Error{fmt::format("cannot read as an archive: {}", errorString(a)), r->name_, {}};
  return r;
}

Result<std::unique_ptr<TarReader>> TarReader::openEntry(TarReader& outer, std::string name,
                                                        Format f) {
  archive* a = newReader(f);
  if (!a) return Error{archiveApi().error, {}, {}};
  auto* src = new EntrySource{outer.a_, {}};
  if (archiveApi().open(a, src, nullptr, readEntry, closeEntry) != ARCHIVE_OK) {
    Error e{fmt::format("cannot read as an archive: {}", errorString(a)), name, {}};
    archiveApi().read_free(a);
    return e;
  }
  return std::unique_ptr<TarReader>(new TarReader(a, std::move(name)));
}

TarReader::~TarReader() {
  archiveApi().read_free(a_);
}

bool TarReader::next(TarEntry& e) {
  archive_entry* entry = nullptr;
  int rc = archiveApi().next_header(a_, &entry);
  if (rc == ARCHIVE_EOF) return false;
  if (rc < ARCHIVE_WARN) {
    error_ = Error{fmt::format("not a readable tar archive: {}", errorString(a_)), name_, {}};
    return false;
  }
  const char* p = archiveApi().entry_pathname(entry);
  e.path = normaliseTarPath(p ? p : "");
  e.size = archiveApi().entry_size(entry);
  e.mode = archiveApi().entry_perm(entry);
  e.link.clear();
  if (const char* h = archiveApi().entry_hardlink(entry)) {
    e.type = TarEntry::Type::kHardlink;
    e.link = normaliseTarPath(h);
    return true;
  }
  switch (archiveApi().entry_filetype(entry)) {
    case AE_IFREG:
      e.type = TarEntry::Type::kFile;
      break;
    case AE_IFDIR:
      e.type = TarEntry::Type::kDir;
      break;
    case AE_IFLNK: {
      e.type = TarEntry::Type::kSymlink;
      const char* t = archiveApi().entry_symlink(entry);
      e.link = t ? t : "";
      break;
    }
    default:
      e.type = TarEntry::Type::kOther;
  }
  return true;
}

bool TarReader::readMore(std::string& out, size_t upto) {
  char buf[64 * 1024];
  while (out.size() < upto) {
    la_ssize_t n = archiveApi().read_data(a_, buf, std::min(sizeof buf, upto - out.size()));
    if (n < 0) {
      error_ = Error{fmt::format("reading an entry: {}", errorString(a_)), name_, {}};
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

std::string_view TarReader::readChunk() {
  chunk_.resize(256 * 1024);
  la_ssize_t n = archiveApi().read_data(a_, chunk_.data(), chunk_.size());
  if (n < 0) {
    error_ = Error{fmt::format("reading an entry: {}", errorString(a_)), name_, {}};
    return {};
  }
  return std::string_view(chunk_.data(), static_cast<size_t>(n));
}

std::optional<std::string> TarReader::read(size_t cap) {
  std::string out;
  if (!readMore(out, cap)) return std::nullopt;
  return out;  // what is left of the entry is skipped by next()
}

}  // namespace kh::image
