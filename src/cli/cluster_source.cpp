#include "cli/cluster_source.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/json_util.h"
#include "base/parallel.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cluster/api.h"
#include "cluster/kubeconfig.h"
#include "cluster/read.h"
#include "load/yaml_reader.h"
#include "registry/pull_secrets.h"
#include "scan/scan.h"

namespace kh {

void addClusterOptions(CLI::App& app, ClusterArgs& a) {
  app.add_option("--kubeconfig", a.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG's files, else ~/.kube/config; in a pod "
                 "without one, its service account)");
  app.add_option("--context", a.context, "kubeconfig context (default: current-context)");
  app.add_option("--cluster", a.cluster, "kubeconfig cluster, replacing the context's");
  app.add_option("--user", a.user, "kubeconfig user, replacing the context's");
  app.add_option("--as", a.as, "Impersonate this user");
  app.add_option("--as-group", a.as_groups, "Impersonate this group (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--include-resources", a.include_resources,
                 "Read only these resource types (plural, or plural.group; repeatable)")
      ->allow_extra_args(false);
  app.add_option("--include-kinds", a.include_kinds,
                 "Read only these kinds (Pod, Deployment, ...; comma-separated, repeatable)")
      ->allow_extra_args(false);
  app.add_option("--exclude-kinds", a.exclude_kinds,
                 "Leave these kinds out (comma-separated, repeatable)")
      ->allow_extra_args(false);
  app.add_option("--secrets", a.secrets,
                 "How Secrets are read: metadata (names, labels, annotations; no value ever), "
                 "skip, or full (their values, for checks that judge them)")
      ->check(CLI::IsMember({"metadata", "skip", "full"}))
      ->capture_default_str();
  app.add_option("--namespaces", a.namespaces,
                 "Read only these namespaces (and cluster-scoped types): each namespaced type is "
                 "listed per namespace, which an identity without cluster-wide list rights can "
                 "do; comma-separated, repeatable")
      ->allow_extra_args(false);
  app.add_option("--exclude-namespaces", a.exclude_namespaces,
                 "Leave these namespaces out (comma-separated, repeatable)")
      ->allow_extra_args(false);
  app.add_option("-l,--label-selector", a.label_selector,
                 "Read only objects with these labels (the API's label selector syntax)");
  app.add_option("--page-size", a.page_size, "Objects per list page")->capture_default_str();
  app.add_option("--qps", a.qps, "Requests per second to the API server on average (0: no limit)")
      ->capture_default_str();
  app.add_option("--burst", a.burst, "Requests allowed at once above --qps")->capture_default_str();
  app.add_option("--parallel", a.parallel,
                 "Resource types listed at once (connections in flight; --qps still bounds the "
                 "request rate)")
      ->capture_default_str();
  app.add_option("--request-timeout", a.timeout, "Seconds a request may take to connect, or stall")
      ->capture_default_str();
  app.add_option("--save-snapshot", a.save_snapshot,
                 "Also write what was read to DIR (one List per resource type, Secrets as read; "
                 "`kubeharden scan DIR` gives the same findings offline)")
      ->type_name("DIR");
  app.add_option("--from-snapshot", a.from_snapshot,
                 "Judge a snapshot a previous run saved (--save-snapshot) instead of a cluster: "
                 "the same findings, and the same coverage, offline")
      ->type_name("DIR");
  app.add_option("--report-configmap", a.report_configmap,
                 "Also publish the findings' counts (kubeharden/cluster-summary/v1) in this "
                 "ConfigMap, by server-side apply: the one write, for `serve --cluster-report` "
                 "metrics (the Helm chart's scheduled scan)")
      ->type_name("NAMESPACE/NAME");
  app.add_flag("--images", a.images.enabled,
               "Also scan each distinct image the cluster runs, once (pulled from its registry "
               "with the local Docker credentials; matched against --vuln-db): "
               "cluster-image-vulnerabilities names the workloads that run it");
  app.add_option("--vuln-db", a.images.db,
                 "Vulnerability database for --images (default: image scan's: KUBEHARDEN_DB, "
                 "else the user cache)")
      ->type_name("FILE");
  app.add_option("--image-cache-dir", a.images.cache_dir,
                 "Layer cache for --images (default: image scan's)")
      ->type_name("DIR");
  app.add_option("--insecure-registry", a.images.insecure,
                 "A registry --images may reach over plain HTTP or unverified TLS (repeatable)")
      ->type_name("HOST[:PORT]")
      ->allow_extra_args(false);
  app.add_option("--image-timeout", a.images.timeout, "Seconds one image's scan may take")
      ->capture_default_str();
  app.add_flag("--use-pull-secrets", a.images.use_pull_secrets,
               "With --images: pull each image with its Pods' imagePullSecrets, as the kubelet "
               "would (the pull secrets are listed with their values, which needs list on "
               "Secrets; they stay in memory, never in a report or snapshot)");
  app.add_flag("--allow-partial", a.allow_partial,
               "Exit as the findings say even when some resource types could not be read (they "
               "are listed; default: exit 3)");
}

// Bytes of list pages one snapshot file holds at most (a page more than this is a file alone).
constexpr size_t kSnapshotFileBytes = 16u << 20;

namespace {

// A YAML double-quoted scalar (snapshot.txt is YAML, for --from-snapshot to read back).
std::string yamlQuoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

int readSnapshotIndex(const ClusterArgs& a, ClusterSource* source) {
  auto fail = [](int code, const std::string& m) {
    std::fprintf(stderr, "kubeharden cluster scan: %s\n", m.c_str());
    return code;
  };
  if (!a.kubeconfig.empty() || !a.context.empty() || !a.save_snapshot.empty() ||
      !a.include_resources.empty() || !a.include_kinds.empty() || !a.exclude_kinds.empty() ||
      !a.namespaces.empty() || !a.exclude_namespaces.empty() || !a.label_selector.empty())
    return fail(kExitUsage,
                "--from-snapshot reads no cluster: connection and selection options (--kubeconfig, "
                "--context, --include-resources, --namespaces, -l, --save-snapshot) do not apply");
  if (a.images.use_pull_secrets)
    return fail(kExitUsage,
                "--from-snapshot: a snapshot keeps no Secret's values, so --use-pull-secrets has "
                "none to use (give the registry credentials in the Docker config)");
  std::string path = a.from_snapshot + "/snapshot.txt";
  SourceFile f;
  f.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(kExitInput, fmt::format("--from-snapshot {}: no snapshot.txt there (a directory "
                                        "`cluster scan --save-snapshot` wrote)",
                                        a.from_snapshot));
  std::stringstream ss;
  ss << in.rdbuf();
  f.buffer = ss.str();
  std::vector<Diagnostic> diags;
  ParseOutput out = parseYamlStream(f.buffer, f.path, f.arena, LoadLimits{}, diags);
  if (out.error) return fail(kExitInput, out.error->describe());
  const Node* root = out.documents.empty() ? nullptr : out.documents[0].root;
  if (!root || !root->isMap() || !get(root, "server"))
    return fail(kExitInput, path + ": not a kubeharden snapshot index (no server)");
  source->context = std::string(getStr(root, "context"));
  source->server = std::string(getStr(root, "server"));
  source->kubernetes_version =
      std::string(get(root, "kubernetes") ? get(root, "kubernetes")->text : std::string_view());
  for (const MapEntry& e : mapOf(get(root, "read"))) {
    ++source->types;
    source->objects +=
        static_cast<size_t>(std::strtoull(std::string(e.value->text).c_str(), nullptr, 10));
  }
  for (const Node* m : seqOf(get(root, "not read"))) source->not_read.emplace_back(m->text);
  for (const Node* k : seqOf(get(root, "not read kinds")))
    source->unread_kinds.emplace_back(getStr(k, "kind"), getStr(k, "why"));
  source->snapshot = a.from_snapshot;
  source->snapshot_taken = std::string(getStr(root, "taken"));
  std::fprintf(stderr, "snapshot: %s of context %s, server %s (Kubernetes %s)%s%s\n",
               a.from_snapshot.c_str(), source->context.c_str(), source->server.c_str(),
               source->kubernetes_version.c_str(), source->snapshot_taken.empty() ? "" : ", taken ",
               source->snapshot_taken.c_str());
  if (!source->not_read.empty()) {
    std::fprintf(stderr,
                 "INCOMPLETE: %zu resource types were not read when the snapshot was taken; the "
                 "checks that need them could not judge them:\n",
                 source->not_read.size());
    for (const std::string& m : source->not_read) std::fprintf(stderr, "  %s\n", m.c_str());
  }
  return 0;
}

// The connection the options select (kubeconfig or in cluster) and its API client; warnings
// (insecure TLS, ...) go to stderr.
Result<std::unique_ptr<cluster::Api>> connectApi(const ClusterArgs& a, cluster::Connection* out) {
  cluster::Overrides o;
  o.context = a.context;
  o.cluster = a.cluster;
  o.user = a.user;
  o.as = a.as;
  o.as_groups = a.as_groups;
  std::vector<std::string> warnings;
  auto conn = cluster::connect(cluster::KubeConfigSources::fromEnvironment(a.kubeconfig),
                               cluster::InClusterSources::fromEnvironment(), o, &warnings);
  for (const std::string& w : warnings)
    std::fprintf(stderr, "kubeharden cluster: warning: %s\n", w.c_str());
  if (!conn) return conn.error();
  auto api =
      cluster::Api::create(conn.value(), {.timeout = std::chrono::seconds(a.timeout),
                                          .user_agent = fmt::format("kubeharden/{}", kVersion),
                                          .qps = a.qps,
                                          .burst = a.burst});
  if (!api) return api.error();
  for (const std::string& w : api.value()->warnings())
    std::fprintf(stderr, "kubeharden cluster: warning: %s\n", w.c_str());
  if (out) *out = conn.value();
  return api;
}

void addImageScans(const ImagesArgs& images,
                   std::vector<std::pair<std::string, std::string>>& texts,
                   const std::vector<registry::PullSecretEntry>* pull_secrets) {
  std::vector<RunningImage> running = runningImages(texts);
  std::set<std::string> workloads;
  for (const RunningImage& i : running) workloads.insert(i.workloads.begin(), i.workloads.end());
  std::fprintf(stderr, "images: %zu distinct images run by %zu workloads\n", running.size(),
               workloads.size());
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  for (auto& doc : scanRunningImages(running, images, self, pull_secrets))
    texts.push_back(std::move(doc));
}

// --use-pull-secrets: the Secrets the kubelet takes pull credentials from (the two docker config
// types, by field selector: no other Secret is read), with their values, parsed at once; the
// pages are dropped. A Secret that cannot be listed or parsed is a warning: its images are then
// pulled with the local credentials.
std::vector<registry::PullSecretEntry> readPullSecrets(cluster::Api& api,
                                                       const cluster::Discovery& d,
                                                       const std::vector<std::string>& namespaces,
                                                       const std::string& field_selector) {
  std::vector<registry::PullSecretEntry> out;
  const cluster::ResourceType* secrets = nullptr;
  for (const cluster::ResourceType& t : d.types)
    if (t.group.empty() && t.resource == "secrets") secrets = &t;
  if (!secrets) {
    std::fprintf(stderr,
                 "kubeharden cluster scan: warning: --use-pull-secrets: the server lists no "
                 "Secrets; images are pulled with the local credentials\n");
    return out;
  }
  size_t read = 0;
  std::vector<std::string> scopes = namespaces.empty() ? std::vector<std::string>{""} : namespaces;
  for (const char* type : {"kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"})
    for (const std::string& ns : scopes) {
      cluster::ListOptions lo;
      lo.namespace_ = ns;
      lo.field_selector =
          fmt::format("type={}{}{}", type, field_selector.empty() ? "" : ",", field_selector);
      cluster::TypeCoverage cov = cluster::listType(api, *secrets, lo, [&](std::string page) {
        rapidjson::Document doc;
        doc.Parse(page.data(), page.size());
        const rapidjson::Value& items = jsonMember(doc, "items");
        if (!items.IsArray()) return;
        for (const auto& item : items.GetArray()) {
          auto entries = registry::parsePullSecret(item);
          if (!entries) {
            std::fprintf(stderr, "kubeharden cluster scan: warning: %s\n",
                         entries.error().message.c_str());
            continue;
          }
          ++read;
          for (auto& e : entries.value()) out.push_back(std::move(e));
        }
      });
      if (cov.state != cluster::TypeCoverage::State::kRead)
        std::fprintf(stderr,
                     "kubeharden cluster scan: warning: --use-pull-secrets: Secrets of type %s%s "
                     "could not be listed (%s): their images are pulled with the local "
                     "credentials\n",
                     type, ns.empty() ? "" : (" in namespace " + ns).c_str(), cov.message.c_str());
    }
  std::fprintf(stderr, "pull secrets: %zu read (%zu registry entries), kept in memory only\n", read,
               out.size());
  return out;
}

int readCluster(const ClusterArgs& a, std::vector<std::pair<std::string, std::string>>& texts,
                ClusterSource* source) {
  auto fail = [](int code, const std::string& m) {
    std::fprintf(stderr, "kubeharden cluster scan: %s\n", m.c_str());
    return code;
  };
  if (a.page_size == 0) return fail(kExitUsage, "--page-size: at least 1");
  if (a.parallel == 0) return fail(kExitUsage, "--parallel: at least 1");
  cluster::Connection connection;
  auto api = connectApi(a, &connection);
  if (!api) return fail(kExitInput, api.error().describe());
  auto d = cluster::discover(*api.value());
  if (!d) return fail(kExitInput, d.error().describe());
  if (auto who = api.value()->whoAmI())
    source->identity = who->groups.empty()
                           ? who->username
                           : fmt::format("{} ({})", who->username, join(who->groups, ", "));
  std::fprintf(stderr, "cluster: %s, server %s (Kubernetes %s)%s%s\n",
               connection.in_cluster ? "in cluster" : ("context " + connection.context).c_str(),
               connection.cluster.server.c_str(), d.value().git_version.c_str(),
               source->identity.empty() ? "" : ", as ", source->identity.c_str());
  auto named = [](const cluster::ResourceType& t) {
    return t.group.empty() ? t.resource : t.resource + "." + t.group;
  };
  auto listed = [](const std::vector<std::string>& v, const std::string& n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  if (!a.save_snapshot.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.save_snapshot, ec);
    if (ec)
      return fail(kExitUsage, fmt::format("--save-snapshot {}: {}", a.save_snapshot, ec.message()));
  }
  // What the server says of itself, for the version checks; kept by snapshots too.
  std::string info = cluster::clusterInfoDocument(
      d.value(), connection.in_cluster ? "in-cluster" : connection.context,
      connection.cluster.server);
  texts.emplace_back("/version", info);
  if (!a.save_snapshot.empty())
    if (Status st = writeOutput(a.save_snapshot + "/cluster-info.json", info); !st)
      return fail(kExitInput, st.error().describe());
  std::string index = fmt::format(
      "# kubeharden cluster snapshot\ntaken: {}\nserver: {}\ncontext: {}\nkubernetes: "
      "{}\nread:\n",
      rfc3339Utc(std::chrono::system_clock::now()), connection.cluster.server,
      connection.in_cluster ? "(in cluster)" : connection.context, d.value().git_version);
  std::vector<std::string> namespaces;
  for (const std::string& list : a.namespaces)
    for (std::string_view ns : splitTrimmed(list, ',')) namespaces.emplace_back(ns);
  std::string field_selector;
  for (const std::string& list : a.exclude_namespaces)
    for (std::string_view ns : splitTrimmed(list, ','))
      field_selector +=
          fmt::format("{}metadata.namespace!={}", field_selector.empty() ? "" : ",", ns);
  size_t objects = 0, pages = 0, types = 0;
  auto read_start = std::chrono::steady_clock::now();
  std::vector<std::string> missing;
  // Kinds named by --include-kinds/--exclude-kinds (comma-separated, case-insensitive).
  auto kinds = [](const std::vector<std::string>& lists) {
    std::vector<std::string> out;
    for (const std::string& list : lists)
      for (std::string_view k : splitTrimmed(list, ',')) out.push_back(toLower(k));
    return out;
  };
  std::vector<std::string> include_kinds = kinds(a.include_kinds);
  std::vector<std::string> exclude_kinds = kinds(a.exclude_kinds);
  // A group whose discovery failed makes the read incomplete, unless the selection names types
  // of other groups only (--include-resources pods: a stale metrics API is no gap).
  for (const auto& [gv, why] : d.value().unavailable) {
    std::string group = gv.find('/') == std::string::npos ? "" : gv.substr(0, gv.find('/'));
    bool wanted = a.include_resources.empty() || !include_kinds.empty();
    for (const std::string& r : a.include_resources) {
      size_t dot = r.find('.');
      wanted |= (dot == std::string::npos ? std::string() : r.substr(dot + 1)) == group;
    }
    if (wanted) missing.push_back(fmt::format("{} (discovery failed: {})", gv, why));
  }
  // The types to read, in discovery order.
  std::vector<const cluster::ResourceType*> todo;
  for (const cluster::ResourceType& t : d.value().types) {
    std::string name = named(t);
    if (!a.include_resources.empty() ? !listed(a.include_resources, name)
                                     : listed(a.exclude_resources, name))
      continue;
    std::string kind = toLower(t.kind);
    if (!include_kinds.empty() && !listed(include_kinds, kind)) continue;
    if (listed(exclude_kinds, kind)) continue;
    if (name == "secrets" && a.secrets == "skip") continue;
    todo.push_back(&t);
  }
  // Each type read by one of --parallel workers (the Api is shared: credentials, rate limit,
  // connections); the results are taken in discovery order, so the output is the same whatever
  // the number of workers.
  struct TypeRead {
    cluster::TypeCoverage cov;
    std::vector<std::pair<std::string, std::string>> pages;  // (name, text)
  };
  std::vector<TypeRead> reads(todo.size());
  auto readType = [&](size_t k) {
    const cluster::ResourceType& t = *todo[k];
    TypeRead& out = reads[k];
    bool metadata_only = named(t) == "secrets" && a.secrets == "metadata";
    cluster::ListOptions lo{.page_size = a.page_size, .label_selector = a.label_selector};
    lo.field_selector = field_selector;
    if (metadata_only) lo.accept = cluster::kMetadataAccept;
    auto keep = [&](const std::string& ns) {
      return [&, path = t.listPath(ns)](std::string page) {
        out.pages.emplace_back(fmt::format("{} (page {})", path, out.pages.size() + 1),
                               metadata_only ? cluster::secretsAsMetadata(page) : std::move(page));
      };
    };
    // With --namespaces: the selected Namespaces by name, namespaced types in each namespace;
    // the type's coverage is the worst of its lists.
    cluster::TypeCoverage& cov = out.cov;
    cov.type = t;
    bool by_name = !namespaces.empty() && named(t) == "namespaces";
    bool per_namespace = !namespaces.empty() && t.namespaced;
    if (!by_name && !per_namespace) {
      cov = cluster::listType(*api.value(), t, lo, keep(""));
      return;
    }
    for (const std::string& ns : namespaces) {
      if (by_name)
        lo.field_selector = "metadata.name=" + ns;
      else
        lo.namespace_ = ns;
      cluster::TypeCoverage one = cluster::listType(*api.value(), t, lo, keep(lo.namespace_));
      cov.objects += one.objects;
      cov.pages += one.pages;
      if (one.state != cluster::TypeCoverage::State::kRead &&
          cov.state == cluster::TypeCoverage::State::kRead) {
        cov.state = one.state;
        cov.message = by_name ? one.message : fmt::format("in namespace {}: {}", ns, one.message);
      }
    }
  };
  parallelFor(todo.size(), std::max(1u, a.parallel), readType);
  for (size_t k = 0; k < todo.size(); ++k) {
    const cluster::ResourceType& t = *todo[k];
    std::string name = named(t);
    bool secret = name == "secrets";
    bool metadata_only = secret && a.secrets == "metadata";
    cluster::TypeCoverage& cov = reads[k].cov;
    pages += reads[k].pages.size();
    ++types;
    if (!a.save_snapshot.empty() && cov.state == cluster::TypeCoverage::State::kRead) {
      // One List per type: the pages' items together.
      // Snapshots never hold a Secret's values, whatever --secrets read.
      std::vector<std::string> redacted;
      std::vector<std::string_view> type_pages;
      for (const auto& page : reads[k].pages)
        redacted.push_back(secret && !metadata_only ? cluster::secretsAsMetadata(page.second)
                                                    : std::string());
      for (size_t i = 0; i < reads[k].pages.size(); ++i)
        type_pages.push_back(redacted[i].empty() ? std::string_view(reads[k].pages[i].second)
                                                 : redacted[i]);
      // Files of bounded size (what the loader takes in one document): a large type spans
      // several, core_v1_pods.json, core_v1_pods.2.json, ...
      std::string stem = fmt::format("{}/{}_{}_{}", a.save_snapshot,
                                     t.group.empty() ? "core" : t.group, t.version, t.resource);
      size_t part = 0, from = 0, bytes = 0;
      for (size_t i = 0; i <= type_pages.size(); ++i) {
        bool last = i == type_pages.size();
        if (!last && (i == from || bytes + type_pages[i].size() <= kSnapshotFileBytes)) {
          bytes += type_pages[i].size();
          continue;
        }
        if (i == from) break;  // no page at all
        std::vector<std::string_view> chunk(type_pages.begin() + from, type_pages.begin() + i);
        std::string file = ++part == 1 ? stem + ".json" : fmt::format("{}.{}.json", stem, part);
        if (Status st = writeOutput(file, cluster::mergePages(chunk)); !st)
          return fail(kExitInput, st.error().describe());
        from = i;
        bytes = last ? 0 : type_pages[i].size();
      }
      index += fmt::format("  {}: {} objects\n", name, cov.objects);
    }
    for (auto& page : reads[k].pages) texts.push_back(std::move(page));
    reads[k].pages.clear();
    if (cov.state == cluster::TypeCoverage::State::kRead) {
      objects += cov.objects;
      continue;
    }
    const char* state =
        cov.state == cluster::TypeCoverage::State::kForbidden ? "forbidden" : "failed";
    missing.push_back(fmt::format("{} ({}: {})", name, state, cov.message));
    source->unread_kinds.emplace_back(t.kind, fmt::format("{} {}", name, state));
  }
  if (a.images.enabled) {
    std::vector<registry::PullSecretEntry> pull_secrets;
    if (a.images.use_pull_secrets)
      pull_secrets = readPullSecrets(*api.value(), d.value(), namespaces, field_selector);
    addImageScans(a.images, texts, a.images.use_pull_secrets ? &pull_secrets : nullptr);
  }
  std::fprintf(
      stderr,
      "read: %zu objects of %zu resource types in %zu pages (%s discovery, %llu requests, %.1f "
      "MB) in %.2f s\n",
      objects, types, pages, d.value().aggregated ? "aggregated" : "legacy",
      static_cast<unsigned long long>(api.value()->requests()),
      static_cast<double>(api.value()->bytes()) / 1e6,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - read_start).count());
  if (!missing.empty()) {
    std::fprintf(stderr,
                 "INCOMPLETE: %zu resource types were not read; the checks that need "
                 "them could not judge them:\n",
                 missing.size());
    for (const std::string& m : missing) std::fprintf(stderr, "  %s\n", m.c_str());
  }
  if (!a.save_snapshot.empty()) {
    if (!missing.empty()) {
      index += "not read:\n";
      for (const std::string& m : missing) index += "  - " + yamlQuoted(m) + "\n";
      if (!source->unread_kinds.empty()) index += "not read kinds:\n";
      for (const auto& [kind, why] : source->unread_kinds)
        index += fmt::format("  - {{kind: {}, why: {}}}\n", yamlQuoted(kind), yamlQuoted(why));
    }
    // Not a manifest: a .txt, so that `scan DIR` reads only the Lists.
    if (Status st = writeOutput(a.save_snapshot + "/snapshot.txt", index); !st)
      return fail(kExitInput, st.error().describe());
    if (a.snapshot_note)
      std::fprintf(stderr, "snapshot: %s (scan it with: kubeharden scan %s)\n",
                   a.save_snapshot.c_str(), a.save_snapshot.c_str());
  }
  source->context = connection.in_cluster ? "(in cluster)" : connection.context;
  source->server = connection.cluster.server;
  source->kubernetes_version = d.value().git_version;
  source->types = types;
  source->objects = objects;
  source->pages = pages;
  source->requests = api.value()->requests();
  source->bytes = api.value()->bytes();
  source->not_read = missing;
  return 0;
}

int publishSummary(const ClusterArgs& a, const std::string& summary) {
  auto fail = [&](const std::string& m) {
    std::fprintf(stderr, "kubeharden cluster scan: --report-configmap %s: %s\n",
                 a.report_configmap.c_str(), m.c_str());
    return kExitInput;
  };
  size_t slash = a.report_configmap.find('/');
  std::string ns = a.report_configmap.substr(0, slash);
  std::string name = slash == std::string::npos ? "" : a.report_configmap.substr(slash + 1);
  auto api = connectApi(a, nullptr);
  if (!api) return fail(api.error().describe());
  auto r = api.value()->applyConfigMap(ns, name, {{"summary.json", summary}});
  if (!r) return fail(r.error().describe());
  if (r.value().status != 200 && r.value().status != 201) {
    rapidjson::Document d;
    d.Parse(r.value().body.data(), r.value().body.size());
    std::string_view m = d.IsObject() && d.HasMember("message") && d["message"].IsString()
                             ? std::string_view(d["message"].GetString())
                             : std::string_view();
    return fail(fmt::format("HTTP {}{}{}", r.value().status, m.empty() ? "" : ": ", m));
  }
  std::fprintf(stderr, "summary: published in ConfigMap %s\n", a.report_configmap.c_str());
  return 0;
}

std::string readerClusterRole(const PermissionArgs& a) {
  // The core group's listable types but Secrets (RBAC cannot grant "all but one").
  static const char* kCore[] = {"componentstatuses",
                                "configmaps",
                                "endpoints",
                                "events",
                                "limitranges",
                                "namespaces",
                                "nodes",
                                "persistentvolumeclaims",
                                "persistentvolumes",
                                "pods",
                                "podtemplates",
                                "replicationcontrollers",
                                "resourcequotas",
                                "serviceaccounts",
                                "services"};
  // The built-in groups' listable types, each group its own rule (no wildcard: a read-only
  // role should pass kubeharden's own rbac-wildcard-rule).
  static const std::pair<const char*, std::vector<const char*>> kGroups[] = {
      {"admissionregistration.k8s.io",
       {"mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
        "mutatingwebhookconfigurations", "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "validatingwebhookconfigurations"}},
      {"apiextensions.k8s.io", {"customresourcedefinitions"}},
      {"apiregistration.k8s.io", {"apiservices"}},
      {"apps", {"controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"}},
      {"autoscaling", {"horizontalpodautoscalers"}},
      {"batch", {"cronjobs", "jobs"}},
      {"certificates.k8s.io", {"certificatesigningrequests", "clustertrustbundles"}},
      {"coordination.k8s.io", {"leasecandidates", "leases"}},
      {"discovery.k8s.io", {"endpointslices"}},
      {"events.k8s.io", {"events"}},
      {"flowcontrol.apiserver.k8s.io", {"flowschemas", "prioritylevelconfigurations"}},
      {"networking.k8s.io",
       {"ingressclasses", "ingresses", "ipaddresses", "networkpolicies", "servicecidrs"}},
      {"node.k8s.io", {"runtimeclasses"}},
      {"policy", {"poddisruptionbudgets"}},
      {"rbac.authorization.k8s.io",
       {"clusterrolebindings", "clusterroles", "rolebindings", "roles"}},
      {"resource.k8s.io",
       {"deviceclasses", "resourceclaims", "resourceclaimtemplates", "resourceslices"}},
      {"scheduling.k8s.io", {"priorityclasses"}},
      {"storage.k8s.io",
       {"csidrivers", "csinodes", "csistoragecapacities", "storageclasses", "volumeattachments",
        "volumeattributesclasses"}},
      {"storagemigration.k8s.io", {"storageversionmigrations"}}};
  auto quoted = [](auto begin, auto end) {
    std::string out;
    for (auto it = begin; it != end; ++it)
      out += fmt::format("{}\"{}\"", out.empty() ? "" : ", ", *it);
    return out;
  };
  std::string out = fmt::format(
      R"(# The read-only access `kubeharden cluster scan` needs (docs/cluster.md): get and list, no
# write, no exec, no proxy unless asked.{}{}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {}
  labels:
    app.kubernetes.io/name: kubeharden
rules:
  # Discovery and the server's version.
  - nonResourceURLs: ["/version", "/api", "/api/*", "/apis", "/apis/*"]
    verbs: ["get"]
  # The core group, every type but Secrets.
  - apiGroups: [""]
    resources: [{}]
    verbs: ["get", "list"]
  # The built-in groups.
)",
      a.secrets ? ""
                : "\n# Secrets are not granted: scan with --secrets skip, "
                  "or print this with --secrets.",
      a.custom_groups.empty() ? "\n# Custom resources: add their API groups with --group." : "",
      a.name, quoted(std::begin(kCore), std::end(kCore)));
  for (const auto& [group, resources] : kGroups)
    out += fmt::format(
        "  - apiGroups: [\"{}\"]\n    resources: [{}]\n    verbs: [\"get\", \"list\"]\n", group,
        quoted(resources.begin(), resources.end()));
  if (!a.custom_groups.empty()) {
    // Custom resources: every type of the groups named (their types are the CRDs' to say).
    out += fmt::format(
        "  # Custom resources of the groups given.\n  - apiGroups: [{}]\n    resources: "
        "[\"*\"]\n    verbs: [\"get\", \"list\"]\n",
        quoted(a.custom_groups.begin(), a.custom_groups.end()));
  }
  if (a.secrets)
    out +=
        R"(  # Opt-in (--secrets): Secrets, read as metadata only unless --secrets full; RBAC cannot
  # grant metadata without values, so the values are readable with this role.
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["list"]
)";
  if (a.nodes_proxy)
    out +=
        R"(  # Opt-in (--nodes-proxy): each kubelet's configuration through the API server's node proxy.
  # nodes/proxy also reaches the kubelet's exec and logs endpoints: grant it with care.
  - apiGroups: [""]
    resources: ["nodes/proxy"]
    verbs: ["get"]
)";
  return out;
}

}  // namespace kh
