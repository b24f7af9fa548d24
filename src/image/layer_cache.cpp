#include "image/layer_cache.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "base/strings.h"

namespace kh::image {

namespace {

constexpr std::string_view kMagic = "KHLAYER1";

class Out {
 public:
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) s_ += static_cast<char>(v >> (8 * i));
  }
  void str(std::string_view v) {
    u64(v.size());
    s_.append(v);
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& x : v) str(x);
  }
  std::string& bytes() { return s_; }

 private:
  std::string s_;
};

class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  bool u64(uint64_t& v) {
    if (s_.size() < 8) return ok_ = false;
    v = 0;
    for (int i = 7; i >= 0; --i)
      v = v << 8 | static_cast<unsigned char>(s_[static_cast<size_t>(i)]);
    s_.remove_prefix(8);
    return true;
  }
  bool u32(uint32_t& v) {
    uint64_t x = 0;
    if (!u64(x) || x > UINT32_MAX) return ok_ = false;
    v = static_cast<uint32_t>(x);
    return true;
  }
  bool count(uint64_t& n) {  // a count of items, each at least 8 bytes: bounded by what is left
    return u64(n) && (n <= s_.size() / 8 || (ok_ = false));
  }
  bool str(std::string& v) {
    uint64_t n = 0;
    if (!u64(n) || n > s_.size()) return ok_ = false;
    v.assign(s_.substr(0, n));
    s_.remove_prefix(n);
    return true;
  }
  bool strs(std::vector<std::string>& v) {
    uint64_t n = 0;
    if (!count(n)) return false;
    v.resize(n);
    for (auto& x : v)
      if (!str(x)) return false;
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return s_.empty(); }

 private:
  std::string_view s_;
  bool ok_ = true;
};

void writePackage(Out& o, const Package& p) {
  for (const std::string* f : {&p.name, &p.version, &p.type, &p.arch, &p.epoch, &p.source_name,
                               &p.source_version, &p.purl, &p.path})
    o.str(*f);
  o.strs(p.licenses);
  o.u64(p.layer);
}

bool readPackage(In& in, Package& p) {
  for (std::string* f : {&p.name, &p.version, &p.type, &p.arch, &p.epoch, &p.source_name,
                         &p.source_version, &p.purl, &p.path})
    if (!in.str(*f)) return false;
  return in.strs(p.licenses) && in.u32(p.layer);
}

}  // namespace

std::string serialiseLayer(const LayerFiles& l) {
  Out o;
  o.u64(l.entries.size());
  for (const TarEntry& e : l.entries) {
    o.str(e.path);
    o.u64(static_cast<uint64_t>(e.type));
    o.u64(static_cast<uint64_t>(e.size));
    o.u64(e.mode);
    o.str(e.link);
  }
  o.strs(l.whiteouts);
  o.strs(l.opaque);
  o.u64(l.captured.size());
  for (const auto& [path, content] : l.captured) {
    o.str(path);
    o.str(content);
  }
  o.u64(l.found.size());
  for (const auto& [path, f] : l.found) {
    o.str(path);
    o.u64(f.packages.size());
    for (const Package& p : f.packages) writePackage(o, p);
    o.strs(f.owned);
    o.strs(f.copyright_licenses);
  }
  o.u64(l.secrets.size());
  for (const SecretFinding& s : l.secrets) {
    for (const std::string* f : {&s.path, &s.rule_id, &s.title, &s.redacted, &s.fingerprint})
      o.str(*f);
    o.u64(s.line);
  }
  for (uint64_t v : {l.secret_stats.files, l.secret_stats.skipped_binary,
                     l.secret_stats.skipped_large, l.secret_stats.skipped_path, l.bytes})
    o.u64(v);
  std::string payload = std::move(o.bytes());
  return std::string(kMagic) + fingerprintHex(payload) + payload;
}

std::optional<LayerFiles> deserialiseLayer(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 16 || !bytes.starts_with(kMagic)) return std::nullopt;
  std::string_view sum = bytes.substr(kMagic.size(), 16);
  std::string_view payload = bytes.substr(kMagic.size() + 16);
  if (fingerprintHex(payload) != sum) return std::nullopt;
  In in(payload);
  LayerFiles l;
  uint64_t n = 0;
  if (!in.count(n)) return std::nullopt;
  l.entries.resize(n);
  for (TarEntry& e : l.entries) {
    uint64_t type = 0, size = 0, mode = 0;
    if (!in.str(e.path) || !in.u64(type) || !in.u64(size) || !in.u64(mode) || !in.str(e.link) ||
        type > static_cast<uint64_t>(TarEntry::Type::kOther))
      return std::nullopt;
    e.type = static_cast<TarEntry::Type>(type);
    e.size = static_cast<int64_t>(size);
    e.mode = static_cast<uint32_t>(mode);
  }
  if (!in.strs(l.whiteouts) || !in.strs(l.opaque) || !in.count(n)) return std::nullopt;
  for (uint64_t i = 0; i < n; ++i) {
    std::string path, content;
    if (!in.str(path) || !in.str(content)) return std::nullopt;
    l.captured.emplace(std::move(path), std::move(content));
  }
  if (!in.count(n)) return std::nullopt;
  for (uint64_t i = 0; i < n; ++i) {
    std::string path;
    FileFindings f;
    uint64_t np = 0;
    if (!in.str(path) || !in.count(np)) return std::nullopt;
    f.packages.resize(np);
    for (Package& p : f.packages)
      if (!readPackage(in, p)) return std::nullopt;
    if (!in.strs(f.owned) || !in.strs(f.copyright_licenses)) return std::nullopt;
    l.found.emplace(std::move(path), std::move(f));
  }
  if (!in.count(n)) return std::nullopt;
  l.secrets.resize(n);
  for (SecretFinding& s : l.secrets)
    if (!in.str(s.path) || !in.str(s.rule_id) || !in.str(s.title) || !in.str(s.redacted) ||
        !in.str(s.fingerprint) || !in.u32(s.line))
      return std::nullopt;
  for (uint64_t* v : {&l.secret_stats.files, &l.secret_stats.skipped_binary,
                      &l.secret_stats.skipped_large, &l.secret_stats.skipped_path, &l.bytes})
    if (!in.u64(*v)) return std::nullopt;
  if (!in.ok() || !in.done()) return std::nullopt;
  return l;
}

std::string LayerCache::defaultDir() {
  const char* d = std::getenv("KUBEHARDEN_CACHE_DIR");
  return d ? d : "";
}

std::string LayerCache::pathFor(std::string_view diff_id, std::string_view variant) const {
  // Only well-formed content digests name entries: nothing from the image reaches the path raw.
  if (dir_.empty() || !diff_id.starts_with("sha256:") || diff_id.size() != 71) return {};
  for (char c : diff_id.substr(7))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
  return fmt::format("{}/{}-a{}-{}.layer", dir_, diff_id.substr(7), kAnalyserVersion, variant);
}

std::optional<LayerFiles> LayerCache::load(std::string_view diff_id,
                                           std::string_view variant) const {
  std::string path = pathFor(diff_id, variant);
  if (path.empty()) return std::nullopt;
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return deserialiseLayer(bytes);
}

// Removes entries' temporary files that a killed process left behind ("NAME.tmp.PID.SEQ" where
// no process PID exists any more). Files of live processes are theirs to rename.
static void sweepStale(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    size_t t = name.find(".layer.tmp.");
    if (t == std::string::npos) continue;
    long pid = std::strtol(name.c_str() + t + 11, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      std::filesystem::remove(e.path(), rm);
    }
  }
}

void LayerCache::store(std::string_view diff_id, std::string_view variant,
                       const LayerFiles& layer) const {
  std::string path = pathFor(diff_id, variant);
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return;  // a cache that cannot be written is no cache, not an error
  static std::once_flag swept;
  std::call_once(swept, [&] { sweepStale(dir_); });
  static std::atomic<uint64_t> seq{0};
  std::string tmp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), seq++);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    std::string bytes = serialiseLayer(layer);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f.flush()) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);  // atomic: readers see the old entry or the new one
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace kh::image
