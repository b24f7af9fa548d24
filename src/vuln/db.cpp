#include "vuln/db.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "base/json_util.h"
#include "vuln/match.h"

namespace kh::vuln {

// A prepared statement, finalised with its owner.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_int64 integer(int col) const { return sqlite3_column_int64(s_, col); }
  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt* raw() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

namespace {

constexpr int kSchema = 2;

const char* const kCreate = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS advisories(
  id TEXT PRIMARY KEY, modified TEXT NOT NULL, published TEXT, withdrawn TEXT,
  summary TEXT, aliases TEXT, severity TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS affected(
  ecosystem TEXT NOT NULL, key TEXT NOT NULL, advisory TEXT NOT NULL, n INTEGER NOT NULL,
  name TEXT NOT NULL, ranges TEXT NOT NULL,
  PRIMARY KEY(ecosystem, key, advisory, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_advisory ON affected(advisory);
)sql";

std::string sqliteError(sqlite3* db) {
  const char* m = sqlite3_errmsg(db);
  return m ? m : "unknown SQLite error";
}

std::string str(const rapidjson::Value& o, const char* key) { return std::string(jsonString(o, key)); }

std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string nowUtc() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

struct Importer {
  sqlite3* db;
  ImportStats& stats;
  Stmt get_modified{db, "SELECT modified FROM advisories WHERE id = ?"};
  Stmt del_advisory{db, "DELETE FROM advisories WHERE id = ?"};
  Stmt del_affected{db, "DELETE FROM affected WHERE advisory = ?"};
  Stmt put_advisory{db,
                    "INSERT INTO advisories(id, modified, published, withdrawn, summary, aliases, "
                    "severity) VALUES(?, ?, ?, ?, ?, ?, ?)"};
  Stmt put_affected{db,
                    "INSERT OR REPLACE INTO affected(advisory, ecosystem, name, key, ranges, n) "
                    "VALUES(?, ?, ?, ?, ?, ?)"};
  long abort_after = -1;  // test hook: KUBEHARDEN_TEST_ABORT_IMPORT_AFTER

  void record(std::string_view json, const std::string& origin) {
    ++stats.files;
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError()) {
      size_t at = std::min(d.GetErrorOffset(), json.size());
      uint32_t line = 1 + static_cast<uint32_t>(std::count(json.begin(), json.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
      stats.errors.push_back(Error{fmt::format("not JSON: {}", rapidjson::GetParseError_En(d.GetParseError())),
                                   origin, SourcePos{line, 0}});
      return;
    }
    if (!d.IsObject()) {
      stats.errors.push_back(Error{"not an OSV record: a JSON object was expected", origin, SourcePos{1, 0}});
      return;
    }
    std::string id = str(d, "id"), modified = str(d, "modified");
    if (id.empty() || modified.empty()) {
      stats.errors.push_back(Error{"not an OSV record: it needs \"id\" and \"modified\"", origin, {}});
      return;
    }
    get_modified.bind(1, id);
    bool exists = get_modified.step() == SQLITE_ROW;
    std::string old = exists ? get_modified.text(0) : std::string();
    get_modified.reset();
    if (exists && old >= modified) {
      ++stats.unchanged;
      return;
    }
    if (exists) {
      del_advisory.bind(1, id).step();
      del_advisory.reset();
      del_affected.bind(1, id).step();
      del_affected.reset();
    }
    std::string aliases;
    for (const char* key : {"aliases", "related"}) {
      auto it = d.FindMember(key);
      if (it == d.MemberEnd() || !it->value.IsArray()) continue;
      for (const auto& a : it->value.GetArray())
        if (a.IsString()) {
          if (!aliases.empty()) aliases += ',';
          aliases.append(a.GetString(), a.GetStringLength());
        }
      break;  // aliases when given; related only when there are no aliases
    }
    std::string severity;
    if (auto it = d.FindMember("severity"); it != d.MemberEnd() && it->value.IsArray())
      severity = toJson(it->value);
    std::string withdrawn = str(d, "withdrawn");
    put_advisory.bind(1, id).bind(2, modified).bind(3, str(d, "published"));
    if (withdrawn.empty()) put_advisory.bindNull(4);
    else put_advisory.bind(4, withdrawn);
    put_advisory.bind(5, str(d, "summary")).bind(6, aliases).bind(7, severity);
    put_advisory.step();
    put_advisory.reset();
    if (!withdrawn.empty()) ++stats.withdrawn;
    if (auto it = d.FindMember("affected"); it != d.MemberEnd() && it->value.IsArray()) {
      int n = 0;
      for (auto& a : it->value.GetArray()) {
        if (!a.IsObject()) continue;
        auto pkg = a.FindMember("package");
        if (pkg == a.MemberEnd()) continue;
        std::string eco = str(pkg->value, "ecosystem"), name = str(pkg->value, "name");
        if (eco.empty() || name.empty()) continue;
        // Keep what matching reads: package ranges (not GIT commits), explicit versions, and
        // the per-package severity some databases give.
        rapidjson::Document keep;
        keep.SetObject();
        auto& al = keep.GetAllocator();
        rapidjson::Value ranges(rapidjson::kArrayType);
        if (auto r = a.FindMember("ranges"); r != a.MemberEnd() && r->value.IsArray())
          for (auto& range : r->value.GetArray())
            if (str(range, "type") != "GIT") ranges.PushBack(rapidjson::Value(range, al), al);
        keep.AddMember("ranges", ranges, al);
        if (auto v = a.FindMember("versions"); v != a.MemberEnd() && v->value.IsArray())
          keep.AddMember("versions", rapidjson::Value(v->value, al), al);
        for (const char* key : {"ecosystem_specific", "database_specific", "severity"})
          if (auto v = a.FindMember(key); v != a.MemberEnd())
            keep.AddMember(rapidjson::Value(key, al), rapidjson::Value(v->value, al), al);
        put_affected.bind(1, id).bind(2, eco).bind(3, name).bind(4, normalisePackageName(eco, name));
        put_affected.bind(5, toJson(keep));
        sqlite3_bind_int(put_affected.raw(), 6, n++);
        put_affected.step();
        put_affected.reset();
      }
    }
    ++(exists ? stats.updated : stats.inserted);
    if (abort_after >= 0 && static_cast<long>(stats.inserted + stats.updated) >= abort_after)
      std::_Exit(99);  // simulates a crash mid-import (tests only)
  }

  void zip(const std::string& path) {
    archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
      const char* m = archive_error_string(a);
      stats.errors.push_back(Error{fmt::format("not a readable zip archive: {}", m ? m : "?"), path, {}});
      archive_read_free(a);
      return;
    }
    archive_entry* e = nullptr;
    std::string data;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      const char* name = archive_entry_pathname(e);
      std::string_view n = name ? name : "";
      if (!n.ends_with(".json")) continue;
      data.clear();
      char buf[1 << 16];
      la_ssize_t got;
      while ((got = archive_read_data(a, buf, sizeof buf)) > 0 && data.size() < (64u << 20))
        data.append(buf, static_cast<size_t>(got));
      record(data, fmt::format("{}:{}", path, n));
    }
    archive_read_free(a);
  }

  void file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
      stats.errors.push_back(Error{"cannot read", path, {}});
      return;
    }
    std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    record(data, path);
  }
};

}  // namespace

std::string defaultDbPath() {
  if (const char* p = std::getenv("KUBEHARDEN_DB"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return fmt::format("{}/kubeharden/vuln.db", x);
  if (const char* h = std::getenv("HOME"); h && *h) return fmt::format("{}/.cache/kubeharden/vuln.db", h);
  return "kubeharden-vuln.db";
}

Result<std::unique_ptr<VulnDb>> VulnDb::open(const std::string& path, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    return Error{"no vulnerability database here (create one with `kubeharden image db import`)",
                 path, {}};
  if (create) {
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }
  sqlite3* db = nullptr;
  int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error e{fmt::format("cannot open the vulnerability database: {}", sqliteError(db)), path, {}};
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<VulnDb> out(new VulnDb(db));
  sqlite3_busy_timeout(db, 10000);  // another process importing: wait for it
  // Lookups read the file through a memory map rather than a pread per page.
  sqlite3_exec(db, "PRAGMA mmap_size = 1073741824", nullptr, nullptr, nullptr);
  char* err = nullptr;
  if (sqlite3_exec(db, kCreate, nullptr, nullptr, &err) != SQLITE_OK) {
    Error e{fmt::format("not a kubeharden vulnerability database: {}", err ? err : "?"), path, {}};
    sqlite3_free(err);
    return e;
  }
  Stmt get(db, "SELECT value FROM meta WHERE key = 'schema'");
  if (get.step() == SQLITE_ROW) {
    if (get.text(0) != std::to_string(kSchema))
      return Error{fmt::format("database schema {} (this kubeharden reads {}): import again into "
                               "a new file",
                               get.text(0), kSchema),
                   path, {}};
  } else {
    sqlite3_exec(db, fmt::format("INSERT INTO meta VALUES('schema', '{}')", kSchema).c_str(),
                 nullptr, nullptr, nullptr);
  }
  return out;
}

VulnDb::VulnDb(sqlite3* db) : db_(db) {}

VulnDb::~VulnDb() {
  advisory_q_.reset();  // statements before the connection
  sqlite3_close(db_);
}

Result<ImportStats> VulnDb::import(const std::vector<std::string>& paths) {
  ImportStats stats;
  // One transaction: an import that is interrupted leaves the previous database untouched.
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Error{fmt::format("cannot start the import: {}", sqliteError(db_)), {}, {}};
  Importer imp{db_, stats};
  if (!imp.put_affected.ok() || !imp.put_advisory.ok())
    return Error{fmt::format("cannot prepare the import: {}", sqliteError(db_)), {}, {}};
  if (const char* n = std::getenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER")) imp.abort_after = std::atol(n);
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string f = it->path().string();
        if (f.ends_with(".json") || f.ends_with(".zip")) files.push_back(f);
      }
      std::sort(files.begin(), files.end());
      for (const std::string& f : files) f.ends_with(".zip") ? imp.zip(f) : imp.file(f);
    } else if (fs::exists(p, ec)) {
      p.ends_with(".zip") ? imp.zip(p) : imp.file(p);
    } else {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Error{"no such file or directory", p, {}};
    }
  }
  std::string meta = fmt::format("INSERT OR REPLACE INTO meta VALUES('updated', '{}')", nowUtc());
  sqlite3_exec(db_, meta.c_str(), nullptr, nullptr, nullptr);
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqliteError(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return Error{fmt::format("the import could not be committed: {}", msg), {}, {}};
  }
  return stats;
}

Result<DbStatus> VulnDb::status() const {
  DbStatus s;
  s.schema = kSchema;
  Stmt count(db_, "SELECT COUNT(*) FROM advisories");
  if (count.step() == SQLITE_ROW) s.advisories = static_cast<size_t>(count.integer(0));
  Stmt eco(db_, "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem");
  while (eco.step() == SQLITE_ROW) s.by_ecosystem[eco.text(0)] = static_cast<size_t>(eco.integer(1));
  Stmt upd(db_, "SELECT value FROM meta WHERE key = 'updated'");
  if (upd.step() == SQLITE_ROW) s.updated = upd.text(0);
  return s;
}

std::vector<AffectedEntry> VulnDb::affected(const std::string& ecosystem,
                                            const std::string& name) const {
  std::vector<AffectedEntry> out;
  Stmt q(db_, "SELECT advisory, ranges FROM affected WHERE ecosystem = ? AND key = ?");
  q.bind(1, ecosystem).bind(2, normalisePackageName(ecosystem, name));
  while (q.step() == SQLITE_ROW) out.push_back({q.text(0), ecosystem, name, q.text(1), {}, {}, {}, {}});
  return out;
}

std::optional<Advisory> VulnDb::advisory(const std::string& id) const {
  if (!advisory_q_) advisory_q_ = std::make_unique<Stmt>(db_, "SELECT id, modified, withdrawn, summary, aliases, severity FROM advisories WHERE id = ?");
  Stmt& q = *advisory_q_;
  struct Reset {
    Stmt& s;
    ~Reset() { s.reset(); }
  } reset{q};
  q.bind(1, id);
  if (q.step() != SQLITE_ROW) return std::nullopt;
  Advisory a{q.text(0), q.text(1), q.text(2), q.text(3), q.text(5), {}};
  std::string aliases = q.text(4);
  for (size_t at = 0; at < aliases.size();) {
    size_t comma = aliases.find(',', at);
    if (comma == std::string::npos) comma = aliases.size();
    if (comma > at) a.aliases.push_back(aliases.substr(at, comma - at));
    at = comma + 1;
  }
  return a;
}

}  // namespace kh::vuln
