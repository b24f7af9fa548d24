#include "vuln/update.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "base/strings.h"
#include "net/http.h"

namespace kh::vuln {

const std::vector<std::string> kDefaultEcosystems = {
    "AlmaLinux", "Alpine", "Debian",      "Go",       "Maven",     "npm",
    "Packagist", "PyPI",   "Rocky Linux", "RubyGems", "crates.io", "Ubuntu"};

std::string archiveUrl(const std::string& source, const std::string& ecosystem) {
  std::string path;
  for (unsigned char c : ecosystem) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':')
      path += static_cast<char>(c);
    else
      path += fmt::format("%{:02X}", c);
  }
  std::string base = source;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/{}/all.zip", base, path);
}

namespace {

// A temporary file next to the database, removed with its owner.
struct TempFile {
  std::string path;
  FILE* f = nullptr;
  ~TempFile() {
    if (f) std::fclose(f);
    if (!path.empty()) std::remove(path.c_str());
  }
};

std::string hostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  return url.substr(start, url.find('/', start) - start);
}

// What a failed transfer means to the user (net::Client's message says what happened).
std::string explain(const net::Client& client, const Error& e, const std::string& url) {
  switch (client.lastFailure()) {
    case net::Client::Failure::kUnreachable:
    case net::Client::Failure::kTimeout:
      return fmt::format(
          "cannot reach {} ({}): offline? Without a network, download {} "
          "elsewhere and run `kubeharden image db import` on it",
          hostOf(url), e.message, url);
    case net::Client::Failure::kTls:
      return e.message;  // names the certificate problem and --ca-cert
    default:
      return fmt::format("downloading {} failed: {}", url, e.message);
  }
}

}  // namespace

Result<UpdateReport> update(VulnDb& db, const std::string& db_path, const UpdateOptions& opts) {
  if (!opts.source.starts_with("https://"))
    return Error{fmt::format("--source must be an https:// URL, not '{}'", opts.source), {}, {}};
  const std::vector<std::string>& ecosystems =
      opts.ecosystems.empty() ? kDefaultEcosystems : opts.ecosystems;
  std::string dir = std::filesystem::path(db_path).parent_path().string();
  if (dir.empty()) dir = ".";
  UpdateReport report;
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<std::string> paths, urls;  // downloaded archives and where they came from
  std::map<std::string, std::string> etags;
  // HTTPS only, redirects included; proxies, retries (an unreachable host twice at most: the
  // user is probably offline), resumed transfers and timeouts as every other download.
  net::ClientOptions co;
  co.ca_file = opts.ca_file;
  co.connect_timeout = std::chrono::seconds(opts.connect_timeout_s);
  co.stall_timeout = std::chrono::seconds(opts.stall_timeout_s);
  co.max_redirects = 5;
  co.max_attempts = 2;
  net::Client client(co);
  for (const std::string& eco : ecosystems) {
    UpdateItem item;
    item.ecosystem = eco;
    item.url = archiveUrl(opts.source, eco);
    auto tmp = std::make_unique<TempFile>();
    // A .zip name: the importer reads archives by their name.
    std::string tmpl = dir + "/.kubeharden-download-XXXXXX.zip";
    int fd = ::mkstemps(tmpl.data(), 4);
    if (fd < 0) {
      item.error =
          fmt::format("cannot write a temporary file in {}: {}", dir, std::strerror(errno));
      report.items.push_back(std::move(item));
      continue;
    }
    tmp->path = tmpl;
    tmp->f = ::fdopen(fd, "wb");
    std::string etag_key = "etag " + item.url;
    std::string old_etag = db.meta(etag_key);
    net::Request req;
    req.url = item.url;
    if (!old_etag.empty()) req.headers.emplace_back("If-None-Match", old_etag);
    size_t bytes = 0;
    bool disk_full = false;
    net::Sink sink = [&](std::string_view b) {
      if (std::fwrite(b.data(), 1, b.size(), tmp->f) != b.size()) {
        disk_full = true;
        return false;
      }
      bytes += b.size();
      return true;
    };
    auto resp = client.fetch(req, &sink);
    if (!resp) {
      item.error = disk_full ? fmt::format("cannot write {}: {}", tmp->path, std::strerror(errno))
                             : explain(client, resp.error(), item.url);
      if (client.lastFailure() == net::Client::Failure::kUnreachable ||
          client.lastFailure() == net::Client::Failure::kTimeout) {
        // The same mirror for the rest: do not wait for it again.
        report.not_tried = ecosystems.size() - report.items.size() - 1;
        report.items.push_back(std::move(item));
        break;
      }
    } else if (long status = resp.value().status; status == 304) {
      item.state = UpdateItem::kUnchanged;
    } else if (status == 404) {
      item.error = fmt::format(
          "{} has no archive for '{}' (HTTP 404): is the ecosystem spelled as "
          "osv.dev spells it?",
          hostOf(item.url), eco);
    } else if (status != 200) {
      item.error = fmt::format("{} answered HTTP {}", item.url, status);
    } else if (std::fflush(tmp->f) != 0) {
      item.error = fmt::format("cannot write {}: {}", tmp->path, std::strerror(errno));
    } else {
      item.state = UpdateItem::kDownloaded;
      item.bytes = bytes;
      paths.push_back(tmp->path);
      urls.push_back(item.url);
      if (std::string etag = resp.value().header("etag"); !etag.empty()) etags[etag_key] = etag;
      files.push_back(std::move(tmp));
    }
    report.items.push_back(std::move(item));
  }
  if (!paths.empty()) {
    auto stats = db.import(paths, etags);
    if (!stats) return stats.error();
    report.stats = std::move(stats.value());
    // Records that could not be read are named by the URL they came from, not the temporary file.
    for (Error& e : report.stats.errors)
      for (size_t i = 0; i < paths.size(); ++i)
        if (e.file.starts_with(paths[i])) e.file = urls[i] + e.file.substr(paths[i].size());
  }
  return report;
}

}  // namespace kh::vuln
