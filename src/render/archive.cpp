#include "render/archive.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace kh::render {
namespace {

uint64_t octal(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && p[i]; ++i) {
    if (p[i] == ' ') continue;
    if (p[i] < '0' || p[i] > '7') break;
    v = v * 8 + static_cast<uint64_t>(p[i] - '0');
  }
  return v;
}

std::string field(const char* p, size_t n) {
  return std::string(p, strnlen(p, n));
}

// "len key=value\n" records: the value of `path`, if any.
std::string paxPath(std::string_view data) {
  while (!data.empty()) {
    size_t sp = data.find(' ');
    if (sp == std::string_view::npos) break;
    size_t len = 0;
    for (char c : data.substr(0, sp)) {
      if (c < '0' || c > '9') return {};
      len = len * 10 + static_cast<size_t>(c - '0');
    }
    if (len <= sp || len > data.size()) return {};
    std::string_view rec = data.substr(sp + 1, len - sp - 1);
    if (rec.ends_with('\n')) rec.remove_suffix(1);
    if (rec.starts_with("path=")) return std::string(rec.substr(5));
    data.remove_prefix(len);
  }
  return {};
}

// Streams the decompressed bytes of a gzip member (or several, as gzip allows) from memory.
class Inflater {
 public:
  explicit Inflater(std::string_view in) : in_(in) {
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
    ok_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Fills exactly n bytes; false at the end of the data or on corrupt data.
  bool read(char* dst, size_t n) {
    while (n > 0) {
      if (!ok_ || done_) return false;
      zs_.next_out = reinterpret_cast<Bytef*>(dst);
      zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      uInt before = zs_.avail_out;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t got = before - zs_.avail_out;
      total_ += got;
      if (total_ > kMaxTotal) return false;  // a decompression bomb, not a chart
      dst += got;
      n -= got;
      if (rc == Z_STREAM_END) {
        // Another gzip member may follow.
        if (zs_.avail_in == 0 || inflateReset(&zs_) != Z_OK) done_ = true;
        continue;
      }
      if (rc != Z_OK || (got == 0 && zs_.avail_in == 0)) {
        if (rc != Z_BUF_ERROR || zs_.avail_in == 0) done_ = true;
        if (got == 0) return false;
      }
    }
    return true;
  }

 private:
  static constexpr size_t kMaxTotal = size_t{1} << 30;
  std::string_view in_;
  size_t total_ = 0;
  z_stream zs_{};
  bool ok_ = false, done_ = false;
};

}  // namespace

Status readTgz(const std::string& path, const std::function<bool(std::string_view)>& want,
               const std::function<bool(std::string_view, std::string&&)>& got) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the chart archive", path, {}};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  return readTgzBytes(bytes, path, want, got);
}

Status readTgzBytes(std::string_view bytes, const std::string& path,
                    const std::function<bool(std::string_view)>& want,
                    const std::function<bool(std::string_view, std::string&&)>& got) {
  Inflater z(bytes);
  auto readExact = [&](char* dst, size_t n) { return z.read(dst, n); };
  constexpr uint64_t kMaxEntry = uint64_t{64} << 20;
  std::string long_name;
  char h[512];
  while (true) {
    if (!readExact(h, sizeof h))
      return Error{"not a gzip-compressed tar archive, or truncated", path, {}};
    bool zero = true;
    for (char c : h) zero = zero && c == 0;
    if (zero) return {};
    uint64_t size = octal(h + 124, 12);
    if (size > kMaxEntry)
      return Error{
          fmt::format("an archive entry is larger than {} MiB", kMaxEntry >> 20), path, {}};
    char type = h[156];
    std::string name = field(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0) {
      std::string prefix = field(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) {
      name = std::move(long_name);
      long_name.clear();
    }
    uint64_t padded = (size + 511) / 512 * 512;
    bool regular = type == '0' || type == '\0';
    bool meta = type == 'L' || type == 'x';
    std::string data;
    if (meta || (regular && want(name))) {
      data.resize(padded);
      if (padded && !readExact(data.data(), padded))
        return Error{"truncated chart archive", path, {}};
      data.resize(size);
      if (type == 'L') {
        long_name = field(data.data(), data.size());
        continue;
      }
      if (type == 'x') {
        long_name = paxPath(data);
        continue;
      }
      if (!got(name, std::move(data))) return {};
      continue;
    }
    for (uint64_t left = padded; left > 0;) {
      char skip[65536];
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, sizeof skip));
      if (!readExact(skip, n)) return Error{"truncated chart archive", path, {}};
      left -= n;
    }
  }
}

}  // namespace kh::render
