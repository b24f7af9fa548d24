#include "vuln/update.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "base/strings.h"
#include "net/curl_api.h"

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

using Curl = net::CurlApi;

// A temporary file next to the database, removed with its owner.
struct TempFile {
  std::string path;
  FILE* f = nullptr;
  ~TempFile() {
    if (f) std::fclose(f);
    if (!path.empty()) std::remove(path.c_str());
  }
};

struct Transfer {
  FILE* out = nullptr;
  size_t bytes = 0;
  std::string etag;
};

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (std::fwrite(data, 1, len, t->out) != len) return 0;  // disk full: curl reports a write error
  t->bytes += len;
  return len;
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.size() > 5 && toLower(line.substr(0, 5)) == "etag:") {
    std::string_view v = line.substr(5);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
      v.remove_suffix(1);
    t->etag = std::string(v);
  }
  return size * n;
}

std::string hostOf(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  return url.substr(start, url.find('/', start) - start);
}

bool unreachable(CURLcode code) {
  return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
         code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT;
}

// What a failed transfer means to the user.
std::string explain(CURLcode code, const char* detail, const std::string& url) {
  std::string what = detail && *detail ? detail : Curl::get().easy_strerror(code);
  if (unreachable(code))
    return fmt::format(
        "cannot reach {} ({}): offline? Without a network, download {} "
        "elsewhere and run `kubeharden image db import` on it",
        hostOf(url), what, url);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
      return fmt::format("TLS with {} failed: {} (a private mirror's CA goes in --cacert)",
                         hostOf(url), what);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return fmt::format("{}: only HTTPS is used, redirects included", what);
    default:
      return fmt::format("downloading {} failed: {}", url, what);
  }
}

}  // namespace

Result<UpdateReport> update(VulnDb& db, const std::string& db_path, const UpdateOptions& opts) {
  if (!opts.source.starts_with("https://"))
    return Error{fmt::format("--source must be an https:// URL, not '{}'", opts.source), {}, {}};
  const Curl& api = Curl::get();
  if (!api.error.empty()) return Error{api.error, {}, {}};
  const std::vector<std::string>& ecosystems =
      opts.ecosystems.empty() ? kDefaultEcosystems : opts.ecosystems;
  std::string dir = std::filesystem::path(db_path).parent_path().string();
  if (dir.empty()) dir = ".";
  UpdateReport report;
  std::vector<std::unique_ptr<TempFile>> files;
  std::vector<std::string> paths, urls;  // downloaded archives and where they came from
  std::map<std::string, std::string> etags;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(api.easy_init(), api.easy_cleanup);
  if (!curl) return Error{"libcurl could not be initialised", {}, {}};
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
    Transfer t{tmp->f, 0, {}};
    CURL* c = curl.get();
    api.easy_reset(c);
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string etag_key = "etag " + item.url;
    std::string old_etag = db.meta(etag_key);
    curl_slist* headers = nullptr;
    if (!old_etag.empty())
      headers = api.slist_append(headers, ("If-None-Match: " + old_etag).c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                             api.slist_free_all);
    api.easy_setopt(c, CURLOPT_URL, item.url.c_str());
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    api.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(c, CURLOPT_USERAGENT, "kubeharden");
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_s);
    api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, opts.stall_timeout_s);
    api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    api.easy_setopt(c, CURLOPT_WRITEDATA, &t);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
    api.easy_setopt(c, CURLOPT_HEADERDATA, &t);
    api.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!opts.ca_file.empty()) api.easy_setopt(c, CURLOPT_CAINFO, opts.ca_file.c_str());
    CURLcode rc = api.easy_perform(c);
    long status = 0;
    api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
      item.error = explain(rc, errbuf, item.url);
      if (unreachable(rc)) {  // the same mirror for the rest: do not wait for it again
        report.not_tried = ecosystems.size() - report.items.size() - 1;
        report.items.push_back(std::move(item));
        break;
      }
    } else if (status == 304) {
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
      item.bytes = t.bytes;
      paths.push_back(tmp->path);
      urls.push_back(item.url);
      if (!t.etag.empty()) etags[etag_key] = t.etag;
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
