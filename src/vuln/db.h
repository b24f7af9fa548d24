// The local vulnerability database: OSV records (from JSON files, directories and the zip
// archives osv.dev publishes per ecosystem) kept in one SQLite file, so a scan needs no network.
// An import is incremental (a record is replaced only when its `modified` time is newer) and
// atomic: it runs in one transaction, so an interrupted import leaves the previous database as it
// was. Records whose JSON is broken are counted and named, never fatal.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

struct sqlite3;

namespace kh::vuln {

struct ImportStats {
  size_t files = 0;           // JSON documents read (zip members included)
  size_t inserted = 0;        // new advisories
  size_t updated = 0;         // replaced by a newer `modified`
  size_t unchanged = 0;       // already there, same or newer
  size_t withdrawn = 0;       // carry `withdrawn` (kept, never matched)
  std::vector<Error> errors;  // documents that are not OSV records (file and reason)
};

struct DbStatus {
  int schema = 0;
  size_t advisories = 0;
  std::map<std::string, size_t> by_ecosystem;  // advisories naming a package of the ecosystem
  std::string updated;                         // RFC 3339 time of the last import, or empty
};

// One affected package of an advisory, as stored: its ranges and versions as OSV JSON.
struct AffectedEntry {
  std::string advisory, ecosystem, name;
  std::string ranges_json;  // {"ranges":[...],"versions":[...]} (ECOSYSTEM and SEMVER ranges)
  std::string withdrawn, summary, aliases, severity_json;  // unused by affected()
};

struct Advisory {
  std::string id, modified, withdrawn, summary, severity_json;
  std::vector<std::string> aliases;
};

class VulnDb {
 public:
  // Opens (creating when `create`) the database at `path`.
  static Result<std::unique_ptr<VulnDb>> open(const std::string& path, bool create);
  ~VulnDb();

  // Imports every record under `paths` (files, directories searched for *.json, *.zip): OSV
  // records, Debian security tracker JSON, Alpine secdb files. `meta` entries are written in the
  // same transaction (the updater's ETags: kept only when the data they describe is).
  Result<ImportStats> import(const std::vector<std::string>& paths,
                             const std::map<std::string, std::string>& meta = {});
  // A value from the meta table ("" when absent).
  std::string meta(const std::string& key) const;
  Result<DbStatus> status() const;
  // The entries for one package: the ecosystem compared exactly, the name as the ecosystem
  // compares names (PyPI: PEP 503 normalised; others exactly).
  std::vector<AffectedEntry> affected(const std::string& ecosystem, const std::string& name) const;
  std::optional<Advisory> advisory(const std::string& id) const;
  // The stored advisories known by `name` (their ID or one of their aliases) that carry a
  // severity array, withdrawn ones left out: (advisory ID, severity JSON), by ID.
  std::vector<std::pair<std::string, std::string>> severitiesByName(const std::string& name) const;

  // Holds one read transaction for its lifetime: many lookups then share one lock and one check
  // of the file, instead of taking and releasing a lock per query.
  class ReadScope {
   public:
    explicit ReadScope(const VulnDb& db);
    ~ReadScope();
    ReadScope(const ReadScope&) = delete;
    ReadScope& operator=(const ReadScope&) = delete;

   private:
    sqlite3* db_;
    bool open_;
  };

 private:
  explicit VulnDb(sqlite3* db);
  sqlite3* db_;
  mutable std::unique_ptr<class Stmt> advisory_q_;  // prepared once: looked up per finding
  mutable std::unique_ptr<class Stmt> names_q_;
};

// $KUBEHARDEN_DB, else $XDG_CACHE_HOME/kubeharden/vuln.db, else ~/.cache/kubeharden/vuln.db.
std::string defaultDbPath();

}  // namespace kh::vuln
