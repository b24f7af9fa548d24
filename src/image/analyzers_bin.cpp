// Executables: Go build information and cargo-auditable's Rust dependency lists, read from ELF
// files (32 or 64 bit, either byte order) without running or loading anything.
#include <rapidjson/document.h>
#include <zlib.h>

#include <cstring>
#include <optional>

#include "base/strings.h"
#include "image/analyzers.h"

namespace kh::image {

namespace {

struct Section {
  std::string_view name;
  uint64_t addr = 0, offset = 0, size = 0;
  uint32_t type = 0;
};

class Elf {
 public:
  static std::optional<Elf> open(std::string_view b) {
    if (b.size() < 52 || !b.starts_with("\x7f"
                                        "ELF"))
      return std::nullopt;
    Elf e;
    e.b_ = b;
    e.is64_ = b[4] == 2;
    e.big_ = b[5] == 2;
    if ((b[4] != 1 && b[4] != 2) || (b[5] != 1 && b[5] != 2)) return std::nullopt;
    if (e.is64_ && b.size() < 64) return std::nullopt;
    uint64_t shoff = e.is64_ ? e.u64(0x28) : e.u32(0x20);
    uint32_t shentsize = e.u16(e.is64_ ? 0x3A : 0x2E), shnum = e.u16(e.is64_ ? 0x3C : 0x30),
             shstrndx = e.u16(e.is64_ ? 0x3E : 0x32);
    if (shentsize < (e.is64_ ? 64u : 40u) || shoff > b.size() ||
        uint64_t{shnum} * shentsize > b.size() - shoff)
      return e;  // no usable section headers
    for (uint32_t i = 0; i < shnum; ++i) {
      uint64_t at = shoff + uint64_t{i} * shentsize;
      Section s;
      uint32_t name = e.u32(at);
      s.type = e.u32(at + 4);
      s.addr = e.is64_ ? e.u64(at + 0x10) : e.u32(at + 0x0C);
      s.offset = e.is64_ ? e.u64(at + 0x18) : e.u32(at + 0x10);
      s.size = e.is64_ ? e.u64(at + 0x20) : e.u32(at + 0x14);
      e.sections_.push_back(s);
      e.names_.push_back(name);
    }
    if (shstrndx < e.sections_.size()) {
      std::string_view strtab = e.data(e.sections_[shstrndx]);
      for (size_t i = 0; i < e.sections_.size(); ++i) {
        if (e.names_[i] >= strtab.size()) continue;
        std::string_view n = strtab.substr(e.names_[i]);
        e.sections_[i].name = n.substr(0, n.find('\0'));
      }
    }
    return e;
  }
  std::string_view data(const Section& s) const {
    constexpr uint32_t kNoBits = 8;
    if (s.type == kNoBits || s.offset > b_.size() || s.size > b_.size() - s.offset) return {};
    return b_.substr(s.offset, s.size);
  }
  const Section* section(std::string_view name) const {
    for (const Section& s : sections_)
      if (s.name == name) return &s;
    return nullptr;
  }
  // The bytes at virtual address `addr` (n of them), from the section holding it.
  std::string_view at(uint64_t addr, uint64_t n) const {
    for (const Section& s : sections_) {
      if (s.addr == 0 || addr < s.addr || addr - s.addr >= s.size) continue;
      std::string_view d = data(s);
      uint64_t off = addr - s.addr;
      if (off >= d.size() || n > d.size() - off) return {};
      return d.substr(off, n);
    }
    return {};
  }
  uint64_t u16(uint64_t at) const { return get(at, 2); }
  uint32_t u32(uint64_t at) const { return static_cast<uint32_t>(get(at, 4)); }
  uint64_t u64(uint64_t at) const { return get(at, 8); }
  static uint64_t get(std::string_view b, uint64_t at, int n, bool big) {
    if (at > b.size() || static_cast<uint64_t>(n) > b.size() - at) return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      uint64_t byte =
          static_cast<unsigned char>(b[at + static_cast<uint64_t>(big ? i : n - 1 - i)]);
      v = v << 8 | byte;
    }
    return v;
  }
  bool is64() const { return is64_; }
  bool hasSections() const { return !sections_.empty(); }
  std::string_view bytes() const { return b_; }

 private:
  uint64_t get(uint64_t at, int n) const { return get(b_, at, n, big_); }
  std::string_view b_;
  bool is64_ = false, big_ = false;
  std::vector<Section> sections_;
  std::vector<uint32_t> names_;
};

// Go's unsigned varint.
bool uvarint(std::string_view& s, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !s.empty(); shift += 7) {
    auto b = static_cast<unsigned char>(s.front());
    s.remove_prefix(1);
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

constexpr std::string_view kGoMagic = "\xff Go buildinf:";

// The Go version and module information strings of the build info blob.
bool goBuildInfo(const Elf& elf, std::string& version, std::string& modinfo) {
  std::string_view b = elf.bytes();
  std::string_view info;
  if (const Section* s = elf.section(".go.buildinfo")) info = elf.data(*s);
  if (!info.starts_with(kGoMagic)) {
    // The Go linker always writes a .go.buildinfo section; an ELF with section headers but
    // without one is not a Go binary (searching it would scan the whole file for nothing).
    if (elf.hasSections()) return false;
    // No section headers at all: search, aligned to 16 as the linker places it.
    info = {};
    for (size_t at = b.find(kGoMagic); at != std::string_view::npos;
         at = b.find(kGoMagic, at + 1)) {
      if (at % 16 == 0) {
        info = b.substr(at);
        break;
      }
    }
  }
  if (info.size() < 32) return false;
  auto ptr_size = static_cast<unsigned char>(info[14]);
  auto flags = static_cast<unsigned char>(info[15]);
  if (flags & 2) {  // Go 1.18+: the strings follow, length-prefixed
    std::string_view rest = info.substr(32);
    uint64_t n = 0;
    if (!uvarint(rest, n) || n > rest.size()) return false;
    version = rest.substr(0, n);
    rest.remove_prefix(n);
    if (!uvarint(rest, n) || n > rest.size()) return false;
    modinfo = rest.substr(0, n);
  } else {  // pointers to Go string headers (pointer, length)
    if (ptr_size != 4 && ptr_size != 8) return false;
    bool big = flags & 1;
    auto ptr = [&](std::string_view s, uint64_t at) { return Elf::get(s, at, ptr_size, big); };
    auto goString = [&](uint64_t addr) -> std::string {
      std::string_view hdr = elf.at(addr, uint64_t{ptr_size} * 2);
      if (hdr.empty()) return {};
      uint64_t data = ptr(hdr, 0), len = ptr(hdr, ptr_size);
      if (len > (64u << 20)) return {};
      return std::string(elf.at(data, len));
    };
    version = goString(ptr(info, 16));
    modinfo = goString(ptr(info, 16 + ptr_size));
  }
  // modinfo is framed by 16-byte sentinels.
  if (modinfo.size() >= 33 && modinfo[modinfo.size() - 17] == '\n')
    modinfo = modinfo.substr(16, modinfo.size() - 32);
  return !version.empty();
}

}  // namespace

std::vector<Package> parseGoBinary(std::string_view bytes) {
  std::vector<Package> out;
  auto elf = Elf::open(bytes);
  if (!elf) return out;
  std::string version, modinfo;
  if (!goBuildInfo(*elf, version, modinfo)) return out;
  auto add = [&](std::string_view path, std::string_view v) {
    Package p;
    p.type = "golang";
    p.name = path;
    p.version = v;
    out.push_back(std::move(p));
  };
  // "go1.22.1 X:boringcrypto" -> the standard library at v1.22.1.
  std::string_view go = version;
  go = go.substr(0, go.find(' '));
  if (go.starts_with("go")) {
    std::string v = "v";
    v.append(go.substr(2));
    add("stdlib", v);
  }
  bool prev_added = false;  // a "=>" line replaces the dependency just above it
  forEachLine(modinfo, [&](std::string_view line) {
    bool replaces = line.starts_with("=>");
    bool was_added = prev_added;
    prev_added = false;
    std::vector<std::string_view> f;
    for (size_t a = 0; a <= line.size();) {
      size_t t = line.find('\t', a);
      if (t == std::string_view::npos) t = line.size();
      f.push_back(line.substr(a, t - a));
      a = t + 1;
    }
    if (f.size() < 3) return;
    if (f[0] == "mod" || f[0] == "dep") {
      // The main module built from a checkout says "(devel)": no version to report.
      if (f[2] == "(devel)") return;
      add(f[1], f[2]);
      prev_added = true;
    } else if (replaces && was_added) {
      // The dependency above is replaced: what is in the binary is the replacement (a local
      // directory replacement has no version and is dropped).
      bool local =
          f[2].empty() || f[2] == "(devel)" || f[1].starts_with(".") || f[1].starts_with("/");
      if (local) {
        out.pop_back();
      } else {
        out.back().name = f[1];
        out.back().version = f[2];
      }
    }
  });
  return out;
}

std::vector<Package> parseRustAuditable(std::string_view bytes) {
  std::vector<Package> out;
  auto elf = Elf::open(bytes);
  if (!elf) return out;
  const Section* s = elf->section(".dep-v0");
  if (!s) return out;
  std::string_view z = elf->data(*s);
  if (z.empty()) return out;
  // zlib stream, inflated with a cap (the lists are kilobytes; a bomb stops at 8 MiB).
  std::string json;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  zs.avail_in = static_cast<uInt>(z.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK && json.size() < (8u << 20)) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    json.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return out;
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return out;
  auto pk = d.FindMember("packages");
  if (pk == d.MemberEnd() || !pk->value.IsArray()) return out;
  for (const auto& v : pk->value.GetArray()) {
    if (!v.IsObject()) continue;
    auto get = [&](const char* k) -> std::string_view {
      auto it = v.FindMember(k);
      return it != v.MemberEnd() && it->value.IsString()
                 ? std::string_view(it->value.GetString(), it->value.GetStringLength())
                 : std::string_view();
    };
    if (get("kind") == "build") continue;  // build-time dependencies are not in the binary
    Package p;
    p.type = "cargo";
    p.name = get("name");
    p.version = get("version");
    if (p.name.empty() || p.version.empty()) continue;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace kh::image
