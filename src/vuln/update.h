// `kubeharden image db update`: downloads osv.dev's per-ecosystem archives over HTTPS (libcurl)
// and imports them. Each archive's ETag is kept in the database, so an archive that has not
// changed is not downloaded again (If-None-Match, 304). Downloads go to temporary files next to
// the database; the import of everything that arrived is one transaction, so a failed or
// interrupted update leaves the previous database as it was. Only HTTPS is spoken, redirects
// included; proxies come from the usual environment variables (HTTPS_PROXY, NO_PROXY).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "vuln/db.h"

namespace kh::vuln {

struct UpdateOptions {
  std::string source = "https://osv-vulnerabilities.storage.googleapis.com";
  std::vector<std::string> ecosystems;  // empty: kDefaultEcosystems
  std::string ca_file;                  // also trust these CAs
  long connect_timeout_s = 30;
  long stall_timeout_s = 60;  // give up when less than 1 KiB/s arrives for this long
};

// The ecosystems kubeharden matches, as osv.dev names its archive folders.
extern const std::vector<std::string> kDefaultEcosystems;

struct UpdateItem {
  std::string ecosystem, url;
  enum State { kDownloaded, kUnchanged, kFailed } state = kFailed;
  size_t bytes = 0;
  std::string error;  // kFailed: what went wrong, and what to do
};

struct UpdateReport {
  std::vector<UpdateItem> items;
  size_t not_tried = 0;  // ecosystems left after the mirror proved unreachable
  ImportStats stats;     // of the import of what was downloaded
};

// The archive URL of one ecosystem: SOURCE/<ecosystem, percent-encoded>/all.zip.
std::string archiveUrl(const std::string& source, const std::string& ecosystem);

// Downloads and imports. An error only when nothing could be imported at all (the database is
// then unchanged); per-archive failures are in the report.
Result<UpdateReport> update(VulnDb& db, const std::string& db_path, const UpdateOptions& opts);

}  // namespace kh::vuln
