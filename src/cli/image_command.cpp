// kubeharden image scan and image db: reads a container image offline (docker save tarball, OCI
// layout tarball or directory, or an unpacked root filesystem), inventories it, matches it
// against the vulnerability database and the licence policy, and writes the reports
// (cli/image_report.cpp renders them); image db import|status|update manage the database.
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/strings.h"
#include "checks/registry.h"
#include "cli/commands.h"
#include "cli/image_report.h"
#include "cli/output.h"
#include "config/config.h"
#include "image/analyzers.h"
#include "image/filesystem.h"
#include "image/inventory.h"
#include "image/layer_cache.h"
#include "image/layout.h"
#include "image/license_policy.h"
#include "image/remote.h"
#include "image/sbom.h"
#include "image/secrets.h"
#include "registry/credentials.h"
#include "registry/reference.h"
#include "report/report.h"
#include "scan/scan.h"
#include "vuln/db.h"
#include "vuln/ignore.h"
#include "vuln/scan.h"
#include "vuln/update.h"

namespace kh {
namespace {

struct ImageArgs {
  std::vector<std::string> images;
  std::string platform = "linux/amd64";
  std::vector<std::string> formats;
  std::vector<std::string> outputs;
  std::string rootfs;
  std::vector<std::string> enable, disable;
  bool no_secrets = false;
  unsigned threads = 0;
  std::string cache_dir;
  bool no_cache = false;
  bool verify_layers = false;
  std::string db;
  std::string severities;
  bool ignore_unfixed = false;
  std::string ignore_file;
  std::string fail_on = "none";
  std::string config;
  std::string license_deny;
  // Registries (docs/image.md).
  std::vector<std::string> refs, inputs;  // --ref, --input: no doubt about what an argument is
  std::string username, registry_token, authfile, ca_cert, proxy;
  bool password_stdin = false;
  std::vector<std::string> insecure;  // registries where plain HTTP or unverified TLS is allowed
  unsigned timeout = 60;              // seconds without progress before a transfer gives up
  unsigned retries = 4;               // retries of a failed registry request (backoff 0.5 s, x2)
};

// What an IMAGE argument is: a file or directory, or a registry reference. Prefixes remove any
// doubt: docker-archive:, oci-archive:, oci: (files) and registry:, docker:// (references).
struct ImageInput {
  bool remote = false;
  std::string path;         // a file input
  registry::Reference ref;  // a remote one
};

Result<ImageInput> classifyInput(const std::string& arg, bool force_file, bool force_ref) {
  ImageInput in;
  std::string_view v = arg;
  for (std::string_view p : {"docker-archive:", "oci-archive:", "oci:"})
    if (v.starts_with(p)) {
      force_file = true;
      v.remove_prefix(p.size());
    }
  for (std::string_view p : {"registry:", "docker://"})
    if (v.starts_with(p)) {
      force_ref = true;
      v.remove_prefix(p.size());
    }
  std::error_code ec;
  bool exists = std::filesystem::exists(std::string(v), ec);
  if (force_file || (exists && !force_ref)) {
    in.path = std::string(v);
    return in;
  }
  auto ref = registry::parseReference(v);
  if (!ref) {
    if (force_ref) return ref.error();
    return Error{
        fmt::format("'{}' is neither a file nor an image reference ({})", v, ref.error().message),
        {},
        {}};
  }
  in.remote = true;
  in.ref = std::move(ref.value());
  return in;
}

// The image config as a kubeharden.io/v1 ImageConfig object, for the image-config-* checks.
std::string imageConfigDocument(const image::ImageSource& src) {
  rapidjson::Document cfg;
  cfg.Parse(src.config.data(), src.config.size());
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("apiVersion");
  w.String("kubeharden.io/v1");
  w.Key("kind");
  w.String("ImageConfig");
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  std::string name = image::imageName(src);
  w.String(name.c_str());
  w.EndObject();
  if (!cfg.HasParseError() && cfg.IsObject()) {
    for (auto& m : cfg.GetObject()) {
      std::string_view k(m.name.GetString(), m.name.GetStringLength());
      if (k == "apiVersion" || k == "kind" || k == "metadata") continue;
      m.name.Accept(w);
      m.value.Accept(w);
    }
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// The image-config-* checks: on by default unless opt-in, then --enable/--disable by ID.
Result<ScanResult> runConfigChecks(const image::ImageSource& src, const ImageArgs& a) {
  ScanOptions opts;
  opts.threads = 1;
  opts.config.disabled.insert("all");
  std::set<std::string, std::less<>> ids;
  for (const auto& c : makeCatalogue()) {
    const CheckMeta& m = c->meta();
    if (std::find(m.kinds.begin(), m.kinds.end(), "ImageConfig") == m.kinds.end()) continue;
    ids.insert(std::string(m.id));
    if (m.enabled_by_default) opts.config.enabled.insert(std::string(m.id));
  }
  for (bool on : {true, false}) {
    for (const std::string& list : on ? a.enable : a.disable) {
      for (std::string_view item : splitTrimmed(list, ',')) {
        std::string id(item);
        if (!ids.count(id))
          return Error{fmt::format("--{}: '{}' is not an image check (image-config-*: {})",
                                   on ? "enable" : "disable", id, join(ids, ", ")),
                       {},
                       {}};
        if (on) {
          opts.config.enabled.insert(id);
        } else {
          opts.config.enabled.erase(id);
        }
      }
    }
  }
  if (src.config.empty()) return ScanResult{};  // a root filesystem has no image config
  opts.texts.emplace_back(src.path + "#config", imageConfigDocument(src));
  return runScan(std::move(opts));
}

// Progress on a terminal for images that take more than two seconds: layers done and bytes
// read, on one line of standard error, cleared at the end. Silent otherwise (and in pipelines).
// KUBEHARDEN_PROGRESS=1 shows it at once, terminal or not (tests).
class Progress {
 public:
  Progress(size_t layers, uint64_t total_bytes) : layers_(layers), total_(total_bytes) {
    const char* force = std::getenv("KUBEHARDEN_PROGRESS");
    bool forced = force && std::string_view(force) == "1";
    if (!forced && !::isatty(2)) return;
    auto delay = forced ? std::chrono::milliseconds(0) : std::chrono::milliseconds(2000);
    thread_ = std::thread([this, delay] {
      auto start = std::chrono::steady_clock::now();
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
        if (std::chrono::steady_clock::now() - start < delay) continue;
        show();
      }
      if (shown_ || std::chrono::steady_clock::now() - start >= delay) {
        show();
        std::fprintf(stderr, "\n");
      }
    });
  }
  ~Progress() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::atomic<uint64_t> bytes{0};
  std::atomic<size_t> done{0};

 private:
  void show() {
    std::string total = total_ ? fmt::format(" of {:.1f} MB (compressed)", total_ / 1e6) : "";
    std::fprintf(stderr, "\rkubeharden: %zu of %zu layers read, %.1f MB of files%s   ", done.load(),
                 layers_, bytes.load() / 1e6, total.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  size_t layers_;
  uint64_t total_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, shown_ = false;
};

std::vector<image::ContentHandler> handlers(bool secrets) {
  std::vector<image::ContentHandler> hs = image::inventoryHandlers();
  if (secrets) hs.push_back(image::secretsHandler());
  return hs;
}

void finish(Scanned& s, const image::Filesystem& fs) {
  s.files = fs.files().size();
  s.inv = image::buildInventory(fs);
  s.secrets = image::collectSecrets(fs);
  s.secret_stats = image::secretStats(fs);
}

Result<Scanned> scanRootfs(const std::string& dir, bool secrets) {
  Scanned s;
  s.src.path = dir;
  s.src.format = "rootfs";
  s.src.platform = image::Platform{};
  auto layer = image::readDirectory(dir, handlers(secrets));
  if (!layer) return layer.error();
  s.src.layers.push_back(image::LayerInfo{"", "", "directory", dir, 0});
  s.layer_files.push_back(layer.value().entries.size());
  s.layer_bytes.push_back(layer.value().bytes);
  image::Filesystem fs;
  fs.apply(std::move(layer.value()));
  finish(s, fs);
  return s;
}

Result<Scanned> scanImage(Result<image::ImageSource> src, bool secrets, unsigned threads,
                          const image::LayerCache& cache) {
  if (!src) return src.error();
  Scanned s;
  s.src = std::move(src.value());
  std::vector<image::LayerFiles> layers(s.src.layers.size());
  const std::vector<image::ContentHandler> hs = handlers(secrets);
  const std::string variant = secrets ? "secrets" : "inventory";
  s.layer_cached.assign(s.src.layers.size(), false);
  for (size_t i = 0; i < s.src.layers.size(); ++i) {
    if (auto hit = cache.load(s.src.layers[i].diff_id, variant)) {
      layers[i] = std::move(*hit);
      s.layer_cached[i] = true;
    }
  }
  Status st;
  if (std::find(s.layer_cached.begin(), s.layer_cached.end(), false) != s.layer_cached.end()) {
    uint64_t total = 0;
    for (const image::LayerInfo& l : s.src.layers)
      total += static_cast<uint64_t>(std::max<int64_t>(l.size, 0));
    Progress progress(s.src.layers.size(), total);
    progress.done =
        static_cast<size_t>(std::count(s.layer_cached.begin(), s.layer_cached.end(), true));
    st = image::forEachLayer(
        s.src,
        [&](size_t i, image::TarReader& r) -> Status {
          if (s.layer_cached[i]) return {};
          layers[i] = image::readLayer(r, hs, &progress.bytes);
          ++progress.done;
          return {};
        },
        threads, &s.layer_cached);
    // Only layers whose content proved to be their diff ID (checked once the whole layer has
    // been read) go into the cache, which is keyed by it.
    if (st)
      for (size_t i = 0; i < layers.size(); ++i)
        if (!s.layer_cached[i] && !s.src.layers[i].foreign)
          cache.store(s.src.layers[i].diff_id, variant, layers[i]);
  }
  if (!st) return st.error();
  image::Filesystem fs;
  for (auto& l : layers) {
    s.layer_files.push_back(l.entries.size());
    s.layer_bytes.push_back(l.bytes);
    fs.apply(std::move(l));
  }
  finish(s, fs);
  return s;
}

}  // namespace

// kubeharden image db update: download, import, and say what happened per archive.
int runUpdate(vuln::VulnDb& db, const std::string& path, vuln::UpdateOptions opts,
              const std::string& ecosystems) {
  for (std::string_view e : splitTrimmed(ecosystems, ',')) opts.ecosystems.emplace_back(e);
  auto t0 = std::chrono::steady_clock::now();
  auto report = vuln::update(db, path, opts);
  if (!report) {
    std::fprintf(stderr, "kubeharden image db update: %s\n", report.error().describe().c_str());
    return kExitInput;
  }
  const auto& r = report.value();
  size_t failed = 0;
  for (const vuln::UpdateItem& i : r.items) {
    if (i.state == vuln::UpdateItem::kFailed) {
      ++failed;
      std::fprintf(stderr, "kubeharden image db update: %s: %s\n", i.ecosystem.c_str(),
                   i.error.c_str());
    } else if (i.state == vuln::UpdateItem::kUnchanged) {
      std::printf("  %-12s unchanged (ETag)\n", i.ecosystem.c_str());
    } else {
      std::printf("  %-12s %.1f MB downloaded\n", i.ecosystem.c_str(),
                  static_cast<double>(i.bytes) / 1e6);
    }
  }
  for (const Error& e : r.stats.errors)
    std::fprintf(stderr, "kubeharden image db update: skipped %s\n", e.describe().c_str());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.not_tried)
    std::fprintf(stderr, "kubeharden image db update: %zu more ecosystem(s) not tried\n",
                 r.not_tried);
  if (failed == r.items.size()) {
    std::fprintf(stderr,
                 "kubeharden image db update: nothing could be downloaded; %s is unchanged\n",
                 path.c_str());
    return kExitInput;
  }
  std::printf("%s: updated in %.1f s: %zu new, %zu updated, %zu unchanged advisories%s\n",
              path.c_str(), secs, r.stats.inserted, r.stats.updated, r.stats.unchanged,
              failed ? fmt::format("; {} archive(s) failed", failed + r.not_tried).c_str() : "");
  return failed || !r.stats.errors.empty() ? kExitInput : kExitClean;
}

// kubeharden image db import|status|update: the local vulnerability database.
Runner addDbCommand(CLI::App& app, std::shared_ptr<int> which) {
  struct DbArgs {
    std::vector<std::string> paths;
    std::string db;
    vuln::UpdateOptions update;
    std::string ecosystems;
  };
  auto a = std::make_shared<DbArgs>();
  CLI::App* db = app.add_subcommand("db", "The local vulnerability database (OSV records)");
  db->require_subcommand(1);
  CLI::App* imp = db->add_subcommand(
      "import",
      "Import OSV records: JSON files, directories, and osv.dev's per-ecosystem zip files");
  imp->add_option("PATH", a->paths, "Files, directories or zip archives")->required();
  imp->add_option("--db", a->db, "Database file (default: KUBEHARDEN_DB, else the user cache)");
  CLI::App* st = db->add_subcommand("status", "Ecosystems, record counts and the last update");
  st->add_option("--db", a->db, "Database file (default: KUBEHARDEN_DB, else the user cache)");
  CLI::App* up = db->add_subcommand(
      "update",
      "Download osv.dev's per-ecosystem archives over HTTPS and import them (unchanged "
      "archives are skipped by ETag)");
  up->add_option("--db", a->db, "Database file (default: KUBEHARDEN_DB, else the user cache)");
  up->add_option("--ecosystem", a->ecosystems,
                 fmt::format("Comma-separated osv.dev ecosystems (default: {})",
                             fmt::join(vuln::kDefaultEcosystems, ",")));
  up->add_option("--source", a->update.source, "Where the archives are (an https:// mirror)")
      ->capture_default_str();
  up->add_option("--ca-cert,--cacert", a->update.ca_file,
                 "Also trust this CA certificate (PEM), for a private mirror");
  imp->callback([which] { *which = 1; });
  st->callback([which] { *which = 2; });
  up->callback([which] { *which = 3; });
  return [a, which]() -> int {
    std::string path = a->db.empty() ? vuln::defaultDbPath() : a->db;
    if (*which == 3 && !a->update.source.starts_with("https://")) {
      std::fprintf(stderr,
                   "kubeharden image db update: --source must be an https:// URL, not '%s'\n",
                   a->update.source.c_str());
      return kExitUsage;
    }
    std::error_code ec;
    bool existed = std::filesystem::exists(path, ec);
    auto db = vuln::VulnDb::open(path, *which != 2);
    if (!db) {
      std::fprintf(stderr, "kubeharden image db: %s\n", db.error().describe().c_str());
      return kExitInput;
    }
    if (*which == 1) {
      auto t0 = std::chrono::steady_clock::now();
      auto stats = db.value()->import(a->paths);
      if (!stats) {
        std::fprintf(stderr, "kubeharden image db import: %s\n", stats.error().describe().c_str());
        return kExitInput;
      }
      const auto& s = stats.value();
      for (const Error& e : s.errors)
        std::fprintf(stderr, "kubeharden image db import: skipped %s\n", e.describe().c_str());
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf(
          "%s: %zu records read in %.2f s: %zu new, %zu updated, %zu unchanged, %zu "
          "withdrawn, %zu not OSV\n",
          path.c_str(), s.files, secs, s.inserted, s.updated, s.unchanged, s.withdrawn,
          s.errors.size());
      return s.errors.empty() ? kExitClean : kExitInput;
    }
    if (*which == 3) {
      int rc = runUpdate(*db.value(), path, a->update, a->ecosystems);
      bool empty = db.value()->status().value().advisories == 0;
      db.value().reset();
      if (!existed && empty) std::filesystem::remove(path, ec);  // leave nothing behind
      return rc;
    }
    auto status = db.value()->status();
    if (!status) {
      std::fprintf(stderr, "kubeharden image db status: %s\n", status.error().describe().c_str());
      return kExitInput;
    }
    const auto& s = status.value();
    std::printf("%s: %zu advisories, last import %s\n", path.c_str(), s.advisories,
                s.updated.empty() ? "never" : s.updated.c_str());
    for (const auto& [eco, n] : s.by_ecosystem) std::printf("  %-24s %zu\n", eco.c_str(), n);
    return kExitClean;
  };
}

Runner addImageCommand(CLI::App& app) {
  auto a = std::make_shared<ImageArgs>();
  app.require_subcommand(1);
  auto which = std::make_shared<int>(0);  // 0 scan, 1 db import, 2 db status
  Runner db_runner = addDbCommand(app, which);
  Runner verify_runner = addImageVerifyCommand(app, which, 10);
  CLI::App* scan = app.add_subcommand("scan", "Inventory an image: platform, layers, OS, packages");
  scan->add_option("IMAGE", a->images,
                   "docker save tarball, OCI layout tarball or directory, or a registry reference "
                   "(nginx:1.27, ghcr.io/org/app@sha256:...)");
  scan->add_option("--input", a->inputs, "Read IMAGE as a file whatever it looks like (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  scan->add_option("--ref", a->refs, "Pull REF from its registry whatever files exist (repeatable)")
      ->type_name("REF")
      ->allow_extra_args(false);
  scan->add_option("--username", a->username, "Registry user (with --password-stdin)");
  scan->add_flag("--password-stdin", a->password_stdin, "Read the registry password from stdin");
  scan->add_option("--registry-token", a->registry_token, "A bearer token for the registry");
  scan->add_option("--authfile", a->authfile,
                   "Registry credentials file (containers auth.json format; default: "
                   "$REGISTRY_AUTH_FILE, then the Docker config)");
  scan->add_option("--insecure", a->insecure,
                   "Allow plain HTTP or unverified TLS for this registry (host[:port], "
                   "repeatable; loopback registries may use HTTP without it)")
      ->type_name("REGISTRY")
      ->allow_extra_args(false);
  scan->add_option("--ca-cert", a->ca_cert, "Also trust this CA certificate (PEM) for registries");
  scan->add_option("--proxy", a->proxy,
                   "HTTP(S) proxy for registries (default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY)");
  scan->add_option("--timeout", a->timeout,
                   "Seconds a registry transfer may stall before it is retried, then given up")
      ->capture_default_str();
  scan->add_option("--retries", a->retries,
                   "Retries of a registry request that failed in transit (connection refused or "
                   "dropped, 408, 429, 5xx), with exponential backoff from 0.5 s")
      ->capture_default_str()
      ->check(CLI::Range(0u, 20u));
  scan->add_option("--rootfs", a->rootfs,
                   "Inventory an unpacked root filesystem (a node, a chroot) instead of an image");
  scan->add_option("--platform", a->platform,
                   "Platform of a multi-platform image (OS/ARCH[/VARIANT])")
      ->capture_default_str();
  scan->add_option("-f,--format", a->formats,
                   "Output format: text, json, sarif, cyclonedx (1.6), spdx (2.3); repeatable; "
                   "FORMAT=FILE writes to FILE")
      ->type_name("FORMAT[=FILE]")
      ->allow_extra_args(false);
  scan->add_option("-o,--output", a->outputs, "Write the matching --format to FILE (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  scan->add_option("-j,--threads", a->threads, "Layers read at once (default: one per core)");
  scan->add_option("--db", a->db,
                   "Match the packages against this vulnerability database (`image db import`)");
  scan->add_option("--severity", a->severities,
                   "Report only vulnerabilities of these severities (comma-separated: critical, "
                   "high, medium, low, unknown)");
  scan->add_option("--ignore-file", a->ignore_file,
                   "Accepted vulnerabilities with reasons and expiry dates (default: "
                   "./.kubeharden-ignore.yaml when present)");
  scan->add_flag("--ignore-unfixed", a->ignore_unfixed,
                 "Leave out vulnerabilities that have no fixed version yet");
  scan->add_option("--cache-dir", a->cache_dir,
                   "Keep what each layer holds in DIR, keyed by its digest, and reuse it "
                   "(default: KUBEHARDEN_CACHE_DIR if set, else no cache)");
  scan->add_flag("--no-cache", a->no_cache, "Read every layer, even with a cache directory set");
  scan->add_flag("--verify-layers", a->verify_layers,
                 "Prove every layer of a local image is its diff ID (hashing all of it); always "
                 "done for registries and when a layer cache is used");
  scan->add_flag("--no-secrets", a->no_secrets,
                 "Do not scan the layers' files for secrets (inventory and config only)");
  scan->add_option("--enable", a->enable, "Turn image-config-* checks on (comma-separated IDs)")
      ->type_name("LIST")
      ->allow_extra_args(false);
  scan->add_option("--disable", a->disable, "Turn image-config-* checks off (comma-separated IDs)")
      ->type_name("LIST")
      ->allow_extra_args(false);
  scan->add_option("--license-deny", a->license_deny,
                   "Report packages under these licences (comma-separated SPDX IDs, '*' as a "
                   "wildcard, e.g. AGPL-*,SSPL-1.0), and packages whose licence is unknown")
      ->type_name("LIST");
  scan->add_option("-c,--config", a->config,
                   "Config file for image.licenses (default: ./.kubeharden.yaml if present)");
  scan->add_option("--fail-on", a->fail_on,
                   "Exit 1 when an image check finds something at or above: critical, high, "
                   "medium, low, info; none never fails")
      ->capture_default_str();
  return [a, which, db_runner, verify_runner] {
    if (*which == 10) return verify_runner();
    if (*which != 0) return db_runner();
    auto platform = image::parsePlatform(a->platform);
    if (!platform) {
      std::fprintf(stderr, "kubeharden image: %s\n", platform.error().message.c_str());
      return kExitUsage;
    }
    auto specs = pairOutputs(a->formats.empty() ? std::vector<std::string>{"text"} : a->formats,
                             a->outputs, {"text", "json", "sarif", "cyclonedx", "spdx"});
    if (!specs) {
      std::fprintf(stderr, "kubeharden image: %s\n", specs.error().describe().c_str());
      return kExitUsage;
    }
    bool sbom = false;
    for (const auto& spec : specs.value())
      sbom |= spec.format == "cyclonedx" || spec.format == "spdx" || spec.format == "sarif";
    if (sbom &&
        a->images.size() + a->inputs.size() + a->refs.size() + (a->rootfs.empty() ? 0 : 1) > 1) {
      std::fprintf(stderr,
                   "kubeharden image: an SBOM or SARIF report describes one image; scan them one "
                   "at a time\n");
      return kExitUsage;
    }
    std::optional<Severity> fail_on;
    if (a->fail_on != "none") {
      fail_on = parseSeverity(a->fail_on);
      if (!fail_on) {
        std::fprintf(stderr, "kubeharden image: --fail-on: unknown severity '%s'\n",
                     a->fail_on.c_str());
        return kExitUsage;
      }
    }
    // The licence policy: the config file's image.licenses, then --license-deny.
    image::LicensePolicy policy;
    Severity license_severity = Severity::kHigh;
    {
      std::string config_path = givenOrDefaultFile(a->config, ".kubeharden.yaml");
      if (!config_path.empty()) {
        auto cfg = loadConfig(config_path);
        if (!cfg) {
          std::fprintf(stderr, "kubeharden image: %s\n", cfg.error().describe().c_str());
          return kExitUsage;
        }
        license_severity = cfg.value().image.license_severity;
        for (const auto& [item, pos] : cfg.value().image.license_deny) {
          std::vector<std::string> warnings;
          auto ids = image::parseLicenseDenyList(item, &warnings);
          if (!ids || ids.value().size() != 1) {
            Error e =
                ids ? Error{fmt::format("'{}': one licence identifier per item", item), {}, {}}
                    : ids.error();
            std::fprintf(
                stderr, "kubeharden image: %s\n",
                Error{"image.licenses.deny: " + e.message, config_path, pos}.describe().c_str());
            return kExitUsage;
          }
          for (const std::string& w : warnings)
            std::fprintf(stderr, "kubeharden image: warning: %s:%u: %s\n", config_path.c_str(),
                         pos.line, w.c_str());
          policy.deny.push_back(ids.value()[0]);
        }
      }
      std::vector<std::string> warnings;
      auto ids = image::parseLicenseDenyList(a->license_deny, &warnings);
      if (!ids) {
        std::fprintf(stderr, "kubeharden image: --license-deny: %s\n", ids.error().message.c_str());
        return kExitUsage;
      }
      for (const std::string& w : warnings)
        std::fprintf(stderr, "kubeharden image: warning: --license-deny: %s\n", w.c_str());
      for (std::string& id : ids.value())
        if (std::find(policy.deny.begin(), policy.deny.end(), id) == policy.deny.end())
          policy.deny.push_back(std::move(id));
    }
    std::unique_ptr<vuln::VulnDb> vdb;
    std::set<std::string> wanted;
    for (std::string_view sev : splitTrimmed(a->severities, ',')) {
      std::string v = toLower(sev);
      if (v != "critical" && v != "high" && v != "medium" && v != "low" && v != "unknown") {
        std::fprintf(stderr, "kubeharden image: --severity: unknown severity '%s'\n", v.c_str());
        return kExitUsage;
      }
      wanted.insert(v);
    }
    if (!a->db.empty()) {
      auto opened = vuln::VulnDb::open(a->db, false);
      if (!opened) {
        std::fprintf(stderr, "kubeharden image: %s\n", opened.error().describe().c_str());
        return kExitInput;
      }
      vdb = std::move(opened.value());
      // Older than 7 days: say so, the findings may be missing recent advisories. (Only the
      // meta row: status() counts every advisory, a tenth of the matching time on a big database.)
      if (std::string updated = vdb->meta("updated"); !updated.empty()) {
        std::tm tm{};
        if (strptime(updated.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
          auto then = std::chrono::system_clock::from_time_t(timegm(&tm));
          auto age = std::chrono::system_clock::now() - then;
          if (age > std::chrono::hours(24 * 7))
            std::fprintf(stderr,
                         "kubeharden image: warning: the vulnerability database was last updated "
                         "%s (%ld days ago); import newer advisories\n",
                         updated.c_str(),
                         static_cast<long>(
                             std::chrono::duration_cast<std::chrono::hours>(age).count() / 24));
        }
      }
    }
    std::vector<vuln::IgnoreRule> ignores;
    {
      std::string file = givenOrDefaultFile(a->ignore_file, ".kubeharden-ignore.yaml");
      if (!file.empty()) {
        auto loaded = vuln::loadIgnoreFile(file);
        if (!loaded) {
          std::fprintf(stderr, "kubeharden image: %s\n", loaded.error().describe().c_str());
          return kExitUsage;
        }
        ignores = std::move(loaded.value());
      }
    }
    const std::string today = todayUtc();
    auto check = [&](Scanned& s) {
      if (vdb) {
        s.vulns_scanned = true;
        s.vulns = vuln::findVulnerabilities(*vdb, s.inv);
        vuln::IgnoreOutcome io = vuln::applyIgnores(s.vulns, ignores, today);
        s.ignored = std::move(io.ignored);
        for (const vuln::IgnoreRule* r : io.lapsed)
          std::fprintf(stderr,
                       "kubeharden image: the ignore of %s expired on %s: it is reported again\n",
                       r->id.c_str(), r->expires.c_str());
        std::erase_if(s.vulns, [&](const vuln::Vulnerability& v) {
          return (a->ignore_unfixed && v.fixed.empty()) ||
                 (!wanted.empty() && !wanted.count(v.severity));
        });
      }
      if (!policy.deny.empty()) {
        s.licenses_judged = true;
        s.license_severity = license_severity;
        s.licenses = image::evaluateLicensePolicy(s.inv, policy);
      }
      auto r = runConfigChecks(s.src, *a);
      if (!r) {
        std::fprintf(stderr, "kubeharden image: %s\n", r.error().describe().c_str());
        return kExitUsage;
      }
      s.checks = std::move(r.value());
      return kExitClean;
    };
    image::LayerCache cache(a->no_cache             ? std::string()
                            : !a->cache_dir.empty() ? a->cache_dir
                                                    : image::LayerCache::defaultDir());
    std::vector<Scanned> all;
    if ((a->images.empty() && a->inputs.empty() && a->refs.empty()) == a->rootfs.empty()) {
      std::fprintf(stderr, "kubeharden image: give IMAGE... or --rootfs DIR (one of them)\n");
      return kExitUsage;
    }
    if (!a->rootfs.empty()) {
      auto s = scanRootfs(a->rootfs, !a->no_secrets);
      if (!s) {
        std::fprintf(stderr, "kubeharden image: %s\n", s.error().describe().c_str());
        return kExitInput;
      }
      all.push_back(std::move(s.value()));
      if (int rc = check(all.back()); rc != kExitClean) return rc;
    }
    // Registry access: credentials once (a password on stdin can be read only once).
    std::string password;
    if (a->password_stdin) {
      if (a->username.empty()) {
        std::fprintf(stderr, "kubeharden image: --password-stdin needs --username\n");
        return kExitUsage;
      }
      std::string all_in((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
      while (!all_in.empty() && (all_in.back() == '\n' || all_in.back() == '\r')) all_in.pop_back();
      password = std::move(all_in);
    } else if (!a->username.empty()) {
      std::fprintf(stderr,
                   "kubeharden image: --username needs --password-stdin (passwords are "
                   "never taken as arguments)\n");
      return kExitUsage;
    }
    std::vector<ImageInput> inputs;
    auto classify = [&](const std::vector<std::string>& list, bool file, bool ref) {
      for (const std::string& arg : list) {
        auto in = classifyInput(arg, file, ref);
        if (!in) {
          std::fprintf(stderr, "kubeharden image: %s\n", in.error().message.c_str());
          return false;
        }
        inputs.push_back(std::move(in.value()));
      }
      return true;
    };
    if (!classify(a->images, false, false) || !classify(a->inputs, true, false) ||
        !classify(a->refs, false, true))
      return kExitUsage;
    auto openRemote = [&](const registry::Reference& ref) -> Result<image::ImageSource> {
      image::RemoteOptions ro;
      bool insecure =
          std::find(a->insecure.begin(), a->insecure.end(), ref.domain) != a->insecure.end();
      ro.client.plain_http = insecure || ref.isLoopback();
      ro.client.http.insecure_tls = insecure;
      ro.client.http.ca_file = a->ca_cert;
      ro.client.http.proxy = a->proxy;
      ro.client.http.stall_timeout = std::chrono::seconds(a->timeout);
      ro.client.http.max_attempts = static_cast<int>(a->retries) + 1;
      ro.client.http.connect_timeout =
          std::min(ro.client.http.connect_timeout, std::chrono::seconds(a->timeout));
      ro.client.http.user_agent = fmt::format("kubeharden/{}", kVersion);
      registry::CredentialSources cs = registry::CredentialSources::fromEnvironment();
      cs.username = a->username;
      cs.password = password;
      cs.registry_token = a->registry_token;
      cs.authfile = a->authfile;
      registry::FoundCredentials found = registry::findCredentials(ref, cs);
      for (const std::string& w : found.warnings)
        std::fprintf(stderr, "kubeharden image: warning: %s\n", w.c_str());
      ro.credentials = std::move(found.credentials);
      if (insecure)
        std::fprintf(stderr, "kubeharden image: warning: %s: TLS is not verified (--insecure)\n",
                     ref.domain.c_str());
      auto img = image::openRemoteImage(ref, platform.value(), ro);
      if (img)
        for (const std::string& w : img->warnings)
          std::fprintf(stderr, "kubeharden image: warning: %s\n", w.c_str());
      return img;
    };
    auto openLocal = [&](const std::string& path) {
      auto img = image::openImage(path, platform.value());
      if (img) img->verify_diff_ids = a->verify_layers || cache.enabled();
      return img;
    };
    for (const ImageInput& in : inputs) {
      auto s = scanImage(in.remote ? openRemote(in.ref) : openLocal(in.path), !a->no_secrets,
                         a->threads, cache);
      if (!s) {
        std::fprintf(stderr, "kubeharden image: %s\n", s.error().describe().c_str());
        return kExitInput;
      }
      all.push_back(std::move(s.value()));
      if (int rc = check(all.back()); rc != kExitClean) return rc;
    }
    image::SbomMeta meta = image::sbomMetaNow(kVersion);
    for (const auto& spec : specs.value()) {
      std::string out;
      if (spec.format == "json") {
        out = toJson(all);
      } else if (spec.format == "cyclonedx") {
        std::vector<image::SbomVulnerability> sv;
        for (const vuln::Vulnerability& v : all[0].vulns)
          sv.push_back({v.id, v.aliases,
                        static_cast<size_t>(v.package - all[0].inv.packages.data()), v.fixed,
                        v.severity, v.cvss, v.summary, v.score, v.severity_from});
        out =
            image::toCycloneDx(all[0].src, all[0].inv, meta, all[0].vulns_scanned ? &sv : nullptr);
      } else if (spec.format == "spdx") {
        out = image::toSpdx(all[0].src, all[0].inv, meta);
      } else if (spec.format == "sarif") {
        out = sarifOf(all[0]);
      } else {
        for (const Scanned& s : all) out += toText(s);
      }
      if (Status st = writeOutput(spec.file, out); !st) {
        std::fprintf(stderr, "kubeharden image: %s\n", st.error().describe().c_str());
        return kExitInput;
      }
    }
    if (fail_on)
      for (const Scanned& s : all)
        for (const Finding& f : s.checks.findings)
          if (!f.suppressed && f.severity >= *fail_on) return kExitFindings;
    if (fail_on)
      for (const Scanned& s : all)
        for (const vuln::Vulnerability& v : s.vulns)
          if (parseSeverity(v.severity == "unknown" ? "low" : v.severity)
                  .value_or(Severity::kLow) >= *fail_on)
            return kExitFindings;
    if (fail_on)
      for (const Scanned& s : all)
        for (const image::SecretFinding& f : s.secrets)
          if (image::secretSeverity(f) >= *fail_on) return kExitFindings;
    if (fail_on)
      for (const Scanned& s : all)
        for (const image::LicenseFinding& f : s.licenses)
          if (licenseSeverity(s, f) >= *fail_on) return kExitFindings;
    return kExitClean;
  };
}

}  // namespace kh
