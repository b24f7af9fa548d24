#include "image/rpmdb.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cstring>
#include <memory>
#include <optional>
#include <set>

namespace kh::image::rpm {

namespace {

uint32_t be32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}
uint32_t le32(std::string_view s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return b(3) << 24 | b(2) << 16 | b(1) << 8 | b(0);
}

// --- SQLite (rpm >= 4.16): table Packages(hnum, blob). ---------------------------------------
Result<std::vector<std::string>> sqliteBlobs(std::string_view db) {
  // sqlite3_deserialize reads from memory; a database left in WAL mode is read as a rollback
  // journal one (bytes 18 and 19 of the header), which is how its checkpointed content reads.
  auto* buf = static_cast<unsigned char*>(sqlite3_malloc64(db.size()));
  if (!buf) return Error{"out of memory reading an rpm database", {}, {}};
  std::memcpy(buf, db.data(), db.size());
  if (db.size() > 19 && buf[18] == 2 && buf[19] == 2) buf[18] = buf[19] = 1;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(":memory:", &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr) !=
      SQLITE_OK) {
    sqlite3_free(buf);
    sqlite3_close(conn);
    return Error{"cannot open SQLite in memory", {}, {}};
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(conn, sqlite3_close);
  int rc = sqlite3_deserialize(conn, "main", buf, static_cast<sqlite3_int64>(db.size()),
                               static_cast<sqlite3_int64>(db.size()),
                               SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) return Error{"not a readable SQLite rpm database", {}, {}};
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(conn, "SELECT blob FROM Packages", -1, &st, nullptr) != SQLITE_OK)
    return Error{fmt::format("not an rpm database: {}", sqlite3_errmsg(conn)), {}, {}};
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> sguard(st, sqlite3_finalize);
  std::vector<std::string> out;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const void* b = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (b && n > 0) out.emplace_back(static_cast<const char*>(b), static_cast<size_t>(n));
  }
  if (rc != SQLITE_DONE)
    return Error{fmt::format("corrupt SQLite rpm database: {}", sqlite3_errmsg(conn)), {}, {}};
  return out;
}

// --- Berkeley DB hash (rpm < 4.16). ---------------------------------------------------------
constexpr uint32_t kHashMagic = 0x061561;
constexpr uint8_t kPageHash = 13, kPageHashUnsorted = 2, kPageOverflow = 7;
constexpr uint8_t kItemKeyData = 1, kItemOffPage = 3;
constexpr size_t kPageHeader = 26;

Result<std::vector<std::string>> bdbBlobs(std::string_view db) {
  bool swap = le32(db, 12) != kHashMagic;  // written on a big-endian machine
  auto u32 = [&](std::string_view s, size_t at) { return swap ? be32(s, at) : le32(s, at); };
  auto u16 = [&](std::string_view s, size_t at) -> uint32_t {
    auto b0 = static_cast<unsigned char>(s[at]), b1 = static_cast<unsigned char>(s[at + 1]);
    return swap ? (b0 << 8 | b1) : (b1 << 8 | b0);
  };
  uint32_t pagesize = u32(db, 20);
  if (pagesize < 512 || pagesize > 65536 || (pagesize & (pagesize - 1)) != 0)
    return Error{fmt::format("Berkeley DB page size {} is not valid", pagesize), {}, {}};
  size_t npages = std::min<size_t>(size_t{u32(db, 32)} + 1, db.size() / pagesize);
  auto page = [&](size_t n) { return db.substr(n * pagesize, pagesize); };
  std::vector<std::string> out;
  for (size_t n = 1; n < npages; ++n) {
    std::string_view p = page(n);
    auto type = static_cast<uint8_t>(p[25]);
    if (type != kPageHash && type != kPageHashUnsorted) continue;
    uint32_t entries = u16(p, 20);
    if (kPageHeader + size_t{entries} * 2 > pagesize) continue;  // corrupt page
    // Items alternate key, data; only data (odd indexes) are headers.
    for (uint32_t i = 1; i < entries; i += 2) {
      uint32_t off = u16(p, kPageHeader + 2 * i);
      uint32_t end = u16(p, kPageHeader + 2 * (i - 1));  // items grow down from the page end
      if (off >= pagesize || end > pagesize || end <= off) continue;
      auto itype = static_cast<uint8_t>(p[off]);
      if (itype == kItemKeyData) {
        out.emplace_back(p.substr(off + 1, end - off - 1));
      } else if (itype == kItemOffPage && off + 12 <= pagesize) {
        uint32_t next = u32(p, off + 4), total = u32(p, off + 8);
        std::string value;
        size_t hops = 0;
        while (next != 0 && next < npages && value.size() < total && ++hops <= npages) {
          std::string_view o = page(next);
          if (static_cast<uint8_t>(o[25]) != kPageOverflow) break;
          uint32_t len = std::min<uint32_t>(u16(o, 22), pagesize - kPageHeader);
          value.append(o.substr(kPageHeader, len));
          next = u32(o, 16);
        }
        if (value.size() > total) value.resize(total);
        out.push_back(std::move(value));
      }
    }
  }
  return out;
}

// --- NDB (SUSE, rpm >= 4.15 with ndb). ------------------------------------------------------
constexpr uint32_t kNdbMagic = 'R' | 'p' << 8 | 'm' << 16 | 'P' << 24;
constexpr uint32_t kNdbSlotMagic = 'S' | 'l' << 8 | 'o' << 16 | 't' << 24;
constexpr uint32_t kNdbBlobMagic = 'B' | 'l' << 8 | 'b' << 16 | 'S' << 24;

Result<std::vector<std::string>> ndbBlobs(std::string_view db) {
  if (le32(db, 4) != 0) return Error{"unsupported NDB rpm database version", {}, {}};
  uint64_t slot_pages = le32(db, 12);
  uint64_t nslots = slot_pages * 4096 / 16;
  if (slot_pages == 0 || nslots < 2 || slot_pages * 4096 > db.size())
    return Error{"truncated NDB rpm database (slot pages missing)", {}, {}};
  std::vector<std::string> out;
  for (uint64_t i = 2; i < nslots; ++i) {  // the 32-byte header takes the first two slots
    size_t at = static_cast<size_t>(i * 16);
    if (le32(db, at) != kNdbSlotMagic) continue;
    uint32_t pkgidx = le32(db, at + 4);
    uint64_t blob = uint64_t{le32(db, at + 8)} * 16;
    if (pkgidx == 0 || blob + 16 > db.size()) continue;
    if (le32(db, blob) != kNdbBlobMagic || le32(db, blob + 4) != pkgidx) continue;
    uint64_t len = le32(db, blob + 12);
    if (blob + 16 + len > db.size()) continue;
    out.emplace_back(db.substr(static_cast<size_t>(blob + 16), static_cast<size_t>(len)));
  }
  return out;
}

// --- Header blobs. --------------------------------------------------------------------------
enum Tag : uint32_t {
  kName = 1000,
  kVersion = 1001,
  kRelease = 1002,
  kEpoch = 1003,
  kLicense = 1014,
  kArch = 1022,
  kOldFilenames = 1027,
  kSourceRpm = 1044,
  kDirIndexes = 1116,
  kBasenames = 1117,
  kDirNames = 1118,
};
enum Type : uint32_t { kInt32 = 4, kString = 6, kStringArray = 8, kI18nString = 9 };

struct Header {
  std::string_view index, data;
  uint32_t count = 0;
  const char* find(uint32_t tag, uint32_t* type, uint32_t* off, uint32_t* n) const {
    for (uint32_t i = 0; i < count; ++i) {
      if (be32(index, i * 16) != tag) continue;
      *type = be32(index, i * 16 + 4);
      *off = be32(index, i * 16 + 8);
      *n = be32(index, i * 16 + 12);
      return *off < data.size() ? data.data() + *off : nullptr;
    }
    return nullptr;
  }
  std::vector<std::string_view> strings(uint32_t tag) const {
    uint32_t type = 0, off = 0, n = 0;
    std::vector<std::string_view> out;
    if (!find(tag, &type, &off, &n)) return out;
    if (type != kString && type != kStringArray && type != kI18nString) return out;
    if (type == kString) n = 1;
    size_t at = off;
    for (uint32_t i = 0; i < n && at < data.size(); ++i) {
      size_t nul = data.find('\0', at);
      if (nul == std::string_view::npos) break;
      out.push_back(data.substr(at, nul - at));
      at = nul + 1;
    }
    return out;
  }
  std::string_view string(uint32_t tag) const {
    auto v = strings(tag);
    return v.empty() ? std::string_view() : v[0];
  }
  std::vector<uint32_t> ints(uint32_t tag) const {
    uint32_t type = 0, off = 0, n = 0;
    std::vector<uint32_t> out;
    if (!find(tag, &type, &off, &n) || type != kInt32) return out;
    for (uint32_t i = 0; i < n && off + (uint64_t{i} + 1) * 4 <= data.size(); ++i)
      out.push_back(be32(data, off + i * 4));
    return out;
  }
};

}  // namespace

Result<std::vector<std::string>> headerBlobs(std::string_view db) {
  if (db.starts_with(std::string_view("SQLite format 3\0", 16))) return sqliteBlobs(db);
  if (db.size() >= 32 && le32(db, 0) == kNdbMagic) return ndbBlobs(db);
  if (db.size() >= 512 && (le32(db, 12) == kHashMagic || be32(db, 12) == kHashMagic))
    return bdbBlobs(db);
  return Error{"not an rpm database (neither SQLite, Berkeley DB hash nor NDB)", {}, {}};
}

Result<std::optional<Package>> parseHeader(std::string_view blob, std::vector<std::string>* owned) {
  if (blob.size() < 8) return Error{"rpm header too short", {}, {}};
  uint64_t il = be32(blob, 0), dl = be32(blob, 4);
  if (8 + il * 16 + dl > blob.size()) return Error{"rpm header truncated", {}, {}};
  Header h{blob.substr(8, static_cast<size_t>(il * 16)),
           blob.substr(static_cast<size_t>(8 + il * 16), static_cast<size_t>(dl)),
           static_cast<uint32_t>(il)};
  Package p;
  p.type = "rpm";
  p.name = h.string(kName);
  if (p.name.empty()) return Error{"rpm header without a name", {}, {}};
  if (p.name == "gpg-pubkey") return std::optional<Package>();
  std::string_view version = h.string(kVersion), release = h.string(kRelease);
  p.version = release.empty() ? std::string(version) : fmt::format("{}-{}", version, release);
  if (auto e = h.ints(kEpoch); !e.empty()) p.epoch = std::to_string(e[0]);
  p.arch = h.string(kArch);
  if (auto lic = h.string(kLicense); !lic.empty()) p.licenses.emplace_back(lic);
  // SOURCERPM "bash-5.1.8-6.el9.src.rpm": name, then version and release.
  std::string_view src = h.string(kSourceRpm);
  for (std::string_view suffix : {".src.rpm", ".nosrc.rpm"})
    if (src.ends_with(suffix)) src.remove_suffix(suffix.size());
  size_t r = src.rfind('-');
  size_t v = r == std::string_view::npos ? r : src.rfind('-', r - 1);
  if (v != std::string_view::npos && v > 0) {
    p.source_name = src.substr(0, v);
    p.source_version = src.substr(v + 1);
  }
  if (owned) {
    auto dirs = h.strings(kDirNames);
    auto bases = h.strings(kBasenames);
    auto idx = h.ints(kDirIndexes);
    for (size_t i = 0; i < bases.size() && i < idx.size(); ++i) {
      if (idx[i] >= dirs.size()) continue;
      std::string path = std::string(dirs[idx[i]]) + std::string(bases[i]);
      while (path.starts_with("/")) path.erase(0, 1);
      owned->push_back(std::move(path));
    }
    for (std::string_view f : h.strings(kOldFilenames)) {
      while (f.starts_with("/")) f.remove_prefix(1);
      owned->emplace_back(f);
    }
  }
  return std::optional<Package>(std::move(p));
}

Result<std::vector<Package>> packages(std::string_view db, std::vector<std::string>* owned) {
  auto blobs = headerBlobs(db);
  if (!blobs) return blobs.error();
  std::vector<Package> out;
  for (const std::string& b : blobs.value()) {
    auto p = parseHeader(b, owned);
    if (p && p.value()) out.push_back(std::move(*p.value()));
    // A value that is no header (Berkeley DB's record 0 holds a counter) is skipped.
  }
  return out;
}

}  // namespace kh::image::rpm
