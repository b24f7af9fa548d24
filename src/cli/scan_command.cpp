#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "audit/events.h"
#include "base/process.h"
#include "base/scratch_dir.h"
#include "base/strings.h"
#include "checks/audit/audit_event_checks.h"
#include "checks/cluster/cluster_checks.h"
#include "checks/cluster/versions.h"
#include "checks/frameworks.h"
#include "checks/registry.h"
#include "cli/cluster_source.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "config/baseline.h"
#include "load/yaml_reader.h"
#include "policy/vap.h"
#include "render/render.h"
#include "report/report.h"
#include "scan/scan.h"

namespace kh {

std::optional<int64_t> parseTime(std::string_view s) {
  // The audit log's own form (MicroTime, UTC: 2026-12-07T10:00:00.123456Z), read without sscanf:
  // every request's time is read.
  if (s.size() == 27 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
      s[16] == ':' && s[19] == '.' && s[26] == 'Z') {
    int64_t v[7] = {};
    const int at[7][2] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}, {20, 6}};
    bool digits = true;
    for (int i = 0; i < 7 && digits; ++i)
      for (int k = 0; k < at[i][1]; ++k) {
        char c = s[at[i][0] + k];
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        v[i] = v[i] * 10 + (c - '0');
      }
    if (digits && v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[2] <= 31 && v[3] <= 23 && v[4] <= 59 &&
        v[5] <= 60) {
      // Days from the civil date (the proleptic Gregorian calendar, as timegm).
      int64_t y = v[0] - (v[1] <= 2), m = v[1];
      int64_t era = (y >= 0 ? y : y - 399) / 400;
      int64_t yoe = y - era * 400;
      int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + v[2] - 1;
      int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
      int64_t days = era * 146097 + doe - 719468;
      return ((days * 24 + v[3]) * 60 + v[4]) * 60 * 1000000 + v[5] * 1000000 + v[6];
    }
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = 0;
  std::string t(s);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return std::nullopt;
  int64_t micros = 0, offset = 0;
  if (t.size() > 10) {
    if (t[10] != 'T' && t[10] != 't' && t[10] != ' ') return std::nullopt;
    int m = 0;
    if (std::sscanf(t.c_str() + 11, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
      return std::nullopt;
    size_t i = 19;
    if (i < t.size() && t[i] == '.') {
      int64_t scale = 100000;
      for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
        micros += (t[i] - '0') * scale;
        scale /= 10;
      }
    }
    if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
      ++i;
    } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      int oh = 0, om = 0, k = 0;
      if (std::sscanf(t.c_str() + i + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
        return std::nullopt;
      offset = (t[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      i += 6;
    } else {
      return std::nullopt;
    }
    if (i != t.size()) return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t epoch = timegm(&tm);
  return (epoch - offset) * 1000000 + micros;
}

namespace {

struct AuditDetectArgs {
  std::vector<std::string> logs;
  std::string since, until;
};

// Reads the logs into `opts.texts`: each request some enabled detection wants, as one event.
// 0, or the exit code of the failure.
int readAuditLogs(const AuditDetectArgs& a, const Registry& reg, ScanOptions& opts,
                  AuditSource& src) {
  auto usage = [](const std::string& m) {
    std::fprintf(stderr, "kubeharden audit detect: %s\n", m.c_str());
    return kExitUsage;
  };
  std::optional<int64_t> since, until;
  if (!a.since.empty() && !(since = parseTime(a.since)))
    return usage(
        fmt::format("--since: '{}' is not a time (2026-12-07T10:00:00Z, or a date)", a.since));
  if (!a.until.empty() && !(until = parseTime(a.until)))
    return usage(
        fmt::format("--until: '{}' is not a time (2026-12-07T10:00:00Z, or a date)", a.until));
  std::vector<const AuditEventCheck*> detections;
  for (const auto& c : reg.checks())
    if (const auto* d = dynamic_cast<const AuditEventCheck*>(c.get())) detections.push_back(d);
  src.logs = a.logs;
  src.since = a.since;
  src.until = a.until;
  audit::EventReader reader(a.logs);
  audit::Event e;
  int64_t first = INT64_MAX, last = INT64_MIN;
  while (reader.next(e)) {
    const std::string& when = e.received.empty() ? e.completed : e.received;
    std::optional<int64_t> t = when.empty() ? std::nullopt : parseTime(when);
    if ((since || until) && (!t || (since && *t < *since) || (until && *t >= *until))) {
      ++src.outside_window;
      continue;
    }
    if (t && *t < first) {
      first = *t;
      src.first = when;
    }
    if (t && *t > last) {
      last = *t;
      src.last = when;
    }
    if (std::none_of(detections.begin(), detections.end(),
                     [&](const AuditEventCheck* d) { return d->wants(e); }))
      continue;
    ++src.judged;
    // Judged here once: only requests with a finding go on to the report's scan, so memory
    // follows the findings, not the candidates (ordinary writes with bodies are many).
    std::string json = audit::eventToJson(e);
    SourceFile f;
    f.path = e.file;
    f.buffer = json;
    parseSource(LoadOptions{}, f);
    ScanIndex index;
    for (const Object& o : f.objects) index.add(&o);
    CheckContext ctx{.index = &index};
    VectorSink sink;
    for (const Object& o : f.objects) reg.dispatch(o, ctx, sink);
    if (sink.findings.empty()) continue;
    opts.texts.emplace_back(e.file, std::move(json));
    opts.text_lines.push_back(static_cast<uint32_t>(std::min<uint64_t>(e.line, UINT32_MAX)));
  }
  const audit::ReadStats& st = reader.stats();
  src.lines = st.lines;
  src.events = st.events;
  src.requests = st.requests;
  src.malformed = st.malformed;
  src.bytes = st.bytes;
  src.malformed_examples = st.malformed_examples;
  for (const std::string& err : st.errors)
    std::fprintf(stderr, "kubeharden audit detect: cannot read %s\n", err.c_str());
  if (!st.errors.empty()) return kExitInput;
  if (st.events == 0) {
    std::fprintf(stderr, "kubeharden audit detect: no audit events in %s (%llu lines read)\n",
                 join(a.logs, ", ").c_str(), static_cast<unsigned long long>(st.lines));
    return kExitInput;
  }
  return 0;
}

struct ScanArgs {
  std::vector<std::string> paths;
  std::vector<std::string> formats;
  std::vector<std::string> outputs;
  std::string fail_on = "high";
  std::string config;
  std::string baseline;
  std::vector<std::string> enable, disable;
  std::vector<std::string> frameworks;
  bool no_inline_ignores = false;
  bool strict = false;
  bool no_color = false;
  unsigned threads = 0;
  std::string docs_url = kDocsUrl;
  std::vector<std::string> dockerfiles;  // --dockerfile FILE
  std::string stdin_kind = "manifest";
  bool no_dockerfiles = false;
  bool dockerfile_only = false;  // `kubeharden dockerfile lint`
  std::string command = "scan";
  // Rendering (docs/rendering.md).
  bool no_render = false;
  bool chart_ci_values = false;
  bool verbose = false;
  std::vector<std::string> values, set, set_string, set_file, set_json, api_versions;
  std::string release_name, namespace_, kube_version;
  std::string helm, kustomize;
  unsigned render_timeout = 120;
  // `cluster scan`: the objects come from a cluster's API, not from files.
  std::shared_ptr<ClusterArgs> cluster;
  // The Kubernetes version table and the date it is read at (docs/cluster.md, "Versions").
  std::string k8s_data, now;
  // `audit detect`: the objects are the requests of audit logs (docs/audit.md, "Detections").
  std::shared_ptr<AuditDetectArgs> audit;
  // Policies as code (docs/policies.md).
  std::vector<std::string> policy_paths, old_paths, namespace_labels;
  std::string k8s_version;
};

// --now and --k8s-data: the options `now` and `data` of every check that reads the version
// table, over what the config file says for them.
Status applyVersionFlags(const ScanArgs& a, Config& cfg) {
  if (a.now.empty() && a.k8s_data.empty()) return {};
  if (!a.now.empty() && !k8sver::parseDate(a.now))
    return Error{fmt::format("--now: {} is not a date (YYYY-MM-DD)", a.now), "", {}};
  if (!a.k8s_data.empty()) {
    auto t = k8sver::loadTable(a.k8s_data);
    if (!t) return Error{"--k8s-data: " + t.error().describe(), "", {}};
  }
  auto quoted = [](std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  for (std::string_view id : kVersionCheckIds) {
    std::string now = a.now, data = a.k8s_data;
    if (auto it = cfg.options.find(id); it != cfg.options.end()) {
      if (now.empty()) now = std::string(getStr(it->second, "now"));
      if (data.empty()) data = std::string(getStr(it->second, "data"));
    }
    auto f = std::make_shared<SourceFile>();
    f->path = "--now/--k8s-data";
    std::vector<std::string> items;
    if (!now.empty()) items.push_back("now: " + quoted(now));
    if (!data.empty()) items.push_back("data: " + quoted(data));
    f->buffer = "{" + join(items, ", ") + "}";
    std::vector<Diagnostic> diags;
    ParseOutput out = parseYamlStream(f->buffer, f->path, f->arena, LoadLimits{}, diags);
    if (out.error || out.documents.size() != 1) return *out.error;
    cfg.options[std::string(id)] = out.documents[0].root;
    cfg.flag_sources.push_back(std::move(f));
  }
  return {};
}

// -f is --format, and, as helm has it, a values file: a known format (FORMAT or FORMAT=FILE)
// is a format, anything else a values file.
bool isFormatSpec(std::string_view s) {
  std::string_view name = s.substr(0, s.find('='));
  return name == "text" || name == "json" || name == "sarif" || name == "junit";
}

int runScanCommand(const ScanArgs& a) {
  auto usageError = [&](const std::string& msg) {
    std::fprintf(stderr, "kubeharden %s: %s\n", a.command.c_str(), msg.c_str());
    return kExitUsage;
  };
  if (a.stdin_kind != "manifest" && a.stdin_kind != "dockerfile")
    return usageError(
        fmt::format("--stdin-kind: expected manifest or dockerfile, not '{}'", a.stdin_kind));
  std::vector<std::string> formats, values = a.values;
  for (const std::string& f : a.formats)
    (isFormatSpec(f) || a.dockerfile_only || a.cluster || a.audit ? formats : values).push_back(f);
  auto specs = pairOutputs(formats, a.outputs, {"text", "json", "sarif", "junit"});
  if (!specs) return usageError(specs.error().describe());
  std::optional<Severity> fail_on;
  if (a.fail_on != "none") {
    fail_on = parseSeverity(a.fail_on);
    if (!fail_on) return usageError(fmt::format("--fail-on: unknown severity '{}'", a.fail_on));
  }

  ScanOptions opts;
  opts.inputs = a.paths;
  if (a.paths.empty() && a.dockerfiles.empty() && !a.cluster && !a.audit) opts.inputs = {"."};
  opts.dockerfiles = !a.no_dockerfiles;
  opts.manifests = !a.dockerfile_only;
  opts.dockerfile_inputs = a.dockerfiles;
  opts.stdin_dockerfile = a.stdin_kind == "dockerfile";
  opts.inline_ignores = !a.no_inline_ignores;
  opts.threads = a.threads;
  opts.policies.paths = a.policy_paths;
  opts.policies.old_paths = a.old_paths;
  if (!a.k8s_version.empty()) {
    auto minor = cel::parseKubernetesMinor(a.k8s_version);
    if (!minor)
      return usageError(fmt::format("--k8s-version {}: expected 1.{} to 1.{}", a.k8s_version,
                                    cel::kMinK8sMinor, cel::kMaxK8sMinor));
    opts.policies.k8s_minor = *minor;
  }
  for (const std::string& kv : a.namespace_labels) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return usageError(fmt::format("--namespace-label {}: expected KEY=VALUE", kv));
    opts.policies.namespace_labels.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  std::string config_path = givenOrDefaultFile(a.config, ".kubeharden.yaml");
  if (!config_path.empty()) {
    auto cfg = loadConfig(config_path);
    if (!cfg) return usageError(cfg.error().describe());
    opts.config = std::move(cfg.value());
  }
  if (Status st = applyVersionFlags(a, opts.config); !st) return usageError(st.error().describe());
  opts.render.enabled = !a.no_render && !a.dockerfile_only;
  opts.render.chart_ci_values = a.chart_ci_values;
  opts.render.charts = opts.config.render_charts;
  render::HelmInputs& h = opts.render.helm;
  h.values_files = values;
  h.set = a.set;
  h.set_string = a.set_string;
  h.set_file = a.set_file;
  h.set_json = a.set_json;
  h.api_versions = a.api_versions;
  h.release_name = a.release_name;
  h.namespace_ = a.namespace_;
  h.kube_version = a.kube_version;
  for (const std::string& v : values) {
    if (v.find("://") != std::string::npos)
      return usageError(
          fmt::format("--values {}: a URL; kubeharden never fetches, download it "
                      "and pass the file",
                      v));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(v, ec))
      return usageError(
          fmt::format("--values {}: no such file (-f takes a format, text, json, "
                      "sarif or junit[=FILE], or a Helm values file)",
                      v));
  }
  if (a.render_timeout == 0) return usageError("--render-timeout: must be at least 1 second");
  opts.render.settings.timeout = std::chrono::seconds(a.render_timeout);
  opts.render.settings.tools = render::findTools(a.helm, a.kustomize);
  for (const auto& [flag, given] : {std::pair{"--helm", &a.helm}, {"--kustomize", &a.kustomize}})
    if (!given->empty() && kh::findExecutable(*given, "").empty())
      return usageError(fmt::format("{} {}: not an executable file", flag, *given));
  // --enable/--disable come after the config file and override what it says about the same name.
  std::set<std::string, std::less<>> ids;
  for (const auto& c : makeCatalogue()) ids.emplace(c->meta().id);
  for (const CustomCheck& c : opts.config.custom_checks) ids.emplace(c.id);  // the config's own
  for (bool on : {false, true}) {
    for (const std::string& list : on ? a.enable : a.disable) {
      for (std::string_view item : splitTrimmed(list, ',')) {
        std::string name(item);
        if (!isCheckSelector(name) && !ids.count(name))
          return usageError(
              fmt::format("--{}: unknown check or group '{}' (see `kubeharden "
                          "checks` and the config's customChecks)",
                          on ? "enable" : "disable", name));
        (on ? opts.config.disabled : opts.config.enabled).erase(name);
        (on ? opts.config.enabled : opts.config.disabled).insert(name);
      }
    }
  }
  // --framework: a compliance report per framework. The Pod Security Standards frameworks turn
  // on their level's check (pss-baseline, pss-restricted) unless the config or --disable turned
  // it off by name; other opt-in checks stay off (noisy by design): --enable adds them.
  for (const std::string& list : a.frameworks) {
    for (std::string_view item : splitTrimmed(list, ',')) {
      const Framework* fw = findFramework(item);
      if (!fw) {
        std::vector<std::string_view> names;
        for (const Framework& f : frameworks()) names.push_back(f.id);
        return usageError(fmt::format("--framework: unknown framework '{}' (expected {})", item,
                                      join(names, ", ")));
      }
      if (std::find(opts.frameworks.begin(), opts.frameworks.end(), fw) != opts.frameworks.end())
        continue;
      opts.frameworks.push_back(fw);
      for (std::string_view id : {"pss-baseline", "pss-restricted"})
        if (fw->id.starts_with("pss-") && id.ends_with(fw->id.substr(4)) &&
            !opts.config.disabled.count(id))
          opts.config.enabled.emplace(id);
    }
  }
  // `dockerfile lint`: the Dockerfile checks only, whatever the config file turns on.
  if (a.dockerfile_only)
    for (const auto& c : makeCatalogue())
      if (std::find(c->meta().kinds.begin(), c->meta().kinds.end(), "Dockerfile") ==
          c->meta().kinds.end())
        opts.config.disabled.insert(std::string(c->meta().id));
  // `audit detect`: the detections only (a log holds no manifests for the others to judge).
  if (a.audit)
    for (const auto& c : makeCatalogue())
      if (std::find(c->meta().kinds.begin(), c->meta().kinds.end(), "Event") ==
          c->meta().kinds.end()) {
        opts.config.enabled.erase(std::string(c->meta().id));
        opts.config.disabled.insert(std::string(c->meta().id));
      }
  // Check options are configuration: a bad one is a usage error (2), found before any input is
  // read.
  auto configured = buildRegistry(opts.config);
  if (!configured) return usageError(configured.error().describe());
  if (!a.baseline.empty()) {
    auto base = loadBaseline(a.baseline);
    if (!base) return usageError(base.error().describe());
    opts.baseline = std::move(base.value());
  }

  std::optional<ClusterSource> cluster_source;
  if (a.cluster) {
    opts.render.enabled = false;
    opts.dockerfiles = false;
    opts.live = true;
    cluster_source.emplace();
    if (a.cluster->images.use_pull_secrets && !a.cluster->images.enabled)
      return usageError("--use-pull-secrets is for --images (the credentials of their pulls)");
    if (!a.cluster->from_snapshot.empty()) {
      if (int code = readSnapshotIndex(*a.cluster, &*cluster_source); code != 0) return code;
      opts.inputs = {a.cluster->from_snapshot};
      if (a.cluster->images.enabled) {
        // The snapshot's Lists as pages: the Pods' statuses say what runs.
        std::vector<std::pair<std::string, std::string>> pages;
        for (const auto& e : std::filesystem::directory_iterator(a.cluster->from_snapshot)) {
          if (e.path().extension() != ".json") continue;
          std::string text;
          if (readFileTo(e.path().string(), text)) pages.emplace_back(e.path().string(), text);
        }
        size_t lists = pages.size();
        addImageScans(a.cluster->images, pages);
        for (size_t i = lists; i < pages.size(); ++i) opts.texts.push_back(std::move(pages[i]));
      }
    } else if (int code = readCluster(*a.cluster, opts.texts, &*cluster_source); code != 0) {
      return code;
    }
  }
  if (a.cluster && !a.cluster->report_configmap.empty()) {
    const std::string& rc = a.cluster->report_configmap;
    size_t slash = rc.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rc.size() ||
        rc.find('/', slash + 1) != std::string::npos)
      return usageError(fmt::format("--report-configmap: NAMESPACE/NAME, not '{}'", rc));
    if (!a.cluster->from_snapshot.empty())
      return usageError("--report-configmap publishes a live scan, not --from-snapshot");
  }
  std::optional<AuditSource> audit_source;
  if (a.audit) {
    opts.render.enabled = false;
    opts.dockerfiles = false;
    opts.manifests = false;
    audit_source.emplace();
    if (int code = readAuditLogs(*a.audit, *configured.value(), opts, *audit_source); code != 0)
      return code;
  }
  bool partial = cluster_source && !cluster_source->not_read.empty();
  opts.record_consults = cluster_source && !cluster_source->unread_kinds.empty();
  auto result = runScan(std::move(opts));
  if (!result) {
    std::fprintf(stderr, "kubeharden %s: %s\n", a.command.c_str(),
                 result.error().describe().c_str());
    return kExitInput;
  }
  ScanResult& r = result.value();
  r.cluster = cluster_source;
  r.audit = audit_source;
  if (r.cluster) {
    if (const Check* cp = r.registry->find("cp-apiserver")) {
      r.cluster->control_plane_checked = true;
      for (const Object* o : r.index.ofKind("Pod")) r.cluster->apiserver_pods += cp->appliesTo(*o);
    }
    r.cluster->not_evaluated = notEvaluated(*r.registry, r.cluster->unread_kinds, r.consulted);
  }

  for (const OutputSpec& s : *specs) {
    bool to_stdout = s.file.empty() || s.file == "-";
    ReportContext ctx{r, kVersion, !a.no_color && s.format == "text" && useColor(to_stdout),
                      a.docs_url, a.verbose};
    std::string data;
    if (s.format == "text")
      data = renderText(ctx);
    else if (s.format == "json")
      data = renderJson(ctx);
    else if (s.format == "sarif")
      data = renderSarif(ctx);
    else
      data = renderJunit(ctx);
    if (Status st = writeOutput(s.file, data); !st) return usageError(st.error().describe());
  }

  if (a.cluster && !a.cluster->report_configmap.empty()) {
    ReportContext ctx{r, kVersion, false, a.docs_url, false};
    if (int code =
            publishSummary(*a.cluster, renderClusterSummary(ctx, std::chrono::system_clock::now()));
        code != 0)
      return code;
  }

  // Errors always reach stderr, whatever the formats chosen.
  for (const Error& e : r.errors) std::fprintf(stderr, "error: %s\n", e.describe().c_str());
  if (r.objects == 0 && !r.audit) {
    std::fprintf(stderr,
                 "kubeharden %s: no %s found in the input (%zu files read); nothing was "
                 "checked\n",
                 a.command.c_str(),
                 a.dockerfile_only ? "Dockerfiles" : "Kubernetes objects or Dockerfiles",
                 r.files.size());
    return kExitInput;
  }
  if (!r.errors.empty()) return kExitInput;
  if (partial && !a.cluster->allow_partial) {
    std::fprintf(stderr,
                 "kubeharden %s: the cluster was read incompletely (see above): exit 3 "
                 "(--allow-partial to judge by the findings alone)\n",
                 a.command.c_str());
    return kExitInput;
  }
  if (a.strict && !r.diagnostics.empty()) {
    std::fprintf(stderr, "kubeharden %s: %zu diagnostics and --strict is set\n", a.command.c_str(),
                 r.diagnostics.size());
    return kExitInput;
  }
  if (fail_on) {
    for (const Finding& f : r.findings)
      if (!f.suppressed && f.severity >= *fail_on) return kExitFindings;
  }
  return kExitClean;
}

void addScanOptions(CLI::App& app, const std::shared_ptr<ScanArgs>& a) {
  if (a->dockerfile_only) {
    app.add_option("paths", a->paths,
                   "Dockerfiles, directories (recursive: Dockerfile, Containerfile, "
                   "*.Dockerfile, Dockerfile.*) or - for stdin")
        ->type_name("PATH...");
  } else if (!a->cluster && !a->audit) {
    app.add_option("paths", a->paths,
                   "Files, directories (recursive: .yaml .yml .json and Dockerfiles) or - for "
                   "stdin")
        ->type_name("PATH...");
    app.add_option("--dockerfile", a->dockerfiles,
                   "Read FILE as a Dockerfile whatever its name (repeatable; - for stdin)")
        ->type_name("FILE")
        ->allow_extra_args(false);
    app.add_option("--stdin-kind", a->stdin_kind, "What - is: manifest or dockerfile")
        ->capture_default_str();
    app.add_flag("--no-dockerfiles", a->no_dockerfiles,
                 "Do not lint the Dockerfiles found in directories");
    // Helm charts and kustomizations.
    app.add_flag("--no-render", a->no_render,
                 "Do not render Helm charts and kustomizations: read their files as YAML");
    app.add_option("--values", a->values, "Helm values file for every chart (repeatable; also -f)")
        ->type_name("FILE")
        ->allow_extra_args(false);
    app.add_option("--set", a->set, "Helm --set for every chart (repeatable)")
        ->type_name("KEY=VAL")
        ->allow_extra_args(false);
    app.add_option("--set-string", a->set_string, "Helm --set-string (repeatable)")
        ->type_name("KEY=VAL")
        ->allow_extra_args(false);
    app.add_option("--set-file", a->set_file, "Helm --set-file (repeatable)")
        ->type_name("KEY=PATH")
        ->allow_extra_args(false);
    app.add_option("--set-json", a->set_json, "Helm --set-json (repeatable)")
        ->type_name("KEY=JSON")
        ->allow_extra_args(false);
    app.add_option("--release-name", a->release_name,
                   "Helm release name (default: release-name, as helm template)");
    app.add_option("-n,--namespace", a->namespace_, "Helm release namespace");
    app.add_option("--kube-version", a->kube_version,
                   "Kubernetes version for Helm's .Capabilities.KubeVersion");
    app.add_option("--api-versions", a->api_versions,
                   "API versions for Helm's .Capabilities.APIVersions (repeatable)")
        ->type_name("GROUP/VERSION[/KIND]")
        ->allow_extra_args(false);
    app.add_flag("--chart-ci-values", a->chart_ci_values,
                 "Also render each chart with each of its ci/*values*.yaml files");
    app.add_option("--helm", a->helm, "The helm binary (default: $KUBEHARDEN_HELM, then PATH)");
    app.add_option("--kustomize", a->kustomize,
                   "The kustomize or kubectl binary (default: $KUBEHARDEN_KUSTOMIZE, then PATH)");
    app.add_option("--render-timeout", a->render_timeout,
                   "Seconds one helm or kustomize run may take")
        ->capture_default_str();
    app.add_flag("-v,--verbose", a->verbose,
                 "Text output: how each chart and kustomization was rendered");
    app.add_option("--policy", a->policy_paths,
                   "ValidatingAdmissionPolicies, their bindings and params to apply to every "
                   "object (repeatable; files or directories; applied, not scanned)")
        ->type_name("PATH")
        ->allow_extra_args(false);
    app.add_option("--old", a->old_paths,
                   "Earlier versions of the input's objects: policies judge those as an UPDATE "
                   "(repeatable)")
        ->type_name("PATH")
        ->allow_extra_args(false);
    app.add_option("--namespace-label", a->namespace_labels,
                   "A label of the namespaces the input does not define, for policies' "
                   "namespaceSelector (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    app.add_option("--k8s-version", a->k8s_version,
                   "The Kubernetes version whose CEL environment policies compile in (default: "
                   "the newest supported)")
        ->type_name("1.N");
  }
  app.add_option("-f,--format", a->formats,
                 a->dockerfile_only || a->cluster || a->audit
                     ? "Output format: text, json, sarif, junit; repeatable; FORMAT=FILE writes to "
                       "FILE"
                     : "Output format: text, json, sarif, junit; repeatable; FORMAT=FILE writes to "
                       "FILE. Anything else is a Helm values file, as helm's -f")
      ->type_name("FORMAT[=FILE]")
      ->allow_extra_args(false);
  app.add_option("-o,--output", a->outputs, "Write the matching --format to FILE (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.add_option("--fail-on", a->fail_on,
                 "Exit 1 when an unsuppressed finding is at or above: critical, high, medium, "
                 "low, info, none")
      ->capture_default_str();
  app.add_option("-c,--config", a->config, "Config file (default: ./.kubeharden.yaml if present)");
  app.add_option("--enable", a->enable,
                 "Turn checks on: IDs, a group (security, reliability) or all; comma-separated, "
                 "repeatable")
      ->type_name("LIST")
      ->allow_extra_args(false);
  app.add_option("--disable", a->disable, "Turn checks off (same forms as --enable)")
      ->type_name("LIST")
      ->allow_extra_args(false);
  app.add_option("--framework", a->frameworks,
                 "Add a compliance report: nsa, cis, pss-baseline, pss-restricted, mitre "
                 "(comma-separated, repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  app.add_option("--baseline", a->baseline,
                 "An earlier JSON report: report only findings that are not in it");
  app.add_flag("--no-inline-ignores", a->no_inline_ignores,
               "Disregard kubeharden.io/ignore annotations (authors cannot exempt themselves)");
  app.add_flag("--strict", a->strict,
               "Treat diagnostics (duplicate keys, skipped documents) as "
               "input errors (exit 3)");
  app.add_flag("--no-color", a->no_color, "No colours in text output (NO_COLOR also works)");
  app.add_option("--k8s-data", a->k8s_data,
                 "Kubernetes version table (releases, end-of-life dates, CVEs) replacing the "
                 "built-in one (docs/cluster.md, \"Versions\")")
      ->type_name("FILE");
  app.add_option("--now", a->now,
                 "Judge versions as on this date (YYYY-MM-DD; default today), for "
                 "reproducible runs")
      ->type_name("DATE");
  app.add_option("-j,--threads", a->threads, "Worker threads (default: one per core)");
  app.add_option("--docs-url", a->docs_url, "Base URL of the check pages (SARIF helpUri)");
}

}  // namespace

Runner addScanCommand(CLI::App& app) {
  auto a = std::make_shared<ScanArgs>();
  addScanOptions(app, a);
  return [a] { return runScanCommand(*a); };
}

Runner addAuditDetectCommand(CLI::App& app) {
  auto a = std::make_shared<ScanArgs>();
  a->command = "audit detect";
  a->audit = std::make_shared<AuditDetectArgs>();
  app.add_option("logs", a->audit->logs,
                 "Audit logs: JSON lines or EventList, plain or gzip; - for standard input")
      ->required();
  app.add_option("--since", a->audit->since,
                 "Only requests received at or after this time (RFC 3339, or a date)")
      ->type_name("TIME");
  app.add_option("--until", a->audit->until, "Only requests received before this time")
      ->type_name("TIME");
  addScanOptions(app, a);
  return [a] { return runScanCommand(*a); };
}

Runner addClusterCommand(CLI::App& app) {
  app.require_subcommand(1);
  auto a = std::make_shared<ScanArgs>();
  a->command = "cluster scan";
  a->cluster = std::make_shared<ClusterArgs>();
  CLI::App* scan = app.add_subcommand(
      "scan",
      "Review a live cluster, read-only: every listable object through the API, judged "
      "by every check of `scan`");
  addScanOptions(*scan, a);
  addClusterOptions(*scan, *a->cluster);
  auto p = std::make_shared<PermissionArgs>();
  CLI::App* perms = app.add_subcommand(
      "permissions", "Print the read-only ClusterRole that cluster scan needs (YAML)");
  perms->add_option("--name", p->name, "The ClusterRole's name")->capture_default_str();
  perms->add_flag("--secrets", p->secrets, "Also grant listing Secrets (read as metadata only)");
  perms->add_flag("--nodes-proxy", p->nodes_proxy,
                  "Also grant nodes/proxy (kubelet configuration; reaches kubelet exec too)");
  perms
      ->add_option("--group", p->custom_groups,
                   "An API group of custom resources to read (repeatable)")
      ->allow_extra_args(false);
  // cluster rbac: the rbac subcommands over the cluster's own roles and bindings, read once into
  // a temporary snapshot (its built-in roles are the cluster's, so kubeharden's are left out).
  auto ra = std::make_shared<ClusterArgs>();
  auto tmp = std::make_shared<std::unique_ptr<ScratchDir>>();
  CLI::App* rbac = app.add_subcommand(
      "rbac",
      "RBAC of the live cluster, read-only: who-can, can, permissions, risks and escalation over "
      "its real roles and bindings (connection options before the subcommand)");
  addClusterOptions(*rbac, *ra);
  Runner rbac_run = addRbacCommand(
      *rbac,
      [ra, tmp](std::vector<std::string>& paths, bool& no_defaults) {
        *tmp = std::make_unique<ScratchDir>("kubeharden-rbac");
        if ((*tmp)->path().empty()) {
          std::fprintf(stderr, "kubeharden cluster rbac: cannot make a temporary directory\n");
          return kExitInput;
        }
        ra->include_resources = {"roles.rbac.authorization.k8s.io",
                                 "rolebindings.rbac.authorization.k8s.io",
                                 "clusterroles.rbac.authorization.k8s.io",
                                 "clusterrolebindings.rbac.authorization.k8s.io"};
        ra->save_snapshot = (*tmp)->path();
        ra->snapshot_note = false;
        std::vector<std::pair<std::string, std::string>> texts;
        ClusterSource source;
        if (int rc = readCluster(*ra, texts, &source); rc != 0) return rc;
        if (!source.not_read.empty() && !ra->allow_partial) {
          std::fprintf(stderr,
                       "kubeharden cluster rbac: not every RBAC type could be read (see above): "
                       "an answer would be wrong; exit 3 (--allow-partial to answer anyway)\n");
          return kExitInput;
        }
        paths.push_back((*tmp)->path());
        no_defaults = true;
        return 0;
      },
      [tmp] { tmp->reset(); });
  return [a, p, perms, rbac, rbac_run] {
    if (perms->parsed()) {
      std::fputs(readerClusterRole(*p).c_str(), stdout);
      return kExitClean;
    }
    if (rbac->parsed()) return rbac_run();
    return runScanCommand(*a);
  };
}

Runner addDockerfileCommand(CLI::App& app) {
  app.require_subcommand(1);
  auto a = std::make_shared<ScanArgs>();
  a->dockerfile_only = true;
  a->command = "dockerfile lint";
  a->stdin_kind = "dockerfile";
  CLI::App* lint = app.add_subcommand(
      "lint", "Lint Dockerfiles: the Dockerfile checks of `scan` (hadolint's rules and more)");
  addScanOptions(*lint, a);
  return [a] { return runScanCommand(*a); };
}

}  // namespace kh
