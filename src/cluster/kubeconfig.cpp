#include "cluster/kubeconfig.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/strings.h"
#include "load/json_reader.h"
#include "load/loader.h"
#include "load/yaml_reader.h"
#include "model/node.h"

namespace kh::cluster {
namespace {

namespace fs = std::filesystem;

class Reader {
 public:
  Reader(const std::string& path, KubeConfig& out) : path_(path), out_(out) {
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(path).parent_path(), ec);
    base_ = ec ? fs::path(path).parent_path().string() : abs.lexically_normal().string();
  }

  Status read(const Node* root) {
    if (!root || root->isNull()) return {};
    if (!root->isMap()) return err(root->pos, "a kubeconfig is a map (kind: Config)");
    for (const MapEntry& e : root->mapEntries()) {
      Status s;
      if (e.key == "clusters")
        s = list(e.value, "cluster", [&](std::string name, const Node* n, SourcePos pos) {
          return cluster(std::move(name), n, pos);
        });
      else if (e.key == "users")
        s = list(e.value, "user", [&](std::string name, const Node* n, SourcePos pos) {
          return user(std::move(name), n, pos);
        });
      else if (e.key == "contexts")
        s = list(e.value, "context", [&](std::string name, const Node* n, SourcePos pos) {
          return context(std::move(name), n, pos);
        });
      else if (e.key == "current-context")
        s = scalar(e.value, "current-context", out_.current_context);
      if (!s) return s;
    }
    return {};
  }

 private:
  Error err(SourcePos pos, std::string m) const { return Error{std::move(m), path_, pos}; }

  Status scalar(const Node* n, std::string_view what, std::string& out) const {
    if (n->isNull()) return {};
    if (!n->isScalar()) return err(n->pos, fmt::format("{}: expected a string", what));
    out = std::string(n->text);
    return {};
  }
  Status flag(const Node* n, std::string_view what, bool& out) const {
    if (n->isNull()) return {};
    if (!n->isTrue() && !n->isFalse())
      return err(n->pos, fmt::format("{}: expected true or false", what));
    out = n->isTrue();
    return {};
  }
  Status data(const Node* n, std::string_view what, std::string& out) const {
    std::string text;
    if (Status s = scalar(n, what, text); !s) return s;
    if (text.empty()) return {};
    // Base64 as Go decodes []byte: standard alphabet, padding; whitespace is not allowed.
    auto bytes = base64Decode(text);
    if (!bytes) return err(n->pos, fmt::format("{}: not base64", what));
    out = std::move(*bytes);
    return {};
  }
  std::string path(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return (fs::path(base_) / p).lexically_normal().string();
  }

  template <typename Fn>
  Status list(const Node* n, std::string_view what, Fn fn) {
    if (n->isNull()) return {};
    if (!n->isSeq()) return err(n->pos, fmt::format("{}s: expected a list", what));
    std::set<std::string> seen;
    for (const Node* item : n->seqItems()) {
      if (!item->isMap()) return err(item->pos, fmt::format("{}s: expected a map", what));
      std::string name;
      if (const Node* nm = get(item, "name"))
        if (Status s = scalar(nm, fmt::format("{}s.name", what), name); !s) return s;
      if (name.empty()) return err(item->pos, fmt::format("{}s: an entry without a name", what));
      if (!seen.insert(name).second)
        return err(item->pos, fmt::format("duplicate {} name \"{}\" in one file", what, name));
      const Node* body = get(item, what);
      if (body && !body->isNull() && !body->isMap())
        return err(body->pos, fmt::format("{}s.{}: expected a map", what, what));
      if (Status s = fn(name, body, item->pos); !s) return s;
    }
    return {};
  }

  Status cluster(std::string name, const Node* n, SourcePos) {
    ClusterEntry c;
    c.origin = path_;
    if (n)
      for (const MapEntry& e : n->mapEntries()) {
        std::string what = "cluster." + std::string(e.key);
        Status s;
        if (e.key == "server")
          s = scalar(e.value, what, c.server);
        else if (e.key == "certificate-authority")
          s = scalar(e.value, what, c.certificate_authority);
        else if (e.key == "certificate-authority-data")
          s = data(e.value, what, c.certificate_authority_data);
        else if (e.key == "insecure-skip-tls-verify")
          s = flag(e.value, what, c.insecure_skip_tls_verify);
        else if (e.key == "tls-server-name")
          s = scalar(e.value, what, c.tls_server_name);
        else if (e.key == "proxy-url")
          s = scalar(e.value, what, c.proxy_url);
        else if (e.key == "disable-compression")
          s = flag(e.value, what, c.disable_compression);
        if (!s) return s;
      }
    c.certificate_authority = path(c.certificate_authority);
    out_.clusters.emplace(std::move(name), std::move(c));  // the first file's entry stays
    return {};
  }

  Status user(std::string name, const Node* n, SourcePos) {
    UserEntry u;
    u.origin = path_;
    if (n)
      for (const MapEntry& e : n->mapEntries()) {
        std::string what = "user." + std::string(e.key);
        const Node* v = e.value;
        Status s;
        if (e.key == "client-certificate")
          s = scalar(v, what, u.client_certificate);
        else if (e.key == "client-certificate-data")
          s = data(v, what, u.client_certificate_data);
        else if (e.key == "client-key")
          s = scalar(v, what, u.client_key);
        else if (e.key == "client-key-data")
          s = data(v, what, u.client_key_data);
        else if (e.key == "token")
          s = scalar(v, what, u.token);
        else if (e.key == "tokenFile")
          s = scalar(v, what, u.token_file);
        else if (e.key == "username")
          s = scalar(v, what, u.username);
        else if (e.key == "password")
          s = scalar(v, what, u.password);
        else if (e.key == "as")
          s = scalar(v, what, u.as);
        else if (e.key == "as-uid")
          s = scalar(v, what, u.as_uid);
        else if (e.key == "as-groups") {
          if (!v->isNull() && !v->isSeq()) return err(v->pos, what + ": expected a list");
          if (v->isSeq())
            for (const Node* g : v->seqItems()) u.as_groups.emplace_back(g->text);
        } else if (e.key == "auth-provider") {
          if (v->isMap()) u.auth_provider = std::string(getStr(v, "name"));
          if (u.auth_provider.empty() && !v->isNull()) u.auth_provider = "(unnamed)";
        } else if (e.key == "exec") {
          s = exec(v, u);
        }
        if (!s) return s;
      }
    u.client_certificate = path(u.client_certificate);
    u.client_key = path(u.client_key);
    u.token_file = path(u.token_file);
    if (u.exec && u.exec->command.find('/') != std::string::npos)
      u.exec->command = path(u.exec->command);
    out_.users.emplace(std::move(name), std::move(u));
    return {};
  }

  Status exec(const Node* v, UserEntry& u) {
    if (v->isNull()) return {};
    if (!v->isMap()) return err(v->pos, "user.exec: expected a map");
    ExecConfig x;
    for (const MapEntry& e : v->mapEntries()) {
      std::string what = "user.exec." + std::string(e.key);
      Status s;
      if (e.key == "apiVersion")
        s = scalar(e.value, what, x.api_version);
      else if (e.key == "command")
        s = scalar(e.value, what, x.command);
      else if (e.key == "installHint")
        s = scalar(e.value, what, x.install_hint);
      else if (e.key == "provideClusterInfo")
        s = flag(e.value, what, x.provide_cluster_info);
      else if (e.key == "interactiveMode")
        s = scalar(e.value, what, x.interactive_mode);
      else if (e.key == "args") {
        if (!e.value->isNull() && !e.value->isSeq()) return err(e.value->pos, what + ": a list");
        if (e.value->isSeq())
          for (const Node* a : e.value->seqItems()) x.args.emplace_back(a->text);
      } else if (e.key == "env") {
        if (!e.value->isNull() && !e.value->isSeq()) return err(e.value->pos, what + ": a list");
        if (e.value->isSeq())
          for (const Node* a : e.value->seqItems()) {
            if (!a->isMap()) return err(a->pos, what + ": entries are maps of name and value");
            x.env.emplace_back(std::string(getStr(a, "name")), std::string(getStr(a, "value")));
          }
      }
      if (!s) return s;
    }
    if (x.command.empty()) return err(v->pos, "user.exec: no command");
    u.exec = std::move(x);
    return {};
  }

  Status context(std::string name, const Node* n, SourcePos) {
    ContextEntry c;
    c.origin = path_;
    if (n)
      for (const MapEntry& e : n->mapEntries()) {
        std::string what = "context." + std::string(e.key);
        Status s;
        if (e.key == "cluster")
          s = scalar(e.value, what, c.cluster);
        else if (e.key == "user")
          s = scalar(e.value, what, c.user);
        else if (e.key == "namespace")
          s = scalar(e.value, what, c.namespace_);
        if (!s) return s;
      }
    out_.contexts.emplace(std::move(name), std::move(c));
    return {};
  }

  std::string path_, base_;
  KubeConfig& out_;
};

// Merges one file's config into `into`: entries it does not have, and current-context if unset.
void mergeInto(KubeConfig& into, KubeConfig&& one) {
  for (auto& [k, v] : one.clusters) into.clusters.emplace(k, std::move(v));
  for (auto& [k, v] : one.users) into.users.emplace(k, std::move(v));
  for (auto& [k, v] : one.contexts) into.contexts.emplace(k, std::move(v));
  if (into.current_context.empty()) into.current_context = one.current_context;
}

bool readWhole(const std::string& path, std::string& out, bool* missing) {
  std::error_code ec;
  *missing = !fs::exists(path, ec);
  if (*missing) return false;
  return readFileTo(path, out);
}

}  // namespace

KubeConfigSources KubeConfigSources::fromEnvironment(std::string explicit_path) {
  KubeConfigSources s;
  s.explicit_path = std::move(explicit_path);
  if (const char* k = std::getenv("KUBECONFIG")) s.kubeconfig_env = k;
  if (const char* h = std::getenv("HOME")) s.home = h;
  return s;
}

InClusterSources InClusterSources::fromEnvironment() {
  InClusterSources s;
  if (const char* h = std::getenv("KUBERNETES_SERVICE_HOST")) s.host = h;
  if (const char* p = std::getenv("KUBERNETES_SERVICE_PORT")) s.port = p;
  return s;
}

Result<KubeConfig> parseKubeConfig(std::string_view text, const std::string& path) {
  KubeConfig out;
  Arena arena;
  std::vector<Diagnostic> diags;
  ParseOutput parsed = parseYamlStream(text, path, arena, LoadLimits{}, diags);
  if (parsed.error) return *parsed.error;
  for (const Diagnostic& d : diags) return Error{d.message, path, d.pos};
  if (parsed.documents.size() > 1)
    return Error{"a kubeconfig is one YAML document", path, parsed.documents[1].start};
  Reader r(path, out);
  if (Status s = r.read(parsed.documents.empty() ? nullptr : parsed.documents[0].root); !s)
    return s.error();
  out.files.push_back(path);
  return out;
}

Result<KubeConfig> loadKubeConfig(const KubeConfigSources& src) {
  std::vector<std::string> files;
  bool is_explicit = !src.explicit_path.empty();
  if (is_explicit) {
    files.push_back(src.explicit_path);
  } else if (!src.kubeconfig_env.empty()) {
    for (std::string_view f : splitTrimmed(src.kubeconfig_env, ':'))
      if (!f.empty() && std::find(files.begin(), files.end(), f) == files.end())
        files.emplace_back(f);
  } else if (!src.home.empty()) {
    files.push_back(src.home + "/.kube/config");
  }
  KubeConfig merged;
  std::vector<std::string> missing;
  for (const std::string& f : files) {
    std::string text;
    bool gone = false;
    if (!readWhole(f, text, &gone)) {
      if (gone && !is_explicit) {
        missing.push_back(f);
        continue;
      }
      return Error{
          gone ? "the kubeconfig file does not exist" : "cannot read the kubeconfig", f, {}};
    }
    auto one = parseKubeConfig(text, f);
    if (!one) return one.error();
    merged.files.push_back(f);
    mergeInto(merged, std::move(one.value()));
  }
  if (!src.kubeconfig_env.empty() && !is_explicit && merged.files.empty() && !missing.empty())
    merged.warnings.push_back(
        fmt::format("no kubeconfig found: {} (KUBECONFIG)", join(missing, ", ")));
  return merged;
}

Result<Connection> resolveConnection(const KubeConfig& cfg, const Overrides& o) {
  Connection c;
  c.context = o.context.empty() ? cfg.current_context : o.context;
  const ContextEntry* ctx = nullptr;
  if (!c.context.empty()) {
    auto it = cfg.contexts.find(c.context);
    if (it == cfg.contexts.end())
      return Error{fmt::format("context \"{}\" is not in the kubeconfig ({})", c.context,
                               cfg.files.empty() ? "no file read" : join(cfg.files, ", ")),
                   {},
                   {}};
    ctx = &it->second;
  } else if (o.cluster.empty()) {
    return Error{fmt::format("no context: the kubeconfig ({}) sets no current-context; pass "
                             "--context",
                             cfg.files.empty() ? "none found" : join(cfg.files, ", ")),
                 {},
                 {}};
  }
  c.cluster_name = !o.cluster.empty() ? o.cluster : ctx ? ctx->cluster : "";
  c.user_name = !o.user.empty() ? o.user : ctx ? ctx->user : "";
  if (c.cluster_name.empty())
    return Error{fmt::format("context \"{}\" names no cluster", c.context), {}, {}};
  auto cl = cfg.clusters.find(c.cluster_name);
  if (cl == cfg.clusters.end())
    return Error{fmt::format("cluster \"{}\" is not in the kubeconfig", c.cluster_name), {}, {}};
  c.cluster = cl->second;
  if (!c.user_name.empty()) {
    auto us = cfg.users.find(c.user_name);
    if (us == cfg.users.end())
      return Error{fmt::format("user \"{}\" is not in the kubeconfig", c.user_name), {}, {}};
    c.user = us->second;
  }
  c.namespace_ = !o.namespace_.empty()             ? o.namespace_
                 : ctx && !ctx->namespace_.empty() ? ctx->namespace_
                                                   : "default";
  if (!o.as.empty()) c.user.as = o.as;
  if (!o.as_groups.empty()) c.user.as_groups = o.as_groups;

  // client-go's validation, with its meaning and our words.
  auto where = [&](const std::string& origin) { return origin.empty() ? "" : " (" + origin + ")"; };
  if (c.cluster.server.empty())
    return Error{
        fmt::format("cluster \"{}\" has no server{}", c.cluster_name, where(c.cluster.origin)),
        {},
        {}};
  if (c.cluster.insecure_skip_tls_verify &&
      (!c.cluster.certificate_authority.empty() || !c.cluster.certificate_authority_data.empty()))
    return Error{fmt::format("cluster \"{}\": a CA and insecure-skip-tls-verify together: one "
                             "or the other{}",
                             c.cluster_name, where(c.cluster.origin)),
                 {},
                 {}};
  const UserEntry& u = c.user;
  if (!u.client_certificate.empty() && !u.client_certificate_data.empty())
    return Error{fmt::format("user \"{}\": client-certificate and client-certificate-data "
                             "together{}",
                             c.user_name, where(u.origin)),
                 {},
                 {}};
  if (!u.client_key.empty() && !u.client_key_data.empty())
    return Error{fmt::format("user \"{}\": client-key and client-key-data together{}", c.user_name,
                             where(u.origin)),
                 {},
                 {}};
  bool cert = !u.client_certificate.empty() || !u.client_certificate_data.empty();
  bool key = !u.client_key.empty() || !u.client_key_data.empty();
  if (cert != key)
    return Error{fmt::format("user \"{}\": a client certificate needs its key (and the key its "
                             "certificate){}",
                             c.user_name, where(u.origin)),
                 {},
                 {}};
  bool bearer = !u.token.empty() || !u.token_file.empty();
  bool basic = !u.username.empty() || !u.password.empty();
  if (bearer && basic)
    return Error{fmt::format("user \"{}\": a token and a username/password together: one "
                             "authentication method{}",
                             c.user_name, where(u.origin)),
                 {},
                 {}};
  if (!u.auth_provider.empty())
    return Error{fmt::format("user \"{}\" uses the auth-provider \"{}\", which kubectl no longer "
                             "supports: {}{}",
                             c.user_name, u.auth_provider,
                             u.auth_provider == "gcp" ? "use the gke-gcloud-auth-plugin exec plugin"
                             : u.auth_provider == "azure"
                                 ? "use kubelogin (exec plugin: kubelogin convert-kubeconfig)"
                             : u.auth_provider == "oidc"
                                 ? "use an exec plugin such as kubelogin (int128/kubelogin)"
                                 : "use an exec credential plugin",
                             where(u.origin)),
                 {},
                 {}};
  return c;
}

Result<Connection> inClusterConnection(const InClusterSources& src, const Overrides& o) {
  if (src.host.empty() || src.port.empty())
    return Error{
        "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set, and no kubeconfig was found",
        {},
        {}};
  Connection c;
  c.in_cluster = true;
  std::string host = src.host.find(':') != std::string::npos ? "[" + src.host + "]" : src.host;
  c.cluster.server = fmt::format("https://{}:{}", host, src.port);
  c.cluster.certificate_authority = src.sa_dir + "/ca.crt";
  c.user.token_file = src.sa_dir + "/token";
  std::error_code ec;
  if (!fs::exists(c.user.token_file, ec))
    return Error{"the service account token is missing", c.user.token_file, {}};
  std::string ns;
  if (readFileTo(src.sa_dir + "/namespace", ns) && !trim(ns).empty())
    c.namespace_ = std::string(trim(ns));
  if (!o.namespace_.empty()) c.namespace_ = o.namespace_;
  c.user.as = o.as;
  c.user.as_groups = o.as_groups;
  return c;
}

Result<Connection> connect(const KubeConfigSources& files, const InClusterSources& pod,
                           const Overrides& o, std::vector<std::string>* warnings) {
  auto cfg = loadKubeConfig(files);
  if (!cfg) return cfg.error();
  if (warnings)
    warnings->insert(warnings->end(), cfg.value().warnings.begin(), cfg.value().warnings.end());
  // No kubeconfig at all and nothing chosen: in a pod, its service account (as kubectl does).
  bool nothing =
      cfg.value().files.empty() || (cfg.value().contexts.empty() && cfg.value().clusters.empty());
  if (nothing && o.context.empty() && o.cluster.empty() && !pod.host.empty())
    return inClusterConnection(pod, o);
  return resolveConnection(cfg.value(), o);
}

}  // namespace kh::cluster
