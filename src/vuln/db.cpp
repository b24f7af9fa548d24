#include "vuln/db.h"

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
#include "base/strings.h"
#include "image/archive_api.h"
#include "vuln/match.h"
#include "vuln/version.h"

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

  // Resets a statement that many calls share (prepared once) when a call is done with it.
  struct ResetOnExit {
    Stmt& s;
    ~ResetOnExit() { s.reset(); }
  };

 private:
  sqlite3_stmt* s_ = nullptr;
};

// The statement in `slot`, prepared on first use.
static Stmt& prepared(std::unique_ptr<Stmt>& slot, sqlite3* db, const char* sql) {
  if (!slot) slot = std::make_unique<Stmt>(db, sql);
  return *slot;
}

namespace {

constexpr int kSchema = 3;

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
CREATE TABLE IF NOT EXISTS names(
  name TEXT NOT NULL, advisory TEXT NOT NULL, PRIMARY KEY(name, advisory)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_advisory ON names(advisory);
)sql";

// Schema 2 -> 3: the `names` index (every advisory under its ID and each alias), built from the
// stored advisories.
const char* const kMigrate2To3 = R"sql(
WITH RECURSIVE split(advisory, name, rest) AS (
  SELECT id, '', aliases || ',' FROM advisories
  UNION ALL
  SELECT advisory, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
  FROM split WHERE rest != '')
INSERT OR IGNORE INTO names(name, advisory)
  SELECT name, advisory FROM split WHERE name != ''
  UNION SELECT id, id FROM advisories;
UPDATE meta SET value = '3' WHERE key = 'schema';
)sql";

std::string sqliteError(sqlite3* db) {
  const char* m = sqlite3_errmsg(db);
  return m ? m : "unknown SQLite error";
}

std::string str(const rapidjson::Value& o, const char* key) {
  return std::string(jsonString(o, key));
}

std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string nowUtc() {
  return rfc3339Utc(std::chrono::system_clock::now());
}

// The Debian security tracker's JSON: source packages mapping to objects keyed by CVE-... or
// TEMP-... identifiers.
bool looksLikeDebianTracker(const rapidjson::Document& d) {
  for (const auto& pkg : d.GetObject()) {
    if (!pkg.value.IsObject()) return false;
    for (const auto& issue : pkg.value.GetObject()) {
      std::string_view n(issue.name.GetString(), issue.name.GetStringLength());
      return n.starts_with("CVE-") || n.starts_with("TEMP-");
    }
  }
  return false;
}

// A file's modification time as RFC 3339, for records that carry none.
std::string fileTime(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return nowUtc();
  return rfc3339Utc(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(t)));
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
  Stmt get_rows{db, "SELECT ranges FROM affected WHERE advisory = ? AND ecosystem = ? AND key = ?"};
  Stmt del_rows{db, "DELETE FROM affected WHERE advisory = ? AND ecosystem = ? AND key = ?"};
  Stmt touch_advisory{db, "UPDATE advisories SET modified = max(modified, ?) WHERE id = ?"};
  Stmt del_names{db, "DELETE FROM names WHERE advisory = ?"};
  Stmt put_name{db, "INSERT OR IGNORE INTO names(name, advisory) VALUES(?, ?)"};
  long abort_after = -1;    // test hook: KUBEHARDEN_TEST_ABORT_IMPORT_AFTER
  std::string source_time;  // the file's modification time, for sources without record times

  // Records built from the Debian security tracker and Alpine secdb: one per advisory, collected
  // over the whole import (a CVE can be in several files), then merged per package: a package
  // the source now calls not affected loses its row, other packages' rows are left alone.
  struct Synth {
    std::string summary, modified;
    std::vector<std::string> aliases;
    // (ecosystem, package) -> the affected entry as stored, or empty: not affected.
    std::map<std::pair<std::string, std::string>, std::string> packages;
  };
  std::map<std::string, Synth> synth;

  void addSynth(const std::string& id, std::string alias, std::string_view summary,
                const std::string& eco, const std::string& name, std::string entry) {
    Synth& r = synth[id];
    if (r.summary.empty()) r.summary = std::string(summary);
    if (!alias.empty() && std::find(r.aliases.begin(), r.aliases.end(), alias) == r.aliases.end())
      r.aliases.push_back(std::move(alias));
    r.modified = std::max(r.modified, source_time);
    auto [it, fresh] = r.packages.try_emplace({eco, name}, entry);
    if (!fresh && it->second.empty()) it->second = std::move(entry);  // affected wins over not
  }

  // One stored `affected` entry: introduced 0, fixed at `fixed` (none: every version), and the
  // source's own words.
  static std::string synthEntry(std::string_view fixed, std::string_view severity,
                                std::string_view source) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("ranges");
    w.StartArray();
    w.StartObject();
    w.Key("type");
    w.String("ECOSYSTEM");
    w.Key("events");
    w.StartArray();
    w.StartObject();
    w.Key("introduced");
    w.String("0");
    w.EndObject();
    if (!fixed.empty()) {
      w.StartObject();
      w.Key("fixed");
      w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.Key("database_specific");
    w.StartObject();
    w.Key("source");
    w.String(source.data(), static_cast<rapidjson::SizeType>(source.size()));
    if (!severity.empty()) {
      w.Key("severity");
      w.String(severity.data(), static_cast<rapidjson::SizeType>(severity.size()));
    }
    w.EndObject();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }

  // The Debian security tracker's JSON: {source package: {CVE or TEMP id: {description,
  // releases: {codename: {status, fixed_version, urgency}}}}}.
  void debianTracker(const rapidjson::Document& d) {
    static const std::map<std::string_view, std::string_view> kReleases = {
        {"jessie", "8"},    {"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"},
        {"bookworm", "12"}, {"trixie", "13"}, {"forky", "14"},  {"duke", "15"}};
    for (const auto& pkg : d.GetObject()) {
      if (!pkg.value.IsObject()) continue;
      std::string name(pkg.name.GetString(), pkg.name.GetStringLength());
      for (const auto& issue : pkg.value.GetObject()) {
        if (!issue.value.IsObject()) continue;
        std::string cve(issue.name.GetString(), issue.name.GetStringLength());
        auto rel = issue.value.FindMember("releases");
        if (rel == issue.value.MemberEnd() || !rel->value.IsObject()) continue;
        std::string id = "DEBIAN-" + cve;
        for (const auto& r : rel->value.GetObject()) {
          auto codename =
              kReleases.find(std::string_view(r.name.GetString(), r.name.GetStringLength()));
          if (codename == kReleases.end() || !r.value.IsObject()) continue;  // sid, experimental
          std::string eco = fmt::format("Debian:{}", codename->second);
          std::string status = str(r.value, "status"), fixed = str(r.value, "fixed_version");
          std::string urgency = str(r.value, "urgency");
          urgency = urgency.substr(0, urgency.find_first_of("* "));  // "low**", "not yet assigned"
          if (urgency == "not") urgency.clear();
          std::string entry;
          if (status == "resolved" && fixed != "0" && !fixed.empty())
            entry = synthEntry(fixed, urgency, "debian-security-tracker");
          else if (status == "open" || status == "undetermined")
            entry = synthEntry("", urgency, "debian-security-tracker");
          // resolved at "0" (never affected), or nothing usable: not affected.
          addSynth(id, cve.starts_with("CVE-") ? cve : std::string(),
                   jsonString(issue.value, "description"), eco, name, std::move(entry));
        }
      }
    }
  }

  // Alpine secdb: {distroversion: "v3.19", packages: [{pkg: {name, secfixes: {fixed version:
  // [ids]}}}]}; a fix at "0" means never affected.
  void alpineSecdb(const rapidjson::Document& d, const std::string& origin) {
    std::string release = str(d, "distroversion");
    if (release.empty()) {
      stats.errors.push_back(Error{"an Alpine secdb file needs \"distroversion\"", origin, {}});
      return;
    }
    std::string eco = "Alpine:" + release;
    for (const auto& p : d["packages"].GetArray()) {
      auto pkg = p.IsObject() ? p.FindMember("pkg") : p.MemberEnd();
      if (!p.IsObject() || pkg == p.MemberEnd() || !pkg->value.IsObject()) continue;
      std::string name = str(pkg->value, "name");
      auto fixes = pkg->value.FindMember("secfixes");
      if (name.empty() || fixes == pkg->value.MemberEnd() || !fixes->value.IsObject()) continue;
      // Per advisory, the lowest version that fixes it.
      std::map<std::string, std::string> fixed;
      for (const auto& f : fixes->value.GetObject()) {
        std::string version(f.name.GetString(), f.name.GetStringLength());
        if (!f.value.IsArray()) continue;
        for (const auto& ids : f.value.GetArray()) {
          if (!ids.IsString()) continue;
          // "CVE-2019-1234", sometimes several in one string, sometimes with a note after.
          std::string_view text(ids.GetString(), ids.GetStringLength());
          for (size_t at = 0; at < text.size();) {
            size_t end = text.find_first_of(" \t,;", at);
            if (end == std::string_view::npos) end = text.size();
            std::string_view token = text.substr(at, end - at);
            at = end + 1;
            bool looks_like_id = token.size() > 4 && token.find('-') != std::string_view::npos &&
                                 std::isupper(static_cast<unsigned char>(token[0])) &&
                                 std::any_of(token.begin(), token.end(), [](char c) {
                                   return std::isdigit(static_cast<unsigned char>(c));
                                 });
            if (!looks_like_id) continue;
            std::string& best = fixed[std::string(token)];
            if (best.empty() || best == "0" || (version != "0" && compareApk(version, best) < 0))
              best = version;
          }
        }
      }
      for (const auto& [advisory, version] : fixed)
        addSynth("ALPINE-" + advisory, advisory, {}, eco, name,
                 version == "0" ? std::string() : synthEntry(version, "", "alpine-secdb"));
    }
  }

  // Indexes an advisory under its ID and each alias (what severity borrowing looks up).
  void putNames(const std::string& id, const std::vector<std::string>& aliases) {
    put_name.bind(1, id).bind(2, id).step();
    put_name.reset();
    for (const std::string& a : aliases) {
      put_name.bind(1, a).bind(2, id).step();
      put_name.reset();
    }
  }

  // Writes the collected Debian and Alpine records.
  void flushSynth() {
    for (auto& [id, r] : synth) {
      get_modified.bind(1, id);
      bool exists = get_modified.step() == SQLITE_ROW;
      get_modified.reset();
      bool any_affected = std::any_of(r.packages.begin(), r.packages.end(),
                                      [](const auto& p) { return !p.second.empty(); });
      if (!exists && !any_affected) continue;  // nothing to say about anything installed
      bool changed = false;
      int n = 0;
      for (const auto& [pkg, entry] : r.packages) {
        const auto& [eco, name] = pkg;
        std::string key = normalisePackageName(eco, name);
        get_rows.bind(1, id).bind(2, eco).bind(3, key);
        std::vector<std::string> old;
        while (get_rows.step() == SQLITE_ROW) old.push_back(get_rows.text(0));
        get_rows.reset();
        if (entry.empty() ? old.empty() : (old.size() == 1 && old[0] == entry)) continue;
        changed = true;
        del_rows.bind(1, id).bind(2, eco).bind(3, key).step();
        del_rows.reset();
        if (entry.empty()) continue;
        put_affected.bind(1, id).bind(2, eco).bind(3, name).bind(4, key).bind(5, entry);
        sqlite3_bind_int(put_affected.raw(), 6, n++);
        put_affected.step();
        put_affected.reset();
      }
      if (!exists) {
        std::string aliases = join(r.aliases, ",");
        put_advisory.bind(1, id).bind(2, r.modified).bind(3, "").bindNull(4);
        put_advisory.bind(5, r.summary).bind(6, aliases).bind(7, "");
        put_advisory.step();
        put_advisory.reset();
        putNames(id, r.aliases);
        ++stats.inserted;
      } else if (changed) {
        touch_advisory.bind(1, r.modified).bind(2, id).step();
        touch_advisory.reset();
        ++stats.updated;
      } else {
        ++stats.unchanged;
      }
    }
    synth.clear();
  }

  void record(std::string_view json, const std::string& origin) {
    ++stats.files;
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    if (d.HasParseError()) {
      size_t at = std::min(d.GetErrorOffset(), json.size());
      uint32_t line = 1 + static_cast<uint32_t>(std::count(
                              json.begin(), json.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
      stats.errors.push_back(
          Error{fmt::format("not JSON: {}", rapidjson::GetParseError_En(d.GetParseError())), origin,
                SourcePos{line, 0}});
      return;
    }
    if (!d.IsObject()) {
      stats.errors.push_back(
          Error{"not an OSV record: a JSON object was expected", origin, SourcePos{1, 0}});
      return;
    }
    std::string id = str(d, "id"), modified = str(d, "modified");
    if (id.empty() && d.HasMember("packages") && d["packages"].IsArray())
      return alpineSecdb(d, origin);
    if (id.empty() && looksLikeDebianTracker(d)) return debianTracker(d);
    if (id.empty() || modified.empty()) {
      stats.errors.push_back(
          Error{"not an OSV record (it needs \"id\" and \"modified\"), an "
                "Alpine secdb file or the Debian security tracker's JSON",
                origin,
                {}});
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
      del_names.bind(1, id).step();
      del_names.reset();
    }
    std::vector<std::string> alias_list;
    for (const char* key : {"aliases", "related"}) {
      auto it = d.FindMember(key);
      if (it == d.MemberEnd() || !it->value.IsArray()) continue;
      for (const auto& a : it->value.GetArray())
        if (a.IsString() && a.GetStringLength() > 0)
          alias_list.emplace_back(a.GetString(), a.GetStringLength());
      break;  // aliases when given; related only when there are no aliases
    }
    std::string aliases = join(alias_list, ",");
    putNames(id, alias_list);
    std::string severity;
    if (auto it = d.FindMember("severity"); it != d.MemberEnd() && it->value.IsArray())
      severity = toJson(it->value);
    std::string withdrawn = str(d, "withdrawn");
    put_advisory.bind(1, id).bind(2, modified).bind(3, str(d, "published"));
    if (withdrawn.empty())
      put_advisory.bindNull(4);
    else
      put_advisory.bind(4, withdrawn);
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
        put_affected.bind(1, id).bind(2, eco).bind(3, name).bind(4,
                                                                 normalisePackageName(eco, name));
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
    if (!image::archiveApi().error.empty()) {
      stats.errors.push_back(Error{image::archiveApi().error, path, {}});
      return;
    }
    archive* a = image::archiveApi().read_new();
    image::archiveApi().support_format_zip(a);
    image::archiveApi().support_filter_all(a);
    if (image::archiveApi().open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
      const char* m = image::archiveApi().error_string(a);
      stats.errors.push_back(
          Error{fmt::format("not a readable zip archive: {}", m ? m : "?"), path, {}});
      image::archiveApi().read_free(a);
      return;
    }
    archive_entry* e = nullptr;
    std::string data;
    source_time = fileTime(path);
    while (image::archiveApi().next_header(a, &e) == ARCHIVE_OK) {
      const char* name = image::archiveApi().entry_pathname(e);
      std::string_view n = name ? name : "";
      if (!n.ends_with(".json")) continue;
      data.clear();
      char buf[1 << 16];
      la_ssize_t got;
      while ((got = image::archiveApi().read_data(a, buf, sizeof buf)) > 0 &&
             data.size() < (64u << 20))
        data.append(buf, static_cast<size_t>(got));
      record(data, fmt::format("{}:{}", path, n));
    }
    image::archiveApi().read_free(a);
  }

  void file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
      stats.errors.push_back(Error{"cannot read", path, {}});
      return;
    }
    std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    source_time = fileTime(path);
    record(data, path);
  }
};

}  // namespace

std::string defaultDbPath() {
  if (const char* p = std::getenv("KUBEHARDEN_DB"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return fmt::format("{}/kubeharden/vuln.db", x);
  if (const char* h = std::getenv("HOME"); h && *h)
    return fmt::format("{}/.cache/kubeharden/vuln.db", h);
  return "kubeharden-vuln.db";
}

Result<std::unique_ptr<VulnDb>> VulnDb::open(const std::string& path, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(path, ec))
    return Error{
        "no vulnerability database here (create one with `kubeharden image db import`)", path, {}};
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
    std::string schema = get.text(0);
    get.reset();
    if (schema == "2") {  // add what schema 3 adds, in one transaction
      std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrate2To3 + "COMMIT;";
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        Error e{fmt::format("cannot upgrade the database from schema 2 to {}: {}", kSchema,
                            err ? err : "?"),
                path,
                {}};
        sqlite3_free(err);
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
      }
      schema = std::to_string(kSchema);
    }
    if (schema != std::to_string(kSchema))
      return Error{fmt::format("database schema {} (this kubeharden reads {}): import again into "
                               "a new file",
                               schema, kSchema),
                   path,
                   {}};
  } else {
    sqlite3_exec(db, fmt::format("INSERT INTO meta VALUES('schema', '{}')", kSchema).c_str(),
                 nullptr, nullptr, nullptr);
  }
  return out;
}

VulnDb::VulnDb(sqlite3* db) : db_(db) {}

VulnDb::~VulnDb() {
  advisory_q_.reset();  // statements before the connection
  names_q_.reset();
  sqlite3_close(db_);
}

std::string VulnDb::meta(const std::string& key) const {
  Stmt q(db_, "SELECT value FROM meta WHERE key = ?");
  q.bind(1, key);
  return q.step() == SQLITE_ROW ? q.text(0) : std::string();
}

Result<ImportStats> VulnDb::import(const std::vector<std::string>& paths,
                                   const std::map<std::string, std::string>& meta) {
  ImportStats stats;
  // One transaction: an import that is interrupted leaves the previous database untouched.
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Error{fmt::format("cannot start the import: {}", sqliteError(db_)), {}, {}};
  Importer imp{db_, stats};
  if (!imp.put_affected.ok() || !imp.put_advisory.ok())
    return Error{fmt::format("cannot prepare the import: {}", sqliteError(db_)), {}, {}};
  if (const char* n = std::getenv("KUBEHARDEN_TEST_ABORT_IMPORT_AFTER"))
    imp.abort_after = std::atol(n);
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(
               p, fs::directory_options::skip_permission_denied, ec);
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
  imp.flushSynth();
  Stmt put_meta(db_, "INSERT OR REPLACE INTO meta VALUES(?, ?)");
  auto putMeta = [&](const std::string& k, const std::string& v) {
    put_meta.bind(1, k).bind(2, v).step();
    put_meta.reset();
  };
  putMeta("updated", nowUtc());
  for (const auto& [k, v] : meta) putMeta(k, v);
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
  while (eco.step() == SQLITE_ROW)
    s.by_ecosystem[eco.text(0)] = static_cast<size_t>(eco.integer(1));
  Stmt upd(db_, "SELECT value FROM meta WHERE key = 'updated'");
  if (upd.step() == SQLITE_ROW) s.updated = upd.text(0);
  return s;
}

std::vector<AffectedEntry> VulnDb::affected(const std::string& ecosystem,
                                            const std::string& name) const {
  std::vector<AffectedEntry> out;
  Stmt q(db_, "SELECT advisory, ranges FROM affected WHERE ecosystem = ? AND key = ?");
  q.bind(1, ecosystem).bind(2, normalisePackageName(ecosystem, name));
  while (q.step() == SQLITE_ROW)
    out.push_back({q.text(0), ecosystem, name, q.text(1), {}, {}, {}, {}});
  return out;
}

VulnDb::ReadScope::ReadScope(const VulnDb& db)
    : db_(db.db_), open_(sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK) {}

VulnDb::ReadScope::~ReadScope() {
  if (open_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
}

std::vector<std::pair<std::string, std::string>> VulnDb::severitiesByName(
    const std::string& name) const {
  Stmt& q = prepared(names_q_, db_,
                     "SELECT a.id, a.severity FROM names n JOIN advisories a ON a.id = n.advisory "
                     "WHERE n.name = ? AND a.withdrawn IS NULL AND a.severity != '' ORDER BY a.id");
  Stmt::ResetOnExit reset{q};
  q.bind(1, name);
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step() == SQLITE_ROW) out.emplace_back(q.text(0), q.text(1));
  return out;
}

std::optional<Advisory> VulnDb::advisory(const std::string& id) const {
  Stmt& q = prepared(advisory_q_, db_,
                     "SELECT id, modified, withdrawn, summary, aliases, severity FROM advisories "
                     "WHERE id = ?");
  Stmt::ResetOnExit reset{q};
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
