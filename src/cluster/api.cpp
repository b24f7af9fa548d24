#include "cluster/api.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "base/json_util.h"
#include "base/strings.h"

namespace kh::cluster {
namespace {

// scheme://host[:port] split; the port defaults by scheme.
struct Origin {
  std::string scheme, host, port, rest;
};

std::optional<Origin> parseServer(std::string_view url) {
  Origin o;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  o.scheme = std::string(url.substr(0, sep));
  std::string_view after = url.substr(sep + 3);
  size_t slash = after.find('/');
  std::string_view hostport = after.substr(0, slash);
  o.rest = slash == std::string_view::npos ? "" : std::string(after.substr(slash));
  if (hostport.starts_with('[')) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    o.host = std::string(hostport.substr(0, close + 1));
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      o.port = std::string(hostport.substr(close + 2));
  } else {
    size_t colon = hostport.rfind(':');
    o.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) o.port = std::string(hostport.substr(colon + 1));
  }
  if (o.port.empty()) o.port = o.scheme == "http" ? "80" : "443";
  if (o.host.empty() || (o.scheme != "https" && o.scheme != "http")) return std::nullopt;
  while (o.rest.ends_with('/')) o.rest.pop_back();
  return o;
}

Result<std::string> pemFrom(const std::string& file, const std::string& data, const char* what) {
  if (!data.empty()) return data;
  if (file.empty()) return std::string();
  std::string out;
  if (!readFileTo(file, out)) return Error{fmt::format("cannot read the {}", what), file, {}};
  return out;
}

}  // namespace

Api::Api(const Connection& c, net::ClientOptions o) : conn_(c), opts_(std::move(o)) {}

// The impersonation headers of every request (reads, the self-review, the one write alike).
void Api::impersonate(net::Request& req) const {
  const UserEntry& u = conn_.user;
  if (!u.as.empty()) req.headers.emplace_back("Impersonate-User", u.as);
  if (!u.as_uid.empty()) req.headers.emplace_back("Impersonate-Uid", u.as_uid);
  for (const std::string& g : u.as_groups) req.headers.emplace_back("Impersonate-Group", g);
}

Api::Lease Api::lease(bool retry) {
  std::lock_guard lock(mu_);
  auto& pool = retry ? idle_ : idle_once_;
  Lease l{nullptr, generation_, retry};
  if (!pool.empty()) {
    l.client = std::move(pool.back());
    pool.pop_back();
    return l;
  }
  net::ClientOptions o = opts_;
  if (!retry) o.max_attempts = 1;
  l.client = std::make_unique<net::Client>(std::move(o));
  return l;
}

void Api::giveBack(Lease l) {
  std::lock_guard lock(mu_);
  if (l.generation == generation_) (l.retry ? idle_ : idle_once_).push_back(std::move(l.client));
}

Result<std::unique_ptr<Api>> Api::create(const Connection& c, const ApiOptions& opts) {
  auto origin = parseServer(c.cluster.server);
  if (!origin)
    return Error{
        fmt::format("the server URL '{}' is not http(s)://HOST[:PORT]", c.cluster.server), {}, {}};
  net::ClientOptions o;
  o.connect_timeout = opts.timeout;
  o.stall_timeout = opts.timeout;
  o.max_timeout_attempts = 2;
  o.max_attempts = opts.max_attempts;
  o.user_agent = opts.user_agent;
  o.allow_http = origin->scheme == "http";
  o.proxy = c.cluster.proxy_url;
  o.insecure_tls = c.cluster.insecure_skip_tls_verify;
  auto ca = pemFrom(c.cluster.certificate_authority, c.cluster.certificate_authority_data,
                    "certificate authority");
  if (!ca) return ca.error();
  o.ca_pem = ca.value();
  auto cert =
      pemFrom(c.user.client_certificate, c.user.client_certificate_data, "client certificate");
  if (!cert) return cert.error();
  auto key = pemFrom(c.user.client_key, c.user.client_key_data, "client key");
  if (!key) return key.error();
  o.client_cert_pem = cert.value();
  o.client_key_pem = key.value();
  std::string host = origin->host;
  if (!c.cluster.tls_server_name.empty()) {
    // Verify the certificate for tls-server-name, but connect to the server's address.
    o.connect_to = fmt::format("{}:{}:{}:{}", c.cluster.tls_server_name, origin->port, origin->host,
                               origin->port);
    host = c.cluster.tls_server_name;
  }
  std::unique_ptr<Api> api(new Api(c, std::move(o)));
  api->qps_ = opts.qps;
  api->burst_ = std::max(1, opts.burst);
  api->tokens_ = api->burst_;
  api->refilled_ = std::chrono::steady_clock::now();
  api->server_ = c.cluster.server;
  api->base_url_ = fmt::format("{}://{}:{}{}", origin->scheme, host, origin->port, origin->rest);
  if (c.cluster.insecure_skip_tls_verify)
    api->warnings_.push_back(fmt::format(
        "insecure-skip-tls-verify: the server's certificate is not verified ({}): anyone on the "
        "path can read and change what is scanned",
        c.cluster.server));
  return api;
}

Result<std::string> Api::authorization(bool refresh) {
  const UserEntry& u = conn_.user;
  if (!u.token.empty()) return "Bearer " + u.token;
  if (!u.token_file.empty()) {
    // Re-read for every request: projected service-account tokens rotate.
    std::string t;
    if (!readFileTo(u.token_file, t)) return Error{"cannot read the token file", u.token_file, {}};
    return "Bearer " + std::string(trim(t));
  }
  if (!u.username.empty() || !u.password.empty())
    return "Basic " + base64Encode(u.username + ":" + u.password);
  if (u.exec) {
    bool expired =
        exec_ && exec_->expires && static_cast<int64_t>(std::time(nullptr)) >= *exec_->expires - 10;
    if (!exec_ || expired || refresh) {
      auto c = runExecPlugin(*u.exec, conn_.cluster, std::chrono::seconds(60));
      if (!c) return c.error();
      exec_ = std::move(c.value());
      if (exec_->client_cert_pem != opts_.client_cert_pem ||
          exec_->client_key_pem != opts_.client_key_pem) {
        opts_.client_cert_pem = exec_->client_cert_pem;
        opts_.client_key_pem = exec_->client_key_pem;
        // Connections with the old certificate are not used again.
        ++generation_;
        idle_.clear();
        idle_once_.clear();
      }
    }
    return exec_->token.empty() ? std::string() : "Bearer " + exec_->token;
  }
  return std::string();
}

std::optional<Api::Identity> Api::whoAmI() {
  auto auth = [&] {
    std::lock_guard lock(mu_);
    return authorization(false);
  }();
  if (!auth) return std::nullopt;
  for (const char* version : {"v1", "v1beta1"}) {
    net::Request req;
    req.method = "POST";
    req.url = base_url_ + "/apis/authentication.k8s.io/" + version + "/selfsubjectreviews";
    req.authorization = auth.value();
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    impersonate(req);
    req.body = fmt::format(
        R"({{"apiVersion":"authentication.k8s.io/{}","kind":"SelfSubjectReview"}})", version);
    ++requests_;
    waitForToken();
    Lease l = lease(false);
    auto r = l.client->fetch(req, nullptr, 1 << 20);
    giveBack(std::move(l));
    if (!r) return std::nullopt;
    if (r.value().status == 404) continue;  // an older server: try v1beta1
    if (r.value().status != 200 && r.value().status != 201) return std::nullopt;
    rapidjson::Document d;
    d.Parse(r.value().body.data(), r.value().body.size());
    const rapidjson::Value& info = jsonMember(jsonMember(d, "status"), "userInfo");
    Identity id;
    id.username = std::string(jsonString(info, "username"));
    const rapidjson::Value& groups = jsonMember(info, "groups");
    if (groups.IsArray())
      for (const auto& g : groups.GetArray())
        if (g.IsString()) id.groups.emplace_back(g.GetString());
    if (id.username.empty()) return std::nullopt;
    return id;
  }
  return std::nullopt;
}

void Api::waitForToken() {
  if (qps_ <= 0) return;
  std::chrono::duration<double> wait{0};
  {
    // Reserve a token now (the count may go below zero) and wait for it outside the lock, so
    // concurrent requests queue in order without holding each other up.
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    tokens_ = std::min<double>(
        burst_, tokens_ + std::chrono::duration<double>(now - refilled_).count() * qps_);
    refilled_ = now;
    tokens_ -= 1;
    if (tokens_ < 0) wait = std::chrono::duration<double>(-tokens_ / qps_);
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

Result<net::Response> Api::get(const std::string& path, const std::string& accept, bool retry) {
  auto auth = [&] {
    std::lock_guard lock(mu_);
    return authorization(false);
  }();
  if (!auth) return auth.error();
  net::Request req;
  req.url = base_url_ + path;
  req.authorization = auth.value();
  req.headers.emplace_back("Accept", accept);
  impersonate(req);
  const UserEntry& u = conn_.user;
  ++requests_;
  waitForToken();
  Lease l = lease(retry);
  auto r = l.client->fetch(req, nullptr, size_t{1} << 30);
  giveBack(std::move(l));
  if (r && r.value().status == 401 && u.exec) {
    // The plugin's credential was refused (revoked, or expired early): fetch it again, once.
    // Concurrent requests refused with the same credential run the plugin once between them:
    // those that come second find the credential already renewed.
    auto again = [&] {
      std::lock_guard lock(mu_);
      auto current = authorization(false);
      if (current && current.value() != req.authorization) return current;
      return authorization(true);
    }();
    if (!again) return again.error();
    req.authorization = again.value();
    ++requests_;
    Lease l2 = lease(retry);
    r = l2.client->fetch(req, nullptr, size_t{1} << 30);
    giveBack(std::move(l2));
  }
  if (r) bytes_ += r.value().body.size();
  return r;
}

Result<net::Response> Api::applyConfigMap(
    const std::string& ns, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& data) {
  auto auth = [&] {
    std::lock_guard lock(mu_);
    return authorization(false);
  }();
  if (!auth) return auth.error();
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("apiVersion");
  w.String("v1");
  w.Key("kind");
  w.String("ConfigMap");
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  w.String(name.c_str());
  w.Key("namespace");
  w.String(ns.c_str());
  w.Key("labels");
  w.StartObject();
  w.Key("app.kubernetes.io/name");
  w.String("kubeharden");
  w.Key("app.kubernetes.io/component");
  w.String("cluster-scan");
  w.EndObject();
  w.EndObject();
  w.Key("data");
  w.StartObject();
  for (const auto& [k, v] : data) {
    w.Key(k.c_str());
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  w.EndObject();
  net::Request req;
  req.method = "PATCH";
  req.url = fmt::format("{}/api/v1/namespaces/{}/configmaps/{}?fieldManager=kubeharden&force=true",
                        base_url_, ns, name);
  req.authorization = auth.value();
  req.headers = {{"Content-Type", "application/apply-patch+yaml"}, {"Accept", "application/json"}};
  impersonate(req);
  req.body = std::string(b.GetString(), b.GetSize());
  ++requests_;
  waitForToken();
  Lease l = lease(true);
  auto r = l.client->fetch(req, nullptr, 1 << 20);
  giveBack(std::move(l));
  return r;
}

}  // namespace kh::cluster
