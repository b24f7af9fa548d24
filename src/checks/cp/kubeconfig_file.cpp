// kubeconfig-*: kubeconfig files (apiVersion v1, kind Config) given as input or found in
// directories (admin.conf, a kubeconfig committed to a repository): credentials written into the
// file, TLS verification turned off, plain-HTTP servers, and exec credential plugins run from
// where anyone may write. Messages never hold a credential.
#include <fmt/format.h>

#include "checks/cp/cp_checks.h"

namespace kh {
namespace {

constexpr std::string_view kConfig[] = {"Config"};

bool isKubeconfig(const Object& o) {
  return o.ref.kind == "Config" && o.ref.api_version == "v1" &&
         (get(o.root, "clusters") || get(o.root, "users") || get(o.root, "contexts"));
}

// --- kubeconfig-embedded-credentials ------------------------------------------------------------

constexpr CheckMeta kEmbedded{
    .id = "kubeconfig-embedded-credentials",
    .title = "Kubeconfig file holds credentials",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kConfig,
    .remediation =
        "Keep credentials out of kubeconfig files that are shared or committed: use an "
        "exec credential plugin (short-lived tokens), or files readable by their owner "
        "only (client-key, tokenFile) outside the repository; rotate what was exposed.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1552"},
};

void embedded(const FileCheck& self, const Object& o, FindingSink& sink) {
  size_t i = 0;
  for (const Node* u : seqOf(get(o.root, "users"))) {
    std::string_view name = getStr(u, "name");
    const Node* user = get(u, "user");
    struct Field {
      const char* key;
      const char* rule;
      const char* what;
    };
    for (const Field& f :
         {Field{"client-key-data", "client-key", "a client certificate's private key"},
          Field{"token", "token", "a bearer token"}, Field{"password", "password", "a password"}}) {
      const Node* v = get(user, f.key);
      if (!v || v->str().empty()) continue;
      Finding fd = self.finding(
          o, v->pos, fmt::format("users[{}].user.{}", i, f.key),
          fmt::format("user {} holds {} in the file (redacted): whoever reads the file acts as "
                      "that user",
                      name.empty() ? "(unnamed)" : name, f.what));
      fd.rule = f.rule;
      sink.add(std::move(fd));
    }
    // The legacy auth-provider (oidc, gcp, azure) caches tokens in its config.
    const Node* cfg = get(get(user, "auth-provider"), "config");
    for (const char* key : {"id-token", "refresh-token", "access-token", "client-secret"}) {
      const Node* v = get(cfg, key);
      if (!v || v->str().empty()) continue;
      Finding fd =
          self.finding(o, v->pos, fmt::format("users[{}].user.auth-provider.config.{}", i, key),
                       fmt::format("user {} holds an auth-provider {} in the file (redacted)",
                                   name.empty() ? "(unnamed)" : name, key));
      fd.rule = "auth-provider";
      sink.add(std::move(fd));
    }
    ++i;
  }
}

// --- kubeconfig-insecure-tls --------------------------------------------------------------------

constexpr CheckMeta kInsecure{
    .id = "kubeconfig-insecure-tls",
    .title = "Kubeconfig turns off TLS verification or talks plain HTTP",
    .severity = Severity::kHigh,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kConfig,
    .remediation =
        "Give the cluster its CA (certificate-authority or certificate-authority-data) "
        "and an https:// server, and drop insecure-skip-tls-verify.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1557"},
};

void insecure(const FileCheck& self, const Object& o, FindingSink& sink) {
  size_t i = 0;
  for (const Node* c : seqOf(get(o.root, "clusters"))) {
    std::string_view name = getStr(c, "name");
    const Node* cluster = get(c, "cluster");
    if (const Node* skip = get(cluster, "insecure-skip-tls-verify"); skip && skip->isTrue()) {
      Finding f = self.finding(
          o, skip->pos, fmt::format("clusters[{}].cluster.insecure-skip-tls-verify", i),
          fmt::format("cluster {} skips TLS verification: anyone on the path can impersonate the "
                      "API server and collect the credentials sent to it",
                      name));
      f.rule = "skip-verify";
      sink.add(std::move(f));
    }
    const Node* server = get(cluster, "server");
    if (server && server->str().starts_with("http://")) {
      Finding f = self.finding(
          o, server->pos, fmt::format("clusters[{}].cluster.server", i),
          fmt::format("cluster {} is reached over plain HTTP ({}): requests and credentials "
                      "travel unencrypted",
                      name, server->str()));
      f.rule = "plain-http";
      sink.add(std::move(f));
    }
    ++i;
  }
}

// --- kubeconfig-exec-writable-path --------------------------------------------------------------

constexpr CheckMeta kExecPath{
    .id = "kubeconfig-exec-writable-path",
    .title = "Kubeconfig runs a credential plugin from a writable or relative path",
    .severity = Severity::kMedium,
    .group = "security",
    .enabled_by_default = true,
    .scope = Scope::kKinds,
    .kinds = kConfig,
    .remediation =
        "Install the plugin where only administrators can write (/usr/local/bin) and "
        "name it by that absolute path, or by its bare name on a trusted PATH.",
    .refs = {.nsa = "Authentication and authorization", .mitre = "T1078"},
};

void execPath(const FileCheck& self, const Object& o, FindingSink& sink) {
  size_t i = 0;
  for (const Node* u : seqOf(get(o.root, "users"))) {
    const Node* cmd = get(get(get(u, "user"), "exec"), "command");
    std::string_view c = cmd ? cmd->str() : std::string_view();
    std::string why;
    for (std::string_view dir : {"/tmp/", "/var/tmp/", "/dev/shm/"})
      if (c.starts_with(dir)) why = fmt::format("{} is writable by every user of the machine", dir);
    if (why.empty() && (c.find("/Downloads/") != std::string_view::npos))
      why = "a Downloads directory holds whatever was downloaded";
    if (why.empty() && c.find('/') != std::string_view::npos && !c.starts_with('/') &&
        !c.starts_with("~"))
      why = "a relative path runs whatever is there relative to the kubeconfig's directory";
    if (!why.empty()) {
      Finding f = self.finding(
          o, cmd->pos, fmt::format("users[{}].user.exec.command", i),
          fmt::format("user {} gets its credentials by running {}: {}; replacing it runs code "
                      "with the user's cluster access",
                      getStr(u, "name"), c, why));
      sink.add(std::move(f));
    }
    ++i;
  }
}

}  // namespace

void addKubeconfigChecks(std::vector<std::unique_ptr<Check>>& out) {
  out.push_back(std::make_unique<FileCheck>(kEmbedded, isKubeconfig, embedded));
  out.push_back(std::make_unique<FileCheck>(kInsecure, isKubeconfig, insecure));
  out.push_back(std::make_unique<FileCheck>(kExecPath, isKubeconfig, execPath));
}

}  // namespace kh
